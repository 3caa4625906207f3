"""`load_splits`: the one way every task gets its raw examples.

Explicit files (`--train-file ...`, each optionally `FILE[a:b]`), else the task's `--data-dir`
layout, else its hub dataset, else one clear error. `--max-train-samples/--max-eval-samples` keep
the first N rows of a split. The family only says how to read one file and one hub split; what it
gets back is cut to size before it does any expensive work (sentence splitting, oracles).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from electra_tasks.data.files import HubFolder, describe_layouts, file_and_range, load_hub_dataset, split_files
from electra_tasks.errors import UserError

log = logging.getLogger("electra_tasks")


def sample_limit(opts, split: str) -> int | None:
    """--max-train-samples for the training split, --max-eval-samples for the others."""
    name = "max_train_samples" if split == "train" else "max_eval_samples"
    limit = getattr(opts, name, None)
    if limit is not None and int(limit) < 1:
        raise UserError(f"--{name.replace('_', '-')} {limit}: expected an integer >= 1")
    return None if limit is None else int(limit)


def take(rows, selection: slice | int | None):
    """Rows (a list or a `datasets.Dataset`) cut by a row range or to the first N."""
    if selection is None:
        return rows
    if isinstance(selection, int):
        selection = slice(0, selection)
    if hasattr(rows, "select"):
        return rows.select(range(*selection.indices(len(rows))))
    return rows[selection]


def limited(rows, split: str, opts):
    """The first N rows under --max-train-samples/--max-eval-samples, saying so when it cuts."""
    limit = sample_limit(opts, split)
    if limit is not None and limit < len(rows):
        option = "--max-train-samples" if split == "train" else "--max-eval-samples"
        log.info("%s: the first %d of %d rows (%s %d)", split, limit, len(rows), option, limit)
    return take(rows, limit)


def wanted(split: str, opts, for_training: bool) -> bool:
    """Evaluation never reads the training split, unless it is the split asked for."""
    return for_training or split != "train" or getattr(opts, "split", None) == "train"


def load_splits(family, task, opts, *, for_training: bool,
                on_rows=lambda n: None) -> tuple[dict[str, Any], dict[str, Any]]:
    """{split: the family's raw rows} and where they came from (for run_config.json);
    `on_rows(n)` after each split is read (the reading bar)."""
    layouts = family.data_layouts(task)
    files = split_files(opts, layouts, hub_config=task.hub_dataset[1] if task.hub_dataset else None)
    if isinstance(files, HubFolder):  # a downloaded hub dataset: a hub task reads it as its hub rows
        if task.hub_dataset:
            return hub_rows(family, task, opts, files.load(), for_training, on_rows), {"hub_files": str(files.folder)}
        files = files.file_specs()
    if files:
        chosen = {split: spec for split, spec in files.items() if wanted(split, opts, for_training)}
        if not chosen:
            raise UserError(f"{files['train']}: no validation or test file to evaluate; pass "
                            f"--validation-file/--test-file (or a --data-dir holding {describe_layouts(layouts)})")
        raw = {}
        for split, spec in chosen.items():
            path, rows_range = file_and_range(spec)
            rows = take(family.read_file(Path(path), split, task, opts), rows_range)
            if rows_range is not None and len(rows) == 0:
                raise UserError(f"{spec}: the row range selects no rows")
            raw[split] = limited(rows, split, opts)
            on_rows(len(raw[split]))
        return raw, {split: str(spec) for split, spec in chosen.items()}
    if task.hub_dataset:
        dataset = load_hub_dataset(task, f"--data-dir with {describe_layouts(layouts)}")
        return hub_rows(family, task, opts, dataset, for_training, on_rows), {"hub": list(task.hub_dataset)}
    raise UserError(f"task {task.name}: pass --train-file/--validation-file [--test-file] (or --data-dir) "
                    f"with your data ({task.data_formats})")


def hub_rows(family, task, opts, dataset, for_training: bool, on_rows) -> dict[str, Any]:
    """{split: the family's rows} of a hub DatasetDict (from the hub, or its files on disk)."""
    raw = {}
    for split, ds in dataset.items():
        if wanted(split, opts, for_training):
            raw[split] = family.read_hub_split(task, split, limited(ds, split, opts), opts)
            on_rows(len(raw[split]))
    return raw
