"""Small pieces shared by the pre-training tests: a micro model size and regular corpora."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()

# 2 layers, 32 wide, no dropout: a few hundred steps take seconds on one CPU thread.
MICRO = {"hidden_size": 32, "embedding_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 64, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def use_micro_size(monkeypatch) -> None:
    """Make `--size tiny` the micro shape for this test only (the published shapes stay)."""
    from electra_tasks.pretraining import sizes

    monkeypatch.setitem(sizes.SHAPES, "tiny", dict(MICRO))


def write_repeated_corpus(path: Path, documents: int, seed: int = 0) -> Path:
    """Highly regular text: each document (one line, blank line after) repeats one word 20-28 times.

    A replaced token is the odd one out, so a discriminator can learn it within a few hundred steps.
    """
    rng = random.Random(seed)
    lines = []
    for _ in range(documents):
        lines += [" ".join([rng.choice(WORDS)] * rng.randint(20, 28)), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def micro_cli_command(*args) -> list[str]:
    """`python -m tests.pretraining_toys ARGS`: the real CLI in a fresh process, `--size tiny` made micro."""
    import sys

    return [sys.executable, "-m", "tests.pretraining_toys", *map(str, args)]


if __name__ == "__main__":
    import sys

    from electra_tasks.cli import app
    from electra_tasks.pretraining import sizes

    sizes.SHAPES["tiny"] = dict(MICRO)
    app(sys.argv[1:], prog_name="electra-tasks")
