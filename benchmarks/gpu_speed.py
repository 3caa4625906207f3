"""Training speed on a GPU: tokens/s and achieved FLOP/s of `train glue-sst2` and `pretrain-continue`.

The prepared script for target 8 (issue 7), meant for a lent GPU machine: random-init ELECTRA-Small
and -Base with the BERT vocabulary, SST-2, each run through the real command line in three
settings: fp32 (`--no-bf16`), the default (bf16 autocast + SDPA + fused AdamW), and the default
with `--torch-compile`. FLOP/s = (6 x non-embedding parameters x non-pad tokens + attention) / the
command's training time, as a share of a matmul timed on the same device in the run's dtype
(bf16 for bf16 runs; fp32 with TF32 off, as PyTorch's default, for fp32). RTD pre-training is
reported as tokens/s.

    python benchmarks/gpu_speed.py --sizes small base --train-samples 20000 --batch-size 32
    python benchmarks/gpu_speed.py --sizes tiny --variants fp32 --train-samples 500   # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (BERT_VOCAB, SHARED, make_model, matmul_peak, print_table, read_json, require_shared,  # noqa: E402
                     run, training_flops)
from glue_speed import sst2_lengths  # noqa: E402

VARIANTS = {"fp32": ["--no-bf16"], "bf16": ["--bf16"], "bf16+compile": ["--bf16", "--torch-compile"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "base"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--train-samples", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--pretrain-steps", type=int, default=300, help="0: skip the RTD run")
    parser.add_argument("--work-dir", default=None)
    args = parser.parse_args()

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    data_dir = require_shared(SHARED / "glue" / "SST-2")
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="gpu-speed-"))
    peaks = {"fp32": matmul_peak(4096 if device == "cuda" else 1024, 10, torch.float32, device)}
    if device == "cuda" and any(v.startswith("bf16") for v in args.variants):
        peaks["bf16"] = matmul_peak(8192, 10, torch.bfloat16, device)
    device_name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    rows = []
    for size in args.sizes:
        model = make_model(work / f"model-{size}", size)
        config = json.loads((model / "config.json").read_text())
        flops = training_flops(config, sst2_lengths(model, data_dir, args.train_samples))
        for variant in args.variants:
            out = work / f"train-{size}-{variant}"
            wall, _ = run([sys.executable, "-m", "electra_tasks", "train", "glue-sst2", "--model", str(model),
                           "--data-dir", str(data_dir), "--output-dir", str(out), "--overwrite", "--epochs", "1",
                           "--max-train-samples", str(args.train_samples), "--batch-size", str(args.batch_size),
                           *VARIANTS[variant]])
            metrics = read_json(out / "metrics.json")
            seconds = metrics["train_runtime_s"]
            peak = peaks["bf16" if variant.startswith("bf16") and "bf16" in peaks else "fp32"]
            rows.append([size, "train glue-sst2", variant, f"{wall:.1f}", f"{seconds:.1f}",
                         f"{metrics['train_tokens_per_s']:,.0f}", f"{flops / seconds / 1e12:.2f}",
                         f"{flops / seconds / peak:.0%}", f"{metrics['accuracy']:.3f}"])
        if args.pretrain_steps:
            out = work / f"pretrain-{size}"
            size_name = size if size in ("tiny", "small", "base") else "small"
            wall, _ = run([sys.executable, "-m", "electra_tasks", "pretrain-continue", "--from-scratch", "--size",
                           size_name, "--tokenizer", str(require_shared(BERT_VOCAB)), "--corpus",
                           str(data_dir / "train.tsv"), "--output-dir", str(out), "--overwrite",
                           "--max-steps", str(args.pretrain_steps), "--batch-size", "128", "--max-seq-length", "128"])
            metrics = read_json(out / "metrics.json")
            rows.append([size, "pretrain-continue (RTD)", "default", f"{wall:.1f}", f"{metrics['train_runtime_s']:.1f}",
                         f"{metrics['train_tokens_per_s']:,.0f}", "-", "-", "-"])
    title = (f"{device_name}; matmul peak " + ", ".join(f"{k} {v / 1e12:.1f} TFLOP/s" for k, v in peaks.items())
             + f"; {args.train_samples} SST-2 sentences, batch {args.batch_size}, 1 epoch")
    print_table(title, ["model", "command", "setting", "wall s", "train s", "non-pad tok/s", "TFLOP/s",
                        "share of peak", "dev acc"], rows)


if __name__ == "__main__":
    main()
