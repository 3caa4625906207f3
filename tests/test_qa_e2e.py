"""End to end on slices of the real SQuAD dev sets (split by article): metrics.json equals the
official rules applied to the written predictions.json / na_prob.json."""

from __future__ import annotations

import json

import pytest
import torch

from scripts.squad_split import split_by_article
from electra_tasks.options import RunOptions
from electra_tasks.training import runner
from tests.conftest import shared_data
from tests.test_qa_metrics import official_v1, official_v2


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def restricted(dataset_path, ids):
    """The articles of a SQuAD file keeping only the questions in `ids` (the evaluated slice)."""
    articles = json.loads(dataset_path.read_text())["data"]
    for article in articles:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["id"] in ids]
    return articles


def train_slice(tmp_path, model, version, task):
    """Train on 48 questions of the first 30 articles for 3 steps; evaluate on 60 of the others."""
    source = shared_data("squad", version, f"dev-{version}.json")
    paths = split_by_article(source, tmp_path / "data", 30)
    out = tmp_path / "out"
    opts = RunOptions(task=task, model=str(model), output_dir=str(out), data_dir=str(tmp_path / "data"),
                      max_train_samples=48, max_eval_samples=60, max_steps=3, batch_size=16,
                      max_seq_length=128, doc_stride=32, logging_steps=1000)
    return out, paths, runner.train(opts)


def test_squad_v1_slice_scores_as_the_official_script(tmp_path, bert_vocab_model):
    out, paths, metrics = train_slice(tmp_path, bert_vocab_model, "v1.1", "squad")
    predictions = json.loads((out / "predictions.json").read_text())
    assert len(predictions) == 60 and metrics["num_eval_examples"] == 60
    train_ids = {r for a in json.loads(paths["train"].read_text())["data"] for p in a["paragraphs"] for r in
                 (qa["id"] for qa in p["qas"])}
    assert not train_ids & set(predictions)  # evaluated on other articles
    official = official_v1(restricted(paths["validation"], set(predictions)), predictions)
    assert metrics["exact_match"] == pytest.approx(official["exact_match"])
    assert metrics["f1"] == pytest.approx(official["f1"])
    assert set(json.loads((out / "run_config.json").read_text())["data"]["counts"]) == {"train", "validation"}


@pytest.fixture(scope="module")
def v2_run(tmp_path_factory, bert_vocab_model):
    tmp_path = tmp_path_factory.mktemp("squad-v2")
    with pytest.MonkeyPatch.context() as patch:  # the per-test cache/offline settings, for this module fixture
        patch.setenv("ELECTRA_TASKS_CACHE", str(tmp_path / "feature-cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield tmp_path, *train_slice(tmp_path, bert_vocab_model, "v2.0", "squad-v2")
        finally:
            torch.set_num_threads(torch_threads)


def test_squad_v2_slice_scores_as_the_official_script_and_eval_agrees(v2_run):
    tmp_path, out, paths, metrics = v2_run
    predictions = json.loads((out / "predictions.json").read_text())
    na_probs = json.loads((out / "na_prob.json").read_text())
    assert set(predictions) == set(na_probs) and len(predictions) == 60
    assert all(0.0 < p < 1.0 for p in na_probs.values()) and len(set(na_probs.values())) > 1  # real probabilities
    official = official_v2(restricted(paths["validation"], set(predictions)), predictions, na_probs)
    renamed = {"exact": "exact_match"}
    for key, value in official.items():
        if not key.endswith("total"):
            assert metrics[renamed.get(key, key)] == pytest.approx(value), key
    again = runner.evaluate(RunOptions(task="squad-v2", model=str(out), data_dir=str(tmp_path / "data"),
                                       max_eval_samples=60, max_seq_length=128, doc_stride=32,
                                       output_dir=str(tmp_path / "eval")))
    assert again == json.loads((tmp_path / "eval" / "metrics.json").read_text())
    again = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert again["f1"] == pytest.approx(metrics["f1"]) and again["best_f1"] == pytest.approx(metrics["best_f1"])
    assert json.loads((tmp_path / "eval" / "predictions.json").read_text()) == predictions


def test_predict_reads_question_context_lines(v2_run):
    out = v2_run[1]
    lines = [{"question": "Where do the Normans live?", "context": "The Normans lived in Normandy, France."},
             {"id": "x", "question": "Who?", "context": "Nobody knows."}]
    opts = RunOptions(task="squad-v2", model=str(out), max_seq_length=128, doc_stride=32)
    records = runner.predict(opts, [json.dumps(line) for line in lines], "<stdin>")
    assert [r["id"] for r in records] == ["0", "x"]
    for record, line in zip(records, lines):
        assert record["answer"] == "" or record["answer"] in line["context"]
        assert 0.0 <= record["no_answer_probability"] <= 1.0
        assert record["answer"] == "" or line["context"][record["start"]:record["end"]] == record["answer"]


def test_v2_model_keeps_its_threshold_and_predict_uses_it(v2_run):
    out, metrics = v2_run[1], v2_run[3]
    saved = json.loads((out / "config.json").read_text())["electra_tasks"]
    assert saved["task"] == "squad-v2" and saved["null_threshold"] == pytest.approx(metrics["best_f1_thresh"])
    line = "Where do the Normans live?\tThe Normans lived in Normandy, France."  # question<TAB>context
    opts = RunOptions(task="squad-v2", model=str(out), max_seq_length=128, doc_stride=32)
    record = runner.predict(opts, [line], "<stdin>")[0]
    assert 0.0 <= record["score"] <= 1.0 and isinstance(record["logit_score"], float)  # a probability, and the logit
    expected = "" if record["no_answer_probability"] > saved["null_threshold"] else record["answer"]
    assert record["answer"] == expected
    always = runner.predict(RunOptions(task="squad-v2", model=str(out), max_seq_length=128, doc_stride=32,
                                       null_threshold=1.0), [line], "<stdin>")[0]
    assert always["answer"] != ""  # --null-threshold 1.0: never abstain


def test_answers_are_whole_words():
    import numpy as np

    from electra_tasks.tasks.qa.postprocess import Spans, snap_to_words

    context = "Sensors (optical) read 42km."
    spans = Spans(example=np.array([0, 0, 0]), score=np.zeros(3), probability=np.zeros(3),
                  start_char=np.array([4, 9, 23]), end_char=np.array([7, 16, 25]), first=np.array([0]),
                  no_answer_logit=np.zeros(1))
    snap_to_words(spans, [context])
    assert [context[a:b] for a, b in zip(spans.start_char, spans.end_char)] == ["Sensors", "optical", "42km"]


@pytest.mark.parametrize("line, message", [
    ('{"question": "Who?"}', "<stdin>:1 (field 'context'): missing key \"context\""),
    ('{"question": "Who?", "context": " "}', "expected a non-empty string"),
    ('{"question": "Who?",', "<stdin>:1: broken JSON"),
    ('["Who?"]', "expected a JSON object"),
])
def test_predict_bad_lines_are_one_clear_error(line, message):
    from electra_tasks.errors import UserError
    from electra_tasks.tasks.base import TaskData
    from electra_tasks.tasks.qa.family import FAMILY

    opts = RunOptions(task="squad-v2", max_seq_length=384)
    with pytest.raises(UserError) as info:
        FAMILY.read_predict_inputs([line], "<stdin>", None, TaskData(splits={}), opts)
    assert message in str(info.value)
