"""Tables from tsv/csv/json/jsonl files, validated row by row.

Every problem is reported as one `UserError` line naming the file, the line (or JSON record) and
what was expected. TSV files are read with quoting off, as the benchmark processors that made
them read them (their sentences contain unbalanced quotes).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from electra_tasks.errors import UserError, did_you_mean, where

TABLE_FORMATS = (".tsv", ".csv", ".json", ".jsonl")


@dataclass
class Table:
    path: Path
    columns: list[str]  # header names, or "0", "1", ... for headerless files
    rows: list[list]  # one list of values per row, in `columns` order
    lines: list[int]  # the line (JSON: record number) each row came from

    def __len__(self) -> int:
        return len(self.rows)

    def column_index(self, name: str | int, role: str) -> int:
        """Position of a column given by name or number; `role` names it in the error."""
        key = str(name)
        if key in self.columns:
            return self.columns.index(key)
        if key.isdigit() and int(key) < len(self.columns) and self.columns[0] != "0":
            return int(key)
        raise UserError(
            f"{self.path}: no {role} column '{key}'{did_you_mean(key, self.columns)}; "
            f"the columns are: {', '.join(self.columns)}"
        )

    def values(self, name: str | int, role: str) -> list:
        index = self.column_index(name, role)
        return [row[index] for row in self.rows]


def read_text(path: str | Path) -> str:
    """A file's text (UTF-8, byte-order mark dropped); a clear error for missing/binary/empty."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if not path.is_file():
        raise UserError(f"{path}: expected a file, found a directory")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{where(path, line)}: undecodable byte 0x{data[offset]:02x}; expected UTF-8 text"
        ) from None
    if not text.strip():
        raise UserError(f"{path}: the file is empty")
    return text


def read_table(path: str | Path, *, header: bool = True, fmt: str | None = None) -> Table:
    """Read a table; `fmt` (".tsv" ...) overrides the extension."""
    path = Path(path)
    fmt = (fmt or path.suffix).lower()
    if fmt not in TABLE_FORMATS:
        raise UserError(f"{path}: unknown table format '{fmt}'; expected one of {', '.join(TABLE_FORMATS)}")
    text = read_text(path)
    if fmt in (".tsv", ".csv"):
        return _read_delimited(path, text, "\t" if fmt == ".tsv" else ",", header)
    return _read_json_records(path, text, jsonl=(fmt == ".jsonl"))


def _read_delimited(path: Path, text: str, delimiter: str, header: bool) -> Table:
    if delimiter == "\t":
        reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
        numbered = ((i + 1, row) for i, row in enumerate(reader))
    else:
        reader = csv.reader(text.splitlines(keepends=True), delimiter=",")
        numbered = ((reader.line_num, row) for row in reader)
    rows, lines, columns = [], [], None
    try:
        for line, row in numbered:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if columns is None:
                if header:
                    columns = [c.strip() for c in row]
                    continue
                columns = [str(i) for i in range(len(row))]
            if len(row) != len(columns):
                raise UserError(
                    f"{where(path, line)}: {len(row)} fields, expected {len(columns)} "
                    f"({'as in the header' if header else 'as in the first line'})"
                )
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        raise UserError(f"{path}: malformed CSV: {exc}") from None
    if not rows:
        raise UserError(f"{path}: no data rows{' after the header' if header else ''}")
    return Table(path, columns, rows, lines)


def _read_json_records(path: Path, text: str, jsonl: bool) -> Table:
    records: list[tuple[int, dict]] = []
    if jsonl:
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{where(path, i)}: broken JSON: {exc.msg} (column {exc.colno})") from None
            records.append((i, obj))
    else:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{where(path, exc.lineno)}: broken JSON: {exc.msg} (column {exc.colno})") from None
        if isinstance(obj, dict) and isinstance(obj.get("data"), list):
            obj = obj["data"]
        if not isinstance(obj, list):
            raise UserError(f"{path}: expected a JSON list of records (or {{\"data\": [...]}})")
        records = [(i, r) for i, r in enumerate(obj, start=1)]
    if not records:
        raise UserError(f"{path}: no records")
    columns: list[str] = []
    for number, record in records:
        if not isinstance(record, dict):
            unit = "line" if jsonl else "record"
            raise UserError(f"{path} ({unit} {number}): expected a JSON object, found {type(record).__name__}")
        for key in record:
            if key not in columns:
                columns.append(str(key))
    rows, lines = [], []
    for number, record in records:
        rows.append([record.get(c) for c in columns])
        lines.append(number)
    return Table(path, columns, rows, lines)
