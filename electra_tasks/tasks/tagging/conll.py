"""CoNLL column files: one token a line, blank lines between sentences, validated line by line.

Columns are separated by whitespace, or by tabs when the first token line holds a tab (then a
token may contain spaces; a line of that file without any tab is split at whitespace).
Whitespace means ASCII spaces and tabs: a no-break space inside a token stays inside it, and
lines end only at \\n, \\r\\n or \\r (never at U+2028 or NEL inside a token). Any number of
columns; the tag is the last one unless `tag_column` says otherwise. `-DOCSTART-` lines are
document markers, never tokens, in any column layout (`-DOCSTART- -X- -X- O`, a lone
`-DOCSTART-`, tab- or space-separated). `#` lines before a sentence that are not token lines of
the file are comments (GermEval 2014's `#<TAB>source<TAB>[date]`, CoNLL-U's `# sent_id = 1`),
while a `#` token with its tag stays a token. A file whose column 0 numbers the tokens of each
sentence (1, 2, ...; GermEval, CoNLL-U) has its tokens in column 1; CoNLL-U's multiword ranges
and empty nodes (`1-2`, `8.1`) are skipped. The small defects of public files are repaired and
counted: a byte-order mark or zero-width character glued to a token is dropped (a token of only
such characters stays a word), and a line holding only such characters is a blank line. Every
other problem is one `UserError` naming the file and line, raised before anything is written.

The sentences are kept as flat Arrow arrays (`flat.Sentences`), built in chunks, so a file of a
million sentences costs about what its text costs.
"""

from __future__ import annotations

import logging
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from electra_tasks.data import repairs
from electra_tasks.data.text import read_text
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.tagging.flat import INVISIBLE, Sentences

log = logging.getLogger("electra_tasks")

DOCSTART = "-DOCSTART-"
CHUNK = 1 << 20  # tokens gathered in Python before they move into an Arrow array
_BLANK = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + INVISIBLE  # any whitespace


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
    token_column: int = 0  # 1 where column 0 numbers the tokens (GermEval, CoNLL-U)
    comments: int = 0  # `#` comment lines skipped
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


_ASCII_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_NUMBERED = re.compile(r"^[0-9]+$")
_MULTIWORD = re.compile(r"^[0-9]+[-.][0-9]+$")  # CoNLL-U: a multiword token's range, an empty node
SCAN_LINES = 2000  # lines looked at to learn the file's layout (separator, columns, a token-number column)
SCAN_SENTENCES = 5


def split_fields(line: str, tab: bool) -> list[str]:
    """The columns of one token line. Tab mode keeps spaces inside a field; otherwise the line is
    split at ASCII spaces and tabs only, so a no-break space inside a token stays inside it."""
    if tab and "\t" in line:
        return [f.strip(" \r\n") for f in line.rstrip(" \t\r\n").split("\t")]
    if line.isascii():
        return line.split()
    stripped = line.strip(" \t\n\r\f\v")
    return _ASCII_SPACE.split(stripped) if stripped else []


def _is_blank(line: str) -> bool:
    """Only whitespace (spaces, a TAB, no-break spaces), byte-order marks, zero-width characters."""
    return not line.strip(_BLANK)


def _head(line: str) -> str:
    """The line's first field without a glued byte-order mark / zero-width character."""
    fields = line.split(None, 1)
    return fields[0].strip(INVISIBLE) if fields else ""


def _is_comment(line: str, fields: list[str], columns: int, tab: bool, numbered: bool) -> bool:
    """A `#` line before a sentence (GermEval's `#<TAB>source<TAB>[date]`, CoNLL-U's `# sent_id = 1`)
    that is not a token line of this file: a file with a token-number column never has `#` in
    column 0; in others the line's column count differs (a `#` token with its tag stays a token)."""
    if not line.lstrip(_BLANK).startswith("#"):
        return False
    return numbered or len(fields) != columns or (tab and "\t" not in line)


@dataclass
class _Layout:
    tab: bool
    columns: int
    line: int  # the token line the layout was read from
    numbered: bool  # column 0 holds token numbers (1, 2, ... per sentence), the token is column 1


def _layout(lines: list[str]) -> _Layout | None:
    """The file's layout from its first token lines (`#` comment lines and -DOCSTART- left out)."""
    first = None
    sentences: list[list[str]] = [[]]
    for number, raw in enumerate(lines[:SCAN_LINES], start=1):
        if _is_blank(raw):
            if sentences[-1]:
                if len(sentences) >= SCAN_SENTENCES:
                    break
                sentences.append([])
            continue
        head = _head(raw)
        if head == DOCSTART or (not sentences[-1] and raw.lstrip(_BLANK).startswith("#")):
            continue
        if first is None:
            tab = "\t" in raw
            first = _Layout(tab, len(split_fields(raw, tab)), number, False)
        sentences[-1].append(split_fields(raw, first.tab)[0])
    if first is None:  # only `#` lines: they are tokens after all
        number = next((n for n, raw in enumerate(lines[:SCAN_LINES], start=1)
                       if not _is_blank(raw) and _head(raw) != DOCSTART), None)
        if number is None:
            return None
        raw = lines[number - 1]
        return _Layout("\t" in raw, len(split_fields(raw, "\t" in raw)), number, False)
    # numbered: a sentence of the first few whose column 0 reads 1, 2, ..., n (n >= 2; words never
    # do); every later line is then checked to hold a number there
    numbers = [[n for n in s if not _MULTIWORD.match(n)] for s in sentences if s]
    first.numbered = first.columns >= 3 and any(len(s) >= 2 and s == [str(i) for i in range(1, len(s) + 1)]
                                                for s in numbers)
    return first


def resolve_tag_column(tag_column: int | None, columns: int, path: Path, line: int, token_column: int = 0) -> int:
    """`--tag-column N` (0-based, negative counts from the end) -> a column index after the token's."""
    lowest = token_column + 1
    expected = f"expected a column from {lowest} to {columns - 1}"
    if tag_column is None:
        if columns - 1 < lowest:
            raise UserError(f"{where(path, line)}: missing tag column: found only the token number and the "
                            f"token; expected 'number token ... tag'")
        return columns - 1
    index = tag_column + columns if tag_column < 0 else tag_column
    if index == token_column:
        raise UserError(f"{where(path, line)}: --tag-column {tag_column} is the token column; {expected}")
    if token_column and index == 0:
        raise UserError(f"{where(path, line)}: --tag-column {tag_column} is the token-number column; {expected}")
    if not lowest <= index < columns:
        raise UserError(f"{where(path, line)}: --tag-column {tag_column} but the line has {columns} "
                        f"columns; {expected}")
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
    layout = None
    columns = tag_index = None
    token_index = 0
    first_line = 0
    tab = numbered = False
    documents = 0
    counts = {"token": 0, "line": 0, "spaced": 0, "comment": 0, "multiword": 0}
    first_repair: dict[str, int] = {}
    number = 0
    for lines in _line_chunks(text):
        if layout is None:
            layout = _layout(lines)
            if layout is not None:
                tab, numbered, columns, first_line = layout.tab, layout.numbered, layout.columns, layout.line
                token_index = 1 if numbered else 0
                if columns < 2:
                    raise UserError(f"{where(path, first_line)}: missing tag column: found only the token "
                                    f"{_head(lines[first_line - 1])!r}; expected 'token ... tag' "
                                    f"(space- or tab-separated)")
                tag_index = resolve_tag_column(tag_column, columns, path, first_line, token_index)
                if numbered:
                    log.info("%s: column 0 holds token numbers (GermEval / CoNLL-U layout): tokens read from "
                             "column 1, tags from column %d", path, tag_index)
        for raw in lines:
            number += 1
            stripped = raw.strip()
            if not stripped or ((stripped[0] in INVISIBLE or stripped[-1] in INVISIBLE)
                                and not stripped.strip(_BLANK)):
                if stripped:  # a line of only byte-order marks / zero-width characters: counted
                    counts["line"] += 1
                    first_repair.setdefault("line", number)
                built.close()  # WNUT's separator lines hold a TAB or spaces: blank lines too
                continue
            if DOCSTART in stripped[:len(DOCSTART) + 2] and _head(raw) == DOCSTART:
                built.close()
                documents += 1
                continue
            fields = split_fields(raw, tab)
            if stripped.lstrip(INVISIBLE)[:1] == "#" and not built.open and \
                    _is_comment(raw, fields, columns, tab, numbered):
                counts["comment"] += 1
                first_repair.setdefault("comment", number)
                continue
            if tab and "\t" not in raw:
                counts["spaced"] += 1
                first_repair.setdefault("spaced", number)
            if numbered and _MULTIWORD.match(fields[0]):
                counts["multiword"] += 1
                first_repair.setdefault("multiword", number)
                continue
            if len(fields) != columns:
                if len(fields) <= tag_index:
                    raise UserError(f"{where(path, number)}: missing tag column {tag_index}: found {len(fields)} "
                                    f"column(s); expected {columns} as on line {first_line}")
                raise UserError(f"{where(path, number)}: {len(fields)} columns, expected {columns} as on "
                                f"line {first_line} (inconsistent column count)")
            if numbered and not _NUMBERED.match(fields[0]):
                raise UserError(f"{where(path, number)}: column 0 is {fields[0]!r}; expected a token number "
                                f"as on line {first_line} (the file numbers its tokens 1, 2, ...)")
            token, tag = fields[token_index], fields[tag_index].strip()  # a tag never keeps a no-break space
            if token[:1] in INVISIBLE or token[-1:] in INVISIBLE or tag[:1] in INVISIBLE or tag[-1:] in INVISIBLE:
                # a token of only such characters stays a word (the model reads it as [UNK])
                cleaned, tag = token.strip(INVISIBLE) or token, tag.strip(INVISIBLE)
                if cleaned != token or tag != fields[tag_index].strip():
                    counts["token"] += 1
                    first_repair.setdefault("token", number)
                token = cleaned
            if not token:
                raise UserError(f"{where(path, number)}: empty token in column {token_index}; expected a word")
            if not tag:
                raise UserError(f"{where(path, number)}: empty tag in column {tag_index}; expected a tag such as O")
            built.add(token, tag, number)
    if layout is None:
        raise UserError(f"{path}: no sentences (only blank, comment or -DOCSTART- lines); "
                        f"expected 'token ... tag' lines")
    flat, starts = built.result()
    if not len(flat):
        raise UserError(f"{path}: no sentences (only blank or -DOCSTART- lines); expected 'token ... tag' lines")
    repairs.note(path, "byte-order marks / zero-width characters dropped from tokens", counts["token"],
                 f"line {first_repair.get('token')}")
    repairs.note(path, "lines of only a byte-order mark / zero-width characters read as blank lines",
                 counts["line"], f"line {first_repair.get('line')}")
    repairs.note(path, "space-separated lines in a tab-separated file split at whitespace", counts["spaced"],
                 f"line {first_repair.get('spaced')}")
    repairs.note(path, "comment lines (# ...) before sentences skipped", counts["comment"],
                 f"line {first_repair.get('comment')}")
    repairs.note(path, "CoNLL-U multiword-token ranges / empty nodes (1-2, 8.1) skipped; their words are read",
                 counts["multiword"], f"line {first_repair.get('multiword')}")
    return ConllFile(path, flat, starts, columns, tag_index, "tab" if tab else "whitespace", documents,
                     token_column=token_index, comments=counts["comment"])


def _line_chunks(text: str, size: int = 1 << 22):
    """The file's lines in chunks of ~4 MB, cut after a newline. Lines end only at \\n, \\r\\n or \\r:
    `str.splitlines` would also cut at U+2028, U+0085 (NEL, Latin-1's 0x85) or \\x1c..\\x1e inside a token."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end == -1 else end + 1
        lines = text[start:end].split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        yield lines
        start = end
