"""The one runner every task shares: load -> encode -> Trainer -> predict -> score -> write.

Nothing here knows about a particular task: the family adapter (`tasks/<family>.py`) supplies the
data, the model head, the features and the decoding; the recipe (`training/recipe.py`) the
optimizer and schedule; the HF Trainer the loop, checkpoints, logging and distribution.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from electra_tasks import console, modeling
from electra_tasks import runfolder
from electra_tasks.errors import UserError, reason
from electra_tasks.export.runtime import inference_model
from electra_tasks.options import RunOptions, all_options, encoding_options
from electra_tasks.outputs import check_output_dir, is_main_process, remove_if_empty, save_pretrained_atomic
from electra_tasks.registry import TaskDefinition, get_task
from electra_tasks.tasks.base import FAMILIES, TaskData, TaskFamily
from electra_tasks.training import recipe
from electra_tasks.training.features import column_array, encode_cached
from electra_tasks.training.inference import predict_outputs
from electra_tasks.training.trainer import TrainingClock, build_trainer, peak_gpu_memory_metrics

log = logging.getLogger("electra_tasks")

def family_of(task: TaskDefinition) -> TaskFamily:
    return FAMILIES[task.family]


def use_bf16(settings: dict[str, Any]) -> bool:
    if settings.get("bf16") is not None:
        return bool(settings["bf16"])
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def encode_split(family: TaskFamily, task: TaskDefinition, split: str, raw, tokenizer, data: TaskData,
                 opts: RunOptions, *, for_training: bool):
    key = {"family": family.name, "code": family_code_version(family), "task": task.name, "split": split,
           "train": for_training,
           "spec": task.spec, "labels": data.labels, "options": _encoding_options(opts)}
    return encode_cached(raw, lambda batch: family.encode(batch, tokenizer, data, opts, for_training=for_training),
                         key=key, tokenizer=tokenizer, description=f"{task.name} {split}")


def family_code_version(family: TaskFamily) -> str:
    """A hash of the family's package: changing how it encodes invalidates cached features."""
    import inspect

    digest = hashlib.sha256()
    for path in sorted(Path(inspect.getfile(type(family))).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _encoding_options(opts: RunOptions) -> dict[str, Any]:
    """The values of every option declared as changing the features (the cache key's part)."""
    return {name: getattr(opts, name) for name in encoding_options()}


def evaluate_split(family: TaskFamily, task: TaskDefinition, split: str, raw, model, tokenizer,
                   data: TaskData, opts: RunOptions, settings: dict[str, Any]):
    """Predict one split with the model in memory and score it; returns `Scored`."""
    features = encode_split(family, task, split, raw, tokenizer, data, opts, for_training=False)
    started = time.perf_counter()
    doing = "predicting" if split == "predict" else "evaluating"
    with console.phase(doing):
        outputs = predict_outputs(model, features, family.collator(tokenizer), output_names=family.output_names,
                                  sequence_outputs=family.sequence_outputs, desc=f"{doing} {task.name} {split}",
                                  batch_size=int(settings["eval_batch_size"]), bf16=use_bf16(settings))
        elapsed = time.perf_counter() - started
        scored = family.score(task, raw, features, outputs, data, opts)
    log.info("%s %s: %s predicted in %.1fs (%.0f examples/s)", task.name, split, plural(len(raw), "example"),
             elapsed, len(raw) / max(elapsed, 1e-9))
    return scored


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def metric_names_for(task: TaskDefinition, split: str, metrics: dict[str, float]) -> dict[str, float]:
    """Validation metrics keep their names; other splits get the task's suffix (MNLI: `_mm`)."""
    suffixes = task.spec.get("split_metric_suffix", {})
    suffix = suffixes.get(split, "" if split == "validation" else f"_{split}")
    return {f"{name}{suffix}": value for name, value in metrics.items()}


def count_tokens(features) -> int:
    if "length" not in features.column_names:
        return 0
    return int(column_array(features, "length").sum())


def prepare_model_source(opts: RunOptions) -> None:
    opts.model = modeling.check_model_source(opts.model)


def load_source(opts: RunOptions, task: TaskDefinition):
    """Tokenizer, config and resolved recipe of --model; fixes `opts.max_seq_length`."""
    prepare_model_source(opts)
    tokenizer = modeling.load_tokenizer(opts.model, trust_remote_code=opts.trust_remote_code)
    config = modeling.load_config(opts.model, trust_remote_code=opts.trust_remote_code)
    settings = recipe.resolve(opts, task.defaults, config)
    opts.max_seq_length = int(settings["max_seq_length"])
    return tokenizer, config, settings


@dataclass
class PreparedTraining:
    tokenizer: Any
    config: Any
    settings: dict[str, Any]
    data: TaskData
    model: Any
    train_features: Any
    trainer: Any


def prepare_training(opts: RunOptions, task: TaskDefinition, out: Path) -> PreparedTraining:
    """Everything `train` builds before its loop starts (benchmarks time exactly this set-up)."""
    family = family_of(task)
    tokenizer, config, settings = load_source(opts, task)
    data = family.load(task, opts, for_training=True)
    if "train" not in data.splits:
        if opts.data_dir:
            raise UserError(f"--data-dir {opts.data_dir}: no training split in it (found: "
                            f"{', '.join(data.splits) or 'none'}); pass --train-file, or a folder with training data")
        raise UserError(f"task {task.name}: no training split found; pass --train-file or --data-dir")
    torch.manual_seed(opts.seed)
    model = family.build_model(task, opts.model, data, opts, fine_tuned=False)
    train_features = encode_split(family, task, "train", data.splits["train"], tokenizer, data, opts,
                                  for_training=True)
    trainer = build_trainer(model, tokenizer, train_features, family.collator(tokenizer), settings, opts, out)
    return PreparedTraining(tokenizer, config, settings, data, model, train_features, trainer)


def train(opts: RunOptions) -> dict[str, Any]:
    """Fine-tune, evaluate on every labelled split, write the contract's outputs."""
    if opts.seeds and len(opts.seeds) > 1:
        return train_seeds(opts)
    if opts.seeds:
        opts.seed = opts.seeds[0]
    task = get_task(opts.task)
    family = family_of(task)
    if not opts.output_dir:
        opts.output_dir = str(Path("runs") / task.name)
    out = check_output_dir(opts.output_dir, overwrite=opts.overwrite, resume=opts.resume)
    prepared = prepare_training(opts, task, out)
    tokenizer, data, settings = prepared.tokenizer, prepared.data, prepared.settings
    trainer, train_features = prepared.trainer, prepared.train_features
    resume_from = _resume_point(out) if opts.resume else None
    trainer.train(resume_from_checkpoint=resume_from)
    state = trainer.state
    runtime = next(c for c in trainer.callback_handler.callbacks if isinstance(c, TrainingClock)).elapsed()
    model = trainer.model
    metrics: dict[str, Any] = {}
    if is_main_process():
        steps_run = state.global_step
        tokens = count_tokens(train_features) * float(settings["epochs"]) if not settings.get("max_steps") else \
            steps_run * settings["batch_size"] * (count_tokens(train_features) / max(len(train_features), 1))
        metrics.update(evaluate_and_write(family, task, data, data.eval_splits(), model, tokenizer, opts, settings,
                                          out))
        metrics["num_examples"] = len(data.splits["train"])
        metrics["train_runtime_s"] = round(runtime, 3)
        metrics["train_tokens_per_s"] = round(tokens / max(runtime, 1e-9), 1)
        metrics.update(peak_gpu_memory_metrics())
        metrics["train_loss"] = trainer.whole_run_loss()
        trainer.warn_if_diverged()
        model.config.electra_tasks = {"task": task.name, "family": family.name,
                                      **family.model_annotations(task, data, metrics)}
        save_pretrained_atomic(out, model, tokenizer)
        write_run_config(out, "train", opts, settings, task, data)
        runfolder.write_log_history(out, state.log_history)
        runfolder.write_metrics(out, metrics)
        remove_if_empty(out / runfolder.CHECKPOINTS)
        if opts.push_to_hub:
            push_to_hub(model, tokenizer, opts.hub_model_id or out.name)
    return metrics


def push_to_hub(model, tokenizer, repo_id: str) -> None:
    """--push-to-hub: upload the fine-tuned model and tokenizer (safetensors) once training ends."""
    try:
        model.push_to_hub(repo_id, safe_serialization=True)
        tokenizer.push_to_hub(repo_id)
    except Exception as exc:  # offline, no token, no rights: the local outputs are complete anyway
        raise UserError(f"--push-to-hub {repo_id}: upload failed ({reason(exc, typed=True)}); the run's outputs "
                        f"are complete locally") from None
    log.info("pushed the model to the hub as %s", repo_id)


def _resume_point(out: Path) -> str | bool:
    """The newest complete checkpoint in OUT/checkpoints, or False to start fresh."""
    from electra_tasks.training.trainer import latest_checkpoint

    found = latest_checkpoint(out / runfolder.CHECKPOINTS)
    if found is None:
        log.info("--resume: no checkpoint in %s, starting from the beginning", out / runfolder.CHECKPOINTS)
        return False
    log.info("--resume: continuing from %s", found)
    return str(found)


def evaluate_and_write(family, task, data, splits: list[str], model, tokenizer, opts, settings, out: Path,
                       *, any_split: bool = False) -> dict[str, Any]:
    """Predict, score and write each split; `num_eval_examples` counts the first validation split
    (`any_split`: the first split, for eval)."""
    metrics: dict[str, Any] = {}
    for split in splits:
        raw = data.splits[split]
        scored = evaluate_split(family, task, split, raw, model, tokenizer, data, opts, settings)
        family.write_predictions(out, split, raw, scored, data, opts)
        metrics.update(metric_names_for(task, split, scored.metrics))
        metrics[f"num_{split}_examples"] = len(raw)
        if "num_eval_examples" not in metrics and (split.startswith("validation") or any_split):
            metrics["num_eval_examples"] = len(raw)
    return metrics


def apply_model_options(family: TaskFamily, config, opts: RunOptions) -> None:
    """eval/predict: the options the model remembers, where the command line leaves them unset."""
    taken = []
    for name, value in family.model_options(made_for(config)).items():
        if value is not None and getattr(opts, name, None) is None:
            setattr(opts, name, value)
            taken.append(f"--{name.replace('_', '-')} {value}")
    if taken:
        log.info("as the model was trained: %s", ", ".join(taken))


def made_for(config) -> dict[str, Any]:
    """What a fine-tuned model remembers of its training (`model_annotations`), for predict: its
    inputs are raw lines, so they are read the way the model was trained (eval reads files as
    training did and scores as training's evaluation did)."""
    return dict(getattr(config, "electra_tasks", None) or {})


DATA_OPTIONS = ("data_dir", "train_file", "validation_file", "test_file")


def recorded_data(opts: RunOptions, task: TaskDefinition) -> None:
    """`eval` without data options reads what the model was trained on (its run_config.json),
    not the hub: a fine-tuned OUT knows its data."""
    if any(getattr(opts, name) for name in DATA_OPTIONS) or not Path(opts.model).is_dir():
        return
    recorded_file = Path(opts.model) / runfolder.RUN_CONFIG
    if not recorded_file.is_file():
        return
    from electra_tasks.options import load_config_file

    recorded = load_config_file(recorded_file)
    if recorded.get("task") != task.name or not any(recorded.get(name) for name in DATA_OPTIONS):
        return
    for name, value in recorded.items():
        option = all_options().get(name)
        if option is not None and option.stored and "eval" in option.commands and name not in ("split", "output_dir") \
                and getattr(opts, name) in (None, option.initial):
            setattr(opts, name, value)
    log.info("%s: no data options given; evaluating on the data the model was trained with (%s)", task.name,
             ", ".join(f"--{n.replace('_', '-')} {getattr(opts, n)}" for n in DATA_OPTIONS if getattr(opts, n)))


def evaluate(opts: RunOptions) -> dict[str, Any]:
    """Score a fine-tuned OUT on one split and write the same files `train` writes."""
    task = get_task(opts.task)
    family = family_of(task)
    prepare_model_source(opts)
    split = opts.split or "validation"
    if not opts.output_dir:
        name = runfolder.EVAL_FOLDER.format(task=task.name, split=split)
        opts.output_dir = str(Path(opts.model) / name) if Path(opts.model).is_dir() else str(Path("runs") / name)
    out = check_output_dir(opts.output_dir, overwrite=opts.overwrite, resume=None)
    tokenizer, config, settings = load_source(opts, task)
    family.check_model(task, config, opts.model)
    apply_model_options(family, config, opts)
    recorded_data(opts, task)
    data = family.load(task, opts, for_training=False, labels=family.labels_from_model(config))
    chosen = [s for s in data.splits if s == split or s.startswith(split + "_")]
    if not chosen:
        raise UserError(f"--split {split}: not in the data; available: {', '.join(data.eval_splits()) or 'none'}")
    model = inference_model(family, task, config, data, opts)  # --backend torch|onnx|onnx-int8
    # no `num_examples`: CONTRACT.md's name for the training examples, and eval trains on none
    metrics = evaluate_and_write(family, task, data, chosen, model, tokenizer, opts, settings, out, any_split=True)
    write_run_config(out, "eval", opts, settings, task, data)
    runfolder.write_metrics(out, metrics)
    return metrics


EMPTY_LINE = "empty input line"


def predict(opts: RunOptions, lines: list[str], source: str) -> list[dict]:
    """Raw inputs (one per line) -> one JSON-ready record per line, in order: a blank line gets
    a record that says so, so output line N always answers input line N."""
    task = get_task(opts.task)
    family = family_of(task)
    tokenizer, config, settings = load_source(opts, task)
    family.check_model(task, config, opts.model)
    apply_model_options(family, config, opts)
    data = TaskData(splits={}, labels=family.labels_from_model(config), info={"model": made_for(config)})
    if not any(line.strip() for line in lines):
        raise UserError(f"{source}: no input lines; expected one input per line")
    raw = family.read_predict_inputs(lines, source, task, data, opts)  # families skip blank lines
    model = inference_model(family, task, config, data, opts)  # --backend torch|onnx|onnx-int8
    scored = evaluate_split(family, task, "predict", raw, model, tokenizer, data, opts, settings)
    records = iter(family.predict_records(raw, scored, data))
    return [{"line": number, "error": EMPTY_LINE} if not line.strip() else next(records)
            for number, line in enumerate(lines, start=1)]


def train_seeds(opts: RunOptions) -> dict[str, Any]:
    """One run per seed in OUT/seed-N; OUT/metrics.json holds median, mean and std per metric."""
    task = get_task(opts.task)
    if not opts.output_dir:
        opts.output_dir = str(Path("runs") / task.name)
    out = check_output_dir(opts.output_dir, overwrite=opts.overwrite, resume=opts.resume)
    per_seed: dict[int, dict[str, Any]] = {}
    seeds = opts.seeds or []
    for number, seed in enumerate(seeds, 1):
        sub = RunOptions(**{**opts.to_dict(), "seed": seed, "seeds": None,
                            "output_dir": str(runfolder.seed_folder(out, seed))})
        log.info("seed %d (%d/%d) -> %s", seed, number, len(seeds), sub.output_dir)
        with console.context(f"seed {number}/{len(seeds)}"):
            per_seed[seed] = train(sub)
    summary = runfolder.aggregate_seeds(per_seed)
    if is_main_process():
        runfolder.write_metrics(out, summary)
        runfolder.write_run_config(out, "train", opts.to_dict(), runs=runfolder.seed_runs(per_seed))
    return summary


def write_run_config(out: Path, command: str, opts: RunOptions, settings: dict[str, Any],
                     task: TaskDefinition, data: TaskData) -> None:
    resolved = opts.to_dict()
    for key, value in settings.items():
        if key in resolved:
            resolved[key] = value
    runfolder.write_run_config(out, command, resolved, recipe=settings,
                               task={"name": task.name, "family": task.family, "main_metric": task.main_metric},
                               labels=data.labels, data=data.info)
