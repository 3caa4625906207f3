"""Labelled text lines, the two forms public sets ship besides tables (`.txt`, `.label`):

- fastText: `__label__pos some text` (Amazon/Yelp polarity `*.ft.txt`, fastText tutorials);
- TREC question classification: `DESC:manner How did serfdom develop ... ?` (`train_5500.label`),
  the label being the fine class (`DESC:manner`, 50 classes); `--label-column coarse` takes the
  coarse one (`DESC`, 6 classes), as the hub's `trec` offers both.

The lines are matched with Arrow regular expressions, not a Python loop, so a file of millions
of lines reads in seconds. A line of another form is one error naming it; a fastText line with
several labels is multi-label data, which a single-label classifier refuses.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from electra_tasks.data.rows import Rows, dataset_from_arrow, first_true
from electra_tasks.data.text import read_text
from electra_tasks.errors import UserError, where

LINE_FORMATS = (".txt", ".label")
NEWLINE = re.compile(r"\r\n|\r|\n")
FASTTEXT = r"^__label__(?P<label>\S+)\s+(?P<text>\S.*)$"
TREC = r"^(?P<coarse>[A-Z]+):(?P<fine>\S+)\s+(?P<text>\S.*)$"
EXPECTED = "fastText's '__label__LABEL text' or TREC's 'COARSE:fine question' lines"


def read_label_lines(path: Path, *, label_column, regression: bool, label_names, encoding) -> Rows:
    import pyarrow as pa
    import pyarrow.compute as pc

    if regression:
        raise UserError(f"{path}: labelled lines ({EXPECTED}) hold class labels, not scores; drop --regression")
    lines = pa.array(NEWLINE.split(read_text(path, encoding).lstrip("\ufeff")), pa.string())  # not splitlines: \x85 is text
    numbers = np.flatnonzero(~np.asarray(pc.equal(pc.utf8_trim_whitespace(lines), "").to_numpy(zero_copy_only=False)))
    lines = lines.take(pa.array(numbers))

    def place(row: int, field: str | None = None) -> str:
        return where(path, int(numbers[int(row)]) + 1, field)

    fasttext = lines[0].as_py().startswith("__label__")
    pattern = FASTTEXT if fasttext else TREC
    parts = pc.extract_regex(lines, pattern=pattern)
    bad = first_true(pc.is_null(parts))
    if bad is not None:
        shown = lines[bad].as_py()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        form = "'__label__LABEL text' as fastText writes it" if fasttext else \
            "'COARSE:fine question' as TREC writes it" if bad else EXPECTED
        raise UserError(f"{place(bad)}: '{shown}'; expected {form} (or a table: .tsv .csv .json .jsonl .parquet)")
    text = pc.struct_field(parts, "text")
    if fasttext:
        if label_column not in (None, "label"):
            raise UserError(f"--label-column {label_column}: fastText lines have one label, their '__label__' prefix")
        label = pc.struct_field(parts, "label")
        several = first_true(pc.starts_with(text, "__label__"))
        if several is not None:
            raise UserError(f"{place(several)}: several __label__ prefixes: multi-label data; this task predicts one "
                            f"label per text (single-label)")
    else:
        if label_column not in (None, "label", "fine", "coarse"):
            raise UserError(f"--label-column {label_column}: TREC lines have the labels fine (DESC:manner, the "
                            f"default) and coarse (DESC)")
        coarse = pc.struct_field(parts, "coarse")
        label = coarse if label_column == "coarse" else \
            pc.binary_join_element_wise(coarse, pc.struct_field(parts, "fine"), ":")
    index = pa.array(np.arange(len(lines))).cast(pa.string())
    info = {"regression": False, **({"label_names": list(label_names)} if label_names else {})}
    return Rows(dataset_from_arrow(pa.table({"text": text, "label": label, "index": index})), place,
                source=str(path), info=info)
