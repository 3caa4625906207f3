"""Two processes on CPU (gloo) through torchrun: one evaluation over the whole set, files from rank 0."""

import json
import os
import subprocess
import sys

from tests.toy_data import write_sentiment_tsv


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_torchrun_two_processes_on_cpu(tmp_path, tiny_model):
    write_sentiment_tsv(tmp_path / "train.tsv", 96, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 37, seed=2)  # odd size: a distributed sampler would pad it
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
         "-m", "electra_tasks", "train", "classification", "--model", str(tiny_model),
         "--train-file", str(tmp_path / "train.tsv"), "--validation-file", str(tmp_path / "dev.tsv"),
         "--output-dir", str(out), "--epochs", "1", "--batch-size", "8"],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_eval_examples"] == 37
    assert len((out / "predictions_validation.tsv").read_text().splitlines()) == 1 + 37
    assert result.stdout.count("training finished") == 1, "only rank 0 reports"
    log = json.loads((out / "log_history.json").read_text())
    # 96 examples, batch 8 per process, 2 processes: 6 optimizer steps in the epoch
    assert log[-1]["step"] == 6
