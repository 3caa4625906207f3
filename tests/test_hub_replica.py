"""The hub path, as a new user takes it: hub model ids and hub datasets, through the CLI.

Everything runs against `tests/hub_replica.py` (a local hub server reached through HF_ENDPOINT, with
the released configs, tokenizers and key names of google/electra-*, and the hub's dataset schemas
filled with rows of ../shared/data), by the unmodified Hugging Face clients, with a fresh cache.

The README's first command runs as its own process, as a person types it. The per-task matrix runs
its command lines one after the other in a second process (`tests/cli_batch.py`: the real CLI, one
import of torch/transformers/datasets for all of them), started first so that both overlap.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hub_replica as replica
from tests.conftest import REPO, SHARED_DATA

pytestmark = pytest.mark.slow

SMALL = "google/electra-small-discriminator"
EVAL_ROWS = 7  # odd: a label mapping turned around (accuracy a -> 1 - a) can never score the same
QUICK = ["--max-steps", "2", "--max-train-samples", "8", "--max-eval-samples", str(EVAL_ROWS), "--batch-size", "4"]
GLUE = {  # task -> (hub config, metric names, validation splits, test splits)
    "glue-cola": ("cola", {"matthews_correlation", "accuracy"}, ["validation"], ["test"]),
    "glue-mrpc": ("mrpc", {"accuracy", "f1"}, ["validation"], ["test"]),
    "glue-stsb": ("stsb", {"pearson", "spearmanr"}, ["validation"], ["test"]),
    "glue-qqp": ("qqp", {"accuracy", "f1"}, ["validation"], ["test"]),
    "glue-mnli": ("mnli", {"accuracy", "accuracy_mm"}, ["validation_matched", "validation_mismatched"],
                  ["test_matched", "test_mismatched"]),
    "glue-qnli": ("qnli", {"accuracy"}, ["validation"], ["test"]),
    "glue-rte": ("rte", {"accuracy"}, ["validation"], ["test"]),
    "glue-wnli": ("wnli", {"accuracy"}, ["validation"], ["test"]),
}
LABELS = {"glue-cola": ["0", "1"], "glue-mrpc": ["0", "1"], "glue-qqp": ["0", "1"], "glue-wnli": ["0", "1"],
          "glue-mnli": ["entailment", "neutral", "contradiction"],
          "glue-qnli": ["entailment", "not_entailment"], "glue-rte": ["entailment", "not_entailment"]}
CONTRACT_FILES = ("config.json", "model.safetensors", "tokenizer_config.json", "run_config.json", "metrics.json",
                  "log_history.json")


def cli_env(hub_replica) -> dict[str, str]:
    """The replica's exports, plus one intra-op thread per process: the README run and the batch run
    side by side on a 2-core machine (two threads each make small steps many times slower)."""
    return {**hub_replica.env(), "OMP_NUM_THREADS": "1"}


def swag_registered() -> bool:
    from electra_tasks.errors import UserError
    from electra_tasks.registry import get_task

    try:
        get_task("swag")
    except UserError:
        return False
    return True


class Batch:
    """The matrix's command lines, running in one background process; `result(name)` waits for them."""

    def __init__(self, replica_: "object", folder: Path):
        self.folder = folder
        self.jobs = jobs(folder)
        (folder / "jobs.json").write_text(json.dumps(self.jobs))
        self.log = open(folder / "batch.log", "wb")
        self.process = subprocess.Popen([sys.executable, str(REPO / "tests" / "cli_batch.py"), str(folder / "jobs.json"),
                                         str(folder / "results.json")], cwd=REPO, env=cli_env(replica_),
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._results = None

    def result(self, name: str) -> dict:
        if self._results is None:
            self.process.wait(timeout=900)
            path = self.folder / "results.json"
            self._results = json.loads(path.read_text()) if path.exists() else {}
            assert self.process.returncode == 0, (self.folder / "batch.log").read_text()[-3000:]
        result = self._results[name]
        result["out"] = self.folder / name
        return result

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def jobs(folder: Path) -> dict[str, list[str]]:
    out = lambda name: str(folder / name)  # noqa: E731
    corpus = []
    for n, source in enumerate([SHARED_DATA / "corpus" / "wikitext-2-tokenized" / "valid.txt",
                                SHARED_DATA / "corpus" / "gutenberg-nltk" / "austen-emma.txt"]):
        path = folder / f"corpus-{n}.txt"
        path.write_text("\n".join(source.read_text(encoding="utf-8", errors="replace").splitlines()[:200]) + "\n")
        corpus.append(str(path))
    batch = {task: ["train", task, "--model", SMALL, "--output-dir", out(task), *QUICK, "--max-seq-length", "64"]
             for task in GLUE}
    for task in ("glue-wnli", "glue-rte"):  # the hub-trained model on GLUE's own files: same rows, same labels?
        batch[f"{task}-files"] = ["eval", task, "--model", out(task), "--data-dir", str(SHARED_DATA / "glue" / GLUE[task][0].upper()),
                                  "--max-eval-samples", str(EVAL_ROWS), "--output-dir", out(f"{task}-files")]
    for split in ("validation", "test"):  # MNLI's validation is matched + mismatched, and so is its test
        batch[f"glue-mnli-eval-{split}"] = ["eval", "glue-mnli", "--model", out("glue-mnli"), "--split", split,
                                            "--max-eval-samples", str(EVAL_ROWS), "--output-dir", out(f"glue-mnli-eval-{split}")]
    batch["conll2003"] = ["train", "conll2003", "--model", SMALL, "--output-dir", out("conll2003"), *QUICK,
                          "--max-seq-length", "64"]
    for task in ("squad", "squad-v2"):
        batch[task] = ["train", task, "--model", SMALL, "--output-dir", out(task), *QUICK, "--max-seq-length", "128"]
    batch["cnn-dailymail"] = ["train", "cnn-dailymail", "--model", SMALL, "--output-dir", out("cnn-dailymail"), *QUICK,
                              "--max-seq-length", "128"]
    if swag_registered():
        batch["swag"] = ["train", "swag", "--model", SMALL, "--output-dir", out("swag"), *QUICK, "--max-seq-length", "64"]
    batch["pretrain"] = ["pretrain-continue", "--discriminator", SMALL, "--generator", "google/electra-small-generator",
                         "--corpus", *corpus, "--output-dir", out("pretrain"), "--max-steps", "5", "--batch-size", "4",
                         "--max-seq-length", "32"]
    batch["pretrain-finetune"] = ["train", "glue-rte", "--model", out("pretrain") + "/discriminator",
                                  "--output-dir", out("pretrain-finetune"), *QUICK, "--max-seq-length", "64"]
    batch["unknown-model"] = ["train", "glue-sst2", "--model", "google/electra-small-discriminatr",
                              "--output-dir", out("unknown-model")]
    batch["unknown-config"] = ["pretrain-continue", "--discriminator", SMALL, "--generator",
                               "google/electra-small-generator", "--corpus", "hf:nyu-mll/glue:sst3",
                               "--output-dir", out("unknown-config"), "--max-steps", "1"]
    return batch


@pytest.fixture(scope="module")
def batch(hub_replica, tmp_path_factory):
    running = Batch(hub_replica, tmp_path_factory.mktemp("hub-batch"))
    yield running
    running.close()


def ok(result: dict) -> dict:
    assert result["exit_code"] == 0, result["stderr"][-3000:]
    return result


def read_predictions(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "index\tprediction", lines[:2]
    return [line.split("\t") for line in lines[1:]]


def commit_folder(root: Path, repo_id: str, kind: str = "datasets", revision: str = "main") -> Path:
    """The replica's files of one revision, on disk."""
    folder = root / "repos" / kind / repo_id
    return folder / json.loads((folder / "refs.json").read_text())[revision]


def hub_rows(root: Path, repo_id: str, config: str, split: str) -> int:
    """Rows of a split of the replica, as its dataset card counts them."""
    import yaml

    header = yaml.safe_load((commit_folder(root, repo_id) / "README.md").read_text().split("---")[1])
    info = next(i for i in header["dataset_info"] if i["config_name"] == config)
    return next(s["num_examples"] for s in info["splits"] if s["name"] == split)


# --- the README's first command -------------------------------------------------------------
def test_readme_first_command_trains_on_the_hub(hub_replica, batch, tmp_path):
    """`electra-tasks train glue-sst2 --model google/electra-small-discriminator`, shortened only by
    --max-steps/--max-train-samples: hub model, hub dataset, default output folder runs/glue-sst2."""
    command = ["train", "glue-sst2", "--model", SMALL, "--max-steps", "2", "--max-train-samples", "64"]
    done = subprocess.run([sys.executable, "-m", "electra_tasks", *command], cwd=tmp_path, env=cli_env(hub_replica),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "glue-sst2: training finished" in done.stdout and "outputs: runs/glue-sst2" in done.stdout
    assert "HTTP Request" not in done.stderr  # huggingface_hub's per-request INFO lines stay quiet

    out = tmp_path / "runs" / "glue-sst2"
    for name in CONTRACT_FILES + ("tokenizer.json", "predictions_validation.tsv", "predictions_test.tsv"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    validation_rows = hub_rows(hub_replica.root, "nyu-mll/glue", "sst2", "validation")
    assert metrics["num_eval_examples"] == validation_rows  # the hub's validation split, all of it
    assert metrics["num_examples"] == 64 and 0.0 <= metrics["accuracy"] <= 1.0
    assert not [k for k in metrics if k.endswith("_test")]  # hub test labels are -1: predictions, no metric
    predictions = read_predictions(out / "predictions_validation.tsv")
    assert [p[0] for p in predictions] == [str(i) for i in range(validation_rows)]
    test = read_predictions(out / "predictions_test.tsv")
    assert len(test) == hub_rows(hub_replica.root, "nyu-mll/glue", "sst2", "test") and {p[1] for p in test} <= {"0", "1"}

    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["recipe"]["learning_rate"] == 3e-4  # ELECTRA-Small's rate, from the released hidden_size 256
    assert run_config["recipe"]["layerwise_lr_decay"] == 0.8
    assert run_config["options"]["model"] == SMALL
    assert run_config["data"]["sources"] == {"hub": ["nyu-mll/glue", "sst2"]}
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["ElectraForSequenceClassification"] and len(config["id2label"]) == 2
    assert config["hidden_size"] == 256 and config["embedding_size"] == 128

    # the same command with the network gone (no HF_HUB_OFFLINE): model and dataset come from the cache
    # the first run filled, at once, instead of after the hub client's retries
    gone = {**cli_env(hub_replica), "HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens there
    again = subprocess.run([sys.executable, "-m", "electra_tasks", *command, "--output-dir", "runs/again"],
                           cwd=tmp_path, env=gone, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((tmp_path / "runs" / "again" / "metrics.json").read_text())["num_eval_examples"] == validation_rows

    # it came through the hub client: the standard cache holds the replica's main revision
    cache = Path(hub_replica.exports["HF_HOME"]) / "hub" / "models--google--electra-small-discriminator"
    revision = (cache / "refs" / "main").read_text()
    assert revision == hub_replica.commit("models", SMALL)
    assert (cache / "snapshots" / revision / "model.safetensors").is_file()


# --- every task that names a hub dataset ---------------------------------------------------
@pytest.mark.parametrize("task", sorted(GLUE))
def test_glue_task_trains_and_evaluates_on_its_hub_config(batch, task):
    config, names, validation, test = GLUE[task]
    result = ok(batch.result(task))
    out = result["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert names <= set(metrics), metrics
    assert metrics["num_eval_examples"] == EVAL_ROWS and metrics["num_examples"] == 8
    assert not [k for k in metrics if "_test" in k and not k.startswith("num_")], metrics  # test labels are -1 on the hub
    for split in validation + test:
        rows = read_predictions(out / f"predictions_{split}.tsv")
        assert len(rows) == EVAL_ROWS, split
        if task == "glue-stsb":
            [float(value) for _, value in rows]  # scores, not labels
        else:
            assert {value for _, value in rows} <= set(LABELS[task])
    saved = json.loads((out / "config.json").read_text())
    if task == "glue-stsb":  # regression on the hub's float32 label
        assert len(saved["id2label"]) == 1 and saved["problem_type"] == "regression"
    else:
        assert [saved["id2label"][str(i)] for i in range(len(saved["id2label"]))] == LABELS[task]
    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["data"]["sources"] == {"hub": ["nyu-mll/glue", config]}


@pytest.mark.parametrize("task", ["glue-wnli", "glue-rte"])
def test_hub_label_ids_mean_what_the_glue_files_say(batch, task):
    """The hub stores labels as ClassLabel ids (WNLI names them not_entailment, entailment; RTE
    entailment, not_entailment), GLUE's files as 0/1 or as strings. The model trained on the hub
    scores its predictions for the first rows of dev.tsv the same whether the gold labels come from
    the hub or from the file, and the same as counted here against the file."""
    hub_out = ok(batch.result(task))["out"]
    files_out = ok(batch.result(f"{task}-files"))["out"]
    predictions = [value for _, value in read_predictions(hub_out / "predictions_validation.tsv")]
    assert [value for _, value in read_predictions(files_out / "predictions_validation.tsv")] == predictions
    dev = replica.read_tsv(SHARED_DATA / "glue" / GLUE[task][0].upper() / "dev.tsv")[:EVAL_ROWS]
    counted = sum(p == row["label"] for p, row in zip(predictions, dev)) / EVAL_ROWS
    assert json.loads((hub_out / "metrics.json").read_text())["accuracy"] == pytest.approx(counted)
    assert json.loads((files_out / "metrics.json").read_text())["accuracy"] == pytest.approx(counted)


def test_eval_scores_the_hub_splits_as_train_did(batch):
    trained = json.loads((ok(batch.result("glue-mnli"))["out"] / "metrics.json").read_text())
    validation_out = ok(batch.result("glue-mnli-eval-validation"))["out"]
    validation = json.loads((validation_out / "metrics.json").read_text())
    assert (validation["accuracy"], validation["accuracy_mm"]) == (trained["accuracy"], trained["accuracy_mm"])
    assert validation["num_eval_examples"] == EVAL_ROWS
    test_out = ok(batch.result("glue-mnli-eval-test"))["out"]
    assert not [k for k in json.loads((test_out / "metrics.json").read_text()) if "accuracy" in k]  # labels -1
    for split in ("test_matched", "test_mismatched"):
        assert len(read_predictions(test_out / f"predictions_{split}.tsv")) == EVAL_ROWS


def test_conll2003_trains_from_the_hub_parquet_export(batch):
    out = ok(batch.result("conll2003"))["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"precision", "recall", "f1", "accuracy", "f1_test"} <= set(metrics)  # CoNLL's test split has tags
    saved = json.loads((out / "config.json").read_text())
    assert set(saved["id2label"].values()) <= set(replica.CONLL_NER)
    sentences = (out / "predictions_validation.conll").read_text().strip().split("\n\n")
    assert len(sentences) == EVAL_ROWS and all(len(line.split(" ")) == 3 for s in sentences for line in s.splitlines())
    sources = json.loads((out / "run_config.json").read_text())["data"]["sources"]
    assert sources == {"hub": ["eriktks/conll2003", None]}


@pytest.mark.parametrize("task", ["squad", "squad-v2"])
def test_squad_trains_and_evaluates_on_the_hub(batch, task):
    out = ok(batch.result(task))["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    expected = {"exact_match", "f1"} | ({"HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_f1",
                                         "best_f1_thresh"} if task == "squad-v2" else set())
    assert expected <= set(metrics), metrics
    version = "v1.1/dev-v1.1.json" if task == "squad" else "v2.0/dev-v2.0.json"
    ids = [r["id"] for r in replica.squad_rows(SHARED_DATA / "squad" / version, slice(-200, None))][:EVAL_ROWS]
    assert sorted(json.loads((out / "predictions.json").read_text())) == sorted(ids)
    if task == "squad-v2":
        assert sorted(json.loads((out / "na_prob.json").read_text())) == sorted(ids)


def test_cnn_dailymail_trains_and_summarizes_the_hub_split(batch):
    out = ok(batch.result("cnn-dailymail"))["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"rouge1", "rouge2", "rougeLsum", "lead3_rouge2", "rouge2_test"} <= set(metrics), metrics
    records = [json.loads(line) for line in (out / "predictions_validation.jsonl").read_text().splitlines()]
    with open(SHARED_DATA / "summarization" / "cnn_dailymail_3.0.0_hf_csv" / "validation_first1000.csv",
              encoding="utf-8", newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)][300:300 + EVAL_ROWS]  # the replica's validation rows
    assert [r["id"] for r in records] == ids and all(r["summary"] for r in records)


@pytest.mark.skipif(not swag_registered(), reason="the swag task is not registered yet (the multiple-choice "
                                                    "family is being added); this test runs once it is")
def test_swag_trains_and_evaluates_on_the_hub(batch):
    out = ok(batch.result("swag"))["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert "accuracy" in metrics and not [k for k in metrics if "_test" in k and not k.startswith("num_")], metrics  # test labels are -1
    validation = (out / "predictions_validation.jsonl").read_text().splitlines()
    assert len(validation) == EVAL_ROWS and (out / "predictions_test.jsonl").is_file()


# --- the released generator/discriminator pair -------------------------------------------------
def test_pretrain_continue_shares_the_released_pairs_embeddings(batch, hub_replica):
    from safetensors.torch import load_file
    import torch

    ok(batch.result("pretrain"))
    out = batch.result("pretrain")["out"]
    discriminator = load_file(out / "discriminator" / "model.safetensors")
    generator = load_file(out / "generator" / "model.safetensors")
    released = load_file(commit_folder(hub_replica.root, SMALL, "models") / "model.safetensors")
    names = [n for n in discriminator if n.startswith("electra.embeddings.")]
    assert "electra.embeddings.word_embeddings.weight" in names
    for name in names:  # one embedding module after loading the pair, trained as one
        assert torch.equal(discriminator[name], generator[name]), name
    word = "electra.embeddings.word_embeddings.weight"
    assert not torch.equal(discriminator[word], released[word])  # and it did train
    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["discriminator_config"]["_name_or_path"] == SMALL
    assert run_config["generator_config"]["_name_or_path"] == "google/electra-small-generator"
    # the released small generator is as wide as its discriminator (hidden 256), read from its config
    assert run_config["generator_config"]["hidden_size"] == run_config["discriminator_config"]["hidden_size"] == 256
    assert run_config["recipe"]["generator_size"] == 1.0 and run_config["recipe"]["learning_rate"] == 5e-4
    finetune = ok(batch.result("pretrain-finetune"))["out"]
    assert "accuracy" in json.loads((finetune / "metrics.json").read_text())
    for name in CONTRACT_FILES:
        assert (finetune / name).is_file(), name


# --- what does not exist ---------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("unknown-model", "--model google/electra-small-discriminatr: no such model on the Hugging Face hub"),
    ("unknown-config", "--corpus hf:nyu-mll/glue:sst3@train: could not stream the hub dataset (BuilderConfig 'sst3' "
                       "not found"),
])
def test_what_the_hub_does_not_have_is_one_line_exit_2_nothing_written(batch, name, expected):
    result = batch.result(name)
    assert result["exit_code"] == 2, result["stderr"][-2000:]
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"electra-tasks: error: {expected}"), lines
    assert not result["out"].exists()


# --- the replica itself, read over HTTP by huggingface_hub ----------------------------------------
RELEASED = {  # the public config.json values: embedding, hidden, layers, heads, FFN, vocabulary
    "google/electra-small-discriminator": (128, 256, 12, 4, 1024, 30522),
    "google/electra-small-generator": (128, 256, 12, 4, 1024, 30522),
    "google/electra-base-discriminator": (768, 768, 12, 12, 3072, 30522),
    "google/electra-base-generator": (768, 256, 12, 4, 1024, 30522),
}

CHECK = r"""
import json, sys
from huggingface_hub import HfApi, get_safetensors_metadata, hf_hub_download
out = {}
for repo in json.loads(sys.argv[1]):
    config = json.load(open(hf_hub_download(repo, "config.json")))
    files = sorted(HfApi().list_repo_files(repo))
    weights = {}
    if "model.safetensors" in files:
        meta = get_safetensors_metadata(repo)  # range requests on the LFS file, through the redirect
        weights = {n: t.shape for f in meta.files_metadata.values() for n, t in f.tensors.items()}
    tokenizer = json.load(open(hf_hub_download(repo, "tokenizer_config.json")))
    vocab = open(hf_hub_download(repo, "vocab.txt"), encoding="utf-8").read().splitlines()
    out[repo] = {"config": config, "files": files, "weights": weights, "tokenizer": tokenizer, "vocab": len(vocab)}
print(json.dumps(out))
"""


def test_the_replica_serves_the_released_checkpoints(hub_replica):
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps(list(RELEASED))], env=hub_replica.env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    served = json.loads(done.stdout)
    for repo, (embedding, hidden, layers, heads, ffn, vocab) in RELEASED.items():
        config = served[repo]["config"]
        assert (config["embedding_size"], config["hidden_size"], config["num_hidden_layers"],
                config["num_attention_heads"], config["intermediate_size"], config["vocab_size"]) == \
            (embedding, hidden, layers, heads, ffn, vocab), repo
        assert served[repo]["tokenizer"]["do_lower_case"] is True and served[repo]["vocab"] == 30522
        files, weights = served[repo]["files"], served[repo]["weights"]
        if repo == "google/electra-small-generator":  # as the 2020 upload: pickled weights only
            assert "pytorch_model.bin" in files and "model.safetensors" not in files
            continue
        assert weights["electra.embeddings.word_embeddings.weight"] == [vocab, embedding]
        assert weights["electra.encoder.layer.11.intermediate.dense.weight"] == [ffn, hidden]
        if "discriminator" in repo:
            assert weights["discriminator_predictions.dense_prediction.weight"] == [1, hidden]
        else:
            assert weights["generator_predictions.dense.weight"] == [embedding, hidden]
            assert weights["generator_lm_head.bias"] == [vocab]
        if embedding != hidden:
            assert weights["electra.embeddings_project.weight"] == [hidden, embedding]
