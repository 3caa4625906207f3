"""What the readers repaired in the user's files: counted, logged, and written to run_config.json.

Careful tools fix the small defects public data has (an answer offset one character off, a
stray byte-order mark, a Latin-1 file, `1.0` beside `1`) and say so. A reader calls `note` for
each kind of repair in a file; `collect()` gathers the notes of one data load (the family's
`TaskData.info["repairs"]`, which the runner writes under "data" in run_config.json). Nothing is
repaired silently, and input that cannot be repaired stays an error.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("electra_tasks")

_ACTIVE: list[list[dict]] = []


@contextmanager
def collect() -> Iterator[list[dict]]:
    """Gather the repairs noted while the block runs (nested blocks each see their own)."""
    found: list[dict] = []
    _ACTIVE.append(found)
    try:
        yield found
    finally:
        _ACTIVE.remove(found)


def note(source, repair: str, count: int = 1, example: str | None = None) -> None:
    """`count` repairs of one kind in `source` (a file): logged once, recorded for run_config.json.

    `repair` says what was done ("answer_start moved to the nearest occurrence of the answer");
    `example` shows one case (a line, a question id, the value before and after).
    """
    if count <= 0:
        return
    from electra_tasks.console import notes

    shown = f" (e.g. {example})" if example else ""
    notes.once(f"{source}: {repair}: {count}{shown}")  # once per command: every seed reads the file again
    entry = {"file": str(source), "repair": repair, "count": int(count)}
    if example:
        entry["example"] = example
    for found in _ACTIVE:
        for existing in found:
            if existing["file"] == entry["file"] and existing["repair"] == repair:
                existing["count"] += int(count)
                break
        else:
            found.append(dict(entry))
