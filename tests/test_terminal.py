"""What reaches a person: a short two-seed `train` under a pseudo-terminal, and the same run off one.

The pseudo-terminal is left unsized (0 columns, 0 lines), as `script` started from a pipe or a CI
runner gives it: tqdm drew every bar there as a blank line.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, run_cli
from tests.toy_data import write_sentiment_tsv

HEAD_LINE = "classifier: new, 2 labels; discriminator_predictions dropped"
DICT_LOG = re.compile(r"\{'(loss|train_runtime|grad_norm)'")


def run_in_pty(*args: str, timeout: float = 300) -> tuple[int, str]:
    """`python -m electra_tasks ARGS` with stdin, stdout and stderr on a new pseudo-terminal."""
    master, slave = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "COLUMNS", "LINES", "TQDM_NCOLS", "TQDM_NROWS")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TERM="xterm",
               PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "electra_tasks", *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, cwd=REPO, env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                proc.kill()
                raise AssertionError("the run under a pseudo-terminal timed out")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        proc.wait(timeout=30)
    return proc.returncode, b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("terminal")
    write_sentiment_tsv(folder / "train.tsv", 96, seed=1)
    write_sentiment_tsv(folder / "dev.tsv", 32, seed=2)
    return folder


def train_args(tiny_model, folder, out_name: str) -> list:
    return ["train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
            "--validation-file", folder / "dev.tsv", "--output-dir", folder / out_name, "--seeds", "1,2",
            "--epochs", "1", "--batch-size", "8", "--logging-steps", "4"]


def test_at_a_terminal_bars_and_sentences(toy_files, tiny_model):
    code, screen = run_in_pty(*train_args(tiny_model, toy_files, "pty"))
    assert code == 0, screen[-3000:]
    assert re.search(r"training\s+\d+%\|", screen), screen[-3000:]  # a live bar, drawn at 0 columns too
    assert "seed 2/2 training" in screen
    assert not DICT_LOG.search(screen), screen[-3000:]
    assert "LOAD REPORT" not in screen and "UNEXPECTED" not in screen
    assert screen.count(HEAD_LINE) == 2, screen[-3000:]  # one per seed, the same for each
    assert "electra-tasks: seed 2/2 training: 12 steps in" in screen  # the bar's summary line
    assert "outputs: " in screen and "time:" in screen


def test_off_a_terminal_plain_lines(toy_files, tiny_model):
    result = run_cli(*train_args(tiny_model, toy_files, "plain"))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr
    assert re.search(r"^electra-tasks: seed 1/2 step 4/12 \(33%\) loss \d\.\d{4} lr \S+ \| ", log, re.M), log
    assert "\r" not in log and "%|" not in log
    assert not DICT_LOG.search(log + result.stdout)
    assert "LOAD REPORT" not in log
    assert log.count(HEAD_LINE) == 2, log
    assert "outputs: " in result.stdout
