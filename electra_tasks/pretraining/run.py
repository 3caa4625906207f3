"""`pretrain-continue`: validate everything, build the pair, train under the HF Trainer, write OUT.

OUT/discriminator and OUT/generator are plain `save_pretrained` folders with the tokenizer (the
shared embeddings saved in both); `--objective mlm` writes OUT/mlm instead. Beside them:
run_config.json (every resolved setting), log_history.json (the Trainer's log lines, with the RTD
metrics), metrics.json (the last logged values and throughput), and checkpoints/ when
--save-steps is given.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import torch

from electra_tasks import runfolder
from electra_tasks.errors import UserError
from electra_tasks.outputs import check_output_dir, is_main_process, remove_if_empty, save_pretrained_atomic
from electra_tasks.pretraining import sizes
from electra_tasks.pretraining.build import build, checkpoint_tokenizer
from electra_tasks.pretraining.corpus import PackedCorpus, PadCollator, has_text, resolve_corpus
from electra_tasks.pretraining.model import constant_answer_loss
from electra_tasks.pretraining.options import PretrainOptions
from electra_tasks.pretraining.vocab import load_tokenizer_option, train_wordpiece

log = logging.getLogger("electra_tasks")

def check_options(opts: PretrainOptions) -> None:
    """The start (pair or from scratch) and every number, before anything is read or written."""
    if not opts.output_dir:
        raise UserError("--output-dir is required: the folder for OUT/discriminator and OUT/generator")
    if opts.objective not in ("rtd", "mlm"):
        raise UserError(f"--objective {opts.objective}: expected rtd (ELECTRA) or mlm (masked-LM baseline)")
    if opts.from_scratch:
        if opts.discriminator or opts.generator:
            raise UserError("--from-scratch: leave out --discriminator/--generator (they start a continued run)")
        sizes.check_size(opts.size)
    else:
        if opts.size:
            raise UserError(f"--size {opts.size}: only with --from-scratch; a released pair's size is read from its configs")
        if opts.generator_size is not None:
            raise UserError("--generator-size: only with --from-scratch; a released generator's width is read from its config")
        if not opts.discriminator:
            raise UserError("expected --discriminator D --generator G (e.g. google/electra-small-discriminator and "
                            "google/electra-small-generator) or --from-scratch --size tiny|small|base")
        if not opts.generator and opts.objective == "rtd":
            raise UserError(f"--discriminator {opts.discriminator}: --generator is required too (the released pair, "
                            f"e.g. {opts.discriminator.replace('discriminator', 'generator')})")
    checks = (
        ("max_seq_length", opts.max_seq_length, lambda v: v >= 8, "an integer >= 8"),
        ("mask_prob", opts.mask_prob, lambda v: 0 < v < 1, "a fraction in (0, 1)"),
        ("discriminator_weight", opts.discriminator_weight, lambda v: v >= 0, "a number >= 0"),
        ("temperature", opts.temperature, lambda v: v > 0, "a number > 0"),
        ("learning_rate", opts.learning_rate, lambda v: v > 0, "a number > 0"),
        ("batch_size", opts.batch_size, lambda v: v >= 1, "an integer >= 1"),
        ("max_steps", opts.max_steps, lambda v: v >= 1, "an integer >= 1"),
        ("warmup_steps", opts.warmup_steps, lambda v: v >= 0, "an integer >= 0"),
        ("weight_decay", opts.weight_decay, lambda v: v >= 0, "a number >= 0"),
        ("max_grad_norm", opts.max_grad_norm, lambda v: v > 0, "a number > 0"),
        ("save_steps", opts.save_steps, lambda v: v >= 1, "an integer >= 1"),
        ("logging_steps", opts.logging_steps, lambda v: v >= 1, "an integer >= 1"),
        ("vocab_size", opts.vocab_size, lambda v: v >= 6, "an integer >= 6"),
        ("shuffle_buffer", opts.shuffle_buffer, lambda v: v >= 1, "an integer >= 1"),
    )
    for name, value, ok, expected in checks:
        if value is not None and not ok(value):
            raise UserError(f"--{name.replace('_', '-')} {value}: expected {expected}")
    if opts.generator_size is not None and not 0 < opts.generator_size <= 1:
        raise UserError(f"--generator-size {opts.generator_size}: expected a fraction in (0, 1] of the discriminator's width")


def resolve_settings(opts: PretrainOptions, recipe: dict) -> dict[str, Any]:
    """Explicit option > the published recipe for this width; warm-up 10% of the steps (<= 10k)."""
    max_steps = int(opts.max_steps or recipe["max_steps"])
    warmup = opts.warmup_steps if opts.warmup_steps is not None else min(sizes.WARMUP_STEPS, math.ceil(0.1 * max_steps))
    return {
        "learning_rate": float(opts.learning_rate or recipe["learning_rate"]),
        "batch_size": int(opts.batch_size or recipe["batch_size"]),
        "max_steps": max_steps,
        "warmup_steps": int(min(warmup, max_steps - 1)),
        "weight_decay": float(opts.weight_decay),
        "max_grad_norm": float(opts.max_grad_norm),
        "logging_steps": int(opts.logging_steps),
        "save_steps": opts.save_steps,
        "bf16": opts.bf16,
    }


def training_args(settings: dict[str, Any], opts: PretrainOptions, out: Path):
    """The HF Trainer's arguments, from pre-training's own settings (`resolve_settings`)."""
    from transformers import TrainingArguments

    from electra_tasks.console import on_terminal
    from electra_tasks.training.trainer import report_integrations

    cuda = torch.cuda.is_available()
    bf16 = settings["bf16"] if settings["bf16"] is not None else cuda and torch.cuda.is_bf16_supported()
    saving = {"save_strategy": "steps", "save_steps": int(settings["save_steps"])} if settings["save_steps"] \
        else {"save_strategy": "no"}
    return TrainingArguments(
        output_dir=str(out / runfolder.CHECKPOINTS),
        max_steps=settings["max_steps"],
        per_device_train_batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        lr_scheduler_type="linear",
        warmup_steps=settings["warmup_steps"],
        weight_decay=settings["weight_decay"],
        max_grad_norm=settings["max_grad_norm"],
        logging_steps=settings["logging_steps"],
        logging_first_step=True,
        **saving,
        save_total_limit=2,
        eval_strategy="no",
        seed=int(opts.seed),
        bf16=bool(bf16),
        use_cpu=not cuda,  # without it, torchrun on CPU silently trains unsharded copies
        ignore_data_skip=True,  # a resumed corpus continues from the position saved in the checkpoint
        dataloader_num_workers=0,  # the corpus and its position live in this process
        dataloader_pin_memory=cuda,
        report_to=report_integrations(opts.report_to),
        disable_tqdm=not on_terminal(),
        logging_nan_inf_filter=False,  # log a NaN/inf loss as it is (the filter hides a diverged run)
        log_level="warning",
        ddp_find_unused_parameters=False,
    )


def pretrain(opts: PretrainOptions) -> dict[str, Any]:
    """Validate, build, train, write; returns the final metrics."""
    from electra_tasks.pretraining.trainer import RTDTrainer
    from electra_tasks.training.trainer import (install_progress, latest_checkpoint, peak_gpu_memory_metrics,
                                                reset_peak_gpu_memory)

    check_options(opts)
    sources = resolve_corpus(opts.corpus, encoding=opts.encoding)
    if not has_text(sources, opts.text_column):
        raise UserError(f"--corpus {' '.join(opts.corpus)}: empty; expected text (one sentence or paragraph "
                        f"per line, a blank line between documents)")
    out = check_output_dir(opts.output_dir, overwrite=opts.overwrite, resume=opts.resume)
    resume_from = latest_checkpoint(out / runfolder.CHECKPOINTS) if opts.resume else None
    tokenizer = checkpoint_tokenizer(resume_from)
    if tokenizer is None and opts.tokenizer:
        tokenizer = load_tokenizer_option(opts.tokenizer, trust_remote_code=opts.trust_remote_code)
    if tokenizer is None and opts.from_scratch:
        vocab_size = int(opts.vocab_size or sizes.RECIPES[opts.size]["vocab_size"])
        started = time.perf_counter()
        tokenizer = train_wordpiece(sources, vocab_size, text_column=opts.text_column)
        log.info("WordPiece vocabulary: %d tokens trained on the corpus in %.1fs", len(tokenizer),
                 time.perf_counter() - started)
    built = build(opts, tokenizer)
    tokenizer = built.tokenizer
    dataset = PackedCorpus(sources, tokenizer, opts.max_seq_length, seed=opts.seed, shuffle_buffer=opts.shuffle_buffer,
                           text_column=opts.text_column, passes=None, resumable=True)
    if next(iter(dataset.examples()), None) is None:
        raise UserError(f"--corpus {' '.join(opts.corpus)}: no tokens after tokenization; expected text")
    settings = resolve_settings(opts, built.recipe)
    trainer = RTDTrainer(model=built.model, args=training_args(settings, opts, out), train_dataset=dataset,
                         data_collator=PadCollator(tokenizer.pad_token_id), processing_class=tokenizer)
    install_progress(trainer, tokens_per_step=settings["batch_size"] * opts.max_seq_length,
                     extra=(("mlm", "mlm_loss"), ("disc", "disc_loss"), ("recall", "replaced_recall")))
    if resume_from is not None:
        trainer.load_resume_state(resume_from)
        log.info("--resume: continuing from %s", resume_from)
    elif opts.resume:
        log.info("--resume: no checkpoint in %s, starting from the beginning", out / runfolder.CHECKPOINTS)
    reset_peak_gpu_memory()
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    runtime = time.perf_counter() - started
    metrics = {**final_metrics(trainer, result, runtime), **peak_gpu_memory_metrics()}
    if is_main_process():
        write_outputs(out, built, tokenizer, opts, settings, trainer, metrics, sources)
        remove_if_empty(out / runfolder.CHECKPOINTS)  # no --save-steps: no empty folder left behind
        if not trainer.warn_if_diverged():
            warn_if_not_learned(metrics)
    return metrics


# The discriminator has not learned RTD while its loss stays near that of always answering the base
# rate, or while it flags almost none of the replaced tokens. On real text a tiny pair in that state has a
# collapsed representation and fine-tunes worse than no pre-training (benchmarks/README.md).
MIN_REPLACED_RECALL = 0.05
MAX_LOSS_SHARE_OF_CONSTANT = 0.9


def warn_if_not_learned(metrics: dict[str, Any]) -> None:
    if "replaced_recall" not in metrics:
        return
    constant = metrics.get("disc_constant_answer_loss", float("inf"))
    if metrics["replaced_recall"] >= MIN_REPLACED_RECALL and metrics["disc_loss"] <= MAX_LOSS_SHARE_OF_CONSTANT * constant:
        return
    log.warning("the discriminator has not learned replaced-token detection yet: replaced recall %.3f, loss %.4f "
                "against %.4f for always answering \"original\"; fine-tuning from it can be worse than from no "
                "pre-training. Train longer, with a larger model, or continue a pre-trained pair.",
                metrics["replaced_recall"], metrics["disc_loss"], constant)


def final_metrics(trainer, result, runtime: float) -> dict[str, Any]:
    """The last logged RTD metrics, the loss, tokens over the whole (resumed) run, and this process's throughput."""
    last: dict[str, Any] = {}
    for entry in trainer.state.log_history:
        if "loss" in entry:
            last = entry
    keep = ("mlm_loss", "mlm_accuracy", "disc_loss", "disc_accuracy", "replaced_precision", "replaced_recall",
            "replaced_fraction")
    metrics = {k: last[k] for k in keep if k in last}
    if "replaced_fraction" in metrics:
        metrics["disc_constant_answer_loss"] = round(constant_answer_loss(metrics["replaced_fraction"]), 5)
    metrics["loss"] = last.get("loss", float(result.training_loss))
    metrics["train_loss"] = trainer.whole_run_loss()  # every step, also after --resume
    metrics["global_step"] = int(trainer.state.global_step)
    metrics["train_runtime_s"] = round(runtime, 3)
    trainer.flush_window()  # the steps after the last log line
    tokens = trainer.run_totals.get("tokens", 0.0)
    metrics["train_tokens"] = int(tokens)  # the whole run; the rate, of this process (after a resume: since then)
    tokens_here = tokens - trainer.totals_at_start.get("tokens", 0.0)
    metrics["train_tokens_per_s"] = round(tokens_here / max(runtime, 1e-9), 1)
    return metrics


def write_outputs(out: Path, built, tokenizer, opts, settings, trainer, metrics, sources) -> None:
    model = built.model
    if model.discriminator is not None:
        save_pretrained_atomic(out / "discriminator", model.discriminator, tokenizer)
        save_pretrained_atomic(out / "generator", model.generator, tokenizer)
    else:
        save_pretrained_atomic(out / "mlm", model.generator, tokenizer)
    runfolder.write_log_history(out, trainer.state.log_history)
    runfolder.write_metrics(out, metrics)
    runfolder.write_run_config(
        out, "pretrain-continue", opts.to_dict(),
        recipe={**settings, "generator_size": built.generator_size, "mask_prob": opts.mask_prob,
                "discriminator_weight": opts.discriminator_weight, "temperature": opts.temperature,
                "vocab_size": len(tokenizer)},
        corpus=[str(s) for s in sources[:1000]], corpus_files=len(sources),
        corpus_encodings={str(s.path): s.encoding for s in sources if s.path is not None and s.encoding != "utf-8"},
        discriminator_config=model.discriminator.config.to_dict() if model.discriminator is not None else None,
        generator_config=model.generator.config.to_dict())
    log.info("pre-training finished: %d steps in %.0fs; outputs in %s", metrics["global_step"],
             metrics["train_runtime_s"], out)
