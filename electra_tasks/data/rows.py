"""`Rows`: one split's raw rows as a `datasets.Dataset`, and where each row came from.

A family's reader builds the Dataset from Arrow columns (no Python object per row); the checks
that come later (a label never seen in training, a score that is not a number) find the bad row
with vectorized Arrow operations and name it with `place(i)`: `file:line`, `file[row]` or the
hub split and index. Row ranges (`FILE[a:b]`) and `--max-*-samples` cut Rows with `select`, which
keeps every row's place.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


class Rows:
    def __init__(self, dataset, place: Callable[..., str], *, source: str, positions=None,
                 info: dict[str, Any] | None = None):
        self.dataset = dataset
        self._place = place  # (position in the file, field=None) -> "file:line (field 'x')"
        self.source = str(source)  # the file (or hub split) the rows came from
        self.positions = range(len(dataset)) if positions is None else positions
        self.info = dict(info or {})  # what the reader found (a tag scheme, documents, ...)

    def __len__(self) -> int:
        return len(self.dataset)

    def select(self, indices) -> "Rows":
        """The rows at `indices` (a range: a row range or the first N), places kept."""
        if isinstance(indices, range):
            positions = self.positions[slice(indices.start, indices.stop, indices.step)]
        else:
            indices = np.asarray(indices, dtype=np.int64)
            positions = np.asarray(self.positions)[indices]
        return Rows(self.dataset.select(indices), self._place, source=self.source, positions=positions,
                    info=self.info)

    def place(self, row: int, field: str | None = None) -> str:
        return self._place(int(self.positions[int(row)]), field)

    def arrow(self, column: str):
        """A column as a pyarrow (Chunked)Array, the Dataset's selection applied."""
        return self.dataset.with_format("arrow")[column]


def dataset_from_arrow(table):
    """A `datasets.Dataset` over a pyarrow Table, without converting a row to Python.

    Its fingerprint (the feature cache's key for these rows) hashes the Arrow buffers in place;
    datasets' own would pickle a copy of the whole table first (0.5 s and the table's size again
    in memory for a million rows).
    """
    from datasets import Dataset
    from datasets.table import InMemoryTable

    return Dataset(InMemoryTable(table), fingerprint=arrow_fingerprint(table))


def arrow_fingerprint(table) -> str:
    """A content hash of a pyarrow Table: schema, then every buffer of every column."""
    import xxhash

    digest = xxhash.xxh3_128()
    digest.update(str(table.schema).encode("utf-8"))
    digest.update(str(table.num_rows).encode("ascii"))
    for column in table.columns:
        for chunk in column.chunks:
            digest.update(f"{chunk.offset}:{len(chunk)}".encode("ascii"))
            for buffer in chunk.buffers():
                if buffer is not None:
                    digest.update(memoryview(buffer))
    return digest.hexdigest()[:16]


def first_true(mask) -> int | None:
    """Index of the first true value of a pyarrow/numpy boolean mask (nulls count as false)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return None
        mask = mask.to_numpy(zero_copy_only=False)
    found = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(found[0]) if len(found) else None
