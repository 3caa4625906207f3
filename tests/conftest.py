"""Shared fixtures: tiny ELECTRA models built offline, and the real data where it exists."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ELECTRA_TASKS_SHARED_DATA", REPO.parent / "shared" / "data"))
BERT_VOCAB = SHARED_DATA / "vocab" / "bert-base-uncased-vocab.txt"

# Small closed vocabulary for toy tasks: every word is one token.
TOY_WORDS = (
    "good great fine nice happy love best bad awful poor sad hate worst movie film plot actor the a is "
    "was very not and it this of to in john mary paris london acme corp works lives visited met said "
    "what who where when why how did does red blue green one two three yes no".split()
)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """The test session gets its own feature cache; no hub access is ever attempted."""
    saved = dict(os.environ)
    os.environ["ELECTRA_TASKS_CACHE"] = str(tmp_path_factory.getbasetemp() / "feature-cache")
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[name] = "1"
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture()
def one_torch_thread():
    """Two intra-op threads on a shared 2-core machine make tiny in-process steps up to 50x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (only present on the project's machines)")
    return path


@pytest.fixture(scope="session")
def toy_tokenizer():
    from electra_tasks.tiny import make_tokenizer

    return make_tokenizer(words=TOY_WORDS)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, toy_tokenizer) -> Path:
    """A random 2-layer, 32-wide ELECTRA with the toy vocabulary, saved as a local folder."""
    from electra_tasks.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-electra"), toy_tokenizer, hidden=32, layers=2,
                           heads=2, max_position=512)


@pytest.fixture(scope="session")
def bert_vocab_model(tmp_path_factory) -> Path:
    """A random 2-layer, 64-wide ELECTRA with the real BERT uncased vocabulary (skips without it)."""
    from electra_tasks.tiny import make_tiny_model, make_tokenizer

    vocab = shared_data("vocab", "bert-base-uncased-vocab.txt")
    return make_tiny_model(tmp_path_factory.mktemp("bert-vocab-electra"), make_tokenizer(vocab), hidden=64,
                           layers=2, heads=2, max_position=512)


@dataclass
class HubReplica:
    """A running `tests/hub_replica.py`: its folder, the environment it printed, its server's pid."""

    root: Path
    exports: dict[str, str]
    pid: int
    build_seconds: float

    def env(self) -> dict[str, str]:
        """This process's environment, online, pointed at the replica, importing this checkout."""
        paths = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        return {**os.environ, **self.exports, "PYTHONPATH": os.pathsep.join(paths), "CI": "1"}

    def commit(self, kind: str, repo_id: str, revision: str = "main") -> str:
        import json

        return json.loads((self.root / "repos" / kind / repo_id / "refs.json").read_text())[revision]


@pytest.fixture(scope="session")
def hub_replica(tmp_path_factory):
    """`python tests/hub_replica.py DIR` as a person runs it (its server stopped at the end); skips without
    ../shared/data, from which the replica is built."""
    import shlex
    import signal
    import subprocess
    import sys
    import time

    for part in ("vocab", "glue", "conll2003", "squad", "summarization", "multiple_choice"):
        shared_data(part)
    root = tmp_path_factory.mktemp("hub-replica")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "tests" / "hub_replica.py"), str(root), "--idle-exit", "900"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    exports, pid = {}, None
    for line in done.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            exports[key] = shlex.split(value)[0] if value else ""
        elif line.startswith("# pid "):
            pid = int(line.split()[-1])
    assert pid and exports.get("HF_ENDPOINT", "").startswith("http://127.0.0.1:"), done.stdout
    yield HubReplica(root, exports, pid, time.perf_counter() - started)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None):
    """Run `python -m electra_tasks ARGS` in a subprocess; returns CompletedProcess."""
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "CI": "1"}
    return subprocess.run([sys.executable, "-m", "electra_tasks", *map(str, args)], input=input,
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def invoke(*args: str, input: str | None = None):
    """Run the CLI in this process (fast: no new interpreter); returns click's Result.

    `result.exit_code`, `result.stdout`, `result.stderr` as a user would see them.
    """
    from typer.testing import CliRunner

    from electra_tasks.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
