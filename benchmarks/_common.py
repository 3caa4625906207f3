"""Helpers shared by the benchmark scripts: model sizes, the matmul peak, FLOP counts, timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # this checkout's package, also where it is not installed (a lent GPU machine)
    sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("ELECTRA_TASKS_SHARED_DATA", REPO.parent / "shared" / "data"))
BERT_VOCAB = SHARED / "vocab" / "bert-base-uncased-vocab.txt"

# random-init models with the real BERT uncased vocabulary
SIZES = {
    "tiny": {"hidden": 128, "layers": 2, "heads": 2, "intermediate": 512, "embedding_size": 128},
    "small": {"hidden": 256, "layers": 12, "heads": 4, "intermediate": 1024, "embedding_size": 128},
    "base": {"hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072, "embedding_size": 768},
}


def require_shared(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"benchmark needs the real data at {path} (../shared/data); not found")
    return path


def make_model(folder: Path, size: str) -> Path:
    from electra_tasks.tiny import make_tiny_model, make_tokenizer

    if (folder / "config.json").exists():
        return folder
    return make_tiny_model(folder, make_tokenizer(require_shared(BERT_VOCAB)), max_position=512, **SIZES[size])


def matmul_peak(n: int = 2048, repeats: int = 10, dtype=None, device: str = "cpu") -> float:
    """Measured matrix-multiply rate (FLOP/s) of this machine or a GPU, fp32 unless `dtype`, best of `repeats`."""
    import torch

    a = torch.randn(n, n, dtype=dtype or torch.float32, device=device)
    b = torch.randn(n, n, dtype=dtype or torch.float32, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    torch.mm(a, b)
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def training_flops(config: dict, lengths: list[int], epochs: float = 1.0) -> float:
    """≈ 6 × non-embedding parameters × non-pad tokens + attention (12·L·h·s² per sequence)."""
    hidden, layers, ffn = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    per_layer = 4 * hidden * hidden + 2 * hidden * ffn  # attention projections + feed-forward
    non_embedding = layers * per_layer + (config.get("embedding_size", hidden) * hidden
                                          if config.get("embedding_size", hidden) != hidden else 0)
    tokens = sum(lengths)
    attention = sum(12 * layers * hidden * s * s for s in lengths)
    return epochs * (6 * non_embedding * tokens + attention)


def run(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Run a command from the repository root, offline, failing loudly; returns (wall seconds, result)."""
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "CI": "1", "HF_HUB_OFFLINE": "1", **(env or {})})
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}, {elapsed:.0f}s): {' '.join(cmd)}\n{result.stderr[-3000:]}")
    return elapsed, result


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |")
