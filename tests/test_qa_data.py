"""SQuAD-format reading: valid files, recovered answer offsets, and one clear line for bad input."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import invoke
from electra_tasks.tasks.qa.squad import locate_answer, read_squad
from scripts.squad_split import split_by_article
from electra_tasks.errors import UserError

CONTEXT = "John lives in Paris. Mary visited London in 1990."


def squad_file(tmp_path, qas, context=CONTEXT, name="data.json", **top):
    path = tmp_path / name
    path.write_text(json.dumps({**top, "data": [{"paragraphs": [{"context": context, "qas": qas}]}]}))
    return path


def qa(qid, question, text=None, start=None, **extra):
    answers = [] if text is None else [{"text": text, "answer_start": start}]
    return {"id": qid, "question": question, "answers": answers, **extra}


def test_reads_v1_without_title_or_version(tmp_path):
    path = squad_file(tmp_path, [qa("q1", "Where does John live?", "Paris", 14)])
    read = read_squad(path)
    assert [r["id"] for r in read.records] == ["q1"]
    record = read.records[0]
    assert record["answers"] == {"text": ["Paris"], "answer_start": [14]}
    assert record["is_impossible"] is False and record["title"] == "" and not read.has_unanswerable


def test_unanswerable_with_or_without_is_impossible(tmp_path):
    path = squad_file(tmp_path, [qa("q1", "Who?", is_impossible=True), qa("q2", "When?"),
                                 qa("q3", "When did Mary visit?", "1990", 44, is_impossible=False)])
    read = read_squad(path)
    assert [r["is_impossible"] for r in read.records] == [True, True, False]
    assert read.has_unanswerable


def test_answer_start_off_by_a_space_is_recovered_and_counted(tmp_path, caplog):
    # starts a character off (at the space before / one past the answer), as in SQuAD's train set
    path = squad_file(tmp_path, [qa("q1", "Where?", "Paris", 13), qa("q2", "Who?", "Mary", 22),
                                 qa("q3", "Where?", " Paris", 14)])
    with caplog.at_level("INFO", logger="electra_tasks"):
        read = read_squad(path)
    assert read.recovered == ["q1", "q2", "q3"]
    assert read.records[0]["answers"]["answer_start"] == [14]
    assert read.records[1]["answers"]["answer_start"] == [21]
    # " Paris" is there at 13, but a span starting on the space would be labelled from "in"
    assert read.records[2]["answers"] == {"text": ["Paris"], "answer_start": [14]}
    assert "answer_start moved to the nearest occurrence of the answer text: 2" in caplog.text
    assert "spaces around the answer text trimmed: 1" in caplog.text


def test_spaces_around_an_answer_are_trimmed_so_training_spans_start_on_the_word(tmp_path):
    from electra_tasks.tasks.qa.family import answer_tokens

    path = squad_file(tmp_path, [qa("q1", "Where?", " Paris", 13), qa("q2", "Where?", "Paris. ", 14)])
    got = [r["answers"] for r in read_squad(path).records]
    assert got == [{"text": ["Paris"], "answer_start": [14]}, {"text": ["Paris."], "answer_start": [14]}]
    offsets = [(0, 0), (0, 4), (5, 10), (11, 13), (14, 19), (19, 20)]  # [CLS] John lives in Paris .
    assert answer_tokens(offsets, got[0], False, first=1, last=5) == (4, 4)  # "Paris", not "in Paris"


def test_locate_answer_prefers_the_nearest_occurrence():
    context = "in in in in"
    assert locate_answer(context, "in", 4) == (3, "in")
    assert locate_answer(context, "out", 0) is None
    assert locate_answer("x Paris", " Paris", 2) == (1, " Paris")
    assert locate_answer("abc   Paris", "Paris", 0) == (6, "Paris")  # nearest, however far
    assert locate_answer("Paris, then Paris again", "Paris", 10) == (12, "Paris")


@pytest.mark.parametrize("content, message", [
    ('{"data": [ {"paragraphs": ', "broken JSON"),
    ('{"version": "1.1"}', '"data" list'),
    ('{"data": [{"paragraphs": [{"qas": []}]}]}', 'missing key "context"'),
    ('{"data": [{"paragraphs": [{"context": "x y", "qas": [{"id": "q9", "answers": []}]}]}]}',
     'question id q9): missing key "question"'),
    ('{"data": [{"paragraphs": [{"context": " ", "qas": [{"id": "q7", "question": "?", "answers": []}]}]}]}',
     "question id q7): empty context"),
])
def test_bad_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(UserError, match=re.escape(message)) as info:
        read_squad(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_answer_nowhere_in_the_context_names_the_question(tmp_path):
    path = squad_file(tmp_path, [qa("q-bad", "Where?", "Berlin", 0)])
    with pytest.raises(UserError, match=r"question id q-bad\) \(answer 1\): the answer text \"Berlin\" is nowhere"):
        read_squad(path)


def test_duplicate_ids_and_answerable_without_answers_are_refused(tmp_path):
    with pytest.raises(UserError, match="used twice"):
        read_squad(squad_file(tmp_path, [qa("q1", "a?", "Paris", 14), qa("q1", "b?", "Paris", 14)]))
    with pytest.raises(UserError, match="is_impossible is false"):
        read_squad(squad_file(tmp_path, [qa("q1", "a?", is_impossible=False)]))


def test_cli_bad_file_exits_2_with_one_line_and_writes_nothing(tmp_path, tiny_model):
    bad = squad_file(tmp_path, [qa("q-off", "Where?", "Rome", 3)])
    out = tmp_path / "out"
    result = invoke("train", "qa", "--model", tiny_model, "--train-file", bad, "--validation-file", bad,
                     "--output-dir", out, "--max-seq-length", "64", "--max-query-length", "16",
                     "--doc-stride", "8")
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("electra-tasks: error")]
    assert len(lines) == 1 and "q-off" in lines[0] and "Traceback" not in result.stderr
    assert not out.exists()


def test_split_by_article_keeps_articles_whole(tmp_path):
    articles = [{"title": f"T{i}", "paragraphs": [{"context": CONTEXT, "qas": [qa(f"q{i}", "Where?", "Paris", 14)]}]}
                for i in range(5)]
    source = tmp_path / "all.json"
    source.write_text(json.dumps({"version": "1.1", "data": articles}))
    paths = split_by_article(source, tmp_path / "split", 3)
    assert paths["train"].name == "train-v1.1.json" and paths["validation"].name == "dev-v1.1.json"
    assert [r["id"] for r in read_squad(paths["train"]).records] == ["q0", "q1", "q2"]
    assert [r["id"] for r in read_squad(paths["validation"]).records] == ["q3", "q4"]
    with pytest.raises(UserError, match="--train-articles 5"):
        split_by_article(source, tmp_path / "x", 5)





def test_default_window_overlap_fits_short_windows():
    from electra_tasks.options import RunOptions
    from electra_tasks.tasks.qa.family import check_window_options, qa_setting

    assert qa_setting(RunOptions(task="squad", max_seq_length=384), "doc_stride") == 128  # ELECTRA's default
    short = RunOptions(task="squad", max_seq_length=192)
    assert qa_setting(short, "doc_stride") == 62  # half of the 125 context tokens of a window
    check_window_options(short)  # no error without an explicit --doc-stride
    assert qa_setting(RunOptions(task="squad", max_seq_length=192, doc_stride=100), "doc_stride") == 100
