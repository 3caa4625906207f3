"""The one user-facing error type.

Anything the user can fix (a bad file, a bad option, a missing model) is raised as `UserError`
with a one-line message that names the file (and line or field) and what was expected. The CLI
prints it on stderr and exits with status 2; nothing below the readers re-checks input.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class UserError(Exception):
    """A problem with the user's input or options: one line on stderr, exit status 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def where(path, line: int | None = None, field: str | None = None) -> str:
    """`path:line (field 'x')`, the prefix of every input error."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if field is not None:
        text += f" (field '{field}')"
    return text


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def reason(exc: BaseException, limit: int | None = 160, *, typed: bool = False) -> str:
    """A library's exception as one clause of our line: its message's first line (cut to `limit`),
    after its type name when `typed`; the type name alone when the message is empty."""
    text = str(exc).strip()
    line = text.splitlines()[0][:limit] if text else ""
    if typed:
        return f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    return line or type(exc).__name__


def require(condition: bool, message: str) -> None:
    """Raise `UserError(message)` unless `condition` holds."""
    if not condition:
        raise UserError(message)
