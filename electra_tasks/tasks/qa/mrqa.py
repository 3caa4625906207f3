"""MRQA 2019 shared-task files (`SQuAD.jsonl.gz`, `NewsQA.jsonl.gz`, `TriviaQA-web.jsonl.gz`...):
the standard cross-dataset release of extractive QA, read as SQuAD articles.

Line 1 is `{"header": {"dataset": ..., "split": ...}}`; every other line is one context:
`{"id", "context", "context_tokens", "qas": [{"qid", "question", "question_tokens", "answers":
[text, ...], "detected_answers": [{"text", "char_spans": [[start, end]], "token_spans"}]}]}`, with
`end` inclusive. Training uses each detected answer's first character span (as the MRQA baseline
does); scoring uses every string of `answers` too, as `mrqa_official_eval.py` does: those the
context does not hold as written are kept with `answer_start` -1 (scored, never trained on).
"""

from __future__ import annotations

import json
import lzma

from electra_tasks.data.text import open_binary
from electra_tasks.errors import UserError, require, where

HEADER = "header"


def is_mrqa(path) -> bool:
    """Whether the file's first line is an MRQA header (one line read, decompressed)."""
    try:
        with open_binary(path) as stream:  # compressed streams have no readline
            first = bytes(stream.read(1 << 16)).split(b"\n", 1)[0]
    except (OSError, EOFError, ValueError, lzma.LZMAError, UserError):  # unreadable: the table reader says why
        return False
    try:
        record = json.loads(first.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(record, dict) and HEADER in record and "context" not in record


def mrqa_articles(lines, source, *, require_answers: bool = True) -> tuple[list[dict], dict[str, list[str]]]:
    """(SQuAD `data` list with one article per context line, {question id: every gold answer
    text}) from `(line number, parsed record)` pairs, the header included. A question without
    detected answers is a test question (an error where answers are required)."""
    articles, gold = [], {}
    for number, record in lines:
        place = where(source, number)
        require(isinstance(record, dict), f"{place}: expected a JSON object with \"context\" and \"qas\"")
        if HEADER in record and "context" not in record:
            continue
        context, qas = record.get("context"), record.get("qas")
        require(isinstance(context, str), f"{where(source, number, 'context')}: expected a string")
        require(isinstance(qas, list), f"{where(source, number, 'qas')}: expected a list of questions")
        converted = []
        for q, qa in enumerate(qas, start=1):
            require(isinstance(qa, dict), f"{place} (question {q}): expected a JSON object")
            qid = qa.get("qid", qa.get("id"))
            qpl = f"{place} (question id {qid})"
            answers = []
            detected = qa.get("detected_answers")
            for n, answer in enumerate(detected or [], start=1):
                spans = answer.get("char_spans") if isinstance(answer, dict) else None
                span = spans[0] if isinstance(spans, list) and spans else None
                ok = isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)
                require(ok and 0 <= span[0] <= span[1] < len(context),
                        f"{qpl} (field 'detected_answers', answer {n}): expected \"char_spans\" [[start, end]] "
                        f"inside the context of {len(context)} characters (end inclusive), found "
                        f"{json.dumps(answer.get('char_spans') if isinstance(answer, dict) else answer)}")
                answers.append({"text": context[span[0]:span[1] + 1], "answer_start": span[0]})
            require(bool(answers) or not require_answers,
                    f"{qpl} (field 'detected_answers'): expected at least one answer with \"char_spans\" "
                    f"(MRQA questions are all answerable)")
            entry = {"id": qid, "question": qa.get("question")}
            if answers:
                entry.update(answers=answers, is_impossible=False)
            converted.append(entry)
            texts = qa.get("answers")
            if isinstance(texts, list) and all(isinstance(t, str) for t in texts):
                gold[str(qid)] = texts
        articles.append({"title": str(record.get("id", "")), "paragraphs": [{"context": context, "qas": converted}]})
    return articles, gold


def add_gold_texts(records: list[dict], gold: dict[str, list[str]]) -> None:
    """Append MRQA's other gold answer strings to each record's answers (answer_start -1)."""
    for record in records:
        texts = record["answers"]["text"]
        extra = [t for t in dict.fromkeys(gold.get(record["id"], ())) if t.strip() and t not in texts]
        if extra and texts:
            record["answers"] = {"text": texts + extra, "answer_start": record["answers"]["answer_start"]
                                 + [-1] * len(extra)}
