"""--config files (YAML/TOML, and run_config.json loading back) and multi-seed aggregation."""

import json

import pytest

from electra_tasks.runfolder import aggregate_seeds
from tests.conftest import invoke
from tests.toy_data import write_sentiment_tsv


@pytest.fixture()
def toy(tmp_path):
    write_sentiment_tsv(tmp_path / "train.tsv", 64, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 16, seed=2)
    return tmp_path


def test_yaml_config_with_command_line_override(toy, tiny_model):
    (toy / "run.yaml").write_text(
        f"model: {tiny_model}\ntrain_file: {toy / 'train.tsv'}\nvalidation_file: {toy / 'dev.tsv'}\n"
        "epochs: 1\nbatch_size: 8\nlearning_rate: 0.002\nmax_steps: 3\n", encoding="utf-8")
    result = invoke("train", "classification", "--config", toy / "run.yaml", "--batch-size", "4",
                    "--output-dir", toy / "out")
    assert result.exit_code == 0, result.stderr
    options = json.loads((toy / "out" / "run_config.json").read_text())["options"]
    assert options["batch_size"] == 4  # the command line wins
    assert options["learning_rate"] == 0.002 and options["max_steps"] == 3  # from the file


def test_run_config_loads_back_and_reproduces_the_run(toy, tiny_model):
    first = invoke("train", "classification", "--model", tiny_model, "--train-file", toy / "train.tsv",
                   "--validation-file", toy / "dev.tsv", "--max-steps", "4", "--batch-size", "8",
                   "--learning-rate", "0.003", "--seed", "5", "--output-dir", toy / "a")
    assert first.exit_code == 0, first.stderr
    second = invoke("train", "classification", "--config", toy / "a" / "run_config.json",
                    "--output-dir", toy / "b")
    assert second.exit_code == 0, second.stderr
    a = json.loads((toy / "a" / "run_config.json").read_text())["options"]
    b = json.loads((toy / "b" / "run_config.json").read_text())["options"]
    assert {k: v for k, v in a.items() if k != "output_dir"} == {k: v for k, v in b.items() if k != "output_dir"}
    assert (toy / "a" / "predictions_validation.tsv").read_text() == (toy / "b" / "predictions_validation.tsv").read_text()


def test_toml_config_and_unknown_key(toy, tiny_model):
    (toy / "run.toml").write_text('epochs = 1\nbogus_option = 3\n', encoding="utf-8")
    result = invoke("train", "classification", "--model", tiny_model, "--config", toy / "run.toml",
                    "--train-file", toy / "train.tsv", "--output-dir", toy / "out")
    assert result.exit_code == 2
    assert "run.toml: unknown option 'bogus_option'" in result.stderr


def test_several_seeds_write_subfolders_and_median_mean_std(toy, tiny_model):
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", toy / "train.tsv",
                    "--validation-file", toy / "dev.tsv", "--max-steps", "3", "--batch-size", "8",
                    "--seeds", "1,2,3", "--output-dir", toy / "multi")
    assert result.exit_code == 0, result.stderr
    per_seed = [json.loads((toy / "multi" / f"seed-{s}" / "metrics.json").read_text())["accuracy"] for s in (1, 2, 3)]
    summary = json.loads((toy / "multi" / "metrics.json").read_text())
    assert summary["seeds"] == [1, 2, 3]
    assert summary["accuracy_per_seed"] == per_seed
    assert summary["accuracy_median"] == sorted(per_seed)[1] == summary["accuracy"]
    assert summary["accuracy_mean"] == pytest.approx(sum(per_seed) / 3)


def test_aggregate_by_hand():
    summary = aggregate_seeds({1: {"accuracy": 0.8, "f1": 0.5}, 2: {"accuracy": 0.9, "f1": 0.7},
                               3: {"accuracy": 0.7, "f1": 0.6}})
    assert summary["accuracy_median"] == pytest.approx(0.8)
    assert summary["accuracy_mean"] == pytest.approx(0.8)
    assert summary["accuracy_std"] == pytest.approx(0.1)  # sample standard deviation
    assert summary["f1"] == pytest.approx(0.6)


def test_pretrain_config_file_fills_untyped_options(tmp_path, monkeypatch):
    from tests.pretraining_toys import use_micro_size, write_repeated_corpus

    use_micro_size(monkeypatch)
    corpus = write_repeated_corpus(tmp_path / "regular.txt", 50)
    (tmp_path / "pt.yaml").write_text("max_steps: 3\nbatch_size: 4\nmax_seq_length: 32\nlearning_rate: 0.001\n",
                                      encoding="utf-8")
    result = invoke("pretrain-continue", "--from-scratch", "--size", "tiny", "--corpus", corpus,
                    "--config", tmp_path / "pt.yaml", "--batch-size", "2", "--output-dir", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    run_config = json.loads((tmp_path / "out" / "run_config.json").read_text())
    flat = {**run_config.get("options", {}), **run_config.get("recipe", {})}
    assert flat["max_steps"] == 3 and flat["max_seq_length"] == 32  # from the file
    assert flat["batch_size"] == 2  # typed on the command line: wins over the file
