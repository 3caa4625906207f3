"""Tables from tsv/csv/json/jsonl/parquet files and `save_to_disk` folders, read into Arrow.

Every family that reads tables reads them here. The fast path is Arrow-native (pyarrow's CSV,
JSON Lines and Parquet readers; `datasets.load_from_disk`): a million rows take well under a
second, and the columns stay Arrow arrays (memory-mapped for Parquet and saved datasets) that a
family can turn into a `datasets.Dataset` without a Python object per row.

What careful tools accept is accepted: text files compressed as `.gz .bz2 .xz .zst`; a UTF-8
byte-order mark; Windows line ends; CSV fields quoted across lines; `--delimiter` (`;` exports);
files that are not UTF-8 (decoded with a detected encoding, logged; `--encoding` forces one);
JSON as a list of records or under a "data" key; JSON Lines with blank lines; rows whose every
field is empty (dropped and counted). TSV files are read with quoting off, as the benchmark
processors that made them read them (their sentences contain unbalanced quotes).

Bad input is one `UserError` line naming the file, the line (JSON: the record; Parquet: the
row) and what was expected. Line numbers are found only when an error needs one: a Python
pass over the file then locates the row (`Table.place`), so the fast path never counts lines.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import lzma
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from electra_tasks.data import repairs
from electra_tasks.data.text import (check_encoding, check_file, compression_of, decode, format_suffix,
                                     open_binary, read_bytes, read_text)
from electra_tasks.errors import UserError, did_you_mean, reason, where

__all__ = ["TABLE_FORMATS", "Table", "read_table", "read_text", "is_saved_dataset", "table_format"]

TABLE_FORMATS = (".tsv", ".csv", ".json", ".jsonl", ".parquet")
SAVED_DATASET = "save_to_disk folder"
_NEWLINE = re.compile(r"\r\n|\r|\n")


def is_saved_dataset(path: str | Path) -> bool:
    """A `datasets` `save_to_disk` folder (one Dataset, or a DatasetDict of splits)."""
    path = Path(path)
    return path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file())


def table_format(path: str | Path) -> str | None:
    """`.tsv` ... `.parquet` (compression suffix ignored), SAVED_DATASET, or None (not a table)."""
    if is_saved_dataset(path):
        return SAVED_DATASET
    suffix = format_suffix(path)
    return suffix if suffix in TABLE_FORMATS else None


@dataclass
class Table:
    """One file's rows as an Arrow table, plus what is needed to name a row in an error."""

    path: Path
    arrow: Any  # pyarrow.Table; every column of a csv/tsv file is a string column
    format: str
    features: Any = None  # datasets.Features where the file carries them (hub Parquet, save_to_disk)
    unit: str = "line"  # how a row is named: "line" (csv/tsv/jsonl), "record" (JSON list), "row"
    non_text: dict[str, int] = field(default_factory=dict)  # column -> first row whose value was not text
    encoding: str | None = None  # the text encoding the file was read with
    separator: str | None = None  # csv/tsv: the field separator
    header: bool = True  # csv/tsv: the first row named the columns
    _file_lines: list[int] | None = None  # line/record/row number of every row the file had
    _kept: np.ndarray | None = None  # the file's rows kept (empty rows dropped); None: all
    _all_rows: int = 0  # rows the file had, where some were dropped
    _row_count: int | None = None  # rows, once `release` dropped them
    _python_rows: list[list] | None = None  # the values as JSON gave them (JSON read in Python)

    def __len__(self) -> int:
        return self.arrow.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.arrow.column_names)

    def column_index(self, name: str | int, role: str) -> int:
        """Position of a column given by name or number; `role` names it in the error."""
        key = str(name)
        columns = self.columns
        if key in columns:
            return columns.index(key)
        if key.isdigit() and int(key) < len(columns) and columns[0] != "0":
            return int(key)
        raise UserError(f"{self.path}: no {role} column '{key}'{did_you_mean(key, columns)}; "
                        f"the columns are: {', '.join(columns)}")

    def column_name(self, name: str | int, role: str) -> str:
        return self.columns[self.column_index(name, role)]

    def column(self, name: str | int, role: str):
        """A column as a pyarrow ChunkedArray."""
        return self.arrow.column(self.column_index(name, role))

    def values(self, name: str | int, role: str) -> list:
        index = self.column_index(name, role)
        if self._python_rows is not None:
            return [row[index] for row in self._python_rows]
        return self.arrow.column(index).to_pylist()

    def shown(self, name: str | int, role: str, row: int) -> str:
        """One cell as an error line quotes it (JSON), read alone, not with its whole column."""
        index = self.column_index(name, role)
        value = self._python_rows[row][index] if self._python_rows is not None else \
            self.arrow.column(index)[row].as_py()
        return json.dumps(value, default=str)

    def text_column(self, name: str | int, role: str):
        """A column of text as a pyarrow string (Chunked)Array; a value that is not text (a number,
        a null, a list) is one error naming its row and field."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from electra_tasks.data.rows import first_true

        index = self.column_index(name, role)
        label = self.columns[index]
        column = self.arrow.column(index)
        if pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        bad = self.non_text.get(label)
        if not pa.types.is_string(column.type):
            bad = first_true(pc.invert(pc.is_null(column))) if bad is None else bad
            bad = 0 if bad is None else bad
        nulls = first_true(pc.is_null(column))
        if nulls is not None and (bad is None or nulls < bad):
            bad = nulls
        if bad is not None:
            raise UserError(f"{self.place(bad, label)}: expected text, found {self.shown(index, role, bad)}")
        return column

    @property
    def rows(self) -> list[list]:
        """One list of values per row, in `columns` order (Python objects: small tables only)."""
        if self._python_rows is not None:
            return self._python_rows
        columns = [column.to_pylist() for column in self.arrow.columns]
        return [list(values) for values in zip(*columns)] if columns else []

    @property
    def lines(self) -> list[int]:
        """The line (JSON list: record number; Parquet: 0-based row) of each row, found on demand."""
        if self._file_lines is None:
            self._file_lines = self._find_lines()
        if self._kept is None:
            return self._file_lines
        return [self._file_lines[i] for i in self._kept]

    def place(self, row: int, field: str | None = None) -> str:
        """`file:LINE (field 'x')`, `file (record N)`, or `file[ROW]`: where row `row` came from."""
        return self._file_place(int(self._kept[row]) if self._kept is not None else int(row), field)

    def release(self) -> None:
        """Drop the rows themselves (a family has taken its columns); `place` keeps working."""
        import pyarrow as pa

        self._row_count = self._file_rows()
        self.arrow = pa.table({name: pa.nulls(0) for name in self.arrow.column_names})
        self._python_rows = None

    def _file_rows(self) -> int:
        if self._kept is not None:
            return self._all_rows
        return self._row_count if self._row_count is not None else len(self)

    def _find_lines(self) -> list[int]:
        count = self._file_rows()
        if self.unit == "line":
            found = _scan_lines(self)
            if found is not None and len(found) == count:
                return found
            self.unit = "row"  # the Python pass disagrees with Arrow: name rows by number instead
        return list(range(count))

    def _file_place(self, row: int, field: str | None = None) -> str:
        if self._file_lines is None:
            self._file_lines = self._find_lines()
        number = self._file_lines[row]
        if self.unit == "line":
            return where(self.path, number, field)
        shown = f"{self.path} (record {number})" if self.unit == "record" else f"{self.path}[{number}]"
        return where(shown, None, field)


def read_table(path: str | Path, *, header: bool = True, fmt: str | None = None, delimiter: str | None = None,
               encoding: str | None = None, split: str | None = None) -> Table:
    """Read a table; `fmt` (".tsv" ...) overrides the extension, `delimiter` the format's separator,
    `encoding` forces a text encoding; `split` picks a split of a saved DatasetDict folder."""
    path = Path(path)
    if path.is_dir() and fmt is None:
        if not is_saved_dataset(path):
            raise UserError(f"{path}: a folder, but not a datasets save_to_disk folder (no dataset_dict.json "
                            f"or state.json); expected a table file ({', '.join(TABLE_FORMATS)})")
        return _read_saved(path, split)
    fmt = (fmt or format_suffix(path)).lower()
    if fmt not in TABLE_FORMATS:
        raise UserError(f"{path}: unknown table format '{fmt or path.suffix}'; expected one of "
                        f"{', '.join(TABLE_FORMATS)} (optionally compressed: .gz .bz2 .xz .zst) or a "
                        f"save_to_disk folder")
    if not (fmt == ".parquet" and glob.has_magic(path.name)):  # shards: _read_parquet says if none match
        check_file(path)
    encoding = check_encoding(encoding)
    try:
        table = _read_format(path, fmt, header, delimiter, encoding)
    except (OSError, EOFError, lzma.LZMAError) as exc:  # a damaged archive, found while streaming it
        if compression_of(path) is None:
            raise
        raise UserError(f"{path}: not a valid {compression_of(path)} file ({reason(exc, None)})") from None
    return _drop_empty_rows(table)


def _read_format(path: Path, fmt: str, header: bool, delimiter: str | None, encoding: str | None) -> Table:
    if fmt in (".tsv", ".csv"):
        sep = delimiter if delimiter is not None else ("\t" if fmt == ".tsv" else ",")
        sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
        if len(sep) != 1:
            raise UserError(f"--delimiter {delimiter!r}: expected one character (e.g. ';' or '\\t')")
        table = _read_delimited(path, fmt, sep, header, encoding)
    elif fmt == ".parquet":
        table = _read_parquet(path)
    elif fmt == ".jsonl":
        table = _read_jsonl(path, encoding)
    else:
        table = _read_json_python(path, read_text(path, encoding), jsonl=False)
    return table


# --- delimited text ---------------------------------------------------------------------------
def _quoted(fmt: str) -> bool:
    return fmt == ".csv"


def _read_delimited(path: Path, fmt: str, sep: str, header: bool, encoding: str | None) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def on_invalid(row) -> str:
        # a line of spaces only is blank, as a person reads it; anything else is an error
        return "skip" if not (row.text or "").strip() else "error"

    def attempt(chosen: str | None):
        names = _header_fields(path, fmt, sep, chosen)
        if names is None:
            raise UserError(f"{path}: the file is empty")
        read_names = [str(i) for i in range(len(names))]  # the header is read as a row, then named
        read_options = pacsv.ReadOptions(column_names=read_names, encoding=chosen or "utf8", block_size=1 << 24)
        parse_options = pacsv.ParseOptions(delimiter=sep, quote_char='"' if _quoted(fmt) else False,
                                           double_quote=True, escape_char=False,
                                           newlines_in_values=_quoted(fmt), ignore_empty_lines=True,
                                           invalid_row_handler=on_invalid)
        convert_options = pacsv.ConvertOptions(column_types={n: pa.string() for n in read_names},
                                               strings_can_be_null=False, quoted_strings_can_be_null=False,
                                               null_values=[])
        with open_binary(path) as stream:
            arrow = pacsv.read_csv(stream, read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options)
        if header:  # read as a row, so that blank lines before it are skipped as Arrow skips them
            arrow = arrow.slice(1).rename_columns([n.strip() for n in names])
        return arrow

    chosen = encoding
    try:
        arrow = attempt(chosen)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if chosen is not None or "utf8" not in str(exc).lower():
            raise _delimited_error(path, fmt, sep, header, chosen) from None
        _, chosen = decode(read_bytes(path), path, None)  # detects (logged, counted) or one clear error
        try:
            arrow = attempt(chosen)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise _delimited_error(path, fmt, sep, header, chosen) from None
    if arrow.num_rows == 0:
        raise UserError(f"{path}: no data rows{' after the header' if header else ''}")
    return Table(path, arrow, fmt, encoding=chosen or "utf-8", separator=sep, header=header)


def _header_fields(path: Path, fmt: str, sep: str, encoding: str | None) -> list[str] | None:
    """The fields of the first non-blank row (the header, or the first row of a headerless file)."""
    with open_binary(path) as stream:
        head = stream.read(1 << 20)
        more = bool(stream.read(1))
    if more:  # a header is never a megabyte long: cut the head after its last whole line
        head = head[: head.rfind(b"\n") + 1] or head
    text = head.decode(encoding or "utf-8-sig", errors="replace")
    try:
        for _, row in _python_rows(text, fmt, sep):
            return row
    except csv.Error:
        raise UserError(f"{path}: malformed CSV in the first row") from None
    return None


def _python_rows(text: str, fmt: str, sep: str):
    """(first line, fields) of every row Arrow reads, in order: the slow pass that finds lines.

    Arrow skips empty lines, and lines of spaces whose field count differs from the first row's.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if _quoted(fmt):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', doublequote=True,
                            strict=False)
        numbered = _numbered_csv(reader)
    else:
        numbered = ((number, line.split(sep)) for number, line in enumerate(_NEWLINE.split(text), start=1)
                    if line)
    expected = None
    for number, row in numbered:
        if not row:
            continue
        if expected is not None and len(row) != expected and not "".join(row).strip():
            continue
        if expected is None:
            if not "".join(row).strip() and len(row) == 1:
                continue
            expected = len(row)
        yield number, row


def _numbered_csv(reader):
    previous = 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        yield start, row


def _delimited_error(path: Path, fmt: str, sep: str, header: bool, encoding: str | None) -> UserError:
    """The exact line of what Arrow refused, found by the Python pass."""
    text, _ = decode(read_bytes(path), path, encoding)  # an undecodable byte is reported with its line
    expected = None
    try:
        for line, row in _python_rows(text, fmt, sep):
            if expected is None:
                expected = len(row)
            elif len(row) != expected:
                if _quoted(fmt) and any("\n" in f or "\r" in f for f in row) and text.count('"') % 2:
                    return UserError(f"{where(path, line)}: a quoted field opens on this line and is never "
                                     f"closed (a '\"' is missing)")
                return UserError(f"{where(path, line)}: {len(row)} fields, expected {expected} "
                                 f"({'as in the header' if header else 'as in the first line'})")
    except csv.Error as error:
        return UserError(f"{path}: malformed CSV: {error}")
    unclosed = '; a quoted field is never closed' if _quoted(fmt) and text.count('"') % 2 else ""
    return UserError(f"{path}: malformed {fmt.lstrip('.').upper()}{unclosed}")


def _scan_lines(table: Table) -> list[int] | None:
    """The first line of every row the file had (csv/tsv: the Python pass; jsonl: non-blank lines)."""
    try:
        text, _ = decode(read_bytes(table.path), table.path, table.encoding)
    except UserError:
        return None
    if table.format == ".jsonl":
        return [n for n, line in enumerate(_NEWLINE.split(text.lstrip("\ufeff")), start=1) if line.strip()]
    rows = [line for line, _ in _python_rows(text, table.format, table.separator or ",")]
    return rows[1:] if table.header else rows


# --- JSON -------------------------------------------------------------------------------------
def _read_jsonl(path: Path, encoding: str | None) -> Table:
    """pyarrow's JSON Lines reader; anything it refuses (a broken line, a column whose type
    changes, a non-UTF-8 file) goes through the Python reader, which names the line or copes."""
    import pyarrow as pa
    import pyarrow.json as pajson

    if encoding is None:
        try:
            with open_binary(path) as stream:
                arrow = pajson.read_json(stream, read_options=pajson.ReadOptions(block_size=1 << 24))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            arrow = None
        if arrow is not None and arrow.num_rows:
            return Table(path, arrow, ".jsonl", encoding="utf-8")
    return _read_json_python(path, read_text(path, encoding), jsonl=True)


def _read_json_python(path: Path, text: str, jsonl: bool) -> Table:
    records: list[tuple[int, Any]] = []
    if jsonl:
        for i, line in enumerate(_NEWLINE.split(text.lstrip("\ufeff")), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{where(path, i)}: broken JSON: {exc.msg} (column {exc.colno})") from None
            records.append((i, obj))
    else:
        try:
            obj = json.loads(text.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{where(path, exc.lineno)}: broken JSON: {exc.msg} (column {exc.colno})") from None
        if isinstance(obj, dict) and isinstance(obj.get("data"), list):
            obj = obj["data"]
        if not isinstance(obj, list):
            raise UserError(f"{path}: expected a JSON list of records (or {{\"data\": [...]}})")
        records = [(i, r) for i, r in enumerate(obj, start=1)]
    if not records:
        raise UserError(f"{path}: no records")
    columns: dict[str, None] = {}
    for number, record in records:
        if not isinstance(record, dict):
            unit = "line" if jsonl else "record"
            raise UserError(f"{path} ({unit} {number}): expected a JSON object, found {type(record).__name__}")
        for key in record:
            columns.setdefault(str(key), None)
    names = list(columns)
    rows = [[record.get(c) for c in names] for _, record in records]
    arrow, non_text = _arrow_from_rows(names, rows)
    return Table(path, arrow, ".jsonl" if jsonl else ".json", unit="line" if jsonl else "record",
                 non_text=non_text, encoding="utf-8", _file_lines=[n for n, _ in records], _python_rows=rows)


def _arrow_from_rows(names: list[str], rows: list[list]):
    """An Arrow table of Python values; a column mixing scalar types (`1` beside `"1"`) becomes
    text (its first non-text row noted), one mixing nested values becomes JSON text."""
    import pyarrow as pa

    arrays, non_text = [], {}
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        try:
            arrays.append(pa.array(values))
            continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        first = next((i for i, v in enumerate(values) if v is not None and not isinstance(v, str)), None)
        if first is not None:
            non_text[name] = first
        arrays.append(pa.array([None if v is None else v if isinstance(v, str) else
                                _scalar_text(v) for v in values], type=pa.string()))
    return pa.table(dict(zip(names, arrays))) if names else pa.table({}), non_text


def _scalar_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


# --- Parquet and saved datasets ---------------------------------------------------------------
def _features_of(schema):
    try:
        from datasets import Features

        return Features.from_arrow_schema(schema)
    except Exception:  # a schema datasets cannot describe: plain Arrow types are enough
        return None


def _read_parquet(path: Path) -> Table:
    """One Parquet file, or the shards a pattern names (`train-*-of-00003.parquet`) as one table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = sorted(path.parent.glob(path.name)) if glob.has_magic(path.name) else [path]
    if not shards:
        raise UserError(f"{path}: no file matches")
    tables = []
    for shard in shards:
        try:
            tables.append(pq.read_table(shard, memory_map=True))
        except (pa.ArrowInvalid, OSError) as exc:
            raise UserError(f"{shard}: not a valid Parquet file ({reason(exc, None)})") from None
    try:
        arrow = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    except pa.ArrowInvalid as exc:
        raise UserError(f"{path}: its {len(tables)} shards do not have the same columns "
                        f"({reason(exc)})") from None
    if arrow.num_rows == 0:
        raise UserError(f"{path}: no rows")
    return Table(path, arrow, ".parquet", features=_features_of(arrow.schema), unit="row")


def _read_saved(path: Path, split: str | None) -> Table:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # a damaged folder
        raise UserError(f"{path}: cannot load the save_to_disk folder ({reason(exc, typed=True)})") from None
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        chosen = split if split in loaded else {"validation": "dev", "dev": "validation"}.get(split or "")
        if chosen not in loaded:
            if len(names) == 1:
                chosen = names[0]
            else:
                raise UserError(f"{path}: a DatasetDict without a split '{split}'; its splits are "
                                f"{', '.join(names)} (pass {path}/SPLIT)")
        loaded = loaded[chosen]
        path = path / chosen
    if loaded._indices is not None:
        loaded = loaded.flatten_indices()
    arrow = loaded.data.table
    if arrow.num_rows == 0:
        raise UserError(f"{path}: no rows")
    return Table(path, arrow, SAVED_DATASET, features=loaded.features, unit="row")


# --- rows of nothing --------------------------------------------------------------------------
def _drop_empty_rows(table: Table) -> Table:
    """Rows whose every field is empty (`,,` at a spreadsheet's end) are dropped and counted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = None
    for column in table.arrow.columns:
        blank = pc.is_null(column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            blank = pc.or_(blank, pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True))
        empty = blank if empty is None else pc.and_(empty, blank)
    if empty is None or not (pc.sum(empty).as_py() or 0):
        return table
    mask = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    kept = np.flatnonzero(~mask)
    if len(kept) == 0:
        raise UserError(f"{table.path}: no data rows (every row is empty)")
    shown = table._file_place(int(np.flatnonzero(mask)[0]))
    table._all_rows, table._kept = len(mask), kept
    table.arrow = table.arrow.take(pa.array(kept))
    if table._python_rows is not None:
        table._python_rows = [table._python_rows[i] for i in kept]
    table.non_text = {name: int(np.searchsorted(kept, row)) for name, row in table.non_text.items()}
    repairs.note(table.path, "rows with every field empty dropped", int(len(mask) - len(kept)), f"at {shown}")
    return table
