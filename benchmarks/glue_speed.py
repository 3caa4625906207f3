"""`electra-tasks train glue-sst2` against the run_glue.py baseline, and against the machine's limit.

Same model (random-init ELECTRA with the BERT vocab), same data (the first N SST-2 training
sentences), batch size, epochs and peak learning rate. Prints a table: wall time (whole command,
model load to predictions), training time, dev accuracy, the ratio to the baseline, non-pad
tokens per second and the achieved FLOP/s as a share of the fp32 matmul rate measured in the
same run.

    python benchmarks/glue_speed.py --sizes tiny small --train-samples 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, make_model, matmul_peak, print_table, read_json, require_shared, run, training_flops  # noqa: E402


def sst2_lengths(model: Path, data_dir: Path, limit: int) -> list[int]:
    from transformers import AutoTokenizer

    from baseline_run_glue import read_sst2

    texts, _ = read_sst2(data_dir / "train.tsv", limit)
    tokenizer = AutoTokenizer.from_pretrained(model)
    return [len(ids) for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"])
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    data_dir = require_shared(SHARED / "glue" / "SST-2")
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="glue-speed-"))
    peak = matmul_peak()
    rows = []
    for size in args.sizes:
        model = make_model(work / f"model-{size}", size)
        config = json.loads((model / "config.json").read_text())
        lengths = sst2_lengths(model, data_dir, args.train_samples)
        flops = training_flops(config, lengths)
        common = ["--max-train-samples", str(args.train_samples), "--epochs", "1", "--batch-size",
                  str(args.batch_size), "--learning-rate", str(args.learning_rate)]
        results = {}
        if not args.skip_baseline:
            wall, proc = run([sys.executable, str(Path(__file__).with_name("baseline_run_glue.py")), "--model",
                              str(model), "--data-dir", str(data_dir), "--output-dir", str(work / f"base-{size}"),
                              *common])
            line = json.loads(proc.stdout.strip().splitlines()[-1])
            results["run_glue.py baseline"] = (wall, line["train_runtime_s"], line["accuracy"])
        out = work / f"ours-{size}"
        # --layerwise-lr-decay 1.0: the same learning rate in every layer, as the baseline has
        wall, _ = run([sys.executable, "-m", "electra_tasks", "train", "glue-sst2", "--model", str(model),
                       "--data-dir", str(data_dir), "--output-dir", str(out), "--overwrite",
                       "--layerwise-lr-decay", "1.0", *common])
        metrics = read_json(out / "metrics.json")
        results["electra-tasks train"] = (wall, metrics["train_runtime_s"], metrics["accuracy"])
        base_wall = results.get("run_glue.py baseline", (None,))[0]
        for name, (wall, train_s, accuracy) in results.items():
            ratio = f"{wall / base_wall:.2f}" if base_wall else "-"
            rows.append([size, name, f"{wall:.1f}", f"{train_s:.1f}", f"{accuracy:.3f}", ratio,
                         f"{sum(lengths) / train_s:,.0f}", f"{flops / train_s / 1e9:.1f}",
                         f"{100 * flops / train_s / peak:.0f}%"])
    print_table(f"SST-2, first {args.train_samples} training sentences, 1 epoch, batch {args.batch_size}, "
                f"lr {args.learning_rate}; fp32 matmul peak measured now: {peak / 1e9:.0f} GFLOP/s",
                ["model", "run", "wall s", "train s", "dev acc", "wall vs baseline", "non-pad tok/s",
                 "GFLOP/s", "% of matmul peak"], rows)


if __name__ == "__main__":
    main()
