"""The right choice of an example, read the way the public sets write it.

A label names a choice by the choice's own label (`B` of CommonsenseQA's `{label, text}` choices),
by a letter where the choices have no labels (RACE, Social IQa v1.4: `A` is the first), or by a
number: 0-based as the hub stores it (-1: no gold answer), or 1-based as Social IQa (`"1".."3"`)
and WinoGrande (`"1"`/`"2"`) publish it. Which of the two a file's numbers are is decided over the
whole file, as its rows alone cannot tell: a 0 anywhere means 0-based; no 0 and some label equal to
its example's number of choices means 1-based (repaired: counted and logged); neither leaves the
file undecided, and it follows the run's other files (else 0-based). `--label-base` decides for
every file.
"""

from __future__ import annotations

from typing import Any

from electra_tasks.data import repairs
from electra_tasks.errors import UserError

NO_LABEL = -1
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ONE_BASED = "1-based labels (no 0; some equal to the number of choices) read as choice indices from 0"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def expected(count: int, choice_labels: list[str]) -> str:
    named = f"one of {', '.join(choice_labels)}" if choice_labels else f"a letter A..{LETTERS[min(count, 26) - 1]}"
    return f"an index 0..{count - 1} or {named}"


def gold_index(value: Any, choice_labels: list[str], count: int, place: str) -> tuple[int, int | None]:
    """(index, None) for a choice's own label or a letter; (NO_LABEL, n) for a number n, whose
    base `resolve` decides for the whole file; (NO_LABEL, None) where there is no gold answer."""
    if is_missing(value):
        return NO_LABEL, None
    text = str(value).strip()
    if choice_labels and text in choice_labels:
        return choice_labels.index(text), None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer():
        if int(number) == NO_LABEL:
            return NO_LABEL, None  # the hub's "no gold answer" (test splits)
        if 0 <= int(number) <= count:  # `count` itself: the last choice, 1-based
            return NO_LABEL, int(number)
    elif number is None and not choice_labels and len(text) == 1 and text in LETTERS[:count]:
        return LETTERS.index(text), None
    raise UserError(f"{place}: label '{text}' names no choice; expected {expected(count, choice_labels)}")


def file_base(rows: list[dict], forced: int | None) -> int | None:
    """0 or 1: how this file's numeric labels count; None: the file cannot tell (or has none)."""
    if forced is not None:
        return forced
    numbered = [(r["_number"], len(r["choices"])) for r in rows if r["_number"] is not None]
    if any(n == 0 for n, _ in numbered):
        return 0
    if any(n == count for n, count in numbered):
        return 1
    return None


def apply_base(rows: list[dict], base: int, *, detected: bool, why: str = "") -> None:
    """Numeric labels -> choice indices; a number outside base..base+N-1 is one error naming its row."""
    changed = []
    zero = next((r["_row"] for r in rows if r["_number"] == 0), None)
    for row in rows:
        number = row["_number"]
        if number is None:
            continue
        count = len(row["choices"])
        if not base <= number < base + count:
            if not detected:
                reason = f"--label-base {base}"
            elif base == 0:
                reason = f"this file's labels count from 0: {zero} has 0"
            else:
                reason = "this file's labels count from 1"
            raise UserError(f"{row['_place']}: label '{number}' names no choice; expected an index "
                            f"{base}..{base + count - 1} ({reason})")
        row["label"], row["_number"] = number - base, None
        changed.append(row)
    if base == 1 and detected and changed:
        repairs.note(changed[0]["_source"], ONE_BASED + why, len(changed),
                     f"{changed[0]['_place']}: {changed[0]['label'] + 1} -> {changed[0]['label']}")


def resolve(rows: list[dict], forced: int | None) -> None:
    """Decide a file's label base (see the module's docstring); an undecided file keeps its
    numbers in `_number` until `resolve_undecided` sees the run's other files."""
    base = file_base(rows, forced)
    if base is not None:
        apply_base(rows, base, detected=forced is None)
    for row in rows:
        row["_base"] = base


def resolve_undecided(raw: dict[str, list[dict]]) -> None:
    """Files that could not tell follow the base of the run's other files where they agree, else 0."""
    known = {rows[0]["_base"] for rows in raw.values() if rows and rows[0]["_base"] is not None}
    base = known.pop() if len(known) == 1 else 0
    for rows in raw.values():
        if any(r["_number"] is not None for r in rows):
            apply_base(rows, base, detected=True, why=" (as in the run's other files)")
            for row in rows:
                row["_base"] = base


def check_label_base(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if str(value).strip() not in ("0", "1"):
        raise UserError(f"--label-base {value}: expected 0 or 1 (the index of the first choice in --label-column)")
    return int(str(value).strip())
