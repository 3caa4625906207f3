"""Which file holds which split: explicit --train-file/... options, or a --data-dir layout.

Every family reads its splits the same way; only the file names of its standard layout differ.
An empty answer means "no local data given": the task then reads its hub dataset. A file name
may end in a row range, `articles.csv[800:]`, to take data rows 800.. of one file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from electra_tasks.errors import UserError

SPLIT_OPTIONS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}
ROW_RANGE = re.compile(r"^(?P<path>.+)\[(?P<start>-?\d*):(?P<stop>-?\d*)\]$")

# a layout maps a split to its file name, or to candidate names tried in order
Layout = dict[str, "str | tuple[str, ...]"]


def split_files(opts, layouts: Sequence[Layout]) -> dict[str, str]:
    """{split: path} from --train-file/--validation-file/--test-file, else the first layout
    of which --data-dir holds at least one file; {} when neither option is given."""
    explicit = {split: str(getattr(opts, option)) for split, option in SPLIT_OPTIONS.items()
                if getattr(opts, option, None)}
    if explicit or not getattr(opts, "data_dir", None):
        return explicit
    folder = Path(opts.data_dir)
    if not folder.is_dir():
        raise UserError(f"--data-dir {folder}: folder not found")
    if (folder / "dataset_dict.json").is_file():  # a DatasetDict's save_to_disk folder: its splits
        return saved_splits(folder)
    for layout in layouts:
        found = {}
        for split, names in layout.items():
            for name in (names,) if isinstance(names, str) else names:
                if (folder / name).is_file():
                    found[split] = str(folder / name)
                    break
        if found:
            return found
    raise UserError(f"--data-dir {folder}: none of {describe_layouts(layouts)} found")


SPLIT_NAMES = {"dev": "validation", "valid": "validation", "val": "validation"}


def saved_splits(folder: Path) -> dict[str, str]:
    """{split: folder/split} of a `DatasetDict.save_to_disk` folder (dev/valid/val read as validation)."""
    import json

    try:
        names = json.loads((folder / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"--data-dir {folder}: dataset_dict.json is not a datasets save_to_disk index") from None
    return {SPLIT_NAMES.get(name, name): str(folder / name) for name in names}


def describe_layouts(layouts: Sequence[Layout]) -> str:
    """`train.txt/valid.txt/test.txt (or eng.train/eng.testa/eng.testb)`, for messages."""
    shown = ["/".join(names if isinstance(names, str) else names[0] for names in layout.values())
             for layout in layouts]
    return shown[0] + (f" (or {' or '.join(shown[1:])})" if len(shown) > 1 else "")


def file_and_range(spec: str) -> tuple[Path, slice | None]:
    """`file.csv[800:]` -> (file.csv, slice(800, None)); a file that exists is taken as named."""
    match = ROW_RANGE.match(spec)
    if Path(spec).exists() or not match:
        return Path(spec), None
    start, stop = (int(v) if v else None for v in (match["start"], match["stop"]))
    return Path(match["path"]), slice(start, stop)


def load_hub_dataset(task, instead: str):
    """All splits of the task's hub dataset, or one line saying what to pass instead (offline,
    unknown dataset or config).

    `task.spec["hub_revision"]` names the revision where `main` is unreadable: a repository that
    still holds a loading script (datasets >= 4 runs none) is read from the hub's own parquet
    export, `refs/convert/parquet`."""
    import datasets

    path, name = task.hub_dataset
    revision = task.spec.get("hub_revision")
    shown = (path if name is None else f"{path}/{name}") + (f"@{revision}" if revision else "")
    try:
        return datasets.load_dataset(path, name, revision=revision)
    except Exception as exc:  # network, hub and config errors all mean: use local files
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise UserError(f"task {task.name}: could not load the hub dataset {shown} ({type(exc).__name__}"
                        f"{': ' + reason if reason else ''}); pass {instead} instead") from None
