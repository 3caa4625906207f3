"""Documents and summaries as lists of sentences, offline.

Splitting uses pysbd (Golden Rules segmenter): pure Python, rule-based, maintained, no model or
data download at run time (nltk's punkt needs one), and it keeps abbreviations ("U.S.", "Dr.",
"a.m.") and quotations ('"I'm fine." He left.') together. CNN articles open with a source tag glued
to the first word ("(CNN)Share, ...", "LONDON, England (CNN) -- Share ..."); `strip_source_tag`
removes it so it neither becomes part of the first sentence nor a sentence of its own.

A document may also arrive already split: a list of sentences, a JSON list in a text cell, or
PreSumm's json (`src`/`tgt`: lists of token lists), whose tokens are joined with spaces.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

# "(CNN)", "LONDON, England (CNN) --", "(The Hollywood Reporter)": a tag at the very start, either
# glued to the next word or followed by "--". A parenthesis followed by a space and lower-case text
# ("John Smith (pictured) said") is ordinary prose and stays.
_SOURCE_TAG = re.compile(
    r"^\s*(?:[A-Z][^().!?\n]{0,60}?\s*)?\((?P<tag>[^()\n]{2,40})\)(?:\s*--\s*|(?=[A-Z0-9\"'‘“]))"
)
_HAS_WORD = re.compile(r"\w")
_SPACES = re.compile(r"\s+")


class SentenceError(ValueError):
    """The value cannot be read as sentences; the message says what was expected."""


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def strip_source_tag(text: str) -> str:
    """Drop a news source tag/dateline at the start ("(CNN)", "PARIS, France (CNN) --")."""
    match = _SOURCE_TAG.match(text)
    if match and len(text) > match.end():
        return text[match.end():]
    return text


def normalise(sentence: str) -> str:
    """One line per sentence: inner newlines and runs of spaces become one space."""
    return _SPACES.sub(" ", sentence).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a text; blank ones and ones without a letter or digit ("--", ".") dropped."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.strip():
            sentences.extend(_segmenter().segment(paragraph))
    return [s for s in (normalise(s) for s in sentences) if _HAS_WORD.search(s)]


def parse_json_list(value: str) -> Any:
    """A text cell that holds a JSON list ('["First.", "Second."]'), else the text unchanged."""
    stripped = value.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            return value
        if isinstance(parsed, list):
            return parsed
    return value


def as_sentences(value: Any, *, source_tags: bool = True, lines_are_sentences: bool = False) -> list[str]:
    """A document or summary -> its sentences.

    `value`: text, a list of sentences, or a list of token lists (PreSumm); text holding a JSON
    list counts as a list. `lines_are_sentences`: text with newlines is one sentence a line (CNN
    highlights); otherwise text is split by pysbd. Raises `SentenceError` for anything else.
    """
    if isinstance(value, str):
        value = parse_json_list(value)
    if isinstance(value, str):
        if lines_are_sentences and "\n" in value.strip():
            sentences = [normalise(line) for line in value.splitlines()]
            return [s for s in sentences if _HAS_WORD.search(s)]
        return split_sentences(strip_source_tag(value) if source_tags else value)
    if isinstance(value, list):
        sentences = []
        for number, item in enumerate(value):
            if isinstance(item, list) and all(isinstance(token, str) for token in item):
                item = " ".join(item)
            if not isinstance(item, str):
                raise SentenceError(f"item {number} of the sentence list is {type(item).__name__}; "
                                    f"expected a string (or a list of token strings)")
            sentences.append(normalise(item))
        return [s for s in sentences if _HAS_WORD.search(s)]
    raise SentenceError(f"found {type(value).__name__}; expected text or a list of sentences")
