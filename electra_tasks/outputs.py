"""Output folders and files that appear complete or not at all.

Every file is written to a temporary name in the same folder and renamed into place; a run
refuses a non-empty output folder unless the user asked to overwrite or resume.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from electra_tasks.errors import UserError


def is_main_process() -> bool:
    """Rank 0 of a torchrun/accelerate launch (or a plain single process)."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0) == 0


def check_output_dir(path: str | Path, *, overwrite: bool, resume: bool | None) -> Path:
    """Refuse an existing non-empty folder unless --overwrite or --resume (`resume=None`: the
    command has no --resume); create nothing yet."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"--output-dir {out}: exists and is a file; expected a folder")
    if out.is_dir() and any(out.iterdir()) and not (overwrite or resume) and is_main_process():
        hint = "" if resume is None else " or --resume to continue the run in it"
        raise UserError(f"--output-dir {out}: exists and is not empty; pass --overwrite to replace "
                        f"its contents{hint}")
    return out


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write to a temporary name, then rename: the file is complete or absent. It gets the mode
    any new file gets (0666 less the umask), not mkstemp's private 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):
        return _clean(value.item())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def atomic_write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> Path:
    return atomic_write_text(path, json.dumps(_clean(data), indent=indent, ensure_ascii=False) + "\n")


def json_line(record: Any) -> str:
    """One JSON-lines record as strict JSON: NaN and infinities become null (a NaN model's scores, say)."""
    return json.dumps(_clean(record), ensure_ascii=False)


def atomic_write_jsonl(path: str | Path, records: Iterable[Any]) -> Path:
    return atomic_write_text(path, "".join(json_line(r) + "\n" for r in records))


def save_pretrained_atomic(out_dir: Path, *objects) -> None:
    """`save_pretrained` each object into a temporary folder, then move the files into `out_dir`."""
    from electra_tasks.console import phase

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".model.", dir=out_dir))
    try:
        with phase("saving"):
            for obj in objects:
                if hasattr(obj, "config"):
                    obj.save_pretrained(tmp, safe_serialization=True)
                else:
                    obj.save_pretrained(tmp)
            for item in tmp.iterdir():
                target = out_dir / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_if_empty(folder: Path) -> None:
    """The Trainer creates OUT/checkpoints even when nothing is saved there."""
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
