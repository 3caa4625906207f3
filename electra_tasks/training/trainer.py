"""The HF Trainer, set up with ELECTRA's recipe.

We supply the optimizer groups (layer-wise learning-rate decay), a length-grouped sampler fed
from the precomputed `length` column, and the TrainingArguments; the Trainer does the loop,
checkpoints, resume, logging and distribution (torchrun / accelerate: DDP, FSDP, DeepSpeed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainingArguments
from transformers.trainer_pt_utils import LengthGroupedSampler

from electra_tasks.training import recipe

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class ElectraTrainer(Trainer):
    """Trainer with ELECTRA's optimizer groups and cheap length grouping."""

    def __init__(self, *args, recipe_settings: dict[str, Any], **kwargs):
        self.recipe_settings = recipe_settings
        super().__init__(*args, **kwargs)

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            self.optimizer = recipe.make_optimizer(self.model, self.recipe_settings)
        return self.optimizer

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.world_size <= 1 and "length" in getattr(self.train_dataset, "column_names", []):
            generator = torch.Generator()
            generator.manual_seed(self.args.data_seed if self.args.data_seed is not None else self.args.seed)
            return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                        lengths=self.train_dataset["length"], generator=generator)
        return super()._get_train_sampler(dataset)


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
        warmup_steps=float(settings["warmup_ratio"]),
        lr_scheduler_type="linear",
        max_grad_norm=float(settings["max_grad_norm"]),
        logging_steps=int(settings["logging_steps"]),
        logging_first_step=True,
        save_strategy="steps" if save_steps else "no",
        save_steps=int(save_steps) if save_steps else 500,
        save_only_model=False,
        eval_strategy="no",
        seed=int(opts.seed),
        data_seed=int(opts.seed),
        bf16=bool(bf16),
        torch_compile=bool(settings.get("torch_compile") or False),
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        report_to=[r for r in (opts.report_to or "none").split(",") if r] if opts.report_to else "none",
        push_to_hub=bool(opts.push_to_hub),
        hub_model_id=opts.hub_model_id,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=not _on_terminal(),
        log_level="warning",
        ddp_find_unused_parameters=False,
    )


def _on_terminal() -> bool:
    import sys

    return sys.stderr.isatty() and os.environ.get("CI", "") == ""


def build_trainer(model, tokenizer, train_features, collator, settings: dict[str, Any], opts, out: Path):
    args = training_arguments(settings, opts, out)
    return ElectraTrainer(model=model, args=args, train_dataset=train_features, data_collator=collator,
                          processing_class=tokenizer, recipe_settings=settings)


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint whose trainer state was fully written (a killed save is skipped)."""
    if not folder.is_dir():
        return None
    found = []
    for item in folder.iterdir():
        match = CHECKPOINT.match(item.name)
        if match and item.is_dir() and (item / "trainer_state.json").is_file():
            found.append((int(match.group(1)), item))
    return max(found)[1] if found else None
