"""CoNLL column files: one token a line, blank lines between sentences, validated line by line.

Columns are separated by whitespace, or by tabs when the first token line holds a tab (then a
token may contain spaces). Any number of columns; the tag is the last one unless `tag_column`
says otherwise. `-DOCSTART-` lines are document markers, never tokens. Every problem is one
`UserError` naming the file and line, raised before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from electra_tasks.data.tables import read_text
from electra_tasks.errors import UserError, where

DOCSTART = "-DOCSTART-"


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]
    line: int  # line number of the first token (for error messages)


@dataclass
class ConllFile:
    path: Path
    sentences: list[Sentence]
    columns: int  # columns per token line
    tag_column: int  # 0-based column the tags came from
    separator: str = "whitespace"  # or "tab"
    documents: int = 0  # -DOCSTART- lines seen
    notes: list[str] = field(default_factory=list)

    @property
    def num_tokens(self) -> int:
        return sum(len(s.tokens) for s in self.sentences)


def split_fields(line: str, tab: bool) -> list[str]:
    """The columns of one token line (tab mode keeps spaces inside a field)."""
    if tab:
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


def read_conll(path: str | Path, *, tag_column: int | None = None) -> ConllFile:
    """Read and validate a whole CoNLL file: tokens and tags per sentence."""
    path = Path(path)
    text = read_text(path)
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    columns = tag_index = None
    first_line = 0
    tab = False
    documents = 0

    def close() -> None:
        nonlocal tokens, tags
        if tokens:
            sentences.append(Sentence(tokens, tags, start))
        tokens, tags = [], []

    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            close()
            continue
        if columns is None:
            tab = "\t" in raw
        fields = split_fields(raw, tab)
        if fields[0] == DOCSTART:
            close()
            documents += 1
            continue
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
        if not token:
            raise UserError(f"{where(path, number)}: empty token in column 0; expected a word")
        if not tag:
            raise UserError(f"{where(path, number)}: empty tag in column {tag_index}; expected a tag such as O")
        if not tokens:
            start = number
        tokens.append(token)
        tags.append(tag)
    close()
    if not sentences:
        raise UserError(f"{path}: no sentences (only blank or -DOCSTART- lines); expected 'token ... tag' lines")
    return ConllFile(path, sentences, columns, tag_index, "tab" if tab else "whitespace", documents)
