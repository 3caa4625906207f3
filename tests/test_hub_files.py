"""A hub dataset downloaded for offline use (`hf download REPO --repo-type dataset --local-dir DIR`)
works as `--data-dir DIR`: the hub's own Parquet files, laid out as the hub lays them out.

The folders are the hub replica's datasets (`tests/hub_replica.py`: the hub's schemas, with
embedded features and dataset cards, filled with ../shared/data rows), written to disk as a
download leaves them. A task with a hub dataset reads them exactly as its hub rows; a task without
one reads each split's file (several shards as one table).
"""

from __future__ import annotations

import json

import pytest

from tests import hub_replica as replica
from tests.conftest import invoke, shared_data
from tests.toy_data import sentiment_rows

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]
QUICK = ["--max-steps", "2", "--max-train-samples", "8", "--batch-size", "4", "--max-eval-samples", "9"]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    """{repo_id: the folder `hf download` would leave} for every dataset of the replica."""
    for part in ("glue", "conll2003", "squad", "summarization", "multiple_choice"):
        shared_data(part)
    root = tmp_path_factory.mktemp("hub-downloads")
    folders = {}
    for repo_id, revisions in replica.dataset_repos().items():
        # eriktks/conll2003's main holds only a loading script: users download its Parquet export
        revision = "refs/convert/parquet" if "refs/convert/parquet" in revisions else "main"
        folder = root / repo_id.replace("/", "--")
        for name, data in revisions[revision].items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        folders[repo_id] = folder
    return folders


def train(tmp_path, model, task, data_dir, *extra):
    out = tmp_path / "out"
    result = invoke("train", task, "--model", model, "--data-dir", data_dir, "--output-dir", out, *QUICK, *extra)
    assert result.exit_code == 0, result.stderr
    return out, json.loads((out / "metrics.json").read_text()), json.loads((out / "run_config.json").read_text())


@pytest.mark.parametrize("task, repo_id, data_dir, files_in, metric", [
    # the whole repository: the task's config is its subfolder
    ("glue-sst2", "nyu-mll/glue", "", "sst2", "accuracy"),
    # one config's folder, with the hub's own split names
    ("glue-mnli", "nyu-mll/glue", "mnli", "mnli", "accuracy_mm"),
    # the Parquet export: conll2003/train/0000.parquet
    ("conll2003", "eriktks/conll2003", "", "conll2003", "f1"),
    ("squad", "rajpurkar/squad", "plain_text", "plain_text", "exact_match"),
    ("cnn-dailymail", "abisee/cnn_dailymail", "", "3.0.0", "rouge1"),
    ("swag", "allenai/swag", "", "regular", "accuracy"),
])
def test_hub_task_reads_its_downloaded_dataset_as_hub_rows(tmp_path, bert_vocab_model, downloads, task, repo_id,
                                                          data_dir, files_in, metric):
    out, metrics, config = train(tmp_path, bert_vocab_model, task, downloads[repo_id] / data_dir)
    assert metric in metrics
    assert config["data"]["sources"] == {"hub_files": str(downloads[repo_id] / files_in)}
    if task == "glue-mnli":  # both validation splits, named as on the hub, each cut to 9 rows
        assert metrics["num_validation_matched_examples"] == 9 and metrics["num_validation_mismatched_examples"] == 9


def test_a_task_without_a_hub_dataset_reads_every_shard_of_a_split(tmp_path, tiny_model):
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    rows = [{"text": text, "label": int(label)} for text, label in sentiment_rows(90, seed=4)]
    folder = tmp_path / "download" / "data"
    folder.mkdir(parents=True)
    for n, part in enumerate((rows[:40], rows[40:70])):
        datasets.Dataset.from_list(part, features=features).to_parquet(folder / f"train-{n:05d}-of-00002.parquet")
    datasets.Dataset.from_list(rows[70:], features=features).to_parquet(folder / "validation-00000-of-00001.parquet")
    out = tmp_path / "out"
    result = invoke("train", "classification", "--model", tiny_model, "--data-dir", tmp_path / "download",
                    "--output-dir", out, "--max-steps", "2", "--batch-size", "4")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_examples"] == 70 and metrics["num_validation_examples"] == 20  # both shards, one table
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "neg", "1": "pos"}  # the ClassLabel
    sources = json.loads((out / "run_config.json").read_text())["data"]["sources"]
    assert sources["train"] == str(folder / "train-*-of-00002.parquet")


def test_a_folder_with_neither_layout_names_both(tmp_path, tiny_model):
    (tmp_path / "empty").mkdir()
    result = invoke("train", "glue-sst2", "--model", tiny_model, "--data-dir", tmp_path / "empty")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "none of train.tsv/dev.tsv/test.tsv found, nor a hub dataset's Parquet files "
        "(SPLIT-00000-of-0000N.parquet, also under sst2/)")


def test_a_repository_of_several_configs_asks_for_one(tiny_model, downloads):
    result = invoke("train", "classification", "--model", tiny_model, "--data-dir", downloads["nyu-mll/glue"])
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "holds the hub files of several configs (" in line and "sst2" in line and line.endswith("pass the folder of one")
