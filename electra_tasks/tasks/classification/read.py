"""Classification rows from a table, a folder of class subfolders or a hub split, column-wise.

The raw rows are a `datasets.Dataset` with the columns `text`, `text_pair` (pairs only),
`label` (a label string, a float score for regression, or null where the split has no gold
labels) and `index` (the id written to the prediction file), built from Arrow columns without a
Python object per row, so a table of millions of rows is read in seconds.

Labels are read the way careful tools read them: surrounding spaces are dropped and an integer
written with a decimal point (`1.0`, as spreadsheets and pandas write integer columns) is read as
the integer (`1`), each repair counted; integer ids are named by the column's `ClassLabel`
(hub Parquet, save_to_disk) or by `--label-names`.
"""

from __future__ import annotations

import numpy as np

from electra_tasks.data import repairs
from electra_tasks.data.rows import Rows, dataset_from_arrow, first_true
from electra_tasks.data.tables import Table
from electra_tasks.errors import UserError

INTEGRAL = r"^([+-]?[0-9]+)\.0*$"  # "1.0", "2." -> "1", "2"


def rows_from_table(table: Table, *, text_col, pair_col, label_col, index_col, regression: bool,
                    label_names: list[str] | None) -> Rows:
    import pyarrow as pa

    columns = {"text": joined_text(table, text_col, "text")}
    if pair_col is not None:
        columns["text_pair"] = joined_text(table, pair_col, "text pair")
    if label_col is not None:
        name = table.column_name(label_col, "label")
        columns["label"] = label_values(table, name, regression=regression, names=label_names)
    else:
        columns["label"] = pa.nulls(len(table), pa.float64() if regression else pa.string())
    if index_col is not None:
        columns["index"] = as_text(table.column(index_col, "index"))
    else:
        columns["index"] = as_text(pa.array(np.arange(len(table))))
    dataset = dataset_from_arrow(pa.table(columns))
    info = {"regression": regression}
    feature = table.features.get(str(label_col)) if table.features is not None and label_col is not None else None
    if label_names or hasattr(feature, "names"):  # the label list keeps the names' id order
        info["label_names"] = list(label_names or feature.names)
    table.release()  # only `place` is needed from here on: the file's columns are not kept twice
    return Rows(dataset, table.place, source=table.path, info=info)


def joined_text(table: Table, spec, role: str):
    """One text column, or several (`title,description`; `1,2` with --no-header) joined with a
    space, as the hub's ag_news builds its text from the CSV's title and description."""
    import pyarrow.compute as pc

    key = str(spec)
    if "," not in key or key in table.columns:
        return table.text_column(spec, role)
    parts = [table.text_column(name.strip(), role) for name in key.split(",")]
    return pc.binary_join_element_wise(*parts, " ")


def joined_label(labels: list[str]) -> str | None:
    """A label that joins other labels of the column (`sports,politics` beside `sports` and
    `politics`): the mark of multi-label data, which a single-label classifier must not learn as
    one more class."""
    known = set(labels)
    for label in labels:
        for sep in (",", ";", "|"):
            parts = [p.strip() for p in label.split(sep)]
            if len(parts) > 1 and all(p in known for p in parts):
                return label
    return None


def label_values(table: Table, name: str, *, regression: bool, names: list[str] | None):
    """The label column as strings (classification) or floats (regression); a missing label or a
    bad value is one error naming the row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.arrow.column(name)
    if regression:
        return _scores(table, name, column)
    if name in table.non_text:  # kinds mixed in JSON, read as text: a list or object among them is no label
        nested = next((row for row, value in enumerate(table.values(name, "label"))
                       if isinstance(value, (list, dict))), None)
        if nested is not None:
            raise _not_a_label(table, name, nested, listed=isinstance(table.values(name, "label")[nested], list))
    feature = table.features.get(name) if table.features is not None else None
    class_names = list(feature.names) if hasattr(feature, "names") else None
    named_by = "the column's ClassLabel" if class_names else "--label-names"
    class_names = names or class_names
    if pa.types.is_integer(column.type) and class_names:
        return _named_ids(table, name, column, class_names, named_by)
    if pa.types.is_floating(column.type) and pc.all(pc.fill_null(pc.equal(pc.floor(column), column), True)).as_py():
        count = len(column) - column.null_count  # JSON's 1.0 beside 1 (or only 1.0): read as integers
        row = first_true(pc.invert(pc.is_null(column)))
        repairs.note(table.path, "labels normalized (surrounding spaces dropped, 1.0 read as 1)", count,
                     f"{table.place(row, name)}: {column[row].as_py()!r} -> {int(column[row].as_py())!r}")
        column = column.cast(pa.int64())
    if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type) or pa.types.is_floating(column.type):
        text = column.cast(pa.string())
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = _normalized(table, name, column.cast(pa.string()))
    else:
        bad = first_true(pc.invert(pc.is_null(column))) or 0
        raise _not_a_label(table, name, bad, listed=pa.types.is_list(column.type) or pa.types.is_large_list(column.type))
    missing = first_true(pc.or_kleene(pc.is_null(text), pc.equal(text, "")))
    if missing is not None:
        raise UserError(f"{table.place(missing, name)}: missing label")
    if names:
        text = _named_text(table, name, text, names)
    return text


def _normalized(table: Table, name: str, text):
    """Labels without surrounding spaces, `1.0` read as `1`; the repairs counted."""
    import pyarrow.compute as pc

    stripped = pc.utf8_trim_whitespace(text)
    clean = pc.replace_substring_regex(stripped, pattern=INTEGRAL, replacement=r"\1")
    changed = pc.fill_null(pc.not_equal(clean, text), False)
    count = pc.sum(changed).as_py() or 0
    if count:
        row = first_true(changed)
        repairs.note(table.path, "labels normalized (surrounding spaces dropped, 1.0 read as 1)", count,
                     f"{table.place(row, name)}: {text[row].as_py()!r} -> {clean[row].as_py()!r}")
    return clean


def _named_ids(table: Table, name: str, ids, names: list[str], named_by: str):
    """Integer label ids -> their names (-1, the hub's "no label", -> null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = first_true(pc.or_kleene(pc.greater_equal(ids, len(names)), pc.less(ids, -1)))
    if bad is not None:
        raise UserError(f"{table.place(bad, name)}: label id {ids[bad].as_py()} but {named_by} names "
                        f"{len(names)} labels (ids 0..{len(names) - 1})")
    missing = first_true(pc.is_null(ids))
    if missing is not None:
        raise UserError(f"{table.place(missing, name)}: missing label")
    valid = pc.if_else(pc.less(ids, 0), pa.scalar(None, ids.type), ids)
    return pc.take(pa.array(names, pa.string()), valid)


def _named_text(table: Table, name: str, text, names: list[str]):
    """With --label-names, labels written as ids (`0`, `1`) read as the names; names stay."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = [str(i) for i in range(len(names))]
    is_name = pc.is_in(text, value_set=pa.array(names))
    is_id = pc.is_in(text, value_set=pa.array(ids))
    bad = first_true(pc.invert(pc.or_kleene(is_name, is_id)))
    if bad is not None:
        raise UserError(f"{table.place(bad, name)}: label '{text[bad].as_py()}' is neither one of --label-names "
                        f"({', '.join(names)}) nor an id 0..{len(names) - 1}")
    if not pc.any(is_id).as_py():
        return text
    position = pc.index_in(text, value_set=pa.array(ids))
    return pc.if_else(is_id, pc.take(pa.array(names), position), text)


def _scores(table: Table, name: str, column):
    """A regression target: numbers, or text that reads as numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64())
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        stripped = pc.utf8_trim_whitespace(column.cast(pa.string()))
        missing = first_true(pc.or_kleene(pc.is_null(stripped), pc.equal(stripped, "")))
        if missing is not None:
            raise UserError(f"{table.place(missing, name)}: missing label")
        try:
            values = stripped.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for row, value in enumerate(stripped.to_pylist()):
                try:
                    float(value)
                except ValueError:
                    raise UserError(f"{table.place(row, name)}: score '{value}' is not a number "
                                    f"(regression task)") from None
            raise
    else:
        raise UserError(f"{table.place(0, name)}: expected a number (regression task), found "
                        f"{table.shown(name, 'label', 0)}")
    missing = first_true(pc.is_null(values))
    if missing is not None:
        raise UserError(f"{table.place(missing, name)}: missing label")
    return values


def _not_a_label(table: Table, name: str, row: int, *, listed: bool) -> UserError:
    several = " (a list: multi-label data; this task predicts one label per text)" if listed else ""
    return UserError(f"{table.place(row, name)}: expected a label, found {table.shown(name, 'label', row)}{several}")


def as_text(column):
    """An Arrow column as strings (labels and ids may be read as numbers)."""
    import pyarrow as pa

    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def rows_from_hub(dataset, *, text: str, pair: str | None, labels, regression: bool, place_prefix: str) -> Rows:
    """A hub split (`nyu-mll/glue` ...) as raw rows: label ids -> the task's label names, -1 -> null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = dataset.with_format("arrow")[:]
    columns = {"text": as_text(arrow.column(text))}
    if pair:
        columns["text_pair"] = as_text(arrow.column(pair))
    n = arrow.num_rows
    if "label" in arrow.column_names:
        gold = arrow.column("label")
        if regression:
            values = gold.cast(pa.float64())
            columns["label"] = pc.if_else(pc.less(values, 0), pa.scalar(None, pa.float64()), values)
        else:
            valid = pc.if_else(pc.less(gold, 0), pa.scalar(None, gold.type), gold)
            columns["label"] = pc.take(pa.array(list(labels), pa.string()), valid)
    else:
        columns["label"] = pa.nulls(n, pa.float64() if regression else pa.string())
    index = arrow.column("idx") if "idx" in arrow.column_names else pa.array(np.arange(n))
    columns["index"] = as_text(index)
    return Rows(dataset_from_arrow(pa.table(columns)),
                lambda row, field=None: f"{place_prefix}[{row}]" + (f" (field '{field}')" if field else ""),
                source=place_prefix, info={"regression": regression})

