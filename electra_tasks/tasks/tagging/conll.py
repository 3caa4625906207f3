"""CoNLL column files: one token a line, blank lines between sentences, validated line by line.

Columns are separated by whitespace, or by tabs when the first token line holds a tab (then a
token may contain spaces; a line of that file without any tab is split at whitespace). Any
number of columns; the tag is the last one unless `tag_column` says otherwise. `-DOCSTART-`
lines are document markers, never tokens, in any column layout (`-DOCSTART- -X- -X- O`, a lone
`-DOCSTART-`, tab- or space-separated). The small defects of public files are repaired and
counted: a byte-order mark or zero-width character glued to a token is dropped, and a line
holding only such characters is a blank line. Every other problem is one `UserError` naming the
file and line, raised before anything is written.

The sentences are kept as flat Arrow arrays (`flat.Sentences`), built in chunks, so a file of a
million sentences costs about what its text costs.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from electra_tasks.data import repairs
from electra_tasks.data.text import read_text
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.tagging.flat import INVISIBLE, Sentences

DOCSTART = "-DOCSTART-"
CHUNK = 1 << 20  # tokens gathered in Python before they move into an Arrow array
_BLANK = " \t\r\n\f\v" + INVISIBLE


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]
    line: int  # line number of the first token (for error messages)


@dataclass
class ConllFile:
    path: Path
    flat: Sentences
    lines: np.ndarray  # line number of each sentence's first token
    columns: int  # columns per token line
    tag_column: int  # 0-based column the tags came from
    separator: str = "whitespace"  # or "tab"
    documents: int = 0  # -DOCSTART- lines seen
    notes: list[str] = field(default_factory=list)

    @property
    def num_tokens(self) -> int:
        return int(self.flat.offsets[-1])

    @property
    def sentences(self) -> list[Sentence]:
        """The sentences as Python lists (small files, tests)."""
        tokens, tags, offsets = self.flat.tokens.to_pylist(), self.flat.tags.to_pylist(), self.flat.offsets
        return [Sentence(tokens[a:b], tags[a:b], int(line))
                for a, b, line in zip(offsets[:-1], offsets[1:], self.lines)]


def split_fields(line: str, tab: bool) -> list[str]:
    """The columns of one token line (tab mode keeps spaces inside a field)."""
    if tab and "\t" in line:
        return [f.strip() for f in line.rstrip().split("\t")]
    return line.split()


def resolve_tag_column(tag_column: int | None, columns: int, path: Path, line: int) -> int:
    """`--tag-column N` (0-based, negative counts from the end) -> a column index >= 1."""
    if tag_column is None:
        return columns - 1
    index = tag_column + columns if tag_column < 0 else tag_column
    if index == 0:
        raise UserError(f"{where(path, line)}: --tag-column {tag_column} is the token column; "
                        f"expected a column from 1 to {columns - 1}")
    if not 0 < index < columns:
        raise UserError(f"{where(path, line)}: --tag-column {tag_column} but the line has {columns} "
                        f"columns; expected a column from 1 to {columns - 1}")
    return index


class _Builder:
    """Flat token and tag arrays, filled in chunks (Python lists only CHUNK tokens long)."""

    def __init__(self):
        self.token_chunks, self.tag_chunks = [], []
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.offsets = array("q", [0])
        self.lines = array("q")
        self.count = 0
        self.open = False

    def add(self, token: str, tag: str, line: int) -> None:
        if not self.open:
            self.lines.append(line)
            self.open = True
        self.tokens.append(token)
        self.tags.append(tag)
        self.count += 1
        if len(self.tokens) >= CHUNK:
            self._flush()

    def close(self) -> None:
        if self.open:
            self.offsets.append(self.count)
            self.open = False

    def _flush(self) -> None:
        import pyarrow as pa

        self.token_chunks.append(pa.array(self.tokens, pa.string()))
        self.tag_chunks.append(pa.array(self.tags, pa.string()))
        self.tokens, self.tags = [], []

    def result(self) -> tuple[Sentences, np.ndarray]:
        import pyarrow as pa

        self.close()
        self._flush()
        tokens = pa.concat_arrays(self.token_chunks)
        tags = pa.concat_arrays(self.tag_chunks)
        return Sentences(tokens, tags, np.frombuffer(self.offsets, dtype=np.int64).copy()), \
            np.frombuffer(self.lines, dtype=np.int64).copy()


def read_conll(path: str | Path, *, tag_column: int | None = None, encoding: str | None = None) -> ConllFile:
    """Read and validate a whole CoNLL file: tokens and tags per sentence."""
    path = Path(path)
    text = read_text(path, encoding)
    built = _Builder()
    columns = tag_index = None
    first_line = 0
    tab = False
    documents = 0
    invisible_tokens = invisible_lines = spaced_lines = 0
    first_repair: dict[str, int] = {}
    number = 0
    for lines in _line_chunks(text):
        for raw in lines:
            number += 1
            fields = raw.split()
            if not fields:
                built.close()
                continue
            head = fields[0]
            if head[0] in INVISIBLE or head[-1] in INVISIBLE:
                if not raw.strip(_BLANK):  # only a byte-order mark / zero-width characters: blank
                    invisible_lines += 1
                    first_repair.setdefault("line", number)
                    built.close()
                    continue
                head = head.strip(INVISIBLE)
            if head == DOCSTART:
                built.close()
                documents += 1
                continue
            if columns is None:
                tab = "\t" in raw
            if tab:
                if "\t" in raw:
                    fields = [f.strip() for f in raw.rstrip().split("\t")]
                else:
                    spaced_lines += 1
                    first_repair.setdefault("spaced", number)
            if columns is None:
                if len(fields) < 2:
                    raise UserError(f"{where(path, number)}: missing tag column: found only the token "
                                    f"{fields[0]!r}; expected 'token ... tag' (space- or tab-separated)")
                columns, first_line = len(fields), number
                tag_index = resolve_tag_column(tag_column, columns, path, number)
            elif len(fields) != columns:
                if len(fields) <= tag_index:
                    raise UserError(f"{where(path, number)}: missing tag column {tag_index}: found {len(fields)} "
                                    f"column(s); expected {columns} as on line {first_line}")
                raise UserError(f"{where(path, number)}: {len(fields)} columns, expected {columns} as on "
                                f"line {first_line} (inconsistent column count)")
            token, tag = fields[0], fields[tag_index]
            if token[:1] in INVISIBLE or token[-1:] in INVISIBLE or tag[-1:] in INVISIBLE:
                token, tag = token.strip(INVISIBLE), tag.strip(INVISIBLE)
                invisible_tokens += 1
                first_repair.setdefault("token", number)
            if not token:
                raise UserError(f"{where(path, number)}: empty token in column 0; expected a word")
            if not tag:
                raise UserError(f"{where(path, number)}: empty tag in column {tag_index}; expected a tag such as O")
            built.add(token, tag, number)
    flat, starts = built.result()
    if not len(flat):
        raise UserError(f"{path}: no sentences (only blank or -DOCSTART- lines); expected 'token ... tag' lines")
    repairs.note(path, "byte-order marks / zero-width characters dropped from tokens", invisible_tokens,
                 f"line {first_repair.get('token')}")
    repairs.note(path, "lines of only a byte-order mark / zero-width characters read as blank lines",
                 invisible_lines, f"line {first_repair.get('line')}")
    repairs.note(path, "space-separated lines in a tab-separated file split at whitespace", spaced_lines,
                 f"line {first_repair.get('spaced')}")
    return ConllFile(path, flat, starts, columns, tag_index, "tab" if tab else "whitespace", documents)


def _line_chunks(text: str, size: int = 1 << 22):
    """The file's lines in chunks (`str.splitlines` of ~4 MB at a time, cut after a newline)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end == -1 else end + 1
        yield text[start:end].splitlines()
        start = end
