"""Offline use makes no network attempt; weights are safetensors; nothing unsafe is loaded or run."""

import os
import re
import socket
from pathlib import Path

import pytest

from tests.conftest import REPO, invoke
from tests.toy_data import write_sentiment_tsv


@pytest.fixture()
def no_network(monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    return attempts


def test_offline_run_with_local_inputs_attempts_no_connection(tmp_path, tiny_model, no_network, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    write_sentiment_tsv(tmp_path / "train.tsv", 32, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 8, seed=2)
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv",
                    "--validation-file", tmp_path / "dev.tsv", "--max-steps", "2", "--output-dir", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert no_network == []
    assert (tmp_path / "out" / "model.safetensors").is_file()
    assert not list((tmp_path / "out").rglob("*.bin")), "weights are saved as safetensors only"


def test_unreachable_hub_is_one_line_suggesting_a_local_folder(tmp_path, no_network, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    write_sentiment_tsv(tmp_path / "train.tsv", 8, seed=1)
    result = invoke("train", "classification", "--model", "someone/electra-nowhere", "--train-file",
                    tmp_path / "train.tsv", "--output-dir", tmp_path / "out")
    assert result.exit_code == 2
    errors = [l for l in result.stderr.splitlines() if l.startswith("electra-tasks: error:")]
    assert len(errors) == 1 and "pass a local folder" in errors[0], result.stderr
    assert not (tmp_path / "out").exists()


SOURCES = sorted((REPO / "electra_tasks").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(REPO)) for p in SOURCES])
def test_no_unsafe_loading_or_evaluation_in_the_package(path: Path):
    text = path.read_text(encoding="utf-8")
    for call in re.finditer(r"torch\.load\(([^)]*)\)", text):
        assert "weights_only=True" in call.group(1), f"{path}: torch.load without weights_only=True"
    # a call of the builtins, not a method named eval (the ONNX model mimics nn.Module.eval)
    assert not re.search(r"(?<![\w.])(?<!def )(eval|exec)\(", text), f"{path}: eval/exec of a string"
    assert "trust_remote_code=True" not in text, f"{path}: trust_remote_code must come from --trust-remote-code"
    assert "safe_serialization=False" not in text, f"{path}: weights must be saved as safetensors"


@pytest.mark.parametrize("verbose", [False, True])
def test_hub_client_retry_lines_are_hidden_or_printed_once(verbose, capfd):
    """No network and no HF_HUB_OFFLINE: huggingface_hub logs 'Retrying in 1s [Retry 1/5].' per retry
    (12 of them for one model), through its own stderr handler and again through the CLI's."""
    import logging

    from huggingface_hub.utils import logging as hub_logging

    from electra_tasks import console

    root = logging.getLogger()
    handler = console.log_handler()
    root.addHandler(handler)  # as cli.main's logging.basicConfig does
    try:
        console.configure(verbose=verbose)
        capfd.readouterr()
        logging.getLogger("huggingface_hub.utils._http").warning("Retrying in 1s [Retry 1/5].")
        lines = [l for l in capfd.readouterr().err.splitlines() if "Retrying" in l]
    finally:
        root.removeHandler(handler)
        console.configure(verbose=False)
        hub_logging.set_verbosity(hub_logging.WARNING)
    assert lines == (["electra-tasks: Retrying in 1s [Retry 1/5]."] if verbose else []), lines


def test_no_network_a_cached_hub_model_loads_at_once_and_an_uncached_one_fails_in_one_line(tmp_path, tiny_model):
    """Without HF_HUB_OFFLINE and with no hub answering, the hub client retried every file for ~23 s
    (twice: 46 s) before failing or falling back to the cache; now one request tells, and the cache serves."""
    import shutil
    import subprocess
    import sys

    snapshot = tmp_path / "hf" / "hub" / "models--someone--tiny-electra" / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_model, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    write_sentiment_tsv(tmp_path / "train.tsv", 16, seed=1)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9", "CI": "1"})  # nothing listens

    def train(model, out):
        return subprocess.run([sys.executable, "-m", "electra_tasks", "train", "classification", "--model", model,
                               "--train-file", str(tmp_path / "train.tsv"), "--output-dir", str(tmp_path / out),
                               "--max-steps", "1"], capture_output=True, text=True, env=env, timeout=300)

    cached = train("someone/tiny-electra", "cached")
    assert cached.returncode == 0, cached.stderr[-2000:]
    assert "Retrying" not in cached.stderr and (tmp_path / "cached" / "metrics.json").is_file()
    missing = train("someone/not-cached", "missing")
    assert missing.returncode == 2
    errors = [line for line in missing.stderr.splitlines() if line.startswith("electra-tasks: error:")]
    assert len(errors) == 1 and "the Hugging Face hub does not answer (" in errors[0], missing.stderr[-2000:]
    assert "not in the local cache; pass a local folder" in errors[0]


def test_no_network_a_streamed_hub_corpus_fails_in_one_line_at_once(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9", "CI": "1"})  # nothing listens
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]) + "\n")
    done = subprocess.run([sys.executable, "-m", "electra_tasks", "pretrain-continue", "--from-scratch", "--size", "tiny",
                           "--tokenizer", str(tmp_path / "vocab.txt"), "--corpus", "hf:wikitext:wikitext-2-raw-v1",
                           "--output-dir", str(tmp_path / "out"), "--max-steps", "2"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(
        "electra-tasks: error: --corpus hf:wikitext:wikitext-2-raw-v1@train: the Hugging Face hub does not answer (")
    assert not (tmp_path / "out").exists()
