"""The CLI end to end on a tiny model: train -> eval -> predict, and a real learning check."""

import json

import pytest

from tests.conftest import run_cli
from tests.toy_data import write_sentiment_tsv

# batch 8 (150 steps): at batch 16 (75 steps) the model stayed at chance for 5 of 12 seeds, so whether the
# test passed depended on the seed's luck; at batch 8 the worst of those seeds reach 1.0
TRAIN_ARGS = ["--epochs", "3", "--learning-rate", "3e-3", "--batch-size", "8", "--seed", "7"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model):
    """One training run shared by the tests below (the toy task is separable by one cue word)."""
    folder = tmp_path_factory.mktemp("toy-classification")
    write_sentiment_tsv(folder / "train.tsv", 400, seed=1)
    write_sentiment_tsv(folder / "dev.tsv", 100, seed=2)
    (folder / "test.tsv").write_text("sentence\nthe movie was good\nthe film was awful\n", encoding="utf-8")
    out = folder / "out"
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
                     "--validation-file", folder / "dev.tsv", "--test-file", folder / "test.tsv",
                     "--output-dir", out, *TRAIN_ARGS)
    assert result.returncode == 0, result.stderr[-2000:]
    return folder, out, result


def test_train_writes_the_contract_outputs(trained):
    _, out, _ = trained
    for name in ("config.json", "model.safetensors", "tokenizer.json", "run_config.json", "metrics.json",
                 "predictions_validation.tsv", "predictions_test.tsv"):
        assert (out / name).is_file(), name
    assert not list(out.glob("*.bin")), "weights must be safetensors"
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "0", "1": "1"}
    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["options"]["learning_rate"] == 3e-3
    assert run_config["recipe"]["layerwise_lr_decay"] == 0.8  # ELECTRA's default, resolved
    assert run_config["labels"] == ["0", "1"]


def test_tiny_model_learns_the_separable_task(trained):
    _, out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9, metrics  # chance is 0.5
    assert metrics["num_examples"] == 400
    assert metrics["train_tokens_per_s"] > 0


def test_prediction_file_is_glue_submission_form(trained):
    _, out, _ = trained
    lines = (out / "predictions_test.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction"
    assert [line.split("\t")[0] for line in lines[1:]] == ["0", "1"]
    assert [line.split("\t")[1] for line in lines[1:]] == ["1", "0"]
    validation = (out / "predictions_validation.tsv").read_text().splitlines()
    assert len(validation) == 101


def test_eval_reproduces_the_training_metrics(trained, tmp_path):
    folder, out, _ = trained
    result = run_cli("eval", "classification", "--model", out, "--validation-file", folder / "dev.tsv",
                     "--output-dir", tmp_path / "eval")
    assert result.returncode == 0, result.stderr[-2000:]
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    trained_metrics = json.loads((out / "metrics.json").read_text())
    assert evaluated["accuracy"] == pytest.approx(trained_metrics["accuracy"])
    assert (tmp_path / "eval" / "predictions_validation.tsv").read_text() == \
        (out / "predictions_validation.tsv").read_text()


def test_predict_from_stdin_writes_json_lines(trained):
    _, out, _ = trained
    result = run_cli("predict", "classification", "--model", out, input="it was good\n\nit was awful\n")
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(records) == 3  # output line N answers input line N: the blank line gets its own record
    assert records[1] == {"line": 2, "error": "empty input line"}
    answered = [records[0], records[2]]
    assert [r["label"] for r in answered] == ["1", "0"]
    assert all(0.5 <= r["score"] <= 1 and set(r["scores"]) == {"0", "1"} for r in answered)


def test_single_sentence_model_keeps_a_tab_inside_the_sentence(trained):
    _, out, _ = trained
    result = run_cli("predict", "classification", "--model", out, input="it was good\tbut long\n")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout.splitlines()[-1])
    assert record["text"] == "it was good\tbut long" and "text_pair" not in record


def test_predict_refuses_a_model_of_another_task(trained, tiny_model):
    _, out, _ = trained
    cases = [("qa", out, "fine-tuned for classification (a classification task); task qa needs"),
             ("glue-sst2", tiny_model, "an ElectraForPreTraining checkpoint, not a fine-tuned "
                                       "ElectraForSequenceClassification"),
             ("tagging", out, "fine-tuned for classification (a classification task); task tagging needs")]
    for task, model, expected in cases:
        result = run_cli("predict", task, "--model", model, input='{"question": "q", "context": "c"}\n')
        assert result.returncode == 2, (task, result.stderr[-1500:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (task, lines)


def test_pipeline_loads_the_fine_tuned_folder(trained):
    from transformers import pipeline

    _, out, _ = trained
    classifier = pipeline("text-classification", model=str(out), device="cpu")
    assert classifier("the movie was good")[0]["label"] == "1"


def test_refuses_a_non_empty_output_folder(trained, tiny_model):
    folder, out, _ = trained
    before = sorted(p.name for p in out.iterdir())
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
                     "--output-dir", out)
    assert result.returncode == 2
    assert "exists and is not empty" in result.stderr and "--overwrite" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_same_seed_gives_the_same_predictions_and_cached_tokenization(trained, tiny_model, tmp_path):
    folder, out, first = trained
    again = tmp_path / "again"
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
                     "--validation-file", folder / "dev.tsv", "--test-file", folder / "test.tsv",
                     "--output-dir", again, *TRAIN_ARGS)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (again / "predictions_validation.tsv").read_text() == (out / "predictions_validation.tsv").read_text()
    assert "loaded from cache" in result.stderr
