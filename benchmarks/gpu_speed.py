"""GPU numbers in one run: fine-tuning and RTD pre-training throughput, bf16 against fp32, the baseline.

Meant for a lent GPU machine (`benchmarks/gpu_prepare.sh` packs what it lacks, `gpu_run.sh` runs this
there); on a CPU it is a smoke run. Random-init ELECTRA-Small and -Base with the BERT vocabulary.
Parts, cheapest and most needed first, each saved to OUT/results.json as it ends; a part that
would start past --budget-s is skipped and named (rerun it with --parts):

  peaks     a matmul timed on the device: bf16 8192^3 and fp32 4096^3 (TF32 off, PyTorch's default)
  sst2      `train glue-sst2` through the CLI, 1 epoch of --train-samples sentences, fp32 (`--no-bf16`)
            and the default (bf16 autocast + SDPA + fused AdamW): non-pad tokens/s, FLOP/s and its
            share of the matmul in the run's dtype, peak GPU memory, dev accuracy, and the training
            loss logged at step --loss-step in fp32 against bf16
  baseline  `baseline_run_glue.py` (run_glue.py's defaults: pad to 128, fp32) on the same sentences:
            the ratio of its training time to `train`'s
  rtd       one RTD training step (generator + sampling + discriminator, fused AdamW) against a
            discriminator-only step, 128 x 128, bf16 autocast, median of --repeats, CUDA-synchronised
  long      `train glue-sst2` on 128-token rows (SST-2 sentences joined), bf16: the share of the bf16
            matmul at batch 32 x 128
  profile   torch.profiler over steps of the real Trainer (fine-tuning Base at 32 x 128, bf16) and of
            the RTD step: top kernels, GEMM share of device time, device-busy share of wall time
            (OUT/profile-*.txt), so a missed goal says why
  pretrain  `pretrain-continue --from-scratch` through the CLI, --pretrain-steps steps, bf16 and fp32:
            tokens/s, peak memory, the loss at the last step in both
  compile   the sst2 and long runs of --compile-sizes again with `--torch-compile` (compiling counts
            in train s; "steady" is the rate over the second half of the logged steps)

    python benchmarks/gpu_speed.py --out OUT                                  # on the GPU (gpu_run.sh)
    python benchmarks/gpu_speed.py --sizes tiny --train-samples 256 --pretrain-steps 4 --repeats 2 --out /tmp/g
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (BERT_VOCAB, REPO, SHARED, make_model, matmul_peak, read_json, require_shared,  # noqa: E402
                     training_flops)
from baseline_run_glue import read_sst2  # noqa: E402
from glue_speed import sst2_lengths  # noqa: E402

PARTS = ["peaks", "sst2", "baseline", "rtd", "long", "profile", "pretrain", "compile"]
DTYPE_FLAGS = {"fp32": ["--no-bf16"], "bf16": ["--bf16"], "bf16+compile": ["--bf16", "--torch-compile"]}
LONG_ROWS_PER_STEP = 32  # batch 32 x 128 tokens, the shape for the FLOP share


class Bench:
    """The run's clock, budget, output folder and results; each part adds to `results`."""

    def __init__(self, args):
        import torch

        self.args, self.started = args, time.perf_counter()
        self.cuda = torch.cuda.is_available()
        self.out = Path(args.out or tempfile.mkdtemp(prefix="gpu-speed-"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(args.work_dir or tempfile.mkdtemp(prefix="gpu-speed-work-"))
        self.data = require_shared(SHARED / "glue" / "SST-2")
        self.results: dict = {"device": torch.cuda.get_device_name() if self.cuda else "CPU",
                              "torch": torch.__version__, "args": vars(args), "skipped": [], "failed": []}
        self.models = {size: make_model(self.work / f"model-{size}", size) for size in args.sizes}

    def left(self) -> float:
        return self.args.budget_s - (time.perf_counter() - self.started)

    def save(self) -> None:
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1))

    def cli(self, name: str, argv: list[str]) -> dict | None:
        """Run one command within the budget; if it fails, its output's tail goes to OUT/failures.log."""
        started = time.perf_counter()
        env = {**os.environ, "CI": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        try:
            result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env,
                                    timeout=max(self.left(), 10))
        except subprocess.TimeoutExpired:
            self.results["failed"].append(f"{name}: stopped at the budget")
            return None
        wall = time.perf_counter() - started
        if result.returncode != 0:  # one file for all (a device call brings back 8 files at most)
            with open(self.out / "failures.log", "a", encoding="utf-8") as log:
                log.write(f"=== {name}: {' '.join(argv)}\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}\n")
            self.results["failed"].append(f"{name}: exit {result.returncode} (see failures.log)")
            print(f"{name}: exit {result.returncode}\n{result.stderr[-2000:]}", flush=True)
            return None
        return {"wall_s": round(wall, 2), "stdout": result.stdout}

    def peak(self, dtype: str) -> float:
        return self.results["peaks"]["bf16" if dtype.startswith("bf16") and "bf16" in self.results["peaks"] else "fp32"]


# --- parts ---------------------------------------------------------------------------------------
def part_peaks(b: Bench) -> None:
    import torch

    device = "cuda" if b.cuda else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    peaks = {"fp32": matmul_peak(4096 if b.cuda else 1024, 10, torch.float32, device)}
    if b.cuda:
        peaks["bf16"] = matmul_peak(8192, 10, torch.bfloat16, device)
    b.results["peaks"] = peaks


def train_command(b: Bench, size: str, data_dir: Path, out: Path, samples: int, flags: list[str]) -> list[str]:
    return [sys.executable, "-m", "electra_tasks", "train", "glue-sst2", "--model", str(b.models[size]),
            "--data-dir", str(data_dir), "--output-dir", str(out), "--overwrite", "--epochs", "1",
            "--max-train-samples", str(samples), "--batch-size", str(b.args.batch_size),
            "--logging-steps", str(b.args.logging_steps), *flags]


def logged_losses(out: Path) -> dict[int, tuple[float, float]]:
    """step -> (loss, elapsed_s) from a run's log_history.json."""
    history = read_json(out / "log_history.json")
    return {int(e["step"]): (float(e["loss"]), float(e.get("elapsed_s", 0.0))) for e in history if "loss" in e}


def fine_tune(b: Bench, name: str, size: str, dtype: str, data_dir: Path, samples: int, lengths: list[int]) -> None:
    out = b.work / name
    ran = b.cli(name, train_command(b, size, data_dir, out, samples, DTYPE_FLAGS[dtype]))
    if ran is None:
        return
    metrics = read_json(out / "metrics.json")
    config = read_json(b.models[size] / "config.json")
    flops = training_flops(config, lengths)
    seconds = metrics["train_runtime_s"]
    losses = logged_losses(out)
    steps = sorted(losses)
    tokens_per_step = sum(lengths) / math.ceil(len(lengths) / b.args.batch_size)
    half = next(s for s in steps if s >= steps[-1] // 2)
    span = losses[steps[-1]][1] - losses[half][1]
    b.results.setdefault("train", {})[name] = {
        "size": size, "dtype": dtype, "data": data_dir.name, "wall_s": ran["wall_s"], "train_s": seconds,
        "tokens_per_s": metrics["train_tokens_per_s"],
        "steady_tokens_per_s": round(tokens_per_step * (steps[-1] - half) / span, 1) if span > 0 else None,
        "tflops": flops / seconds / 1e12, "share": flops / seconds / b.peak(dtype),
        "peak_gib": metrics.get("train_peak_gpu_memory_gib"), "accuracy": metrics.get("accuracy"),
        "train_loss": metrics["train_loss"], "losses": {str(s): losses[s][0] for s in steps}}


def part_sst2(b: Bench, dtypes=("fp32", "bf16")) -> None:
    for size in b.args.sizes:
        lengths = sst2_lengths(b.models[size], b.data, b.args.train_samples)
        for dtype in dtypes:
            fine_tune(b, f"sst2-{size}-{dtype}", size, dtype, b.data, b.args.train_samples, lengths)


def part_baseline(b: Bench) -> None:
    for size in b.args.sizes:
        out = b.work / f"baseline-{size}"
        ran = b.cli(f"baseline-{size}", [sys.executable, str(REPO / "benchmarks" / "baseline_run_glue.py"),
                                         "--model", str(b.models[size]), "--data-dir", str(b.data),
                                         "--output-dir", str(out), "--max-train-samples", str(b.args.train_samples),
                                         "--batch-size", str(b.args.batch_size)])
        if ran is None:
            continue
        line = json.loads(ran["stdout"].strip().splitlines()[-1])
        tokens = sum(sst2_lengths(b.models[size], b.data, b.args.train_samples))
        b.results.setdefault("baseline", {})[size] = {**line, "wall_s": ran["wall_s"],
                                                      "tokens_per_s": tokens / line["train_runtime_s"]}


def long_rows(source: Path, folder: Path, words: int = 160) -> Path:
    """SST-2 sentences joined until each row has `words` words (every row fills 128 tokens); the
    sentences in order, then reversed, for twice the distinct rows. Written once per work folder."""
    if (folder / "dev.tsv").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev"):
        texts, labels = read_sst2(source / f"{split}.tsv")
        pairs = list(zip(texts, labels))
        joined, text, label, count = [], [], None, 0
        for sentence, sentence_label in pairs + pairs[::-1]:
            text.append(sentence)
            label = sentence_label if label is None else label
            count += len(sentence.split())
            if count >= words:
                joined.append((" ".join(text), label))
                text, label, count = [], None, 0
        with open(folder / f"{split}.tsv", "w", encoding="utf-8") as handle:
            handle.write("sentence\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in joined))
    return folder


def part_long(b: Bench, dtypes=("bf16",)) -> None:
    data_dir = long_rows(b.data, b.work / "SST-2-long")
    samples = LONG_ROWS_PER_STEP * b.args.long_steps
    for size in b.args.sizes:
        for dtype in dtypes:
            fine_tune(b, f"long-{size}-{dtype}", size, dtype, data_dir, samples, [128] * samples)


def rtd_models(b: Bench, size: str):
    import torch

    from electra_tasks.pretraining.build import build
    from electra_tasks.pretraining.options import PretrainOptions
    from electra_tasks.pretraining.vocab import load_tokenizer_option

    tokenizer = load_tokenizer_option(str(require_shared(BERT_VOCAB)))
    torch.manual_seed(0)
    rtd = build(PretrainOptions(from_scratch=True, size=size, max_seq_length=128), tokenizer).model
    return rtd.to("cuda" if b.cuda else "cpu"), tokenizer


def rtd_steps(b: Bench, size: str, batch: int = 128, length: int = 128):
    """Two training-step closures on the same batch: RTD, and the discriminator alone."""
    import torch

    rtd, tokenizer = rtd_models(b, size)
    device = next(rtd.parameters()).device
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, len(tokenizer), (batch, length), generator=g)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    inputs = {"input_ids": ids.to(device), "attention_mask": torch.ones_like(ids).to(device),
              "token_type_ids": torch.zeros_like(ids).to(device)}
    replaced = (torch.rand(batch, length, generator=g) < 0.15).long().to(device)
    fused = {"fused": True} if b.cuda else {}
    rtd_opt = torch.optim.AdamW(rtd.parameters(), lr=1e-4, **fused)
    disc_opt = torch.optim.AdamW(rtd.discriminator.parameters(), lr=1e-4, **fused)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=b.cuda)

    def step(loss_fn, optimizer):
        def run():
            with autocast:
                loss = loss_fn()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(rtd.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return run

    return {"rtd": step(lambda: rtd(**inputs)["loss"], rtd_opt),
            "disc": step(lambda: rtd.discriminator(**inputs, labels=replaced).loss, disc_opt)}


def part_rtd(b: Bench) -> None:
    import torch

    sync = torch.cuda.synchronize if b.cuda else (lambda: None)
    for size in b.args.sizes:
        steps = rtd_steps(b, size)
        times = {name: [] for name in steps}
        for fn in steps.values():
            for _ in range(3):
                fn()
        for _ in range(b.args.repeats):
            for name, fn in steps.items():
                sync()
                started = time.perf_counter()
                fn()
                sync()
                times[name].append(time.perf_counter() - started)
        median = {name: statistics.median(t) for name, t in times.items()}
        b.results.setdefault("rtd", {})[size] = {"rtd_ms": median["rtd"] * 1e3, "disc_ms": median["disc"] * 1e3,
                                                 "ratio": median["rtd"] / median["disc"]}
        del steps
        if b.cuda:
            torch.cuda.empty_cache()


def profile_table(prof, wall_s: float, path: Path, title: str) -> dict:
    """Top kernels by device time; GEMM and attention shares of device time; device-busy share of wall time."""
    events = prof.key_averages()

    def device_us(e) -> float:
        return float(getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0.0) or 0.0)

    kernels = [e for e in events if str(getattr(e, "device_type", "")).endswith("CUDA") and device_us(e) > 0]
    busy = sum(device_us(e) for e in kernels) / 1e6

    def share(words) -> float | None:
        return sum(device_us(e) for e in kernels if any(w in e.key.lower() for w in words)) / 1e6 / busy if busy else None

    try:
        table = events.table(sort_by="self_device_time_total" if kernels else "self_cpu_time_total", row_limit=30,
                             max_name_column_width=90)
    except (AttributeError, KeyError, ValueError):
        table = events.table(sort_by="self_cuda_time_total" if kernels else "self_cpu_time_total", row_limit=30)
    summary = {"wall_s": wall_s, "device_busy_s": busy, "device_busy_share": busy / wall_s if busy and wall_s else None,
               "gemm_share_of_device": share(("gemm", "nvjet", "cutlass", "xmma", "cublas")),
               "attention_share_of_device": share(("flash", "fmha", "sdpa", "attention", "efficient"))}
    path.write_text(f"{title}\n{json.dumps(summary)}\n\n{table}\n")
    return summary


def part_profile(b: Bench) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule
    from transformers import TrainerCallback

    from electra_tasks.options import RunOptions
    from electra_tasks.registry import get_task
    from electra_tasks.training import runner

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if b.cuda else [])
    size = "base" if "base" in b.args.sizes else b.args.sizes[0]
    wait, warmup, active = 3, 3, 8
    data_dir = long_rows(b.data, b.work / "SST-2-long")
    out = b.work / "profile-train"
    opts = RunOptions(task="glue-sst2", model=str(b.models[size]), data_dir=str(data_dir),
                      max_train_samples=LONG_ROWS_PER_STEP * (wait + warmup + active + 1), epochs=1,
                      batch_size=LONG_ROWS_PER_STEP, output_dir=str(out), logging_steps=1000, bf16=b.cuda or None)
    prepared = runner.prepare_training(opts, get_task("glue-sst2"), out)
    marks: list[float] = []

    with profile(activities=activities, schedule=schedule(wait=wait, warmup=warmup, active=active)) as prof:
        class Step(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if b.cuda:
                    torch.cuda.synchronize()
                marks.append(time.perf_counter())
                prof.step()

        prepared.trainer.add_callback(Step())
        prepared.trainer.train()
    first = wait + warmup  # marks[i] ends step i+1; the active steps are first+1 .. first+active
    wall = marks[first + active - 1] - marks[first - 1]
    profiles = {"train": profile_table(prof, wall, b.out / f"profile-train-{size}-32x128.txt",
                                       f"`train` (the Trainer), ELECTRA-{size}, 32 x 128, "
                                       f"{'bf16' if b.cuda else 'fp32'}, {active} steps")}
    del prepared
    steps = rtd_steps(b, size)
    sync = torch.cuda.synchronize if b.cuda else (lambda: None)
    for _ in range(3):
        steps["rtd"]()
    sync()
    with profile(activities=activities) as prof:
        started = time.perf_counter()
        for _ in range(active):
            steps["rtd"]()
        sync()
        wall = time.perf_counter() - started
    profiles["rtd"] = profile_table(prof, wall, b.out / f"profile-rtd-{size}-128x128.txt",
                                    f"RTD training step, ELECTRA-{size}, 128 x 128, {active} steps")
    b.results["profile"] = {size: profiles}


def part_pretrain(b: Bench) -> None:
    corpus = b.data / "train.tsv"
    for size in b.args.sizes:
        for dtype in ("bf16", "fp32"):
            name = f"pretrain-{size}-{dtype}"
            out = b.work / name
            ran = b.cli(name, [sys.executable, "-m", "electra_tasks", "pretrain-continue", "--from-scratch",
                               "--size", size, "--tokenizer", str(require_shared(BERT_VOCAB)), "--corpus",
                               str(corpus), "--text-column", "sentence", "--output-dir", str(out), "--overwrite", "--max-steps",
                               str(b.args.pretrain_steps), "--batch-size", str(b.args.batch_size),
                               "--max-seq-length", "128", "--logging-steps", str(b.args.logging_steps),
                               *DTYPE_FLAGS[dtype]])
            if ran is None:
                continue
            metrics = read_json(out / "metrics.json")
            b.results.setdefault("pretrain", {})[name] = {
                "size": size, "dtype": dtype, "wall_s": ran["wall_s"], "train_s": metrics["train_runtime_s"],
                "tokens_per_s": metrics["train_tokens_per_s"], "peak_gib": metrics.get("train_peak_gpu_memory_gib"),
                "loss": metrics["loss"], "disc_loss": metrics.get("disc_loss"), "mlm_loss": metrics.get("mlm_loss")}


def part_compile(b: Bench) -> None:
    sizes, b.args.sizes = b.args.sizes, [s for s in b.args.compile_sizes if s in b.args.sizes]
    try:
        part_sst2(b, dtypes=("bf16+compile",))
        part_long(b, dtypes=("bf16+compile",))
    finally:
        b.args.sizes = sizes


# --- report --------------------------------------------------------------------------------------
def fmt(x, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def goals(b: Bench) -> list[list[str]]:
    """The issue's three goals, judged on what this run measured."""
    r, rows = b.results, []
    for size, line in r.get("baseline", {}).items():
        t = r.get("train", {}).get(f"sst2-{size}-bf16")
        if t:
            ratio = line["train_runtime_s"] / t["train_s"]
            rows.append([f"`train` >= 3x the run_glue baseline ({size}, bf16 default)", f"{ratio:.2f}x",
                         "yes" if ratio >= 3 else "no"])
    t = r.get("train", {}).get("long-base-bf16")
    if t:
        rows.append(["Base bf16 fine-tuning >= 35% of the bf16 matmul at 32 x 128", f"{t['share']:.1%}",
                     "yes" if t["share"] >= 0.35 else "no"])
    for size, v in r.get("rtd", {}).items():
        rows.append([f"RTD step <= 1.3x the discriminator-only step ({size})", f"{v['ratio']:.2f}x",
                     "yes" if v["ratio"] <= 1.3 else "no"])
    return rows


def report(b: Bench) -> str:
    r, lines = b.results, []

    def table(title, header, rows):
        if rows:
            widths = [max(len(str(x)) for x in [h] + [row[i] for row in rows]) for i, h in enumerate(header)]
            lines.extend(["", title, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
                          "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                         + ["| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |" for row in rows])

    peaks = r.get("peaks", {})
    lines.append(f"{r['device']}, torch {r['torch']}; matmul " +
                 ", ".join(f"{k} {v / 1e12:.1f} TFLOP/s" for k, v in peaks.items()))
    base = r.get("baseline", {})
    rows = []
    for name, t in r.get("train", {}).items():
        ratio = base[t["size"]]["train_runtime_s"] / t["train_s"] if t["data"] == "SST-2" and t["size"] in base else None
        rows.append([t["size"], t["data"], t["dtype"], fmt(t["wall_s"], ".1f"), fmt(t["train_s"], ".1f"),
                     f"{t['tokens_per_s']:,.0f}", fmt(t["steady_tokens_per_s"], ",.0f"), fmt(t["tflops"]),
                     fmt(t["share"], ".1%"), fmt(ratio, ".2f") + ("x" if ratio else ""), fmt(t["peak_gib"]),
                     fmt(t["accuracy"], ".3f")])
    for size, line in base.items():
        rows.append([size, "SST-2", "run_glue baseline (fp32, pad 128)", fmt(line["wall_s"], ".1f"),
                     fmt(line["train_runtime_s"], ".1f"), f"{line['tokens_per_s']:,.0f}", "-", "-", "-", "1.00x",
                     fmt(line.get("peak_gpu_memory_gib")), fmt(line["accuracy"], ".3f")])
    table(f"Fine-tuning, batch {b.args.batch_size}, 1 epoch (SST-2: {b.args.train_samples} sentences; "
          f"SST-2-long: {LONG_ROWS_PER_STEP * b.args.long_steps} rows of 128 tokens)",
          ["model", "data", "setting", "wall s", "train s", "non-pad tok/s", "steady tok/s", "TFLOP/s",
           "share of matmul", "vs baseline", "peak GiB", "dev acc"], rows)
    rows = []
    for size in b.args.sizes:
        fp32, bf16 = r.get("train", {}).get(f"sst2-{size}-fp32"), r.get("train", {}).get(f"sst2-{size}-bf16")
        step = str(b.args.loss_step)
        if fp32 and bf16 and step in fp32["losses"] and step in bf16["losses"]:
            a, c = fp32["losses"][step], bf16["losses"][step]
            rows.append([size, "train glue-sst2", step, f"{a:.4f}", f"{c:.4f}", f"{(c - a) / a:+.1%}"])
        p32, p16 = r.get("pretrain", {}).get(f"pretrain-{size}-fp32"), r.get("pretrain", {}).get(f"pretrain-{size}-bf16")
        if p32 and p16:
            rows.append([size, "pretrain-continue (RTD)", str(b.args.pretrain_steps), f"{p32['loss']:.4f}",
                         f"{p16['loss']:.4f}", f"{(p16['loss'] - p32['loss']) / p32['loss']:+.1%}"])
    table(f"bf16 against fp32: the training loss logged at the same step (mean of its {b.args.logging_steps} steps)",
          ["model", "command", "step", "fp32 loss", "bf16 loss", "difference"], rows)
    table("RTD training step against a discriminator-only step, 128 x 128, bf16 autocast, fused AdamW (median)",
          ["model", "RTD ms", "discriminator ms", "ratio"],
          [[s, fmt(v["rtd_ms"], ".1f"), fmt(v["disc_ms"], ".1f"), fmt(v["ratio"]) + "x"]
           for s, v in r.get("rtd", {}).items()])
    table(f"pretrain-continue --from-scratch, batch {b.args.batch_size} x 128, {b.args.pretrain_steps} steps",
          ["model", "setting", "wall s", "train s", "tok/s", "peak GiB", "loss", "disc loss"],
          [[p["size"], p["dtype"], fmt(p["wall_s"], ".1f"), fmt(p["train_s"], ".1f"), f"{p['tokens_per_s']:,.0f}",
            fmt(p["peak_gib"]), fmt(p["loss"], ".4f"), fmt(p["disc_loss"], ".4f")] for p in r.get("pretrain", {}).values()])
    table("Profiles (OUT/profile-*.txt)", ["model", "what", "device busy / wall", "GEMM share of device time",
                                           "attention kernels' share"],
          [[size, what, fmt(p["device_busy_share"], ".0%"), fmt(p["gemm_share_of_device"], ".0%"),
            fmt(p["attention_share_of_device"], ".0%")]
           for size, both in r.get("profile", {}).items() for what, p in both.items()])
    table("Goals", ["goal", "measured", "met"], goals(b))
    for word in ("skipped", "failed"):
        if r[word]:
            lines.append(f"\n{word}: " + "; ".join(r[word]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "base"])
    parser.add_argument("--parts", nargs="+", default=PARTS, choices=PARTS)
    parser.add_argument("--train-samples", type=int, default=10000, help="SST-2 sentences for one epoch")
    parser.add_argument("--long-steps", type=int, default=200, help="steps of 32 x 128 rows")
    parser.add_argument("--compile-sizes", nargs="+", default=["base"], help="sizes the compile part runs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--logging-steps", type=int, default=20)
    parser.add_argument("--loss-step", type=int, default=200, help="compare fp32 and bf16 losses logged here")
    parser.add_argument("--pretrain-steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20, help="timed RTD / discriminator steps")
    parser.add_argument("--budget-s", type=float, default=450, help="parts that would start later are skipped")
    parser.add_argument("--out", default=None, help="results.json, report.md, 2 profiles, failures.log")
    parser.add_argument("--work-dir", default=None)
    args = parser.parse_args()

    bench = Bench(args)
    part_peaks(bench)  # every share needs it
    for name in args.parts:
        if name == "peaks":
            continue
        if bench.left() <= 0:
            bench.results["skipped"].append(name)
            continue
        started = time.perf_counter()
        print(f"[{time.perf_counter() - bench.started:6.0f}s] {name}", flush=True)
        globals()[f"part_{name}"](bench)
        bench.results.setdefault("part_s", {})[name] = round(time.perf_counter() - started, 1)
        bench.save()
    bench.save()
    text = report(bench)
    (bench.out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
