"""The HF Trainer, fitted to RTD pre-training: optimizer, logged metrics, checkpoints.

The Trainer does the loop, checkpoints, resume, logging and distribution. We add: AdamW with
ELECTRA's pre-training settings (eps 1e-6, no weight decay on LayerNorm and biases); the RTD
counters (MLM loss and accuracy, discriminator loss and accuracy, replaced-token precision,
recall and fraction) merged into every training log line; and a checkpoint format that stores
the shared embeddings once.
"""

from __future__ import annotations

import os

import safetensors.torch
import torch
from transformers import Trainer

from electra_tasks.pretraining.model import summarize
from electra_tasks.training.recipe import adamw, weight_decay_groups


class RTDTrainer(Trainer):
    """Trainer for `ElectraRTD`; `run_totals` counts the whole run (tokens seen, masked ...)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._window: dict[str, torch.Tensor] = {}
        self.run_totals: dict[str, float] = {}

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            self.optimizer = adamw(weight_decay_groups(self.model, self.args.weight_decay), self.args.learning_rate)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if model.training:
            for name, value in outputs["stats"].items():
                value = value.detach().float()
                self._window[name] = self._window[name] + value if name in self._window else value
        return (outputs["loss"], outputs) if return_outputs else outputs["loss"]

    def flush_window(self) -> dict[str, float]:
        """The counters since the last log line, added to `run_totals` and reset."""
        totals = {name: float(value) for name, value in self._window.items()}
        self._window = {}
        for name, value in totals.items():
            self.run_totals[name] = self.run_totals.get(name, 0.0) + value
        return totals

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._window:
            logs = {**logs, **{k: round(v, 5) for k, v in summarize(self.flush_window()).items()}}
        super().log(logs, start_time)

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        output_dir = output_dir if output_dir is not None else self.args.output_dir
        if not self.args.should_save:
            return
        os.makedirs(output_dir, exist_ok=True)
        model = self.accelerator.unwrap_model(self.model, keep_torch_compile=False)
        safetensors.torch.save_file(model.unique_state_dict(), os.path.join(output_dir, "model.safetensors"),
                                    metadata={"format": "pt"})
        if self.processing_class is not None:
            self.processing_class.save_pretrained(output_dir)
        torch.save(self.args, os.path.join(output_dir, "training_args.bin"))

