"""SQuAD-format JSON (v1.1, v2.0 or the user's own) -> one validated record per question.

The file is `{"data": [{"title"?, "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"?}]}]}], "version"?}`; the hub's flat form
(one row per question: `id`, `title`, `context`, `question`, `answers` {text: [...], answer_start:
[...]}) is read too, from a JSON list, JSON Lines, Parquet or a save_to_disk folder. Question ids
may be JSON numbers (they are written as strings in predictions.json).

Answers whose `answer_start` is off (real SQuAD-format sets have some one or two characters
off, or counted in another tool's units) are repaired the way careful tools repair them, each
kind counted (`repairs`, see `offsets.py`); the answer then reads as the context has it, without
surrounding spaces (a span starting on a space is labelled from the token before it). Only an
answer found nowhere in the context is an error. Conversions of other datasets mark an
unanswerable question by answers of empty text (`answer_start` -1): read as unanswerable (the
empty texts stay its gold answers, as the official v2.0 script scores them), counted. A question
id used twice is one error, unless the second is an exact copy of the first (dropped, counted). A `.json` file of JSON Lines (what `Dataset.to_json` writes) and MRQA files
(`mrqa.py`) are read too. Every problem is one `UserError` naming the file and the question id
(or JSON line).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from electra_tasks.data import repairs
from electra_tasks.data.text import read_text
from electra_tasks.errors import UserError, require, where
from electra_tasks.tasks.qa import mrqa
from electra_tasks.tasks.qa.offsets import REPAIRS, find_answer, fold, locate_answer  # noqa: F401 (re-exported)

log = logging.getLogger("electra_tasks")

EMPTY_ANSWERS = "an answer of empty text (answer_start -1) read as unanswerable"
EMPTY_BESIDE = "answers of empty text dropped beside real answers"
TRIMMED = "spaces around the answer text trimmed"
DUPLICATE = "question repeated with the same id, context, question and answers: the copy dropped"


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
    """Read and validate a SQuAD-format file (or a JSON list or JSON Lines of the hub's flat
    rows, or an MRQA file). Without `require_answers` (a test set) answers may be absent; such
    questions get `has_gold` False."""
    path = Path(path)
    text = read_text(path, encoding).lstrip("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise UserError(f"{where(path, exc.lineno)}: broken JSON: {exc.msg} (column {exc.colno})") from None
        return read_json_lines(json_lines(text, path), path, require_answers=require_answers)
    articles = document.get("data") if isinstance(document, dict) else document
    if not isinstance(articles, list):
        raise UserError(f"{path}: expected a SQuAD JSON object with a \"data\" list of articles")
    if articles and isinstance(articles[0], dict) and "paragraphs" not in articles[0] and "context" in articles[0]:
        return flat_records(articles, path, require_answers=require_answers)
    return squad_records(articles, path, require_answers=require_answers)


def json_lines(text: str, source) -> list[tuple[int, object]]:
    """(line number, parsed value) of every non-blank line; a broken line is one error."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                lines.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise UserError(f"{where(source, number)}: broken JSON: {exc.msg} (column {exc.colno})") from None
    return lines


def read_json_lines(lines: list[tuple[int, object]], source, *, require_answers: bool = True) -> SquadFile:
    """JSON Lines: an MRQA file (header line first), one SQuAD article a line, or flat rows."""
    first = lines[0][1] if lines else None
    if isinstance(first, dict) and mrqa.HEADER in first and "context" not in first:
        articles, gold = mrqa.mrqa_articles(lines, source, require_answers=require_answers)
        read = squad_records(articles, source, require_answers=require_answers)
        mrqa.add_gold_texts(read.records, gold)
        return read
    if isinstance(first, dict) and "paragraphs" in first:
        return squad_records([value for _, value in lines], source, require_answers=require_answers)
    return flat_records([value for _, value in lines], source, require_answers=require_answers)


def read_mrqa(path: str | Path, *, require_answers: bool = True, encoding: str | None = None) -> SquadFile:
    """An MRQA `.jsonl(.gz)` file (see `mrqa.py`)."""
    path = Path(path)
    return read_json_lines(json_lines(read_text(path, encoding).lstrip("\ufeff"), path),
                           path, require_answers=require_answers)


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
    seen: dict[str, tuple[str, tuple]] = {}  # id -> (where it was first, what it was)
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
                identity = (context, qa.get("question"), json.dumps(qa.get("answers"), sort_keys=True),
                            qa.get("is_impossible"))
                if qid in seen:
                    first, before = seen[qid]
                    require(before == identity, f"{qpl}: question id used twice ({first} and article {a + 1} "
                                                f"paragraph {p + 1} question {q + 1}) for different questions; "
                                                f"ids must be unique (predictions.json holds one answer per id)")
                    kinds.setdefault(DUPLICATE, []).append(f"question id {qid}: {first} and article {a + 1} "
                                                           f"paragraph {p + 1} question {q + 1}")
                    continue
                seen[qid] = (f"article {a + 1} paragraph {p + 1} question {q + 1}", identity)
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
        repairs.note(source, REPAIRS.get(kind, kind), len(examples), examples[0])
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
    empty = [a["text"] for a in answers if isinstance(a, dict) and isinstance(a.get("text"), str)
             and not a["text"].strip()]
    if impossible is True:  # v2.0 keeps answers [] (and plausible_answers, which we ignore)
        return _unanswerable(empty if len(empty) == len(answers) else [])
    for n, answer in enumerate(answers, start=1):
        require(isinstance(answer, dict), f"{place} (answer {n}): expected a JSON object with \"text\" and "
                                          f"\"answer_start\"")
        _key(answer, "text", str, f"{place} (answer {n})")
    if answers and len(empty) == len(answers) and impossible is None:  # NQ/NewsQA: [{"text": "", "answer_start": -1}]
        kinds.setdefault(EMPTY_ANSWERS, []).append(f"question id {qid}")
        return _unanswerable(empty)
    if impossible is None and not answers:
        return _unanswerable([])
    require(bool(answers), f"{place}: \"answers\" is empty but is_impossible is false; expected at least one answer")
    real = [(n, answer) for n, answer in enumerate(answers, start=1) if answer["text"].strip()]
    if not real:
        raise UserError(f"{place} (answer 1): empty answer text (is_impossible is false)")
    if len(real) < len(answers):  # evaluate-v2.0.py drops them too
        kinds.setdefault(EMPTY_BESIDE, []).append(f"question id {qid}: {len(answers) - len(real)} of {len(answers)}")
    texts, starts, repaired = [], [], False
    for n, answer in real:
        apl = f"{place} (answer {n})"
        text = answer["text"]
        start = answer.get("answer_start")
        require("answer_start" in answer, f"{apl}: missing key \"answer_start\"")
        if not isinstance(start, int) or isinstance(start, bool):
            raise UserError(f"{apl} (field 'answer_start'): expected an integer, found {json.dumps(start)}")
        found = find_answer(context, text, start)
        if found is None:
            shown = context[max(start, 0): max(start, 0) + len(text)]
            raise UserError(f"{apl}: the answer text {json.dumps(text)} is nowhere in the context "
                            f"(answer_start {start} reads {json.dumps(shown)})")
        new_start, new_text, kind = found
        if new_text != new_text.strip():  # a span starting on a space would be labelled from the word before
            new_start += len(new_text) - len(new_text.lstrip())
            new_text = new_text.strip()
            kind = TRIMMED if kind is None or new_start == start else kind
        if kind is not None:
            kinds.setdefault(kind, []).append(f"question id {qid}: {start} -> {new_start}"
                                              + (f", {text!r} -> {new_text!r}" if new_text != text else ""))
            repaired = True
        texts.append(new_text)
        starts.append(new_start)
    return {"answers": {"text": texts, "answer_start": starts}, "is_impossible": False, "has_gold": True,
            "repaired": repaired}


def _unanswerable(empty_texts: list[str]) -> dict:
    """An unanswerable question's record; answers of empty text stay its gold answers, as
    evaluate-v2.0.py reads them (a question with answers is HasAns, and "" scores 1 on it)."""
    return {"answers": {"text": list(empty_texts), "answer_start": [-1] * len(empty_texts)}, "is_impossible": True,
            "has_gold": True, "repaired": False}


def _key(obj: dict, name: str, kind: type, place: str):
    if name not in obj:
        raise UserError(f"{place}: missing key \"{name}\"")
    value = obj[name]
    if not isinstance(value, kind):
        expected = {str: "a string", list: "a list"}[kind]
        raise UserError(f"{place} (field '{name}'): expected {expected}, found {type(value).__name__}")
    return value
