"""Kill -9 during training, then --resume: the final model and predictions are byte-identical."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from electra_tasks.training.trainer import COMPLETE_MARKER, latest_checkpoint
from tests.toy_data import write_sentiment_tsv

ARGS = ["--epochs", "2", "--batch-size", "8", "--learning-rate", "3e-3", "--seed", "11", "--save-steps", "10",
        "--logging-steps", "5"]


def command(model, folder, out, *extra):
    return [sys.executable, "-m", "electra_tasks", "train", "classification", "--model", str(model),
            "--train-file", str(folder / "train.tsv"), "--validation-file", str(folder / "dev.tsv"),
            "--output-dir", str(out), *ARGS, *extra]


def env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "1", "OMP_NUM_THREADS": "1"}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_after_kill_is_byte_identical(tmp_path, tiny_model):
    write_sentiment_tsv(tmp_path / "train.tsv", 240, seed=3)  # 30 steps an epoch, 60 in all
    write_sentiment_tsv(tmp_path / "dev.tsv", 40, seed=4)
    reference = subprocess.run(command(tiny_model, tmp_path, tmp_path / "ref"), capture_output=True, text=True,
                               env=env(), timeout=600)
    assert reference.returncode == 0, reference.stderr[-2000:]

    out = tmp_path / "killed"
    process = subprocess.Popen(command(tiny_model, tmp_path, out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env())
    deadline = time.time() + 300
    killed_at = None
    while time.time() < deadline and process.poll() is None:
        found = latest_checkpoint(out / "checkpoints")
        if found is not None and found.name in ("checkpoint-20", "checkpoint-30"):
            process.send_signal(signal.SIGKILL)  # kill -9: no clean-up of any kind
            killed_at = found.name
            break
        time.sleep(0.02)
    process.wait()
    if killed_at is None:
        pytest.fail("the run finished before it could be killed; make it longer")
    assert not (out / "metrics.json").exists(), "a killed run must not leave final outputs"

    resumed = subprocess.run(command(tiny_model, tmp_path, out, "--resume"), capture_output=True, text=True,
                             env=env(), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "--resume: continuing from" in resumed.stderr
    assert digest(out / "model.safetensors") == digest(tmp_path / "ref" / "model.safetensors")
    assert (out / "predictions_validation.tsv").read_bytes() == (tmp_path / "ref" / "predictions_validation.tsv").read_bytes()
    # the metrics cover the whole run, not only the resumed part
    import json

    metrics = json.loads((out / "metrics.json").read_text())
    ref = json.loads((tmp_path / "ref" / "metrics.json").read_text())
    assert metrics["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
    history = json.loads((out / "log_history.json").read_text())
    before_kill = max(e["elapsed_s"] for e in history if e.get("step", 0) <= int(killed_at.split("-")[1]) and "elapsed_s" in e)
    assert metrics["train_runtime_s"] > before_kill > 0  # the time trained before the kill is counted


def test_half_written_checkpoint_is_not_trusted(tmp_path):
    folder = tmp_path / "checkpoints"
    (folder / "checkpoint-10").mkdir(parents=True)
    (folder / "checkpoint-10" / COMPLETE_MARKER).write_text("10\n")
    (folder / "checkpoint-20").mkdir()  # killed while saving: no marker
    (folder / "checkpoint-20" / "model.safetensors").write_bytes(b"\x00" * 10)
    assert latest_checkpoint(folder).name == "checkpoint-10"
    assert latest_checkpoint(tmp_path / "none") is None


def test_resuming_a_finished_run_trains_no_further_step(tmp_path, tiny_model):
    # the Trainer resumed mid-epoch at the last of --max-steps and trained step 5 of 4 (then 6 of 4 ...)
    write_sentiment_tsv(tmp_path / "train.tsv", 96, seed=3)
    write_sentiment_tsv(tmp_path / "dev.tsv", 24, seed=4)
    out = tmp_path / "out"
    finished = [*command(tiny_model, tmp_path, out), "--max-steps", "4", "--save-steps", "2"]
    first = subprocess.run(finished, capture_output=True, text=True, env=env(), timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    metrics = (out / "metrics.json").read_text()
    predictions = digest(out / "predictions_validation.tsv")
    for _ in range(2):
        again = subprocess.run([*finished, "--resume"], capture_output=True, text=True, env=env(), timeout=600)
        assert again.returncode == 0, again.stderr[-2000:]
        assert "--resume: checkpoint-4 holds the run's last step (4 of --max-steps 4); nothing left to train" \
            in again.stderr
        assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-4"]
        assert digest(out / "predictions_validation.tsv") == predictions  # the checkpoint's weights, evaluated
        import json

        before, after = json.loads(metrics), json.loads((out / "metrics.json").read_text())
        assert after["train_loss"] == before["train_loss"] and after["accuracy"] == before["accuracy"]
        assert 0 < after["train_runtime_s"] <= before["train_runtime_s"] + 1  # the time logged until the checkpoint
