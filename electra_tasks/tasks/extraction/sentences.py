"""Documents and summaries as lists of sentences, offline.

Splitting uses pysbd (Golden Rules segmenter): pure Python, rule-based, maintained, no model or
data download at run time (nltk's punkt needs one), and it keeps abbreviations ("U.S.", "Dr.",
"a.m.") and quotations ('"I'm fine." He left.') together. CNN articles open with a source tag glued
to the first word ("(CNN)Share, ...", "LONDON, England (CNN) -- Share ..."); `strip_source_tag`
removes it so it neither becomes part of the first sentence nor a sentence of its own.

A document may also arrive already split: a list of sentences, a JSON list in a text cell, or
PreSumm's json (`src`/`tgt`: lists of token lists), whose tokens are joined with spaces. The
published sentence markers are read as such: arXiv/PubMed's `<S> ... </S>` around each abstract
sentence (and abisee's `<s> ... </s>` in one string) are taken off, Multi-News's ` ||||| `
between source documents and its `NEWLINE_CHAR` end a paragraph.

pysbd's time grows with the square of a paragraph's length (27 s for one of 3,000 sentences), so
a paragraph longer than `WINDOW` characters (a news article is shorter) is segmented in windows:
each window's sentences are kept but for those ending near its edge, and the next window starts
where the kept ones end (3,000 sentences: 1-3 s). pysbd's decisions are mostly local: forcing
4,000-character windows on the 346 longest shared CNN articles changed 24, each where an
unbalanced quotation mark had made the whole-article pass glue dozens of sentences into one.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from itertools import accumulate
from typing import Any

# "(CNN)", "LONDON, England (CNN) --", "(The Hollywood Reporter)": a tag at the very start, either
# glued to the next word or followed by "--". A parenthesis followed by a space and lower-case text
# ("John Smith (pictured) said") is ordinary prose and stays.
_SOURCE_TAG = re.compile(
    r"^\s*(?:[A-Z][^().!?\n]{0,60}?\s*)?\((?P<tag>[^()\n]{2,40})\)(?:\s*--\s*|(?=[A-Z0-9\"'‘“]))"
)
_HAS_WORD = re.compile(r"\w")
_SPACES = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n\s*\n|\s*\|\|\|\|\|\s*")  # a blank line, or Multi-News's document separator
_NEWLINE_CHAR = re.compile(r"\s*NEWLINE_CHAR\s*")  # Multi-News's raw files write newlines so
_TAG_EDGES = re.compile(r"^\s*<s>\s*|\s*</s>\s*$", re.IGNORECASE)  # arXiv/PubMed: "<S> a sentence . </S>"
_TAGGED = re.compile(r"<s>\s*(.*?)\s*</s>", re.IGNORECASE | re.DOTALL)  # abisee: "<s> a . </s> <s> b . </s>"
WINDOW = 10_000  # characters pysbd segments at once
MARGIN = 500  # a sentence ending this close to a window's end is segmented again in the next window
DEFAULT_LANGUAGE = "en"


class SentenceError(ValueError):
    """The value cannot be read as sentences; the message says what was expected."""


@lru_cache(maxsize=8)
def _segmenter(language: str = DEFAULT_LANGUAGE):
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    if language not in LANGUAGE_CODES:
        raise SentenceError(f"--sentence-language {language}: pysbd has no rules for it; expected one of "
                            f"{', '.join(sorted(LANGUAGE_CODES))}")
    return pysbd.Segmenter(language=language, clean=False)


def check_language(language: str) -> str:
    """The splitter language, checked before any work (one line naming the choices)."""
    _segmenter(language)
    return language


def _segment(paragraph: str, language: str) -> list[str]:
    """pysbd's sentences of one paragraph, in windows (see the module docstring)."""
    segmenter = _segmenter(language)
    sentences: list[str] = []
    start = 0
    while len(paragraph) - start > WINDOW + MARGIN:
        size = WINDOW + MARGIN
        while True:
            window = segmenter.segment(paragraph[start:start + size])
            ends = list(accumulate(len(piece) for piece in window))  # the pieces rebuild the text (clean=False)
            kept = next((k for k in range(len(window) - 1, -1, -1) if ends[k] <= size - MARGIN), None)
            if kept is not None or start + size >= len(paragraph):
                break
            size *= 2  # one sentence longer than the window: widen it
        if kept is None:
            break
        sentences.extend(window[:kept + 1])
        start += ends[kept]
    sentences.extend(segmenter.segment(paragraph[start:]))
    return sentences


def strip_source_tag(text: str) -> str:
    """Drop a news source tag/dateline at the start ("(CNN)", "PARIS, France (CNN) --")."""
    match = _SOURCE_TAG.match(text)
    if match and len(text) > match.end():
        return text[match.end():]
    return text


def normalise(sentence: str) -> str:
    """One line per sentence: inner newlines and runs of spaces become one space."""
    return _SPACES.sub(" ", sentence).strip()


def split_sentences(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Sentences of a text; blank ones and ones without a letter or digit ("--", ".") dropped."""
    if "NEWLINE_CHAR" in text:
        text = _NEWLINE_CHAR.sub("\n", text)
    sentences = []
    for paragraph in _PARAGRAPH.split(text):
        if paragraph.strip():
            sentences.extend(_segment(paragraph, language))
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


def as_sentences(value: Any, *, source_tags: bool = True, lines_are_sentences: bool = False,
                 language: str = DEFAULT_LANGUAGE) -> list[str]:
    """A document or summary -> its sentences.

    `value`: text, a list of sentences, or a list of token lists (PreSumm); text holding a JSON
    list counts as a list, text of `<s> ... </s>` pairs as their list. `lines_are_sentences`:
    text with newlines is one sentence a line (CNN highlights); otherwise text is split by pysbd
    (`language`: its rules). Raises `SentenceError` for anything else.
    """
    if isinstance(value, str):
        value = parse_json_list(value)
    if isinstance(value, str) and value.lstrip()[:3].lower() == "<s>" and _TAGGED.search(value):
        value = _TAGGED.findall(value)
    if isinstance(value, str):
        if lines_are_sentences and "\n" in value.strip():
            sentences = [normalise(line) for line in value.splitlines()]
            return [s for s in sentences if _HAS_WORD.search(s)]
        return split_sentences(strip_source_tag(value) if source_tags else value, language)
    if isinstance(value, list):
        sentences = []
        for number, item in enumerate(value):
            if isinstance(item, list) and all(isinstance(token, str) for token in item):
                item = " ".join(item)
            if not isinstance(item, str):
                raise SentenceError(f"item {number} of the sentence list is {type(item).__name__}; "
                                    f"expected a string (or a list of token strings)")
            sentences.append(normalise(_TAG_EDGES.sub("", item)))
        return [s for s in sentences if _HAS_WORD.search(s)]
    raise SentenceError(f"found {type(value).__name__}; expected text or a list of sentences")
