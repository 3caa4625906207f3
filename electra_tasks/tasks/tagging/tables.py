"""Tagging data stored as tables, the way the hub stores CoNLL-style sets (and HF AutoTrain and
transformers' run_ner.py expect them): one row per sentence, a list of tokens and a list of tags.

jsonl/json/parquet files and save_to_disk folders hold real lists; a csv cell holds a list
written as text (`["EU", "rejects"]` or pandas' `['EU', 'rejects']`). Tags are names (`B-ORG`),
or integer ids named by the column's `ClassLabel` (hub Parquet, save_to_disk) or by
`--label-names`. Columns: `--tokens-column` (default `tokens`, else `words`), `--tags-column`
(default `ner_tags`, else `tags`, `labels`). `-DOCSTART-` rows are document markers (the hub's
conll2003 keeps them) and rows without tokens are skipped, both counted; an empty token is kept as
a word (counted); a row whose token and tag counts differ or a missing list is one error naming
the row.
"""

from __future__ import annotations

import ast
import json

import numpy as np

from electra_tasks.data import repairs
from electra_tasks.data.rows import first_true
from electra_tasks.data.tables import SAVED_DATASET, Table, read_table, table_format
from electra_tasks.errors import UserError
from electra_tasks.tasks.tagging.conll import DOCSTART
from electra_tasks.tasks.tagging.flat import INVISIBLE, Sentences

TABLE_FORMATS = (".json", ".jsonl", ".parquet", ".csv", SAVED_DATASET)
TOKEN_COLUMNS = ("tokens", "words")
TAG_COLUMNS = ("ner_tags", "tags", "labels")


def is_tag_table(path) -> bool:
    return table_format(path) in TABLE_FORMATS


def _pick(table: Table, given: str | None, candidates: tuple[str, ...], role: str) -> str:
    if given:
        return table.column_name(given, role)
    found = next((c for c in candidates if c in table.columns), None)
    return found if found is not None else table.column_name(candidates[0], role)  # the error names it


def read_tag_table(path, *, split: str | None, tokens_column: str | None, tags_column: str | None,
                   label_names: list[str] | None, delimiter: str | None, encoding: str | None):
    """(Sentences, the table row of each sentence, the table, -DOCSTART- rows)."""
    table = read_table(path, delimiter=delimiter, encoding=encoding, split=split)
    token_col = _pick(table, tokens_column, TOKEN_COLUMNS, "tokens")
    tag_col = _pick(table, tags_column, TAG_COLUMNS, "tags")
    tokens = _lists(table, token_col, "tokens")
    tags = _lists(table, tag_col, "tags")
    feature = table.features.get(tag_col) if table.features is not None else None
    inner = getattr(feature, "feature", None)
    names = label_names or (list(inner.names) if hasattr(inner, "names") else None)
    flat, rows, documents = sentences_from_lists(tokens, tags, place=table.place, source=table.path,
                                                 token_field=token_col, tag_field=tag_col, names=names)
    table.release()
    return flat, rows, table, documents


def sentences_from_lists(tokens, tags, *, place, source, token_field: str, tag_field: str,
                         names: list[str] | None):
    """Token lists and tag lists (names or ids) -> (Sentences, row of each sentence, -DOCSTART- rows).

    `place(row, field)` names a row in errors; `names` names integer tag ids.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    tokens, tags = _one_list_array(tokens), _one_list_array(tags)
    token_count, tag_count = pc.list_value_length(tokens), pc.list_value_length(tags)
    bad = first_true(pc.not_equal(token_count, tag_count))
    if bad is not None:
        raise UserError(f"{place(bad)}: {token_count[bad].as_py()} tokens but {tag_count[bad].as_py()} tags; "
                        f"expected one tag per token")
    offsets = np.asarray(tokens.offsets.to_numpy(), dtype=np.int64)
    offsets = offsets - offsets[0]
    flat_tokens = _strings(tokens, offsets, place, token_field, "token")
    flat_tags = _tag_names(tags, offsets, place, tag_field, names)

    def row_of(position: int) -> int:
        return int(np.searchsorted(offsets, position, side="right") - 1)

    # glued byte-order marks / zero-width characters (a token of only such characters stays a word)
    cleaned = pc.utf8_trim(flat_tokens, characters=INVISIBLE)
    cleaned = pc.if_else(pc.equal(cleaned, ""), flat_tokens, cleaned)
    changed = pc.fill_null(pc.not_equal(cleaned, flat_tokens), False)
    if pc.any(changed).as_py():
        repairs.note(source, "byte-order marks / zero-width characters dropped from tokens",
                     pc.sum(changed).as_py(), place(row_of(first_true(changed)), token_field))
        flat_tokens = cleaned
    # an empty token ("" as some exports write it) stays a word with its tag: the model reads [UNK]
    empty = pc.equal(flat_tokens, "")
    if pc.any(empty).as_py():
        row = row_of(first_true(empty))
        repairs.note(source, "empty tokens kept as words (read as [UNK], written as _ in predictions)",
                     pc.sum(empty).as_py(), place(row, token_field))
    # -DOCSTART- rows and rows without tokens
    lengths = np.diff(offsets)
    if len(flat_tokens):
        heads = flat_tokens.take(pa.array(np.minimum(offsets[:-1], len(flat_tokens) - 1)))
        docstart = (lengths > 0) & np.asarray(pc.equal(heads, DOCSTART).to_numpy(zero_copy_only=False), dtype=bool)
    else:
        docstart = np.zeros(len(lengths), dtype=bool)
    keep = (lengths > 0) & ~docstart
    if (lengths == 0).any():
        repairs.note(source, "rows without tokens skipped", int((lengths == 0).sum()),
                     place(int(np.flatnonzero(lengths == 0)[0])))
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise UserError(f"{source}: no sentences (only empty or -DOCSTART- rows)")
    if not keep.all():
        token_keep = pa.array(np.repeat(keep, lengths))
        flat_tokens, flat_tags = flat_tokens.filter(token_keep), flat_tags.filter(token_keep)
        offsets = np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64)
    return Sentences(flat_tokens, flat_tags, offsets), rows, int(docstart.sum())


def _one_list_array(column):
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_large_list(column.type):
        column = column.cast(pa.list_(column.type.value_type))
    return column


def _lists(table: Table, name: str, role: str):
    """A column of lists (a csv cell's text parsed as a list), as one pyarrow ListArray."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.arrow.column(name).combine_chunks()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = []
        for row, cell in enumerate(column.to_pylist()):
            values.append(_parse_list(cell, table, row, name, role))
        column = pa.array(values)
        if pa.types.is_null(column.type):
            column = pa.array(values, pa.list_(pa.string()))
    if pa.types.is_large_list(column.type):
        column = column.cast(pa.list_(column.type.value_type))
    if not pa.types.is_list(column.type):
        bad = first_true(pc.invert(pc.is_null(column))) or 0
        raise UserError(f"{table.place(bad, name)}: expected a list of {role}, found "
                        f"{table.shown(name, role, bad)}")
    missing = first_true(pc.is_null(column))
    if missing is not None:
        raise UserError(f"{table.place(missing, name)}: missing {role}; expected a list of {role}")
    return column


def _parse_list(cell, table: Table, row: int, name: str, role: str):
    if cell is None or not cell.strip():
        raise UserError(f"{table.place(row, name)}: missing {role}; expected a list of {role}")
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(cell)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, (list, tuple)):
            return list(value)
    raise UserError(f"{table.place(row, name)}: expected a list of {role} such as [\"EU\", \"rejects\"], "
                    f"found {cell[:60]!r}")


def _strings(lists, offsets, place, field: str, role: str):
    """The flattened values of a list column, as strings; a null or a non-text value is an error."""
    import pyarrow as pa

    flat = lists.flatten()
    if pa.types.is_large_string(flat.type) or pa.types.is_null(flat.type):
        flat = flat.cast(pa.string())
    if not pa.types.is_string(flat.type):
        raise UserError(f"{place(0, field)}: expected {role}s as text, found {flat.type} values")
    missing = first_true(flat.is_null())
    if missing is not None:
        row = int(np.searchsorted(offsets, missing, side="right") - 1)
        raise UserError(f"{place(row, field)}: {role} {missing - offsets[row] + 1} is null")
    return flat


def _tag_names(lists, offsets, place, field: str, names: list[str] | None):
    """Tags as names: names as given (spaces dropped), ids through the ClassLabel or --label-names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    flat = lists.flatten()
    if pa.types.is_integer(flat.type):
        if names is None:
            raise UserError(f"{place(0, field)}: tag ids ({flat[0].as_py() if len(flat) else ''}, ...) without "
                            f"names; pass --label-names O,B-PER,... (in id order) or store tag names")
        bad = first_true(pc.or_kleene(pc.less(flat, 0), pc.greater_equal(flat, len(names))))
        if bad is not None:
            row = int(np.searchsorted(offsets, bad, side="right") - 1)
            raise UserError(f"{place(row, field)}: tag id {flat[bad].as_py()} but only {len(names)} tag names "
                            f"(ids 0..{len(names) - 1})")
        missing = first_true(flat.is_null())
        if missing is not None:
            row = int(np.searchsorted(offsets, missing, side="right") - 1)
            raise UserError(f"{place(row, field)}: tag {missing - offsets[row] + 1} is null")
        return pa.array(names, pa.string()).take(flat)
    flat = pc.utf8_trim_whitespace(_strings(lists, offsets, place, field, "tag"))
    empty = first_true(pc.equal(flat, ""))
    if empty is not None:
        row = int(np.searchsorted(offsets, empty, side="right") - 1)
        raise UserError(f"{place(row, field)}: tag {empty - offsets[row] + 1} is empty; expected a tag such as O")
    return flat
