"""SQuAD-format JSON (v1.1, v2.0 or the user's own) -> one validated record per question.

The file is `{"data": [{"title"?, "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"?}]}]}], "version"?}`. Every problem is one
`UserError` naming the file and the question id (or JSON line). Answers whose `answer_start` is a
few characters off (real SQuAD train data has some) are recovered by searching near the offset
and counted, rather than failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from electra_tasks.console import notes
from electra_tasks.data.tables import read_text
from electra_tasks.errors import UserError, require, where

SEARCH_WINDOW = 2  # characters either side of a wrong answer_start searched for the answer text


@dataclass
class SquadFile:
    """The questions of one file, flat, plus what the reader had to repair."""

    records: list[dict]
    articles: int
    recovered: list[str] = field(default_factory=list)  # ids whose answer_start was corrected

    @property
    def has_unanswerable(self) -> bool:
        return any(r["is_impossible"] for r in self.records)


def read_squad(path: str | Path, *, require_answers: bool = True) -> SquadFile:
    """Read and validate a SQuAD-format file. Without `require_answers` (a test set) answers may
    be absent; such questions get `has_gold` False."""
    path = Path(path)
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where(path, exc.lineno)}: broken JSON: {exc.msg} (column {exc.colno})") from None
    articles = document.get("data") if isinstance(document, dict) else None
    if not isinstance(articles, list):
        raise UserError(f"{path}: expected a SQuAD JSON object with a \"data\" list of articles")
    return squad_records(articles, path, require_answers=require_answers)


def squad_records(articles: list, source, *, require_answers: bool = True) -> SquadFile:
    """Flatten and validate the `data` list of a SQuAD document."""
    records: list[dict] = []
    recovered: list[str] = []
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
                require(isinstance(qid, (str, int)) and str(qid) != "",
                        f"{ppl} (question {q + 1}): missing key \"id\"")
                qid = str(qid)
                qpl = f"{source} (question id {qid})"
                require(qid not in seen, f"{qpl}: question id used twice; ids must be unique")
                seen.add(qid)
                require(context.strip() != "", f"{qpl}: empty context")
                question = _key(qa, "question", str, qpl)
                require(question.strip() != "", f"{qpl}: empty question")
                record = _answers(qa, context, qpl, qid, recovered, require_answers)
                records.append({"id": qid, "title": str(title), "context": context, "question": question,
                                "article": a, "source": str(source), **record})
    require(bool(records), f"{source}: no questions found")
    recovered_ids = set(recovered)
    for record in records:
        record["recovered"] = record["id"] in recovered_ids
    if recovered:  # a warning that matters, once per command (every seed reads the file again)
        notes.once(f"{source}: {len(recovered)} answer(s) had an answer_start a few characters off; recovered "
                   f"by searching near the offset (e.g. question id {recovered[0]})")
    return SquadFile(records=records, articles=len(articles), recovered=recovered)


def _answers(qa: dict, context: str, place: str, qid: str, recovered: list[str],
             require_answers: bool) -> dict:
    impossible = qa.get("is_impossible")
    require(impossible is None or isinstance(impossible, bool),
            f"{place} (field 'is_impossible'): expected true or false, found {json.dumps(impossible)}")
    if "answers" not in qa:
        require(not require_answers or impossible is True, f"{place}: missing key \"answers\"")
        has_gold = impossible is True
        return {"answers": {"text": [], "answer_start": []}, "is_impossible": bool(impossible), "has_gold": has_gold}
    answers = qa["answers"]
    require(isinstance(answers, list), f"{place} (field 'answers'): expected a list of {{text, answer_start}}")
    if impossible is None:
        impossible = not answers
    if impossible:  # v2.0 keeps answers [] (and plausible_answers, which we ignore)
        return {"answers": {"text": [], "answer_start": []}, "is_impossible": True, "has_gold": True}
    require(bool(answers), f"{place}: \"answers\" is empty but is_impossible is false; expected at least one answer")
    texts, starts = [], []
    for n, answer in enumerate(answers, start=1):
        apl = f"{place} (answer {n})"
        require(isinstance(answer, dict), f"{apl}: expected a JSON object with \"text\" and \"answer_start\"")
        text = _key(answer, "text", str, apl)
        start = answer.get("answer_start")
        require("answer_start" in answer, f"{apl}: missing key \"answer_start\"")
        require(isinstance(start, int) and not isinstance(start, bool),
                f"{apl} (field 'answer_start'): expected an integer, found {json.dumps(start)}")
        require(text.strip() != "", f"{apl}: empty answer text")
        found = locate_answer(context, text, start)
        if found is None:
            shown = context[max(start, 0): max(start, 0) + len(text)]
            raise UserError(f"{apl}: answer_start {start} does not point at the answer text "
                            f"{json.dumps(text)} (the context there reads {json.dumps(shown)})")
        new_start, new_text = found
        if (new_start, new_text) != (start, text) and qid not in recovered:
            recovered.append(qid)
        texts.append(new_text)
        starts.append(new_start)
    return {"answers": {"text": texts, "answer_start": starts}, "is_impossible": False, "has_gold": True}


def locate_answer(context: str, text: str, start: int) -> tuple[int, str] | None:
    """(start, text) of the answer: as given, or the nearest occurrence within SEARCH_WINDOW
    characters (also of the text without surrounding spaces); None when it is not there."""
    if 0 <= start and context[start:start + len(text)] == text:
        return start, text
    for candidate in dict.fromkeys((text, text.strip())):
        low = max(0, start - SEARCH_WINDOW)
        high = min(len(context), start + len(candidate) + SEARCH_WINDOW)
        positions = []
        position = context.find(candidate, low, high)
        while position != -1:
            positions.append(position)
            position = context.find(candidate, position + 1, high)
        if positions:
            return min(positions, key=lambda p: abs(p - start)), candidate
    return None


def _key(obj: dict, name: str, kind: type, place: str):
    if name not in obj:
        raise UserError(f"{place}: missing key \"{name}\"")
    value = obj[name]
    if not isinstance(value, kind):
        expected = {str: "a string", list: "a list"}[kind]
        raise UserError(f"{place} (field '{name}'): expected {expected}, found {type(value).__name__}")
    return value
