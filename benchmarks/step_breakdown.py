"""Where an ELECTRA-Small SST-2 fine-tuning step goes, as shares of the machine's matmul rate.

Builds exactly what `electra-tasks train glue-sst2` builds (same Trainer, sampler, collator,
optimizer), then times on the same batches, one thread, in process CPU time (so a shared machine
disturbs it little):
  trainer   the Trainer's loop (data loading, scheduler, clipping, logging, callbacks)
  loop      a bare loop: forward, backward, clipping, fused AdamW
  fwd+bwd   forward and backward only
  no drop   forward and backward in eval mode (no dropout; SDPA takes its fused kernel)
  compile   (--with-compile) the loop under torch.compile, second pass over the same batches
Each row prints achieved GFLOP/s on non-pad tokens (6 x non-embedding parameters x tokens plus
attention) and its share of a 1-thread fp32 matmul measured in the same run.

    python benchmarks/step_breakdown.py --train-samples 10000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, make_model, matmul_peak, print_table, require_shared, training_flops  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", default="small")
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--with-compile", action="store_true",
                        help="add the loop under torch.compile (its compiling pass is timed apart, in wall seconds)")
    args = parser.parse_args()

    import torch

    from electra_tasks.options import RunOptions
    from electra_tasks.registry import get_task
    from electra_tasks.training import runner

    torch.set_num_threads(1)
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="step-breakdown-"))
    model_dir = make_model(work / f"model-{args.size}", args.size)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    opts = RunOptions(task="glue-sst2", model=str(model_dir), data_dir=str(require_shared(SHARED / "glue" / "SST-2")),
                      max_train_samples=args.train_samples, epochs=1, batch_size=args.batch_size, learning_rate=1e-3,
                      output_dir=str(out), logging_steps=1000)
    prepared = runner.prepare_training(opts, get_task("glue-sst2"), out)
    config, model, trainer = prepared.config, prepared.model, prepared.trainer
    batches = list(trainer.get_train_dataloader())
    lengths = [int(n) for b in batches for n in b["attention_mask"].sum(1)]
    padded = sum(b["input_ids"].numel() for b in batches)
    flops = training_flops(config.to_dict(), lengths)
    peaks = [matmul_peak(1024, 5)]

    def cpu_seconds(fn) -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start

    def loop(optimizer_step: bool, forward=model) -> None:
        for batch in batches:
            forward(**batch).loss.backward()
            if optimizer_step:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                trainer.optimizer.step()
            trainer.optimizer.zero_grad(set_to_none=True)

    rows = {"trainer (what `train` runs)": cpu_seconds(trainer.train)}
    model.train()
    rows["loop: fwd + bwd + clip + fused AdamW"] = cpu_seconds(lambda: loop(True))
    rows["fwd + bwd"] = cpu_seconds(lambda: loop(False))
    compile_wall = None
    if args.with_compile:  # dynamic shapes: SST-2 batches have many lengths
        compiled = torch.compile(model, dynamic=True)
        started = time.perf_counter()
        loop(True, compiled)
        compile_wall = time.perf_counter() - started
        rows["loop under torch.compile (second pass)"] = cpu_seconds(lambda: loop(True, compiled))
    model.eval()
    rows["fwd + bwd without dropout (eval mode)"] = cpu_seconds(lambda: loop(False))
    peaks.append(matmul_peak(1024, 5))
    peak = max(peaks)
    print(f"\n{len(batches)} batches of {args.batch_size}, {sum(lengths)} non-pad tokens "
          f"({100 * (1 - sum(lengths) / padded):.1f}% padding), {flops / 1e9:.0f} GFLOP, "
          f"1-thread matmul {peak / 1e9:.1f} GFLOP/s")
    if compile_wall is not None:
        print(f"torch.compile: the first pass (compiling, then running) took {compile_wall:.0f} s of wall time")
    print_table(f"ELECTRA-{args.size} on SST-2, {args.train_samples} examples, 1 thread, CPU seconds",
                ["what runs", "CPU s", "GFLOP/s", "share of matmul rate"],
                [[name, f"{s:.1f}", f"{flops / s / 1e9:.1f}", f"{flops / s / peak:.0%}"] for name, s in rows.items()])


if __name__ == "__main__":
    main()
