"""The report's Markdown: task, model, key settings, every metric, the plots with captions."""

from __future__ import annotations

import json
import math
from typing import Any

from electra_tasks.report.load import Run, is_number, series
from electra_tasks.runfolder import LOG_HISTORY, METRICS, RUN_CONFIG


def fmt(value: Any) -> str:
    """Numbers as a person reads them in a table; lists item by item; None as n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0 or abs(value) >= 1000:
            return f"{value:.1f}" if value != int(value) else str(int(value))
        if abs(value) < 1e-3:
            return f"{value:.3g}"
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def setting(value: Any) -> Any:
    """Settings exactly as given (1e-4 stays 0.0001, not a rounded table number)."""
    return f"{value:g}" if isinstance(value, float) else value


def cell(value: Any) -> str:
    return fmt(value).replace("|", "\\|").replace("\n", " ")


FINETUNE_SETTINGS = ("model", "epochs", "max_steps", "learning_rate", "layerwise_lr_decay", "batch_size",
                     "max_seq_length", "weight_decay", "warmup_ratio", "max_grad_norm", "seed", "seeds",
                     "max_train_samples", "max_eval_samples", "data_dir", "train_file",
                     "validation_file", "test_file", "split")
PATH_SETTINGS = ("model", "discriminator", "generator", "tokenizer", "data_dir", "train_file", "validation_file",
                 "test_file")
PRETRAIN_SETTINGS = ("discriminator", "generator", "from_scratch", "size", "objective", "tokenizer", "corpus",
                     "max_steps", "learning_rate", "batch_size", "max_seq_length", "warmup_steps", "weight_decay",
                     "mask_prob", "discriminator_weight", "temperature", "generator_size", "vocab_size", "seed")


def count_text(count: Any) -> str:
    """A split's count as a person reads it: 60, or "60 questions, 12 articles" (never a dict)."""
    if isinstance(count, dict):
        return ", ".join(f"{fmt(v) if not isinstance(v, list) else '/'.join(map(str, v))} {k}"
                         for k, v in count.items())
    return fmt(count)


def family_settings(options: dict[str, Any], family: str | None) -> list[tuple[str, Any]]:
    """The run's family options that were set away from their declared defaults."""
    from electra_tasks.options import all_options

    return [(option.name, options[option.name]) for option in all_options().values()
            if family and option.family == family and options.get(option.name) not in (None, option.default)]


def settings_rows(run: Run) -> list[tuple[str, Any]]:
    """Key settings as run_config.json resolved them (options, then the recipe for what options lack)."""
    source = next(iter(run.seeds.values())) if run.seeds else run  # a seed sub-run holds the resolved recipe
    options, recipe = run.options or source.options, source.config.get("recipe") or {}
    rows: list[tuple[str, Any]] = []
    if run.task_name:
        family = (source.config.get("task") or {}).get("family")
        rows.append(("task", f"{run.task_name} ({family})" if family else run.task_name))
    if run.command:
        rows.append(("command", f"electra-tasks {run.command}"))
    for key in PRETRAIN_SETTINGS if run.is_pretraining else FINETUNE_SETTINGS:
        value = options.get(key)
        if value is None or value == []:
            value = recipe.get(key)  # pre-training resolves defaults into the recipe only
        if value is None or value == [] or value is False or (key == "seed" and run.is_multi_seed):
            continue
        rows.append((key, f"`{value}`" if key in PATH_SETTINGS else value))
    rows += family_settings(options, (source.config.get("task") or {}).get("family"))
    labels = source.config.get("labels")
    if isinstance(labels, list) and labels:
        rows.append(("labels", labels if len(labels) <= 12 else f"{len(labels)} labels"))
    counts = (source.config.get("data") or {}).get("counts")
    if isinstance(counts, dict) and counts:
        rows.append(("examples", "; ".join(f"{split} {count_text(n)}" for split, n in counts.items())))
    if run.config.get("corpus_files") is not None:
        rows.append(("corpus files", run.config["corpus_files"]))
    versions = source.config.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return rows


def metric_tables(run: Run, main: str | None) -> list[str]:
    """Every key of metrics.json with its value; multi-seed: median, mean, std and each seed's value."""
    metrics = run.metrics
    lines: list[str] = []
    if run.is_multi_seed:
        names = [k[: -len("_per_seed")] for k, v in metrics.items() if k.endswith("_per_seed")]
        names.sort(key=lambda n: n != main)
        lines += ["| metric | median | mean | std | per seed (" + ", ".join(str(s) for s in metrics["seeds"]) + ") |",
                  "|---|---:|---:|---:|---|"]
        for name in names:
            shown = f"**{name}** (main)" if name == main else name
            median, per_seed = metrics.get(f"{name}_median", metrics.get(name)), metrics.get(f"{name}_per_seed")
            if isinstance(per_seed, list) and per_seed and all(is_number(v) and v == int(v) for v in per_seed):
                per_seed = [int(v) for v in per_seed]  # counts went through float() when aggregated
                median = int(median) if is_number(median) and median == int(median) else median
            lines.append(f"| {shown} | {cell(median)} | {cell(metrics.get(f'{name}_mean'))} | "
                         f"{cell(metrics.get(f'{name}_std'))} | {cell(per_seed)} |")
        derived = {f"{n}{s}" for n in names for s in ("", "_median", "_mean", "_std", "_per_seed")} | {"seeds"}
        rest = [k for k in metrics if k not in derived]
    else:
        rest = sorted(metrics, key=lambda k: k != main)
    if rest:
        if lines:
            lines.append("")
        lines += ["| metric | value |", "|---|---:|"]
        lines += [f"| {f'**{k}** (main)' if k == main else k} | {cell(metrics[k])} |" for k in rest]
    return lines


def loss_summary(run: Run) -> list[str]:
    lines = []
    for label, history in run.histories().items():
        steps, values = series(history, "loss")
        if steps:
            who = f"{label}: " if label else ""
            lines.append(f"- {who}training loss {fmt(values[0])} at step {fmt(steps[0])} → {fmt(values[-1])} "
                         f"at step {fmt(steps[-1])} ({len(steps)} logged point{'s' if len(steps) != 1 else ''}).")
    return lines


def render_markdown(run: Run, main: str | None, plots: dict[str, str], notes: list[str]) -> str:
    title = run.task_name or ("pre-training" if run.is_pretraining else run.path.resolve().name)
    model = run.options.get("model") or run.options.get("discriminator")
    if run.is_pretraining:
        heading = "# ELECTRA replaced-token-detection pre-training"
        heading += f" from `{model}`" if model else " from scratch"
    elif model:
        heading = f"# {title}: {'evaluation of' if run.command == 'eval' else 'fine-tuned'} `{model}`"
    else:
        heading = f"# {title}"
    kind = ("pre-training" if run.is_pretraining else "multi-seed fine-tuning" if run.is_multi_seed
            else "evaluation" if run.command == "eval" else "fine-tuning")
    sources = [n for n in (METRICS, RUN_CONFIG, LOG_HISTORY) if (run.path / n).is_file()]
    if run.seeds:
        sources.append(f"each seed-N/{LOG_HISTORY}")
    read = ", ".join(sources[:-1]) + f" and {sources[-1]}" if len(sources) > 1 else sources[0]
    out = [heading, "", f"Report of the {kind} run in `{run.path}`, written by `electra-tasks report` from "
                        f"{read}.", ""]
    rows = settings_rows(run)
    if rows:
        out += ["## Setup", "", "| setting | value |", "|---|---|"]
        out += [f"| {key} | {cell(setting(value))} |" for key, value in rows] + [""]
    split = "validation split" if not run.is_pretraining else "last logged training step"
    out += ["## Results", "", f"From `{METRICS}` ({split}" + (f"; main metric **{main}**)" if main else ")"), ""]
    out += metric_tables(run, main) + [""]
    curves = loss_summary(run)
    if curves or notes:
        out += ["## Training" if curves else "## Notes", ""] + curves + [f"- {n}" for n in notes] + [""]
    if plots:
        out += ["## Plots", ""]
        for name, caption in plots.items():
            out += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    return "\n".join(out).rstrip() + "\n"
