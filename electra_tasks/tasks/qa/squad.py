"""SQuAD-format JSON (v1.1, v2.0 or the user's own) -> one validated record per question.

The file is `{"data": [{"title"?, "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"?}]}]}], "version"?}`; the hub's flat form
(one row per question: `id`, `title`, `context`, `question`, `answers` {text: [...], answer_start:
[...]}) is read too, from a JSON list, JSON Lines, Parquet or a save_to_disk folder. Question ids
may be JSON numbers (they are written as strings in predictions.json).

Answers whose `answer_start` is off (real SQuAD-format sets have some one or two characters
off) are repaired the way careful tools repair them, each kind counted (`repairs`): the
occurrence of the answer text nearest the given offset, else the text with its whitespace written
differently, else up to Unicode variants (curly quotes, dashes, non-breaking spaces,
compatibility forms); the answer then reads as the context has it. Only an answer found nowhere
in the context is an error. Every problem is one `UserError` naming the file and the question id
(or JSON line).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from electra_tasks.data import repairs
from electra_tasks.data.text import read_text
from electra_tasks.errors import UserError, require, where

log = logging.getLogger("electra_tasks")

MOVED, WHITESPACE, UNICODE = "moved", "whitespace", "unicode"
REPAIRS = {MOVED: "answer_start moved to the nearest occurrence of the answer text",
           WHITESPACE: "answer text found with its whitespace written differently",
           UNICODE: "answer text found up to Unicode variants (quotes, dashes, spaces, compatibility forms)"}
_FOLDED = {**{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4"},
           **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
           **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}}


@dataclass
class SquadFile:
    """The questions of one file, flat, plus what the reader had to repair."""

    records: list[dict]
    articles: int
    recovered: list[str] = field(default_factory=list)  # ids whose answer_start was corrected

    @property
    def has_unanswerable(self) -> bool:
        return any(r["is_impossible"] for r in self.records)


def read_squad(path: str | Path, *, require_answers: bool = True, encoding: str | None = None) -> SquadFile:
    """Read and validate a SQuAD-format file (or a JSON list of the hub's flat rows). Without
    `require_answers` (a test set) answers may be absent; such questions get `has_gold` False."""
    path = Path(path)
    text = read_text(path, encoding)
    try:
        document = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{where(path, exc.lineno)}: broken JSON: {exc.msg} (column {exc.colno})") from None
    articles = document.get("data") if isinstance(document, dict) else document
    if not isinstance(articles, list):
        raise UserError(f"{path}: expected a SQuAD JSON object with a \"data\" list of articles")
    if articles and isinstance(articles[0], dict) and "paragraphs" not in articles[0] and "context" in articles[0]:
        return flat_records(articles, path, require_answers=require_answers)
    return squad_records(articles, path, require_answers=require_answers)


def flat_records(rows: list, source, *, require_answers: bool = True) -> SquadFile:
    """The hub's flat rows (one per question) regrouped into articles and read like SQuAD JSON."""
    articles: dict[str, dict[str, list]] = {}
    for n, row in enumerate(rows, start=1):
        require(isinstance(row, dict), f"{source} (row {n}): expected a JSON object with \"question\" and \"context\"")
        context = row.get("context")
        require(isinstance(context, str), f"{source} (row {n}) (field 'context'): expected a string, found "
                                          f"{json.dumps(context, default=str)}")
        qa = {key: row[key] for key in ("id", "question", "is_impossible") if key in row and row[key] is not None}
        answers = row.get("answers")
        if isinstance(answers, dict):  # the hub's {text: [...], answer_start: [...]}
            texts, starts = answers.get("text") or [], answers.get("answer_start") or []
            require(len(texts) == len(starts), f"{source} (question id {qa.get('id')}) (field 'answers'): "
                                               f"{len(texts)} texts but {len(starts)} answer_start values")
            answers = [{"text": t, "answer_start": a} for t, a in zip(texts, starts)]
        if answers is not None:
            qa["answers"] = answers
        title = row.get("title") or ""
        articles.setdefault(str(title), {}).setdefault(context, []).append(qa)
    data = [{"title": title, "paragraphs": [{"context": c, "qas": q} for c, q in paragraphs.items()]}
            for title, paragraphs in articles.items()]
    return squad_records(data, source, require_answers=require_answers)


def squad_records(articles: list, source, *, require_answers: bool = True) -> SquadFile:
    """Flatten and validate the `data` list of a SQuAD document."""
    records: list[dict] = []
    recovered: list[str] = []
    kinds: dict[str, list[str]] = {}
    seen: set[str] = set()
    for a, article in enumerate(articles):
        place = f"{source} (article {a + 1})"
        require(isinstance(article, dict), f"{place}: expected a JSON object with \"paragraphs\"")
        title = article.get("title", "")
        paragraphs = _key(article, "paragraphs", list, place)
        for p, paragraph in enumerate(paragraphs):
            ppl = f"{place} (paragraph {p + 1})"
            require(isinstance(paragraph, dict), f"{ppl}: expected a JSON object with \"context\" and \"qas\"")
            context = _key(paragraph, "context", str, ppl)
            qas = _key(paragraph, "qas", list, ppl)
            for q, qa in enumerate(qas):
                require(isinstance(qa, dict), f"{ppl} (question {q + 1}): expected a JSON object")
                qid = qa.get("id")
                require(isinstance(qid, (str, int)) and not isinstance(qid, bool) and str(qid) != "",
                        f"{ppl} (question {q + 1}): missing key \"id\" (a string or an integer)")
                qid = str(qid)  # JSON numbers are accepted; predictions.json keys are strings
                qpl = f"{source} (question id {qid})"
                require(qid not in seen, f"{qpl}: question id used twice; ids must be unique")
                seen.add(qid)
                require(context.strip() != "", f"{qpl}: empty context")
                question = _key(qa, "question", str, qpl)
                require(question.strip() != "", f"{qpl}: empty question")
                record = _answers(qa, context, qpl, qid, kinds, require_answers)
                if record.pop("repaired"):
                    recovered.append(qid)
                records.append({"id": qid, "title": str(title), "context": context, "question": question,
                                "article": a, "source": str(source), **record})
    require(bool(records), f"{source}: no questions found")
    recovered_ids = set(recovered)
    for record in records:
        record["recovered"] = record["id"] in recovered_ids
    for kind, examples in kinds.items():
        repairs.note(source, REPAIRS[kind], len(examples), examples[0])
    return SquadFile(records=records, articles=len(articles), recovered=recovered)


def _answers(qa: dict, context: str, place: str, qid: str, kinds: dict[str, list[str]],
             require_answers: bool) -> dict:
    impossible = qa.get("is_impossible")
    if not (impossible is None or isinstance(impossible, bool)):
        raise UserError(f"{place} (field 'is_impossible'): expected true or false, found {json.dumps(impossible)}")
    if "answers" not in qa:
        require(not require_answers or impossible is True, f"{place}: missing key \"answers\"")
        has_gold = impossible is True
        return {"answers": {"text": [], "answer_start": []}, "is_impossible": bool(impossible), "has_gold": has_gold,
                "repaired": False}
    answers = qa["answers"]
    require(isinstance(answers, list), f"{place} (field 'answers'): expected a list of {{text, answer_start}}")
    if impossible is None:
        impossible = not answers
    if impossible:  # v2.0 keeps answers [] (and plausible_answers, which we ignore)
        return {"answers": {"text": [], "answer_start": []}, "is_impossible": True, "has_gold": True,
                "repaired": False}
    require(bool(answers), f"{place}: \"answers\" is empty but is_impossible is false; expected at least one answer")
    texts, starts, repaired = [], [], False
    for n, answer in enumerate(answers, start=1):
        apl = f"{place} (answer {n})"
        require(isinstance(answer, dict), f"{apl}: expected a JSON object with \"text\" and \"answer_start\"")
        text = _key(answer, "text", str, apl)
        start = answer.get("answer_start")
        require("answer_start" in answer, f"{apl}: missing key \"answer_start\"")
        if not isinstance(start, int) or isinstance(start, bool):
            raise UserError(f"{apl} (field 'answer_start'): expected an integer, found {json.dumps(start)}")
        require(text.strip() != "", f"{apl}: empty answer text")
        found = locate_answer(context, text, start)
        if found is None:
            shown = context[max(start, 0): max(start, 0) + len(text)]
            raise UserError(f"{apl}: the answer text {json.dumps(text)} is nowhere in the context "
                            f"(answer_start {start} reads {json.dumps(shown)})")
        new_start, new_text = found
        if (new_start, new_text) != (start, text):
            kind = repair_kind(context, text, new_start, new_text)
            kinds.setdefault(kind, []).append(f"question id {qid}: {start} -> {new_start}"
                                              + (f", {text!r} -> {new_text!r}" if new_text != text else ""))
            repaired = True
        texts.append(new_text)
        starts.append(new_start)
    return {"answers": {"text": texts, "answer_start": starts}, "is_impossible": False, "has_gold": True,
            "repaired": repaired}


def repair_kind(context: str, text: str, start: int, found: str) -> str:
    if found in (text, text.strip()):
        return MOVED
    if found.split() == text.split():
        return WHITESPACE
    return UNICODE


def locate_answer(context: str, text: str, start: int) -> tuple[int, str] | None:
    """(start, text as the context has it) of the answer nearest `start`; None when the answer
    is nowhere in the context.

    Tried in order: the text at `start`; the text (or the text without surrounding spaces)
    anywhere, nearest first; the same words with any whitespace between them; the same up to
    Unicode variants (one character for one, so offsets stay the context's).
    """
    if 0 <= start and context[start:start + len(text)] == text:
        return start, text
    for candidate in dict.fromkeys((text, text.strip())):
        found = _nearest((m.start() for m in re.finditer(re.escape(candidate), context)), start)
        if found is not None:
            return found, candidate
    words = text.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(map(re.escape, words)))
    matches = {m.start(): m.group() for m in pattern.finditer(context)}
    found = _nearest(matches, start)
    if found is not None:
        return found, matches[found]
    folded_context, folded_words = fold(context), fold(text).split()
    pattern = re.compile(r"\s+".join(map(re.escape, folded_words)))
    matches = {m.start(): m.end() for m in pattern.finditer(folded_context)}
    found = _nearest(matches, start)
    if found is not None:
        return found, context[found:matches[found]]
    return None


def _nearest(positions, start: int) -> int | None:
    """The position nearest `start` (the earlier one on a tie)."""
    best = None
    for position in positions:
        if best is None or (abs(position - start), position) < (abs(best - start), best):
            best = position
    return best


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


def _key(obj: dict, name: str, kind: type, place: str):
    if name not in obj:
        raise UserError(f"{place}: missing key \"{name}\"")
    value = obj[name]
    if not isinstance(value, kind):
        expected = {str: "a string", list: "a list"}[kind]
        raise UserError(f"{place} (field '{name}'): expected {expected}, found {type(value).__name__}")
    return value
