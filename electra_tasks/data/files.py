"""Which file holds which split: explicit --train-file/... options, or a --data-dir layout.

Every family reads its splits the same way; only the file names of its standard layout differ.
An empty answer means "no local data given": the task then reads its hub dataset. A file name
may end in a row range, `articles.csv[800:]`, to take data rows 800.. of one file. A --data-dir
may also hold a hub dataset's own Parquet files, as `hf download` leaves them (`HubFolder`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from electra_tasks.errors import UserError, reason

SPLIT_OPTIONS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}
ROW_RANGE = re.compile(r"^(?P<path>.+)\[(?P<start>-?\d*):(?P<stop>-?\d*)\]$")

# a layout maps a split to its file name, or to candidate names tried in order
Layout = dict[str, "str | tuple[str, ...]"]


def split_files(opts, layouts: Sequence[Layout], hub_config: str | None = None) -> "dict[str, str] | HubFolder":
    """{split: path} from --train-file/--validation-file/--test-file, else the first layout
    of which --data-dir holds at least one file, else the hub dataset files --data-dir holds
    (`hub_config`: the task's config, a subfolder of a downloaded repository); {} when neither
    option is given."""
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
    snapshot = hub_folder(folder, hub_config)
    if snapshot is not None:
        return snapshot
    raise UserError(f"--data-dir {folder}: none of {describe_layouts(layouts)} found, nor a hub dataset's "
                    f"Parquet files (SPLIT-00000-of-0000N.parquet{f', also under {hub_config}/' if hub_config else ''})")


SPLIT_NAMES = {"dev": "validation", "valid": "validation", "val": "validation"}


def saved_splits(folder: Path) -> dict[str, str]:
    """{split: folder/split} of a `DatasetDict.save_to_disk` folder (dev/valid/val read as validation)."""
    import json

    try:
        names = json.loads((folder / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"--data-dir {folder}: dataset_dict.json is not a datasets save_to_disk index") from None
    return {SPLIT_NAMES.get(name, name): str(folder / name) for name in names}


# the hub's shard names: {split}-00000-of-00003.parquet; its Parquet export: {split}/0000.parquet
HUB_SHARD = re.compile(r"^(?P<split>[A-Za-z]\w*?)-(?P<part>\d{5})-of-(?P<total>\d{5})\.parquet$")
EXPORT_SHARD = re.compile(r"^\d+\.parquet$")


@dataclass(frozen=True)
class HubFolder:
    """A --data-dir holding a hub dataset's own Parquet files: a repository downloaded with
    `hf download` (its configs as subfolders, e.g. nyu-mll/glue's sst2/), one config's folder,
    its data/ folder, or a download of the hub's Parquet export (refs/convert/parquet)."""

    folder: Path
    shards: dict[str, tuple[Path, ...]]  # split -> its files, in order

    def file_specs(self) -> dict[str, str]:
        """{split: its file, or a pattern matching exactly its shards} for a family's file reader."""
        specs = {}
        for split, paths in self.shards.items():
            first = paths[0]
            match = HUB_SHARD.match(first.name)
            if len(paths) == 1:
                specs[split] = str(first)
            elif match:
                specs[split] = str(first.parent / f"{match['split']}-*-of-{match['total']}.parquet")
            else:
                specs[split] = str(first.parent / "*.parquet")
        return specs

    def load(self):
        """The splits as the hub route gets them (a DatasetDict; the features stored in the files)."""
        import datasets

        try:
            return datasets.load_dataset("parquet", data_files={split: [str(p) for p in paths]
                                                                for split, paths in self.shards.items()})
        except Exception as exc:  # damaged files, shards that disagree: one line naming the folder
            raise UserError(f"--data-dir {self.folder}: its Parquet files could not be read ({reason(exc)})") from None


def hub_folder(folder: Path, config: str | None) -> HubFolder | None:
    """The hub dataset files in FOLDER/CONFIG, FOLDER or FOLDER/data, the first that has any, else
    in FOLDER's one subfolder that has any (a repository of one config: its name is not the task's)."""
    for candidate in ([folder / config] if config else []) + [folder, folder / "data"]:
        shards = _hub_shards(candidate)
        if shards:
            return HubFolder(candidate, shards)
    configs = {sub: shards for sub in sorted(folder.iterdir()) if sub.is_dir() for shards in [_hub_shards(sub)] if shards}
    if len(configs) > 1:
        raise UserError(f"--data-dir {folder}: holds the hub files of several configs "
                        f"({', '.join(sub.name for sub in configs)}); pass the folder of one")
    return next((HubFolder(sub, shards) for sub, shards in configs.items()), None)


def _hub_shards(folder: Path) -> dict[str, tuple[Path, ...]]:
    if not folder.is_dir():
        return {}
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        match = HUB_SHARD.match(path.name) if path.is_file() else None
        if match:
            found.setdefault(SPLIT_NAMES.get(match["split"], match["split"]), []).append(path)
        elif path.is_dir():
            parts = sorted(p for p in path.iterdir() if p.is_file() and EXPORT_SHARD.match(p.name))
            if parts:
                found.setdefault(SPLIT_NAMES.get(path.name, path.name), []).extend(parts)
    return {split: tuple(paths) for split, paths in found.items()}


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

    from electra_tasks.hub import cache_only, hub_unreachable, offline_mode

    path, name = task.hub_dataset
    revision = task.spec.get("hub_revision")
    shown = (path if name is None else f"{path}/{name}") + (f"@{revision}" if revision else "")
    unreachable = hub_unreachable()  # then datasets' own cache only, at once
    try:
        with offline_mode(cache_only()):
            return datasets.load_dataset(path, name, revision=revision)
    except Exception as exc:  # network, hub and config errors all mean: use local files
        if unreachable is not None:
            raise UserError(f"task {task.name}: the Hugging Face hub does not answer ({unreachable}) and the "
                            f"dataset {shown} is not in the local cache; pass {instead} instead") from None
        raise UserError(f"task {task.name}: could not load the hub dataset {shown} ({reason(exc, typed=True)}); "
                        f"pass {instead} instead") from None
