"""How `train` scales with the size of the user's table (issue 19): start-up, epochs, memory, speed.

Rows are generated on the fly (SST-2 training sentences drawn at random for classification,
CoNLL-2003 training sentences for tagging, SQuAD dev paragraphs for QA; a tiny random ELECTRA
with the BERT uncased vocabulary). For each size, in fresh processes (and a fresh feature cache):

  baseline      reading the same rows (pyarrow / a plain Python pass) plus batched fast
                tokenization of them alone, nothing else: the floor any toolkit pays
  start→step 1  wall seconds from starting the process to the end of the first optimizer step,
                as `electra-tasks train` builds it (imports, model, reading, checks, tokenizing into
                the Arrow feature cache, Trainer, sampler); also the part after the imports
  epoch start   what every later epoch costs before its first batch: the sampler's length-grouped
                order of every row plus the first batch (the Trainer re-iterates its dataloader)
  peak RSS      of the training process (ru_maxrss)
  tokens/s      non-pad training tokens per second over steps 11..N (and per second of process CPU
                time); then every size again in interleaved rounds (features cached), so that the
                other jobs on a shared machine slow all sizes alike: the median of the rounds

    python benchmarks/scale.py --family classification --rows 100000 1000000 4000000
    python benchmarks/scale.py --family tagging --rows 25000 250000
    python benchmarks/scale.py --family qa --rows 2500 25000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # measure this checkout's electra_tasks, whatever is installed
from _common import REPO, SHARED, make_model, print_table, require_shared  # noqa: E402

TASKS = {"classification": "classification", "tagging": "tagging", "qa": "qa"}


# --- data, generated on the fly -----------------------------------------------------------------
def write_classification(path: Path, rows: int, seed: int = 0) -> Path:
    source = require_shared(SHARED / "glue" / "SST-2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("sentence\tlabel\n")
        for start in range(0, rows, 100_000):
            handle.write("".join(rng.choice(source) + "\n" for _ in range(min(100_000, rows - start))))
    return path


def _conll_sentences() -> list[str]:
    text = require_shared(SHARED / "conll2003" / "train.txt").read_text(encoding="utf-8")
    return [block.strip() + "\n\n" for block in text.split("\n\n") if block.strip() and "-DOCSTART-" not in block]


def write_tagging(path: Path, rows: int, seed: int = 0) -> Path:
    source = _conll_sentences()
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, rows, 50_000):
            handle.write("".join(rng.choice(source) for _ in range(min(50_000, rows - start))))
    return path


def write_qa(path: Path, rows: int, seed: int = 0) -> Path:
    articles = json.loads(require_shared(SHARED / "squad" / "v1.1" / "dev-v1.1.json").read_text())["data"]
    paragraphs = [p for a in articles for p in a["paragraphs"]]
    rng = random.Random(seed)
    data, count = [], 0
    while count < rows:
        paragraph = rng.choice(paragraphs)
        qas = [{**qa, "id": f"{qa['id']}-{count + i}"} for i, qa in enumerate(paragraph["qas"][: rows - count])]
        data.append({"title": f"a{len(data)}", "paragraphs": [{"context": paragraph["context"], "qas": qas}]})
        count += len(qas)
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


WRITERS = {"classification": (write_classification, ".tsv"), "tagging": (write_tagging, ".txt"),
           "qa": (write_qa, ".json")}


# --- worker: the baseline ----------------------------------------------------------------------
def baseline(family: str, path: Path, model: Path) -> dict:
    """Read + batched fast tokenization of the same rows, and nothing else."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    started = time.perf_counter()
    if family == "classification":
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
                               convert_options=pacsv.ConvertOptions(column_types={"sentence": pa.string(),
                                                                                  "label": pa.string()}))
        texts = table.column("sentence").to_pylist()
        read = time.perf_counter() - started
        for i in range(0, len(texts), 1000):
            tokenizer(texts[i:i + 1000], truncation=True, max_length=128)
    elif family == "tagging":
        sentences = [[line.split()[0] for line in block.splitlines()]
                     for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
        read = time.perf_counter() - started
        for i in range(0, len(sentences), 1000):
            tokenizer(sentences[i:i + 1000], is_split_into_words=True, truncation=True, max_length=128)
    else:
        records = [(qa["question"], p["context"]) for a in json.loads(path.read_text(encoding="utf-8"))["data"]
                   for p in a["paragraphs"] for qa in p["qas"]]
        read = time.perf_counter() - started
        for i in range(0, len(records), 1000):
            batch = records[i:i + 1000]
            tokenizer([q for q, _ in batch], [c for _, c in batch], truncation="only_second", max_length=384,
                      stride=128, return_overflowing_tokens=True, return_offsets_mapping=True)
    total = time.perf_counter() - started
    return {"read_s": read, "tokenize_s": total - read, "baseline_s": total}


# --- worker: train as `electra-tasks train` builds it -------------------------------------------
def train_worker(family: str, path: Path, dev: Path, model: Path, out: Path, steps: int, spawned: float,
                 threads: int) -> dict:
    import torch
    from transformers import TrainerCallback

    from electra_tasks.options import RunOptions
    from electra_tasks.registry import get_task
    from electra_tasks.training import runner

    imported = time.time()
    if threads:  # two intra-op threads thrash when other jobs share the 2 cores (NOTES.md): 1 by default
        torch.set_num_threads(threads)
    task = get_task(TASKS[family])
    opts = RunOptions(task=task.name, model=str(model), train_file=str(path), validation_file=str(dev),
                      max_steps=steps, learning_rate=1e-3, output_dir=str(out), logging_steps=10_000,
                      **({"max_seq_length": 128} if family == "tagging" else {}))
    prepared = runner.prepare_training(opts, task, out)  # exactly what `train` builds before its loop
    trainer = prepared.trainer
    counted = {"tokens": []}
    collate = trainer.data_collator

    def counting(features):
        batch = collate(features)
        counted["tokens"].append(int(batch["attention_mask"].sum()))
        return batch

    trainer.data_collator = counting

    class StepTimes(TrainerCallback):
        times: list[float] = []
        cpu: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            StepTimes.times.append(time.time())
            StepTimes.cpu.append(time.process_time())

    trainer.add_callback(StepTimes())
    trainer.train()
    times = StepTimes.times
    first = times[0]
    warm = min(10, len(times) - 2)
    tokens = sum(counted["tokens"][warm + 1: len(times)])
    tokens_per_s = tokens / (times[-1] - times[warm])
    tokens_per_cpu_s = tokens / (StepTimes.cpu[-1] - StepTimes.cpu[warm])  # what a loaded machine disturbs least
    dataloader = trainer.get_train_dataloader()
    if hasattr(dataloader, "set_epoch"):
        dataloader.set_epoch(1)
    started = time.perf_counter()
    next(iter(dataloader))
    epoch_start = time.perf_counter() - started
    return {"rows": len(prepared.data.splits["train"]), "features": len(prepared.train_features),
            "start_to_step1_s": first - spawned, "after_imports_s": first - imported,
            "epoch_start_s": epoch_start, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "tokens_per_s": tokens_per_s, "tokens_per_cpu_s": tokens_per_cpu_s}


def run_worker(*args: str, cache: Path) -> dict:
    env = {**os.environ, "CI": "1", "HF_HUB_OFFLINE": "1", "ELECTRA_TASKS_CACHE": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    spawned = time.time()
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args,
                             "--spawned", repr(spawned)], capture_output=True, text=True, cwd=REPO, env=env)
    if result.returncode != 0:
        sys.exit(f"worker failed ({result.returncode}): {' '.join(args)}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=sorted(WRITERS), default="classification")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per training run")
    parser.add_argument("--speed-rounds", type=int, default=3,
                        help="interleaved training-speed rounds over all sizes (0: none)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training process (0: torch's "
                        "default); one is what a shared 2-core machine disturbs least")
    parser.add_argument("--keep", action="store_true", help="keep the feature caches in the work folder")
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--worker", choices=("baseline", "train"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--dev", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "baseline":
        print(json.dumps(baseline(args.family, Path(args.file), Path(args.model))))
        return
    if args.worker == "train":
        print(json.dumps(train_worker(args.family, Path(args.file), Path(args.dev), Path(args.model), Path(args.out),
                                      args.steps, args.spawned, args.threads)))
        return

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="scale-"))
    work.mkdir(parents=True, exist_ok=True)
    model = make_model(work / "model-tiny", "tiny")
    writer, suffix = WRITERS[args.family]
    dev = writer(work / f"dev{suffix}", 200 if args.family != "qa" else 100, seed=1)
    rows, caches = [], {}
    for n in args.rows:
        data = work / f"train-{n}{suffix}"
        if not data.exists():
            writer(data, n)
        base = run_worker("--family", args.family, "--worker", "baseline", "--file", str(data), "--model", str(model),
                          cache=work / "unused-cache")
        caches[n] = cache = work / f"cache-{n}"
        shutil.rmtree(cache, ignore_errors=True)
        measured = train_run(args, data, dev, model, work / f"out-{n}", cache)
        print(json.dumps({"rows": n, **base, **measured}), flush=True)
        rows.append([f"{n:,}", f"{base['read_s']:.1f} + {base['tokenize_s']:.1f}", f"{measured['start_to_step1_s']:.1f}",
                     f"{measured['after_imports_s']:.1f}",
                     f"{measured['start_to_step1_s'] / base['baseline_s']:.2f} / "
                     f"{measured['after_imports_s'] / base['baseline_s']:.2f}",
                     f"{measured['epoch_start_s']:.2f}", f"{measured['peak_rss_mb']:,.0f}",
                     f"{measured['tokens_per_s']:,.0f} ({measured['tokens_per_cpu_s']:,.0f})"])
    print_table(f"{args.family}: `train` against reading + tokenizing alone ({args.steps} steps, tiny model, "
                f"BERT vocab, {args.threads or 'default'} torch thread(s))",
                ["rows", "baseline: read + tokenize s", "start→step 1 s", "after imports s",
                 "ratio (from start / after imports)", "epoch start s", "peak RSS MB", "train tokens/s (per CPU s)"], rows)
    # training speed, sizes interleaved round by round (features cached), so that the other jobs of a
    # shared machine slow every size alike
    speed: dict[int, list[dict]] = {n: [] for n in args.rows}
    for _ in range(args.speed_rounds):
        for n in args.rows:
            data = work / f"train-{n}{suffix}"
            speed[n].append(train_run(args, data, dev, model, work / f"out-{n}", caches[n]))
    if args.speed_rounds:
        import statistics

        smallest = statistics.median(m["tokens_per_s"] for m in speed[args.rows[0]])
        table = []
        for n, runs in speed.items():
            wall = sorted(m["tokens_per_s"] for m in runs)
            cpu = statistics.median(m["tokens_per_cpu_s"] for m in runs)
            table.append([f"{n:,}", f"{statistics.median(wall):,.0f} ({wall[0]:,.0f}-{wall[-1]:,.0f})", f"{cpu:,.0f}",
                          f"{statistics.median(wall) / smallest:.2f}"])
        print_table(f"{args.family}: training speed, {args.speed_rounds} interleaved rounds of {args.steps} steps "
                    f"(features cached)", ["rows", "tokens/s median (min-max)", "tokens per CPU s", "vs smallest"],
                    table)
    if not args.keep:
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)


def train_run(args, data: Path, dev: Path, model: Path, out: Path, cache: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    return run_worker("--family", args.family, "--worker", "train", "--file", str(data), "--dev", str(dev),
                      "--model", str(model), "--out", str(out), "--steps", str(args.steps),
                      "--threads", str(args.threads), cache=cache)


if __name__ == "__main__":
    main()
