"""The HF Trainer, set up with ELECTRA's recipe.

We supply the optimizer groups (layer-wise learning-rate decay), a length-grouped sampler fed
from the precomputed `length` column, and the TrainingArguments; the Trainer does the loop,
checkpoints, resume, logging and distribution (torchrun / accelerate: DDP, FSDP, DeepSpeed).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PrinterCallback, ProgressCallback, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_pt_utils import LengthGroupedSampler

from electra_tasks.console import on_terminal
from electra_tasks.errors import UserError
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


class MarkedCheckpoints:
    """Trainer mixin: every checkpoint ends with a completion marker renamed into place (fine-tuning and pre-training).

    A run killed while saving leaves a checkpoint without the marker; `latest_checkpoint` skips it, so
    `--resume` never trusts half-written weights or optimizer state. `save_resume_state` writes what
    else a resume needs into the checkpoint, before the marker.
    """

    loss_before = 0.0  # the summed loss of the steps before this session (set from `loss_sum_before`)

    def save_resume_state(self, folder: Path) -> None:
        pass

    def _logged_loss_sum(self) -> float:
        """The summed loss of the steps logged so far: the earlier sessions' and this one's."""
        return self.loss_before + float(getattr(self, "_total_loss_scalar", 0.0))

    def whole_run_loss(self) -> float:
        """The mean training loss over every step of the run, also after --resume (`train_loss`)."""
        return self._logged_loss_sum() / max(self.state.global_step, 1)

    def warn_if_diverged(self) -> bool:
        """One warning line for a run whose loss stopped being a number; whether it did."""
        line = divergence_warning(self.state.log_history, float(self.args.learning_rate), bool(self.args.bf16))
        if line:
            import logging

            logging.getLogger("electra_tasks").warning("%s", line)
        return line is not None

    def _save_loss_sum(self, folder: Path) -> None:
        pending = getattr(self, "_tr_loss", None)  # the loss summed since the last log line
        if pending is None:
            return  # a Trainer without it: loss_sum_before rebuilds the sum from the log
        from electra_tasks.outputs import atomic_write_json

        total = self._logged_loss_sum() + float(pending)
        atomic_write_json(folder / LOSS_FILE, {"step": self.state.global_step, "loss_sum": total})

    def train(self, resume_from_checkpoint=None, **kwargs):
        """As the Trainer's, except from a checkpoint at the last of --max-steps: the Trainer would
        train one more step each time (it resumes mid-epoch and checks the limit only after a step).
        A resumed run starts from the loss its checkpoint summed (`whole_run_loss`)."""
        self.loss_before = loss_sum_before(resume_from_checkpoint)
        if resume_from_checkpoint and self.args.max_steps > 0:
            from transformers import TrainerState
            from transformers.trainer_utils import TrainOutput

            state = TrainerState.load_from_json(str(Path(resume_from_checkpoint) / "trainer_state.json"))
            if state.global_step >= self.args.max_steps:
                import logging

                logging.getLogger("electra_tasks").info(
                    "--resume: %s holds the run's last step (%d of --max-steps %d); nothing left to train",
                    Path(resume_from_checkpoint).name, state.global_step, self.args.max_steps)
                self._load_from_checkpoint(str(resume_from_checkpoint))
                self.state = state
                self._total_loss_scalar = 0.0  # no step in this session
                for callback in self.callback_handler.callbacks:
                    if isinstance(callback, TrainingClock):  # the run's time is the time logged until then
                        callback.on_train_begin(self.args, state, self.control)
                return TrainOutput(state.global_step, 0.0, {})
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            from electra_tasks.outputs import atomic_write_text

            folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
            self._save_loss_sum(folder)
            self.save_resume_state(folder)
            atomic_write_text(folder / COMPLETE_MARKER, f"{self.state.global_step}\n")


class ElectraTrainer(MarkedCheckpoints, Trainer):
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

    def _get_learning_rate(self) -> float:
        """The task head's rate (the last, undecayed group), the one --learning-rate sets: under
        layer-wise decay the first group is the embeddings', decay ** (L + 2) times smaller."""
        return self.lr_scheduler.get_last_lr()[-1]

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if "length" in getattr(self.train_dataset, "column_names", []):
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            # every rank builds the same order; accelerate hands each rank its share of the batches
            return SeededLengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                              lengths=column_array(self.train_dataset, "length"),
                                              seed=seed)
        return super()._get_train_sampler(dataset)


def reset_peak_gpu_memory() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.reset_peak_memory_stats()


def peak_gpu_memory_metrics() -> dict[str, float]:
    """`train_peak_gpu_memory_gib`: this process's peak allocated GPU memory since training began
    (model, optimizer state, activations); nothing on a machine without CUDA."""
    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return {}
    return {"train_peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 3)}


class TrainingClock(TrainerCallback):
    """Seconds of training so far, in every log line (`elapsed_s`), counted across --resume: a
    resumed run starts from the time logged up to its checkpoint. On a GPU it also resets the peak
    memory counter when training begins (`peak_gpu_memory_metrics` reads it for metrics.json)."""

    def __init__(self):
        self.offset, self.started = 0.0, None

    def on_train_begin(self, args, state, control, **kwargs):
        import time

        logged = [e["elapsed_s"] for e in state.log_history if "elapsed_s" in e]
        self.offset, self.started = (logged[-1] if logged else 0.0), time.perf_counter()
        reset_peak_gpu_memory()

    def elapsed(self) -> float:
        import time

        return self.offset + (time.perf_counter() - self.started if self.started is not None else 0.0)

    def on_log(self, args, state, control, logs=None, **kwargs):
        # the Trainer appended a copy of `logs` to the history before calling back: stamp that entry
        if logs is not None and "loss" in logs and state.log_history and "loss" in state.log_history[-1]:
            state.log_history[-1]["elapsed_s"] = round(self.elapsed(), 3)


def first_nonfinite_loss(history: list[dict[str, Any]]) -> int | None:
    """The first logged step whose loss is NaN or infinite (the run diverged there), or None."""
    for entry in history:
        loss = entry.get("loss")
        if isinstance(loss, float) and not math.isfinite(loss):
            return int(entry.get("step", 0))
    return None


def divergence_warning(history: list[dict[str, Any]], learning_rate: float, bf16: bool) -> str | None:
    """One line for a run whose loss stopped being a number: its weights are NaN from there on."""
    step = first_nonfinite_loss(history)
    if step is None:
        return None
    return (f"training diverged: the loss is not a finite number from logged step {step} on, so the saved model is "
            f"broken; lower --learning-rate (this run: {learning_rate:g})" + (" or train with --no-bf16" if bf16 else ""))


LOSS_FILE = "loss_sum.json"  # in a checkpoint: the summed training loss of every step up to it


def loss_sum_before(checkpoint: str | Path | None) -> float:
    """The summed training loss of the steps up to `checkpoint` (0 for a fresh run), so that
    `train_loss` is the mean over the whole run also after --resume: the sum the checkpoint
    recorded, else (a checkpoint without it) rebuilt from the logged means, each over its logging
    interval. (The Trainer's own `training_loss` covers only this session, and versions divide it
    by different step counts; its logged means miss the steps after the last log line.)"""
    if not checkpoint:
        return 0.0
    import json

    recorded = Path(checkpoint) / LOSS_FILE
    if recorded.is_file():
        total = json.loads(recorded.read_text(encoding="utf-8"))["loss_sum"]
        return math.nan if total is None else float(total)  # a diverged run's NaN is written as null
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
    step, history = int(state["global_step"]), state.get("log_history", [])
    earlier, previous = 0.0, 0
    for entry in sorted((e for e in history if "loss" in e and e.get("step", 0) <= step), key=lambda e: e["step"]):
        earlier += float(entry["loss"]) * (entry["step"] - previous)
        previous = entry["step"]
    return earlier


class ProgressLines(TrainerCallback):
    """What a training run prints instead of the Trainer's dicts (rank 0 only).

    `extra`: (short name, log key) pairs shown after the loss, e.g. ("mlm", "mlm_loss");
    `tokens_per_step`: the average tokens a step trains on, for tokens/s.
    """

    def __init__(self, *, tokens_per_step: float | None = None, extra: tuple[tuple[str, str], ...] = ()):
        self.tokens_per_step = tokens_per_step
        self.extra = tuple(extra)
        self.started = None  # (step, time) of the first logged step: the rate excludes start-up
        self.began = None  # (step, time) at on_train_begin: the summary line's rate
        self.last: dict[str, float] = {}
        self.timing = None  # the "training" phase (console.phase) while the loop runs

    def on_train_begin(self, args, state, control, **kwargs):
        import time

        from electra_tasks.console import phase

        self.started, self.last = None, {}
        self.began = (state.global_step, time.perf_counter())
        self.timing = phase("training")  # for the closing summary's times
        self.timing.__enter__()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs:
            self.last.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})

    def values_text(self, logs: dict[str, float], compact: bool = False) -> str:
        """`compact` (the bar): the extras stand in for the combined loss, numbers are shorter."""
        parts = []
        if "loss" in logs and not (compact and self.extra):
            parts.append(f"loss {logs['loss']:.4f}")
        if "learning_rate" in logs and not compact:
            parts.append(f"lr {logs['learning_rate']:.2e}")
        parts += [f"{short} {logs[key]:.{3 if compact else 4}g}" for short, key in self.extra if key in logs]
        if "learning_rate" in logs and compact:
            parts.append(f"lr {logs['learning_rate']:.1e}")
        return " ".join(parts)

    def summary(self, state) -> None:
        """One line when training ends: steps, time, speed, the final values."""
        import logging
        import time

        from electra_tasks.console import format_seconds

        if self.timing is not None:
            self.timing.__exit__(None, None, None)
            self.timing = None
        if not state.is_world_process_zero or self.began is None:
            return
        steps = state.global_step - self.began[0]
        elapsed = time.perf_counter() - self.began[1]
        speed = [f"{steps / elapsed:.1f} steps/s"] if elapsed > 0 else []
        if self.tokens_per_step and elapsed > 0:
            speed.append(f"{steps * self.tokens_per_step / elapsed:,.0f} tokens/s")
        line = f"training: {steps} steps in {format_seconds(elapsed)}" + (f" ({', '.join(speed)})" if speed else "")
        if "train_loss" in self.last:
            line += f", mean loss {self.last['train_loss']:.4f}"
        last = " ".join(f"{short} {self.last[key]:.4g}" for short, key in self.extra if key in self.last)
        if last:
            line += f"; last logged {last}"
        logging.getLogger("electra_tasks").info("%s", line)


class PlainProgressCallback(ProgressLines):
    """Off a terminal (CI, log files): one plain line per logging step with rate and ETA."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        import logging
        import time

        super().on_log(args, state, control, logs=logs, **kwargs)
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        now, done, total = time.perf_counter(), state.global_step, max(state.max_steps, 1)
        if self.started is None:
            self.started = (done, now)
        first_step, first_time = self.started
        rate = (done - first_step) / (now - first_time) if now > first_time else 0.0
        speed = f"{rate:.1f} steps/s, ETA {int((total - done) / rate) // 60}m{int((total - done) / rate) % 60:02d}s" \
            if rate > 0 else "timing from the next log"
        logging.getLogger("electra_tasks").info("step %d/%d (%.0f%%) %s | %s", done, total, 100 * done / total,
                                                self.values_text({"learning_rate": 0.0, **logs}), speed)

    def on_train_end(self, args, state, control, **kwargs):
        self.summary(state)


# the ETA before the values: at 80 columns a long line loses its end
TRAINING_BAR = "{desc} {percentage:3.0f}%|{bar:10}| {n_fmt}/{total_fmt} ETA {remaining}{postfix}"


class TerminalProgressCallback(ProgressLines):
    """At a terminal: one live bar (step/total, loss, learning rate, ETA, tokens/s), then one line."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bar, self.step = None, 0

    def on_train_begin(self, args, state, control, **kwargs):
        from electra_tasks.console import Progress

        super().on_train_begin(args, state, control, **kwargs)
        if state.is_world_process_zero:
            self.bar = Progress("training", total=state.max_steps, unit="step", initial=state.global_step, delay=0,
                                bar_format=TRAINING_BAR)
            self.step = state.global_step

    def on_step_end(self, args, state, control, lr_scheduler=None, **kwargs):
        if self.bar is None:
            return
        self.bar.update(state.global_step - self.step)
        self.step = state.global_step
        if lr_scheduler is not None:
            self.last["learning_rate"] = float(lr_scheduler.get_last_lr()[0])
        self.show()

    def on_log(self, args, state, control, logs=None, **kwargs):
        super().on_log(args, state, control, logs=logs, **kwargs)
        if self.bar is not None and logs and "loss" in logs:
            self.show()

    def show(self) -> None:
        """The values after the bar: the last logged loss (and extras), the current lr, tokens/s."""
        text = self.values_text(self.last, compact=True)
        rate = self.bar.rate
        if self.tokens_per_step and rate:
            text += f" {rate * self.tokens_per_step:,.0f} tok/s"
        self.bar.postfix(text)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.summary(state)


def install_progress(trainer, *, tokens_per_step: float | None = None,
                     extra: tuple[tuple[str, str], ...] = ()) -> None:
    """Replace the Trainer's printing (dicts, on a terminal and off it) with ours: a live bar at a
    terminal, plain `step N/M ...` lines elsewhere, and one summary line at the end."""
    for printer in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(printer)
    progress = TerminalProgressCallback if on_terminal() else PlainProgressCallback
    trainer.add_callback(progress(tokens_per_step=tokens_per_step, extra=extra))


def report_integrations(value: str | None) -> list[str] | str:
    """--report-to tensorboard,wandb -> the Trainer's `report_to`; an unknown or uninstalled
    integration is one line here, not the Trainer's traceback when it builds its callbacks."""
    from transformers.integrations import get_available_reporting_integrations
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    if not names or names == ["none"]:
        return "none"
    available = set(get_available_reporting_integrations())
    for name in names:
        if name in ("all", "none"):
            continue
        if name not in INTEGRATION_TO_CALLBACK:
            raise UserError(f"--report-to {value}: unknown integration {name!r}; expected all, none or one of "
                            f"{', '.join(sorted(INTEGRATION_TO_CALLBACK))}")
        if name not in available:
            raise UserError(f"--report-to {value}: {name} is not installed (pip install it, or leave --report-to out)")
    return names


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
        report_to=report_integrations(opts.report_to),
        push_to_hub=False,  # the final model is pushed once by the runner, not every checkpoint
        use_cpu=not torch.cuda.is_available(),  # without it, torchrun on CPU silently trains unsharded copies
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=True,  # install_progress draws the bar (the Trainer's prints dicts)
        logging_nan_inf_filter=False,  # log a NaN/inf loss as it is (the filter logs a diverged run as loss 0.0)
        log_level="passive",  # the Trainer would set transformers' verbosity: console.quiet_libraries owns it
        log_level_replica="passive",
        ddp_find_unused_parameters=False,
    )


POINTS_PER_RUN = 20  # a short run still logs enough steps for a loss curve


def planned_steps(settings: dict[str, Any], num_examples: int) -> int:
    if settings.get("max_steps"):
        return int(settings["max_steps"])
    return int(math.ceil(num_examples / int(settings["batch_size"])) * float(settings["epochs"]))


def build_trainer(model, tokenizer, train_features, collator, settings: dict[str, Any], opts, out: Path):
    if getattr(opts, "logging_steps", None) is None:  # not chosen: log at least POINTS_PER_RUN times
        steps = planned_steps(settings, len(train_features))
        settings["logging_steps"] = max(1, min(int(settings["logging_steps"]), steps // POINTS_PER_RUN))
    args = training_arguments(settings, opts, out)
    trainer = ElectraTrainer(model=model, args=args, train_dataset=train_features, data_collator=collator,
                             processing_class=tokenizer, recipe_settings=settings, callbacks=[TrainingClock()])
    world = max(args.world_size, 1) * args.gradient_accumulation_steps
    per_example = column_array(train_features, "length").mean() if "length" in train_features.column_names \
        and len(train_features) else None
    install_progress(trainer, tokens_per_step=float(per_example) * args.per_device_train_batch_size * world
                     if per_example is not None else None)
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
