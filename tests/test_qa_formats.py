"""SQuAD-format files as other tools publish them: v2.0 train records, NQ/NewsQA-style conversions,
offsets counted in other units, JSON Lines in a .json file, the hub's flat rows, MRQA files."""

from __future__ import annotations

import gzip
import json

import pytest

from electra_tasks.data import repairs
from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.tasks.qa.family import FAMILY
from electra_tasks.tasks.qa.squad import read_squad

CONTEXT = "John lives in Paris. Mary visited London in 1990."


def squad(tmp_path, *paragraphs, name="data.json"):
    """A SQuAD file with one article per (context, qas) pair."""
    path = tmp_path / name
    data = [{"title": f"T{i}", "paragraphs": [{"context": c, "qas": q}]} for i, (c, q) in enumerate(paragraphs)]
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def read(path, split="train"):
    with repairs.collect() as found:
        records = FAMILY.read_file(path, split, None, RunOptions(task="qa"))
    return records, {entry["repair"]: entry["count"] for entry in found}


def answers(records):
    return {r["id"]: (r["is_impossible"], r["answers"]["text"], r["answers"]["answer_start"]) for r in records}


# --- SQuAD 2.0 and conversions of other datasets ---------------------------------------------
def test_v2_train_records_and_answerable_questions_without_is_impossible(tmp_path):
    path = squad(tmp_path, (CONTEXT, [
        {"question": "Where does Bob live?", "id": "a1", "answers": [], "is_impossible": True,
         "plausible_answers": [{"text": "Paris", "answer_start": 14}]},
        {"question": "Where does John live?", "id": "a2", "answers": [{"text": "Paris", "answer_start": 14}]}]))
    records, found = read(path)
    assert answers(records) == {"a1": (True, [], []), "a2": (False, ["Paris"], [14])} and found == {}


def test_empty_answer_with_start_minus_one_is_unanswerable_and_counted(tmp_path):
    # NaturalQuestions/NewsQA conversions: [{"text": "", "answer_start": -1}]; integer ids
    path = squad(tmp_path, (CONTEXT, [
        {"question": "Who?", "id": 1, "answers": [{"text": "", "answer_start": -1}]},
        {"question": "Where?", "id": 2, "answers": [{"text": "", "answer_start": -1},
                                                    {"text": "Paris", "answer_start": 14},
                                                    {"text": "in Paris", "answer_start": 11}]},
        {"question": "Why?", "id": 3, "is_impossible": True, "answers": [{"text": "", "answer_start": -1}]}]))
    records, found = read(path)
    # the empty texts stay gold: evaluate-v2.0.py counts such a question as HasAns, with gold [""]
    assert answers(records) == {"1": (True, [""], [-1]), "2": (False, ["Paris", "in Paris"], [14, 11]),
                                "3": (True, [""], [-1])}
    assert [r["recovered"] for r in records] == [False, False, False]  # no answer_start was moved
    assert found == {"an answer of empty text (answer_start -1) read as unanswerable": 1,
                     "answers of empty text dropped beside real answers": 1}


def test_empty_answer_on_a_question_marked_answerable_is_one_error(tmp_path):
    path = squad(tmp_path, (CONTEXT, [{"question": "Who?", "id": "z", "is_impossible": False,
                                       "answers": [{"text": " ", "answer_start": -1}]}]))
    with pytest.raises(UserError) as info:
        read_squad(path)
    assert str(info.value) == f"{path} (question id z) (answer 1): empty answer text (is_impossible is false)"


def test_a_question_copied_into_two_articles_is_dropped_once_and_counted(tmp_path):
    qa = {"question": "Where does John live?", "id": 7, "answers": [{"text": "Paris", "answer_start": 14}]}
    path = squad(tmp_path, (CONTEXT, [qa]), (CONTEXT, [dict(qa, id="7")]))  # 7 and "7" are one id
    records, found = read(path)
    assert [r["id"] for r in records] == ["7"]
    assert found == {"question repeated with the same id, context, question and answers: the copy dropped": 1}


def test_one_id_for_two_different_questions_is_one_error_naming_both(tmp_path):
    path = squad(tmp_path, (CONTEXT, [{"question": "Where?", "id": 7, "answers": [{"text": "Paris", "answer_start": 14}]}]),
                 (CONTEXT, [{"question": "Who?", "id": 7, "answers": [{"text": "Mary", "answer_start": 21}]}]))
    with pytest.raises(UserError) as info:
        read_squad(path)
    assert str(info.value) == (f"{path} (question id 7): question id used twice (article 1 paragraph 1 question 1 "
                               f"and article 2 paragraph 1 question 1) for different questions; ids must be unique "
                               f"(predictions.json holds one answer per id)")


# --- offsets counted by other tools ------------------------------------------------------------
@pytest.mark.parametrize("context, nth, unit, kind", [
    # JavaScript counts each emoji as 2 code units: 13 emoji put the offset nearest a later "ab"
    ("\U0001F600" * 13 + " ab ab ab ab ab ab ab", 1, "utf-16", "UTF-16 code units"),
    ("Ça été écrit à côté: ab ab ab ab", 1, "utf-8", "UTF-8 bytes"),
    ("line\r\nline\r\nline\r\nline\r\n ab ab ab ab", 2, "crlf", "CRLF line ends as one character"),
])
def test_offsets_in_other_units_are_converted_not_moved_to_the_wrong_occurrence(tmp_path, context, nth, unit, kind):
    true = [i for i in range(len(context)) if context.startswith("ab", i)][nth]
    prefix = context[:true]
    offset = {"utf-16": len(prefix.encode("utf-16-le")) // 2, "utf-8": len(prefix.encode("utf-8")),
              "crlf": len(prefix.replace("\r\n", "\n"))}[unit]
    assert context[offset:offset + 2] != "ab"  # an offset that reads the text exactly is never moved
    nearest = min((i for i in range(len(context)) if context.startswith("ab", i)), key=lambda i: abs(i - offset))
    assert nearest != true  # what moving to the nearest occurrence would pick
    path = squad(tmp_path, (context, [{"question": "q", "id": "x", "answers": [{"text": "ab", "answer_start": offset}]}]))
    records, found = read(path)
    assert records[0]["answers"]["answer_start"] == [true]
    assert [(repair, count) for repair, count in found.items()] == [(next(r for r in found if kind in r), 1)]


@pytest.mark.parametrize("context, text, expected", [
    ("Ren\u00e9e went to Paris.", "Rene\u0301e", "Ren\u00e9e"),  # decomposed answer, composed context
    ("Rene\u0301e went to Paris.", "Ren\u00e9e", "Rene\u0301e"),  # and the other way round
    ("It cost 10\u00a0000 euros.", "10 000", "10\u00a0000"),  # no-break space
])
def test_answers_differing_only_in_unicode_form_read_as_the_context_has_them(tmp_path, context, text, expected):
    path = squad(tmp_path, (context, [{"question": "q", "id": "u", "answers": [{"text": text, "answer_start": 0}]}]))
    records, found = read(path)
    start = records[0]["answers"]["answer_start"][0]
    assert records[0]["answers"]["text"] == [expected] and context[start:start + len(expected)] == expected
    assert sum(found.values()) == 1


# --- JSON Lines and flat rows ----------------------------------------------------------------------
FLAT = [{"id": "f1", "title": "T", "context": CONTEXT, "question": "Where does John live?",
         "answers": {"text": ["Paris"], "answer_start": [14]}},
        {"id": "f2", "title": "T", "context": CONTEXT, "question": "Where does Bob live?",
         "answers": {"text": [], "answer_start": []}}]


def test_json_lines_in_a_json_file_as_dataset_to_json_writes_them(tmp_path):
    path = tmp_path / "train.json"
    path.write_text("".join(json.dumps(row) + "\n" for row in FLAT))
    assert answers(read(path)[0]) == {"f1": (False, ["Paris"], [14]), "f2": (True, [], [])}


def test_json_lines_of_squad_articles(tmp_path):
    path = tmp_path / "train.json"
    article = {"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "s1", "question": "Who?", "answers": [{"text": "Mary", "answer_start": 21}]}]}]}
    path.write_text(json.dumps(article) + "\n" + json.dumps({**article, "paragraphs": []}) + "\n")
    assert answers(read(path)[0]) == {"s1": (False, ["Mary"], [21])}


def test_flat_rows_as_parquet_and_as_json_lines_with_a_list_of_answer_objects(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(FLAT), tmp_path / "train.parquet")
    assert answers(read(tmp_path / "train.parquet")[0]) == {"f1": (False, ["Paris"], [14]), "f2": (True, [], [])}
    rows = [{**FLAT[0], "answers": [{"text": "Paris", "answer_start": 14}]}, {**FLAT[1], "answers": []}]
    (tmp_path / "hand.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert answers(read(tmp_path / "hand.jsonl")[0]) == {"f1": (False, ["Paris"], [14]), "f2": (True, [], [])}


# --- MRQA ----------------------------------------------------------------------------------------------
def mrqa_lines(detected=None):
    detected = detected if detected is not None else [{"text": "Paris", "char_spans": [[14, 18]], "token_spans": [[3, 3]]}]
    return [{"header": {"dataset": "TriviaQA", "split": "dev"}},
            {"id": "ctx-1", "context": CONTEXT, "context_tokens": [["John", 0]], "qas": [
                {"id": "x-1", "qid": "m1", "question": "Where does John live?", "question_tokens": [["Where", 0]],
                 "answers": ["Paris", "City of Light"], "detected_answers": detected}]},
            {"id": "ctx-2", "context": CONTEXT, "qas": [
                {"qid": "m2", "question": "Who visited London?", "answers": ["Mary"],
                 "detected_answers": [{"text": "Mary", "char_spans": [[21, 24], [21, 24]]}]}]}]


@pytest.mark.parametrize("name", ["TriviaQA.jsonl", "TriviaQA.jsonl.gz"])
def test_mrqa_files_are_read_with_their_spans_and_every_gold_answer(tmp_path, name):
    text = "".join(json.dumps(line) + "\n" for line in mrqa_lines())
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    records, found = read(path, "validation")
    # char_spans end inclusive; "City of Light" is scored (answer_start -1) but not in the context
    assert answers(records) == {"m1": (False, ["Paris", "City of Light"], [14, -1]), "m2": (False, ["Mary"], [21])}
    assert [r["context"] for r in records] == [CONTEXT, CONTEXT] and found == {}


@pytest.mark.parametrize("detected, message", [
    ([{"text": "Paris", "char_spans": [[14, 99]]}], "expected \"char_spans\" [[start, end]] inside the context"),
    ([{"text": "Paris", "char_spans": []}], "found []"),
    ([], "expected at least one answer with \"char_spans\" (MRQA questions are all answerable)"),
])
def test_bad_mrqa_records_are_one_line_naming_line_and_question(tmp_path, detected, message):
    path = tmp_path / "SQuAD.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in mrqa_lines(detected)))
    with pytest.raises(UserError) as info:
        read(path)
    assert str(info.value).startswith(f"{path}:2 (question id m1) (field 'detected_answers'")
    assert message in str(info.value)


def test_predict_refuses_two_lines_with_one_id():
    from electra_tasks.tasks.base import TaskData

    lines = [json.dumps({"question": "Who?", "context": CONTEXT}),
             json.dumps({"id": "0", "question": "Where?", "context": CONTEXT})]
    with pytest.raises(UserError) as info:
        FAMILY.read_predict_inputs(lines, "<stdin>", None, TaskData(splits={}),
                                   RunOptions(task="qa", max_seq_length=384))
    assert str(info.value) == ("<stdin>:2 (field 'id'): id '0' is also the id of line 1 (a line without \"id\" "
                               "gets its position, from 0); ids must be unique")


def test_train_on_an_mrqa_file_and_an_nq_style_file_writes_what_the_official_script_reads(tmp_path, tiny_model):
    from tests.conftest import invoke

    train = tmp_path / "TriviaQA.jsonl.gz"
    train.write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in mrqa_lines()).encode()))
    dev = squad(tmp_path, (CONTEXT, [{"question": "Who?", "id": 1, "answers": [{"text": "", "answer_start": -1}]},
                                     {"question": "Where?", "id": 2, "answers": [{"text": "Paris", "answer_start": 13}]}]))
    out = tmp_path / "out"
    result = invoke("train", "qa", "--model", tiny_model, "--train-file", train, "--validation-file", dev,
                    "--output-dir", out, "--max-seq-length", "64", "--max-query-length", "16", "--doc-stride", "8",
                    "--max-steps", "1", "--batch-size", "2")
    assert result.exit_code == 0, result.stderr
    predictions = json.loads((out / "predictions.json").read_text())
    na_probs = json.loads((out / "na_prob.json").read_text())
    assert set(predictions) == set(na_probs) == {"1", "2"} and all(isinstance(v, str) for v in predictions.values())
    recorded = {(r["file"], r["repair"]): r["count"] for r in json.loads((out / "run_config.json").read_text())["data"]["repairs"]}
    assert recorded == {(str(dev), "an answer of empty text (answer_start -1) read as unanswerable"): 1,
                        (str(dev), "answer_start moved to the nearest occurrence of the answer text"): 1}
    from tests.test_qa_metrics import official_v2

    metrics = json.loads((out / "metrics.json").read_text())
    data = json.loads(dev.read_text())["data"]
    for article in data:  # the official script looks the file's ids up in predictions.json's string keys
        for qa in article["paragraphs"][0]["qas"]:
            qa["id"] = str(qa["id"])
    threshold = {q: 0.5 for q in predictions}  # eval answered "" above 0.5 already; re-score the written answers
    official = official_v2(data, predictions, threshold)
    assert metrics["exact_match"] == pytest.approx(official["exact"]) and metrics["f1"] == pytest.approx(official["f1"])
