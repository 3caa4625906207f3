"""Kill -9 during pre-training, then --resume: the pair and its log are byte-identical to an uninterrupted run."""

import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

from electra_tasks.training.trainer import latest_checkpoint
from tests.pretraining_toys import micro_cli_command, write_repeated_corpus

MAX_STEPS = 120
# 3 small files (a pass is ~20 sequences, so the 120 x 4 sequences are many passes, each in its own file
# order), a shuffle buffer, a vocabulary trained on the corpus: every part of the stream has to resume
ARGS = ["--from-scratch", "--size", "tiny", "--vocab-size", "100", "--max-seq-length", "24", "--batch-size", "4",
        "--max-steps", str(MAX_STEPS), "--save-steps", "20", "--logging-steps", "10", "--shuffle-buffer", "8",
        "--learning-rate", "2e-3", "--seed", "3"]


def command(corpus, out, *extra):
    return micro_cli_command("pretrain-continue", "--corpus", corpus, "--output-dir", out, *ARGS, *extra)


def env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "1", "OMP_NUM_THREADS": "1"}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def logged_steps(out):
    return [entry for entry in json.loads((out / "log_history.json").read_text()) if "loss" in entry]


def test_resume_after_kill_is_byte_identical(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for index in range(3):
        write_repeated_corpus(corpus / f"part{index}.txt", 5 + 2 * index, seed=index)
    # the uninterrupted run alongside the one to be killed (one thread each)
    log = tmp_path / "ref.log"
    with open(log, "w") as handle:
        reference = subprocess.Popen(command(corpus, tmp_path / "ref"), stdout=handle, stderr=handle, env=env())
    out = tmp_path / "killed"
    process = subprocess.Popen(command(corpus, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    deadline = time.time() + 300
    killed_at = None
    while time.time() < deadline and process.poll() is None:
        found = latest_checkpoint(out / "checkpoints")
        if found is not None and int(found.name.split("-")[1]) < MAX_STEPS - 20:
            process.send_signal(signal.SIGKILL)  # kill -9: no clean-up of any kind
            killed_at = found.name
            break
        time.sleep(0.005)
    process.wait()
    assert reference.wait(timeout=300) == 0, log.read_text()[-2000:]
    if killed_at is None:
        pytest.fail("the run finished before it could be killed; make it longer")
    assert not (out / "metrics.json").exists(), "a killed run must not leave final outputs"
    newest = latest_checkpoint(out / "checkpoints")  # killed_at, or one more if it was written before the kill

    resumed = subprocess.run(command(corpus, out, "--resume"), capture_output=True, text=True, env=env(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"--resume: continuing from {newest}" in resumed.stderr, resumed.stderr[-2000:]
    for name in ("discriminator/model.safetensors", "generator/model.safetensors", "discriminator/tokenizer.json"):
        assert digest(out / name) == digest(tmp_path / "ref" / name), (name, killed_at)
    assert logged_steps(out) == logged_steps(tmp_path / "ref")
    ref_metrics, metrics = (json.loads((folder / "metrics.json").read_text()) for folder in (tmp_path / "ref", out))
    assert metrics["train_loss"] == pytest.approx(ref_metrics["train_loss"], rel=1e-6)  # every step, not this session's

    # resumed again, from the run's last checkpoint: nothing left to train, the same outputs
    again = subprocess.run(command(corpus, out, "--resume"), capture_output=True, text=True, env=env(), timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"checkpoint-{MAX_STEPS} holds the run's last step ({MAX_STEPS} of --max-steps {MAX_STEPS})" in again.stderr
    assert latest_checkpoint(out / "checkpoints").name == f"checkpoint-{MAX_STEPS}"
    assert digest(out / "discriminator/model.safetensors") == digest(tmp_path / "ref" / "discriminator/model.safetensors")
    assert json.loads((out / "metrics.json").read_text())["train_loss"] == pytest.approx(ref_metrics["train_loss"], rel=1e-6)
