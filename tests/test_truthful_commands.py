"""Every command tells the truth: eval's defaults, --config with its task, metrics per split,
the positive label, unseen labels, the logged learning rate and the number of logged points."""

import json

import pytest

from electra_tasks.options import all_options
from tests.conftest import invoke, run_cli
from tests.toy_data import sentiment_rows, write_sentiment_tsv

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("truthful")
    write_sentiment_tsv(folder / "train.tsv", 96, seed=1)
    write_sentiment_tsv(folder / "dev.tsv", 24, seed=2)
    write_sentiment_tsv(folder / "test.tsv", 30, seed=3)
    out = folder / "out"
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
                     "--validation-file", folder / "dev.tsv", "--test-file", folder / "test.tsv", "--output-dir", out,
                     "--epochs", "5", "--batch-size", "8", "--learning-rate", "1e-3", "--max-eval-samples", "20")
    assert result.returncode == 0, result.stderr
    return folder, out, result


def test_max_eval_samples_says_it_cuts_and_metrics_count_every_split(run):
    _, out, result = run
    assert "validation: the first 20 of 24 rows (--max-eval-samples 20)" in result.stderr
    assert "test: the first 20 of 30 rows (--max-eval-samples 20)" in result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_validation_examples"] == 20 and metrics["num_test_examples"] == 20
    assert len((out / "predictions_test.tsv").read_text().splitlines()) == 21


def test_short_run_logs_a_curve_at_the_heads_learning_rate(run):
    _, out, _ = run
    history = json.loads((out / "log_history.json").read_text())
    losses = [e for e in history if "loss" in e]
    assert len(losses) >= 20  # 60 steps: the default 50-step interval would give 2 points
    # the head's rate peaks at 1e-3 (logged every 3 steps, near the peak); the embeddings' would be 1e-3 * 0.8 ** 4
    assert 0.9e-3 < max(e["learning_rate"] for e in losses) <= 1e-3
    assert not (out / "checkpoints").exists()  # no --save-steps: no empty folder left behind


def test_eval_defaults_to_the_data_the_model_was_trained_with(run):
    folder, out, _ = run
    result = run_cli("eval", "classification", "--model", out)
    assert result.returncode == 0, result.stderr
    assert "evaluating on the data the model was trained with" in result.stderr
    target = out / "eval-classification-validation"
    # eval --help names that folder as its default
    assert "eval: MODEL/eval-TASK-SPLIT" in all_options()["output_dir"].default_text
    metrics = json.loads((target / "metrics.json").read_text())
    assert "num_examples" not in metrics  # CONTRACT.md: training examples; eval trains on none
    assert metrics["num_eval_examples"] == metrics["num_validation_examples"] == 20
    again = invoke("eval", "classification", "--model", out)
    assert again.exit_code == 2
    line = again.stderr.strip().splitlines()[-1]
    assert "pass --overwrite to replace its contents" in line and "--resume" not in line


def test_config_run_config_repeats_the_run_and_names_its_task(run):
    _, out, _ = run
    again = out.parent / "again"
    result = invoke("train", "--config", out / "run_config.json", "--output-dir", again)
    assert result.exit_code == 0, result.stderr
    assert json.loads((again / "metrics.json").read_text())["accuracy"] == \
        json.loads((out / "metrics.json").read_text())["accuracy"]
    other = invoke("train", "glue-sst2", "--config", out / "run_config.json", "--output-dir", out.parent / "x")
    assert other.exit_code == 2
    assert other.stderr.strip().splitlines()[-1].endswith(
        f"task glue-sst2 given, but --config {out / 'run_config.json'} is a classification run; drop the task "
        f"argument to repeat that run, or pass a config of a glue-sst2 run")


def hand_f1(gold, predicted, positive):
    tp = sum(g == p == positive for g, p in zip(gold, predicted))
    fp = sum(p == positive != g for g, p in zip(gold, predicted))
    fn = sum(g == positive != p for g, p in zip(gold, predicted))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@pytest.mark.parametrize("positive", [None, "0"])
def test_positive_label_of_binary_f1(tmp_path, tiny_model, positive):
    write_sentiment_tsv(tmp_path / "train.tsv", 32, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 24, seed=5)
    extra = ["--positive-label", positive] if positive else []
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv",
                    "--validation-file", tmp_path / "dev.tsv", "--output-dir", tmp_path / "out", "--max-steps", "3",
                    *extra)
    assert result.exit_code == 0, result.stderr
    gold = [label for _, label in sentiment_rows(24, seed=5)]
    predicted = [line.split("\t")[1] for line in (tmp_path / "out" / "predictions_validation.tsv").read_text().splitlines()[1:]]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["f1"] == pytest.approx(hand_f1(gold, predicted, positive or "1"))  # default: the last label


def test_unseen_validation_label_is_counted_and_scored_as_a_miss(tmp_path, tiny_model):
    write_sentiment_tsv(tmp_path / "train.tsv", 32, seed=1)
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\nit was good\t1\nmeh\t2\nso so\t2\n", encoding="utf-8")
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv",
                     "--validation-file", tmp_path / "dev.tsv", "--output-dir", tmp_path / "out", "--max-steps", "2")
    assert result.returncode == 0, result.stderr
    assert "validation: 2 example(s) have labels never seen in training (2 x2), scored as misses" in result.stderr
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["accuracy"] <= 1 / 3


def test_a_tagging_option_on_a_classification_task_is_refused(run):
    _, out, _ = run
    result = invoke("eval", "classification", "--model", out, "--tag-column", "3")
    assert result.exit_code == 2
    assert "--tag-column: an option of tagging tasks; task classification is a classification task" in result.stderr


def test_a_diverged_run_says_so_and_logs_its_loss_as_not_a_number(tmp_path, tiny_model):
    # the Trainer's default filter logged this run's NaN losses as 0.0 and its train_loss as 0.23
    write_sentiment_tsv(tmp_path / "train.tsv", 96, seed=1)
    out = tmp_path / "out"
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv",
                     "--output-dir", out, "--epochs", "2", "--learning-rate", "1e12", "--logging-steps", "1")
    assert result.returncode == 0, result.stderr
    losses = [e["loss"] for e in json.loads((out / "log_history.json").read_text()) if "loss" in e]
    assert losses[0] > 0.1 and None in losses  # NaN is written as null (JSON has no NaN)
    first_bad = losses.index(None) + 1
    assert all(loss is None for loss in losses[first_bad - 1:])
    assert json.loads((out / "metrics.json").read_text())["train_loss"] is None
    assert (f"training diverged: the loss is not a finite number from logged step {first_bad} on, so the saved model "
            f"is broken; lower --learning-rate (this run: 1e+12)") in result.stderr
    # resumed from its last checkpoint (whose summed loss is NaN, written as null): the same outputs, no traceback
    checkpointed = tmp_path / "checkpointed"
    args = ["train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv", "--output-dir",
            checkpointed, "--max-steps", "6", "--save-steps", "3", "--learning-rate", "1e12", "--logging-steps", "1"]
    assert run_cli(*args).returncode == 0
    resumed = run_cli(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((checkpointed / "metrics.json").read_text())["train_loss"] is None
    # its predictions are still strict JSON lines: NaN scores are null, not the bare NaN that JSON parsers refuse
    predicted = invoke("predict", "classification", "--model", out, input="good film\nbad film\n")
    assert predicted.exit_code == 0, predicted.stderr
    records = [json.loads(line, parse_constant=lambda name: pytest.fail(f"bare {name} in a JSON line"))
               for line in predicted.stdout.splitlines()]
    assert len(records) == 2 and records[0]["score"] is None
