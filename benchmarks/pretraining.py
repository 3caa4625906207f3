"""Does RTD pre-training work here? Step cost, discriminator learning, and SST-2 after pre-training.

Four parts, each printed as a Markdown table and saved in OUT/results.json:
  1. rtd:   `pretrain-continue --from-scratch` on the SST-2 training sentences as unlabeled text
            (in-domain; or the --corpus files), with a WordPiece vocabulary trained on them (8192
            tokens, shared by every start below); replaced-token precision/recall over the logged
            steps.
  2. mlm:   the same compute spent on masked-LM pre-training (`--objective mlm`, a discriminator-
            sized ElectraForMaskedLM): RTD steps x (RTD step cost / MLM step cost), measured
            here unless --mlm-steps is given.
  3. sst2:  `electra-tasks train glue-sst2` from the RTD discriminator, the MLM encoder, and the same
            random initialisation without pre-training, over several fine-tuning seeds.
  4. cost:  one RTD forward/backward vs a discriminator-only forward/backward of the same batch
            (target <= 1.3x), beside the FLOP floor (what the generator and its vocabulary head must
            compute); the RTD step with the vocabulary head as plain PyTorch ops (before fusion);
            an MLM step. One thread, CPU time, best of N.

Full run (the issue's budget: about an hour of each pre-training on 2 CPU cores, 2-3 hours in all):
    OMP_NUM_THREADS=2 python benchmarks/pretraining.py --rtd-steps 4000 --ft-samples 0 --seeds 1,2,3,4,5
Reduced run measured for the closing note (about 35 minutes on a 2-core machine shared by 4 people):
    OMP_NUM_THREADS=1 python benchmarks/pretraining.py --rtd-steps 300 --mlm-steps 420 --parallel \
        --ft-samples 2000 --seeds 1,2,3 --cost-repeats 3
Running text instead of SST-2's short phrases (the run where the tiny discriminator learned; add
--only pretrain to skip the SST-2 part):
    OMP_NUM_THREADS=1 python benchmarks/pretraining.py --corpus ../shared/data/corpus/wikitext-2-tokenized/valid.txt \
        ../shared/data/corpus/wikitext-2-tokenized/test.txt --rtd-steps 12000 --learning-rate 5e-4 --parallel
Finished parts are reused when the script is run again with the same --out (delete it to redo).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BERT_VOCAB, REPO, SHARED, require_shared, run, training_flops  # noqa: E402

SST2 = SHARED / "glue" / "SST-2"


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run the real command line (as a user would), failing loudly."""
    return run([sys.executable, "-m", "electra_tasks", *map(str, args)])[1]


# --- 1. step cost ------------------------------------------------------------------------------
def plain_head(hidden, weight, bias, targets, temperature=1.0, sample=True, rows=None, generator=None):
    """The vocabulary head as separate PyTorch ops (what the fused head replaced), for comparison."""
    import torch.nn.functional as F

    from electra_tasks.pretraining.generator_head import HeadOutput
    from electra_tasks.pretraining.masking import gumbel_sample

    logits = F.linear(hidden, weight, bias)
    return HeadOutput(loss=F.cross_entropy(logits.float(), targets),
                      sampled=gumbel_sample(logits, temperature, generator) if sample else None,
                      correct=(logits.detach().argmax(-1) == targets).sum())


def flop_floor(rtd, length: int, masked_share: float) -> float:
    """(discriminator + generator + vocabulary head FLOPs) / discriminator FLOPs: the best ratio possible."""
    disc, gen = rtd.discriminator.config.to_dict(), rtd.generator.config.to_dict()
    disc_flops, gen_flops = training_flops(disc, [length]), training_flops(gen, [length])
    masked = masked_share * length
    head_flops = 6 * masked * (gen["hidden_size"] * gen["embedding_size"] + gen["embedding_size"] * gen["vocab_size"])
    return (disc_flops + gen_flops + head_flops) / disc_flops


def step_cost(size: str, batch: int, length: int, repeats: int, vocab: Path = BERT_VOCAB) -> dict:
    """Cost of one forward+backward: discriminator alone, RTD (fused head), RTD with the plain head, MLM.

    Measured on one thread as process CPU time, the variants interleaved, best of `repeats`: on a
    shared machine wall time mostly measures the neighbours, CPU time the work.
    """
    import torch

    import electra_tasks.pretraining.model as rtd_module
    from electra_tasks.pretraining import sizes
    from electra_tasks.pretraining.build import build
    from electra_tasks.pretraining.options import PretrainOptions
    from electra_tasks.pretraining.vocab import load_tokenizer_option

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tokenizer = load_tokenizer_option(str(vocab))
    torch.manual_seed(0)
    rtd = build(PretrainOptions(from_scratch=True, size=size, max_seq_length=length), tokenizer).model
    mlm = build(PretrainOptions(from_scratch=True, size=size, max_seq_length=length, objective="mlm"), tokenizer).model
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, len(tokenizer), (batch, length), generator=g)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    fused_head = rtd_module.masked_lm_head

    def disc_only():
        rtd.zero_grad(set_to_none=True)
        rtd.discriminator(**inputs).logits.float().mean().backward()

    def rtd_step():
        rtd.zero_grad(set_to_none=True)
        rtd(**inputs)["loss"].backward()

    def rtd_plain_head():
        rtd_module.masked_lm_head = plain_head
        try:
            rtd_step()
        finally:
            rtd_module.masked_lm_head = fused_head

    def mlm_step():
        mlm.zero_grad(set_to_none=True)
        mlm(**inputs)["loss"].backward()

    variants = {"disc": disc_only, "rtd": rtd_step, "rtd_plain_head": rtd_plain_head, "mlm": mlm_step}
    cpu = {name: [] for name in variants}
    wall = {name: [] for name in variants}
    for fn in variants.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in variants.items():
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            fn()
            cpu[name].append(time.process_time() - cpu_start)
            wall[name].append(time.perf_counter() - wall_start)
    torch.set_num_threads(threads)
    c = {name: min(v) for name, v in cpu.items()}
    w = {name: min(v) for name, v in wall.items()}
    shape = sizes.SHAPES[size]
    return {"size": size, "vocab": len(tokenizer), "hidden": shape["hidden_size"], "layers": shape["num_hidden_layers"],
            "batch": batch, "length": length, "generator_size": sizes.DEFAULT_GENERATOR_SIZE, "threads": 1,
            "cpu_s": c, "wall_s": w, "rtd_over_disc": c["rtd"] / c["disc"],
            "rtd_plain_head_over_disc": c["rtd_plain_head"] / c["disc"], "rtd_over_mlm": c["rtd"] / c["mlm"],
            "wall_rtd_over_disc": w["rtd"] / w["disc"], "flop_floor": flop_floor(rtd, length, 0.15)}


# --- 2/3. pre-training -------------------------------------------------------------------------
def write_sst2_sentences(folder: Path) -> Path:
    """SST-2 training sentences, labels dropped, one per line (lives in the run folder, not the repo)."""
    target = folder / "sst2-train-sentences.txt"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with open(require_shared(SST2 / "train.tsv"), encoding="utf-8") as handle:
            rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(rows)
            target.write_text("".join(row[0].strip() + "\n" for row in rows if row and row[0].strip()),
                              encoding="utf-8")
    return target


def corpus_vocabulary(folder: Path, corpus: list[Path], vocab_size: int) -> Path:
    """One WordPiece vocabulary trained on the corpus (as --from-scratch does), shared by every start."""
    from electra_tasks.pretraining.corpus import resolve_corpus
    from electra_tasks.pretraining.vocab import train_wordpiece

    target = folder / "vocab.txt"
    if not target.exists():
        tokenizer = train_wordpiece(resolve_corpus([str(path) for path in corpus]), vocab_size)
        folder.mkdir(parents=True, exist_ok=True)
        vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
        target.write_text("".join(token + "\n" for token, _ in vocab), encoding="utf-8")
    return target


def pretrain_command(out: Path, corpus: list[Path], objective: str, steps: int, args, vocab: Path) -> list[str]:
    return [sys.executable, "-m", "electra_tasks", "pretrain-continue", "--from-scratch", "--size", args.size,
            "--tokenizer", str(vocab), "--corpus", *map(str, corpus), "--output-dir", str(out), "--objective", objective,
            "--max-steps", str(steps), "--batch-size", str(args.batch_size), "--max-seq-length",
            str(args.max_seq_length), "--learning-rate", str(args.learning_rate),
            "--logging-steps", str(max(10, steps // 20)), "--seed", "42", "--overwrite"]


def pretrain_both(jobs: dict[str, tuple[Path, list[str]]], parallel: bool) -> None:
    """Run the pre-training commands not yet done, one after the other or side by side."""
    todo = {name: (out, command) for name, (out, command) in jobs.items() if not (out / "metrics.json").exists()}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "1"}
    if parallel:
        running = {name: subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                          stderr=open(out.parent / f"{name}.stderr", "w"))
                   for name, (out, command) in todo.items()}
        for name, process in running.items():
            if process.wait() != 0:
                sys.exit(f"{name} pre-training failed: see {todo[name][0].parent / (name + '.stderr')}")
    else:
        for out, command in todo.values():
            cli(*command[3:])


def read_run(out: Path) -> dict:
    metrics = json.loads((out / "metrics.json").read_text())
    history = [e for e in json.loads((out / "log_history.json").read_text()) if "mlm_loss" in e]
    return {"metrics": metrics, "history": history}


def random_init(folder: Path, size: str, tokenizer_folder: Path) -> Path:
    """The same shape, vocabulary and seed as the pre-trained runs, without any pre-training."""
    import torch
    from transformers import ElectraConfig, ElectraForPreTraining

    from electra_tasks.pretraining import sizes
    from electra_tasks.pretraining.vocab import load_tokenizer_option

    if (folder / "config.json").exists():
        return folder
    tokenizer = load_tokenizer_option(str(tokenizer_folder))
    torch.manual_seed(42)
    model = ElectraForPreTraining(ElectraConfig(vocab_size=len(tokenizer), max_position_embeddings=512,
                                                pad_token_id=tokenizer.pad_token_id, **sizes.SHAPES[size]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# --- 4. fine-tuning ----------------------------------------------------------------------------
def fine_tune(model: Path, out: Path, args) -> dict:
    if not (out / "metrics.json").exists():
        extra = ["--max-train-samples", args.ft_samples] if args.ft_samples else []
        cli("train", "glue-sst2", "--model", model, "--data-dir", SST2, "--output-dir", out, "--epochs", args.ft_epochs,
            "--seeds", args.seeds, "--learning-rate", args.ft_learning_rate, "--overwrite", *extra)
    return json.loads((out / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-pretraining")
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--corpus", type=Path, nargs="+", default=None,
                        help="text files to pre-train on (default: the SST-2 training sentences, in-domain)")
    parser.add_argument("--rtd-steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--mlm-steps", type=int, default=None,
                        help="default: RTD steps x measured RTD/MLM step cost (equal compute)")
    parser.add_argument("--parallel", action="store_true", help="run the RTD and MLM pre-training side by side")
    parser.add_argument("--ft-samples", type=int, default=4000, help="0: the whole SST-2 training set")
    parser.add_argument("--ft-learning-rate", type=float, default=1e-3)
    parser.add_argument("--ft-epochs", type=int, default=1)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--cost-repeats", type=int, default=5)
    parser.add_argument("--with-base", action="store_true", help="add ELECTRA-Base (batch 8) to the step-cost table")
    parser.add_argument("--only", choices=["cost", "pretrain", "all"], default="all",
                        help="stop after the step-cost table (which needs the RTD run) or the pre-training")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()},
                     "threads": os.environ.get("OMP_NUM_THREADS", "default")}

    started = time.perf_counter()
    corpus = args.corpus or [write_sst2_sentences(args.out / "corpus")]
    vocab = corpus_vocabulary(args.out / "vocab", corpus, args.vocab_size)
    if args.mlm_steps is None:  # equal compute: scale by the measured RTD / MLM step cost
        probe = step_cost(args.size, args.batch_size, args.max_seq_length, args.cost_repeats, vocab)
        args.mlm_steps = max(1, round(args.rtd_steps * probe["rtd_over_mlm"]))
    mlm_steps = args.mlm_steps
    jobs = {"rtd": (args.out / "rtd", pretrain_command(args.out / "rtd", corpus, "rtd", args.rtd_steps, args, vocab)),
            "mlm": (args.out / "mlm", pretrain_command(args.out / "mlm", corpus, "mlm", mlm_steps, args, vocab))}
    if args.only != "cost":
        pretrain_both(jobs, args.parallel)
        runs = {name: read_run(out) for name, (out, _) in jobs.items()}
        results["pretraining"] = runs
        results["commands"] = {name: "electra-tasks " + " ".join(command[3:]) for name, (_, command) in jobs.items()}
        print_pretraining(runs)
    if args.only == "all":
        fine_tune_all(args, results, vocab, mlm_steps)
    if args.cost_repeats:
        step_cost_table(args, results, vocab)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwall time {results['wall_s']:.0f}s; results in {args.out / 'results.json'}")


def print_pretraining(runs: dict) -> None:
    from electra_tasks.pretraining.model import constant_answer_loss

    print("\n## RTD pre-training on the SST-2 training sentences (in-domain)\n")
    print("| step | MLM loss | MLM acc | disc loss | constant-answer loss | disc acc | replaced precision | "
          "replaced recall | replaced fraction |")
    print("|---|---|---|---|---|---|---|---|---|")
    for e in runs["rtd"]["history"]:
        print(f"| {e['step']} | {e['mlm_loss']:.3f} | {e['mlm_accuracy']:.3f} | {e['disc_loss']:.4f} | "
              f"{constant_answer_loss(e['replaced_fraction']):.4f} | "
              f"{e['disc_accuracy']:.4f} | {e['replaced_precision']:.3f} | {e['replaced_recall']:.3f} | "
              f"{e['replaced_fraction']:.4f} |")
    print("\n| MLM run step | MLM loss | MLM acc |\n|---|---|---|")
    for e in runs["mlm"]["history"]:
        print(f"| {e['step']} | {e['mlm_loss']:.3f} | {e['mlm_accuracy']:.3f} |")
    for name, finished in runs.items():
        m = finished["metrics"]
        print(f"\n{name}: {m['global_step']} steps in {m['train_runtime_s']:.0f}s, {m['train_tokens']} tokens")


def token_similarity(model: Path, sentences: int = 200) -> float:
    """Mean cosine similarity of the encoder's last-layer token vectors over SST-2 dev sentences.

    About 0.35 for a random or masked-LM encoder; near 1 when every token gets the same vector (the
    representation collapsed, and fine-tuning cannot tell sentences apart).
    """
    import torch
    from transformers import AutoTokenizer, ElectraModel

    with open(require_shared(SST2 / "dev.tsv"), encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:sentences + 1]
    tokenizer = AutoTokenizer.from_pretrained(model)
    encoder = ElectraModel.from_pretrained(model).eval()
    batch = tokenizer([r[0] for r in rows], return_tensors="pt", padding=True, truncation=True, max_length=64)
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
    ordinary = batch["attention_mask"].bool()
    for special in (tokenizer.cls_token_id, tokenizer.sep_token_id):
        ordinary &= batch["input_ids"] != special
    vectors = torch.nn.functional.normalize(hidden[ordinary], dim=-1)
    vectors = vectors[torch.randperm(len(vectors), generator=torch.Generator().manual_seed(0))[:1000]]
    return float((vectors @ vectors.T).mean())


def fine_tune_all(args, results: dict, vocab: Path, mlm_steps: int) -> None:
    models = {"no pre-training": random_init(args.out / "random-init", args.size, vocab),
              f"RTD ({args.rtd_steps} steps)": args.out / "rtd" / "discriminator",
              f"MLM ({mlm_steps} steps, same compute)": args.out / "mlm" / "mlm"}
    results["sst2"] = {}
    print(f"\n## SST-2 dev accuracy ({args.ft_epochs} epoch(s) on {args.ft_samples or 'all'} training sentences, "
          f"seeds {args.seeds})\n")
    print("| start | token similarity before fine-tuning | per seed | mean | median | std |")
    print("|---|---|---|---|---|---|")
    for index, (name, model) in enumerate(models.items()):
        m = fine_tune(model, args.out / f"sst2-{index}", args)
        m["token_similarity"] = token_similarity(model)
        results["sst2"][name] = m
        per_seed = f"{m['token_similarity']:.3f} | " + ", ".join(f"{v:.3f}" for v in m["accuracy_per_seed"])
        print(f"| {name} | {per_seed} | {m['accuracy_mean']:.4f} | {m['accuracy_median']:.4f} | "
              f"{m['accuracy_std']:.4f} |")


def step_cost_table(args, results: dict, vocab: Path) -> None:
    costs = [step_cost(args.size, args.batch_size, args.max_seq_length, args.cost_repeats, vocab),
             step_cost(args.size, args.batch_size, args.max_seq_length, args.cost_repeats, require_shared(BERT_VOCAB))]
    if args.size == "tiny":
        costs.append(step_cost("small", 32, 128, args.cost_repeats, require_shared(BERT_VOCAB)))
        if args.with_base:
            costs.append(step_cost("base", 8, 128, max(2, args.cost_repeats // 2), require_shared(BERT_VOCAB)))
    results["cost"] = costs
    print("\n## Step cost (forward + backward; 1 thread, CPU seconds, best of N, variants interleaved)\n")
    print("| size | vocabulary | batch x length | discriminator only | RTD | **RTD / disc** | FLOP floor | "
          "RTD, plain head | that / disc | MLM (disc-sized) | RTD / MLM | wall RTD / disc |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in costs:
        print(f"| {c['size']} ({c['layers']}x{c['hidden']}) | {c['vocab']} | {c['batch']}x{c['length']} | "
              f"{c['cpu_s']['disc']:.3f} | {c['cpu_s']['rtd']:.3f} | **{c['rtd_over_disc']:.2f}x** | "
              f"{c['flop_floor']:.2f}x | {c['cpu_s']['rtd_plain_head']:.3f} | {c['rtd_plain_head_over_disc']:.2f}x | "
              f"{c['cpu_s']['mlm']:.3f} | {c['rtd_over_mlm']:.2f}x | {c['wall_rtd_over_disc']:.2f}x |")


if __name__ == "__main__":
    main()
