"""Where an answer really is in its context, when the file's `answer_start` does not point at it.

Real SQuAD-format sets carry offsets a character or two off, offsets counted by another tool's
rules (JavaScript's UTF-16 code units, UTF-8 bytes, a context whose CRLF line ends were counted
as one character), answer texts with stray spaces, other whitespace, curly quotes or a
different Unicode composition (é as one character or as e + a combining accent). Each finder
returns where the answer is and what kind of repair that was, so the reader can count it.
"""

from __future__ import annotations

import re
import unicodedata

MOVED, WHITESPACE, UNICODE = "moved", "whitespace", "unicode"
UTF16, UTF8, CRLF = "utf16", "utf8", "crlf"
REPAIRS = {MOVED: "answer_start moved to the nearest occurrence of the answer text",
           WHITESPACE: "answer text found with its whitespace written differently",
           UNICODE: "answer text found up to Unicode variants (quotes, dashes, spaces, compatibility forms)",
           UTF16: "answer_start counted in UTF-16 code units (JavaScript); converted to characters",
           UTF8: "answer_start counted in UTF-8 bytes; converted to characters",
           CRLF: "answer_start counted with CRLF line ends as one character; converted"}
_FOLDED = {**{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4"},
           **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
           **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}}
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def find_answer(context: str, text: str, start: int) -> tuple[int, str, str | None] | None:
    """(start, text as the context has it, repair kind or None) of the answer; None when the
    answer is nowhere in the context.

    Tried in order: the text at `start`; `start` read in another tool's units (exactly the
    text there); the text (or the text without surrounding spaces) anywhere, nearest first; the
    same words with any whitespace between them; the same up to Unicode variants.
    """
    if 0 <= start and context[start:start + len(text)] == text:
        return start, text, None
    for kind, converted in _other_units(context, start):
        if context[converted:converted + len(text)] == text:
            return converted, text, kind
    for candidate in dict.fromkeys((text, text.strip())):
        found = _nearest((m.start() for m in re.finditer(re.escape(candidate), context)), start)
        if found is not None:
            return found, candidate, MOVED
    words = text.split()
    if not words:
        return None
    matches = {m.start(): m.group() for m in _words_pattern(words).finditer(context)}
    found = _nearest(matches, start)
    if found is not None:
        return found, matches[found], WHITESPACE
    view, origin = unicode_view(context)
    spans = {}
    for m in _words_pattern(unicode_view(text)[0].split()).finditer(view):
        spans.setdefault(origin[m.start()], origin[m.end()])
    found = _nearest(spans, start)
    if found is not None:
        return found, context[found:spans[found]], UNICODE
    return None


def locate_answer(context: str, text: str, start: int) -> tuple[int, str] | None:
    """(start, text as the context has it) of the answer nearest `start`, or None."""
    found = find_answer(context, text, start)
    return None if found is None else found[:2]


def _other_units(context: str, start: int):
    """(kind, character offset) for `start` read as UTF-16 code units, UTF-8 bytes, or an offset
    into the context with CRLF counted as one character; only units that differ here."""
    if start <= 0:
        return
    if _ASTRAL.search(context):
        units = context.encode("utf-16-le")
        if 2 * start <= len(units):
            yield UTF16, len(units[:2 * start].decode("utf-16-le", errors="ignore"))
    if not context.isascii():
        data = context.encode("utf-8")
        if start <= len(data):
            yield UTF8, len(data[:start].decode("utf-8", errors="ignore"))
    if "\r\n" in context:
        shift = 0
        for n, m in enumerate(re.finditer("\r\n", context)):
            if m.start() - n >= start:
                break
            shift += 1
        yield CRLF, start + shift


def _words_pattern(words: list[str]) -> re.Pattern:
    return re.compile(r"\s+".join(map(re.escape, words)))


def _nearest(positions, start: int) -> int | None:
    """The position nearest `start` (the earlier one on a tie)."""
    best = None
    for position in positions:
        if best is None or (abs(position - start), position) < (abs(best - start), best):
            best = position
    return best


def unicode_view(text: str) -> tuple[str, list[int]]:
    """The text with every character cluster (a letter and its combining marks: é written as e +
    U+0301 is a Unicode variant of é) composed (NFC) and folded (see `fold`), and for each of its
    characters (and its end) the offset in `text` of the cluster it came from."""
    out, origin = [], []
    clusters = re.finditer(r".[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*", text, re.DOTALL)
    for m in clusters:
        folded = fold(unicodedata.normalize("NFC", m.group()))
        out.append(folded)
        origin.extend([m.start()] * len(folded))
    origin.append(len(text))
    return "".join(out), origin


def fold(text: str) -> str:
    """One character for one: curly quotes, dashes and Unicode spaces to ASCII, compatibility
    forms (ligature-free NFKC of a single character) to their plain letter."""
    out = []
    for c in text:
        if c in _FOLDED:
            out.append(_FOLDED[c])
        elif ord(c) < 128:
            out.append(c)
        elif unicodedata.category(c) == "Zs":
            out.append(" ")
        else:
            plain = unicodedata.normalize("NFKC", c)
            out.append(plain if len(plain) == 1 else c)
    return "".join(out)
