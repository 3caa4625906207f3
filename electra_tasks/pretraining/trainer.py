"""The HF Trainer, fitted to RTD pre-training: optimizer, logged metrics, checkpoints.

The Trainer does the loop, checkpoints, resume, logging and distribution. We add: AdamW with
ELECTRA's pre-training settings (eps 1e-6, no weight decay on LayerNorm and biases); the RTD
counters (MLM loss and accuracy, discriminator loss and accuracy, replaced-token precision,
recall and fraction) merged into every training log line; a checkpoint format that stores the
shared embeddings once; and checkpoints a resumed run continues from exactly: fine-tuning's
completion marker (`MarkedCheckpoints`), with the corpus position and the RTD counters inside.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import safetensors.torch
import torch
from transformers import Trainer

from electra_tasks.outputs import atomic_write_json
from electra_tasks.pretraining.model import summarize
from electra_tasks.training.recipe import adamw, weight_decay_groups
from electra_tasks.training.trainer import MarkedCheckpoints

COUNTERS_FILE = "rtd_counters.json"  # in a checkpoint: the RTD counters since the last log line, and the run's totals


class RTDTrainer(MarkedCheckpoints, Trainer):
    """Trainer for `ElectraRTD` on a `PackedCorpus(resumable=True)`; `run_totals` counts the whole run
    (`totals_at_start`: what a resumed run found in its checkpoint).

    The corpus's position after the examples trained on so far goes into every checkpoint; on
    `--resume` the stream continues there (`load_resume_state`), so the Trainer must not skip
    batches itself (TrainingArguments(ignore_data_skip=True)).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._window: dict[str, torch.Tensor] = {}
        self.run_totals: dict[str, float] = {}
        self.totals_at_start: dict[str, float] = {}
        self._start = (0, 0)  # (global step, examples of the stream before it) where this run began
        self._rng_checkpoint: str | None = None

    def examples_before(self, step: int) -> int:
        """Examples of the stream the steps before `step` trained on (all processes, all micro-batches)."""
        args = self.args
        per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size
        return self._start[1] + (step - self._start[0]) * per_step

    def save_resume_state(self, folder: Path) -> None:
        self.train_dataset.save_position(folder, self.examples_before(self.state.global_step))
        atomic_write_json(folder / COUNTERS_FILE, {"window": {k: float(v) for k, v in self._window.items()},
                                                   "run_totals": self.run_totals})

    def load_resume_state(self, folder: Path) -> None:
        """Before `train(resume_from_checkpoint=folder)`: the corpus position and the counters saved there."""
        step = json.loads((Path(folder) / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
        self._start = (int(step), self.train_dataset.resume_at(folder))
        counters = json.loads((Path(folder) / COUNTERS_FILE).read_text(encoding="utf-8"))
        self._window = {k: torch.tensor(v, dtype=torch.float32, device=self.args.device)
                        for k, v in counters["window"].items()}
        self.run_totals, self.totals_at_start = dict(counters["run_totals"]), dict(counters["run_totals"])

    def _load_rng_state(self, checkpoint):
        # The Trainer restores the random state before it opens the data iterator, which draws a seed
        # from it; the uninterrupted run drew that seed long before. Restore it at the first step instead.
        self._rng_checkpoint = checkpoint

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self._rng_checkpoint is not None:
            super()._load_rng_state(self._rng_checkpoint)
            self._rng_checkpoint = None
        self.train_dataset.forget_before(self.examples_before(self.state.global_step))
        return super().training_step(model, inputs, num_items_in_batch)

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
        # the stream has no epochs, and a resumed Trainer counts its "epoch" from the resume point
        self.state.epoch = self.state.global_step / max(self.state.max_steps, 1)
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

