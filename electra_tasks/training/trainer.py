"""The HF Trainer, set up with ELECTRA's recipe.

We supply the optimizer groups (layer-wise learning-rate decay), a length-grouped sampler fed
from the precomputed `length` column, and the TrainingArguments; the Trainer does the loop,
checkpoints, resume, logging and distribution (torchrun / accelerate: DDP, FSDP, DeepSpeed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_pt_utils import LengthGroupedSampler

from electra_tasks.console import on_terminal
from electra_tasks.training import recipe
from electra_tasks.training.features import column_array

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
COMPLETE_MARKER = "checkpoint_complete"  # written last, atomically: resume trusts only marked checkpoints


def length_grouped_order(lengths: np.ndarray, batch_size: int, generator) -> np.ndarray:
    """transformers' `get_length_grouped_indices`, index for index, in numpy.

    Random permutation (torch, same generator), mega-batches of `min(n // (4 * batch), 50)`
    batches each sorted by length, longest first (stable, as Python's `sorted(reverse=True)`),
    and the mega-batch holding the longest element swapped to the front. The transformers version
    sorts with a Python key per row: seconds per epoch and hundreds of MB at millions of rows.
    """
    lengths = np.asarray(lengths)
    n = len(lengths)
    mult = min(n // (batch_size * 4), 50) or 1
    size = mult * batch_size
    indices = torch.randperm(n, generator=generator).numpy()
    longest_length = int(lengths.max()) if n else 0
    # longest first, stable: numpy radix-sorts 16-bit keys, one mega-batch at a time
    descending = (longest_length - lengths[indices]).astype(np.uint16 if longest_length < 2**16 else np.int64)
    order = np.empty_like(indices)
    for start in range(0, n, size):
        block = indices[start:start + size]
        order[start:start + size] = block[np.argsort(descending[start:start + size], kind="stable")]
    firsts = np.arange(0, n, size)
    longest = int(np.argmax(lengths[order[firsts]]))  # the first maximum, as torch.argmax
    order[0], order[firsts[longest]] = order[firsts[longest]], order[0]
    return order


def _as_python_ints(order: np.ndarray, chunk: int = 65536):
    for start in range(0, len(order), chunk):
        yield from order[start:start + chunk].tolist()


class SeededLengthGroupedSampler(LengthGroupedSampler):
    """Length-grouped batches whose order depends only on (seed, epoch).

    The Trainer calls `set_epoch` at every epoch, including the one a resumed run starts in, so
    an interrupted run sees exactly the batches an uninterrupted one would. Lengths stay one
    numpy array (read once from the features' `length` column); each epoch's order is computed
    in numpy, never touching a row.
    """

    def __init__(self, batch_size: int, lengths, seed: int):
        super().__init__(batch_size, lengths=np.asarray(lengths, dtype=np.int64))
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        generator = torch.Generator()
        generator.manual_seed(self.seed * 1_000_003 + self.epoch)
        return _as_python_ints(length_grouped_order(self.lengths, self.batch_size, generator))


class ElectraTrainer(Trainer):
    """Trainer with ELECTRA's optimizer groups and cheap length grouping."""

    def __init__(self, *args, recipe_settings: dict[str, Any], **kwargs):
        self.recipe_settings = recipe_settings
        super().__init__(*args, **kwargs)

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            self.optimizer = recipe.make_optimizer(self.model, self.recipe_settings)
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            self.lr_scheduler = recipe.make_scheduler(optimizer or self.optimizer,
                                                      self.recipe_settings["warmup_ratio"], num_training_steps)
        return self.lr_scheduler

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if "length" in getattr(self.train_dataset, "column_names", []):
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            # every rank builds the same order; accelerate hands each rank its share of the batches
            return SeededLengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                              lengths=column_array(self.train_dataset, "length"),
                                              seed=seed)
        return super()._get_train_sampler(dataset)

    def _save_checkpoint(self, model, trial):
        """The Trainer's checkpoint, then a completion marker renamed into place.

        A run killed while saving leaves a checkpoint without the marker; `latest_checkpoint`
        skips it, so `--resume` never trusts half-written weights or optimizer state.
        """
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            from electra_tasks.outputs import atomic_write_text

            folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
            atomic_write_text(folder / COMPLETE_MARKER, f"{self.state.global_step}\n")


class PlainProgressCallback(TrainerCallback):
    """Off a terminal (CI, log files): one plain line per logging step with rate and ETA."""

    def __init__(self):
        self.started = None  # (step, time) of the first logged step: the rate excludes start-up

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        import logging
        import time

        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        now, done, total = time.perf_counter(), state.global_step, max(state.max_steps, 1)
        if self.started is None:
            self.started = (done, now)
        first_step, first_time = self.started
        rate = (done - first_step) / (now - first_time) if now > first_time else 0.0
        speed = f"{rate:.1f} steps/s, ETA {int((total - done) / rate) // 60}m{int((total - done) / rate) % 60:02d}s" \
            if rate > 0 else "timing from the next log"
        logging.getLogger("electra_tasks").info("step %d/%d (%.0f%%) loss %.4f lr %.2e | %s", done, total,
                                                100 * done / total, logs["loss"], logs.get("learning_rate", 0.0),
                                                speed)


def training_arguments(settings: dict[str, Any], opts, out: Path) -> TrainingArguments:
    bf16 = settings.get("bf16")
    if bf16 is None:
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    save_steps = settings.get("save_steps")
    return TrainingArguments(
        output_dir=str(out / "checkpoints"),
        per_device_train_batch_size=int(settings["batch_size"]),
        per_device_eval_batch_size=int(settings["eval_batch_size"]),
        num_train_epochs=float(settings["epochs"]),
        max_steps=int(settings["max_steps"]) if settings.get("max_steps") else -1,
        learning_rate=float(settings["learning_rate"]),
        weight_decay=float(settings["weight_decay"]),
        lr_scheduler_type="linear",  # ElectraTrainer.create_scheduler builds ELECTRA's warm-up + decay
        max_grad_norm=float(settings["max_grad_norm"]),
        logging_steps=int(settings["logging_steps"]),
        logging_first_step=True,
        save_strategy="steps" if save_steps else "no",
        save_steps=int(save_steps) if save_steps else 500,
        save_only_model=False,
        save_total_limit=2,
        eval_strategy="no",
        seed=int(opts.seed),
        data_seed=int(opts.seed),
        bf16=bool(bf16),
        torch_compile=bool(settings.get("torch_compile") or False),
        report_to=[r for r in (opts.report_to or "none").split(",") if r] if opts.report_to else "none",
        push_to_hub=False,  # the final model is pushed once by the runner, not every checkpoint
        use_cpu=not torch.cuda.is_available(),  # without it, torchrun on CPU silently trains unsharded copies
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=not on_terminal(),  # ElectraTrainer._get_train_sampler groups batches by length
        log_level="warning",
        ddp_find_unused_parameters=False,
    )


def build_trainer(model, tokenizer, train_features, collator, settings: dict[str, Any], opts, out: Path):
    args = training_arguments(settings, opts, out)
    trainer = ElectraTrainer(model=model, args=args, train_dataset=train_features, data_collator=collator,
                             processing_class=tokenizer, recipe_settings=settings)
    if args.disable_tqdm:  # not a terminal: plain lines instead of the Trainer's dict printing
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(PlainProgressCallback())
    return trainer


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint that was completely written (a save killed half-way is skipped)."""
    if not folder.is_dir():
        return None
    found = []
    for item in folder.iterdir():
        match = CHECKPOINT.match(item.name)
        if match and item.is_dir() and (item / COMPLETE_MARKER).is_file():
            found.append((int(match.group(1)), item))
    return max(found)[1] if found else None
