"""BERT's max-context rule for inputs cut into overlapping windows (`_check_is_max_context`).

A token (or word) that appears in several windows is read from the one where it has the most
context: the largest min(tokens to its left, tokens to its right) + 0.01 x the window's size; the
first such window wins a tie. Token tagging and extractive QA both read their windows this way.
"""

from __future__ import annotations

from typing import Hashable, Iterable


def max_context_windows(spans: Iterable[tuple[Hashable, int, int, int, int]]) -> dict[Hashable, int]:
    """`spans`: (key, window, tokens left, tokens right, window size) -> {key: its best window}."""
    best: dict[Hashable, tuple[float, int]] = {}
    for key, window, left, right, size in spans:
        score = min(left, right) + 0.01 * size
        if key not in best or score > best[key][0]:
            best[key] = (score, window)
    return {key: window for key, (_, window) in best.items()}
