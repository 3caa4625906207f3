"""One line of `predict` input that holds a JSON object, read with the one error every family gives."""

from __future__ import annotations

import json

from electra_tasks.errors import UserError


def json_record(line: str, place: str, expected: str) -> dict:
    """The JSON object on `line`; `expected` says what the line should be, for the error."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{place}: broken JSON: {exc.msg}; expected {expected}") from None
    if not isinstance(record, dict):
        raise UserError(f"{place}: expected a JSON object: {expected}")
    return record
