"""`electra-tasks report OUT`: plots and a model-card summary of a finished run.

Reads only what a run wrote (metrics.json, run_config.json, log_history.json, seed-N/ sub-runs) and
draws only logged points: fine-tuning evaluates once at the end, so its main metric is one point per
run unless the log history holds `eval_*` entries. matplotlib's `Figure` is used directly (Agg
canvas, no pyplot state, no display). Everything is read and checked before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from electra_tasks.errors import UserError
from electra_tasks.outputs import atomic_write_text

METRICS, RUN_CONFIG, LOG_HISTORY = "metrics.json", "run_config.json", "log_history.json"
README = "README.md"
PLOTS = ("loss.png", "main_metric.png", "seed_spread.png", "qa_v2.png", "pretraining.png")
EXPECTED = ("expected a finished run folder with metrics.json and log_history.json, as written by "
            "`electra-tasks train` or `electra-tasks pretrain-continue`")
DPI = 120
QA_V2_KEYS = ("HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1")


# --- reading a run ------------------------------------------------------------------------
@dataclass
class Run:
    """One run folder as written: metrics, resolved settings, the Trainer's log lines, seed sub-runs."""

    path: Path
    metrics: dict[str, Any]
    config: dict[str, Any]
    history: list[dict[str, Any]]
    seeds: dict[int, "Run"] = field(default_factory=dict)
    missing_seeds: list[int] = field(default_factory=list)

    @property
    def command(self) -> str:
        return str(self.config.get("command") or "")

    @property
    def is_pretraining(self) -> bool:
        return self.command.startswith("pretrain") or bool(rtd_keys(self.history))

    @property
    def is_multi_seed(self) -> bool:
        return isinstance(self.metrics.get("seeds"), list) and any(k.endswith("_per_seed") for k in self.metrics)

    @property
    def options(self) -> dict[str, Any]:
        return self.config.get("options") or {}

    @property
    def task_name(self) -> str | None:
        task = self.config.get("task")
        return (task or {}).get("name") if isinstance(task, dict) else self.options.get("task")

    def histories(self) -> dict[str, list[dict[str, Any]]]:
        """Label -> log history: the run itself, or one per seed."""
        if self.seeds:
            return {f"seed {s}": run.history for s, run in self.seeds.items()}
        return {"": self.history} if self.history else {}


def read_json(path: Path, expected: type, what: str) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected {what}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror}); expected {what}") from None
    if not isinstance(data, expected):
        raise UserError(f"{path}: holds a JSON {type(data).__name__}; expected {what}")
    return data


def load_run(path: str | Path) -> Run:
    """Read OUT (and its seed-N sub-runs); a UserError names the folder and what was expected."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such folder; {EXPECTED}")
    if not path.is_dir():
        raise UserError(f"{path}: is a file; {EXPECTED}")
    if not (path / METRICS).is_file():
        raise UserError(f"{path}: no {METRICS}; {EXPECTED}")
    metrics = read_json(path / METRICS, dict, "a JSON object of metric names and values")
    config = read_json(path / RUN_CONFIG, dict, "the run's settings (a JSON object)") \
        if (path / RUN_CONFIG).is_file() else {}
    history: list[dict[str, Any]] = []
    if (path / LOG_HISTORY).is_file():
        history = read_json(path / LOG_HISTORY, list, "the Trainer's log history (a JSON list of objects)")
        if not all(isinstance(entry, dict) for entry in history):
            raise UserError(f"{path / LOG_HISTORY}: an entry is not a JSON object; expected the Trainer's "
                            f"log history (a JSON list of objects)")
    run = Run(path, metrics, config, history)
    if run.is_multi_seed:
        runs = config.get("runs") or {}
        for seed in metrics["seeds"]:
            sub = path / str(runs.get(str(seed), f"seed-{seed}"))
            if (sub / METRICS).is_file():
                run.seeds[int(seed)] = load_run(sub)
            else:
                run.missing_seeds.append(int(seed))
    elif not history and config.get("command") != "eval":
        raise UserError(f"{path}: no {LOG_HISTORY} (or it is empty); {EXPECTED}")
    return run


# --- what to plot ---------------------------------------------------------------------------
def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def series(history: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of every log line that has both `step` and a finite `key`."""
    points = [(e["step"], e[key]) for e in history if is_number(e.get("step")) and is_number(e.get(key))]
    return [p[0] for p in points], [p[1] for p in points]


def final_step(run: Run) -> float | None:
    steps = [e["step"] for e in run.history if is_number(e.get("step"))]
    if steps:
        return max(steps)
    return run.metrics.get("global_step") if is_number(run.metrics.get("global_step")) else None


def find_key(keys, *parts: str) -> str | None:
    """The first key (sorted) whose lower-case name contains every part: tolerant of renames."""
    for key in sorted(keys):
        if all(part in key.lower() for part in parts):
            return key
    return None


def rtd_keys(history: list[dict[str, Any]]) -> dict[str, str]:
    """Logged pre-training curves by role: discriminator accuracy, replaced-token precision/recall."""
    keys = {k for entry in history for k in entry if not k.startswith("eval_")}
    found = {"discriminator accuracy": find_key(keys, "disc", "acc"),
             "replaced-token precision": find_key(keys, "precision"),
             "replaced-token recall": find_key(keys, "recall"),
             "generator (MLM) accuracy": find_key(keys, "mlm", "acc")}
    return {label: key for label, key in found.items() if key}


def main_metric(run: Run) -> str | None:
    """run_config's task.main_metric, else the registry's; pre-training: discriminator accuracy."""
    if run.is_pretraining:
        key = find_key(run.metrics, "disc", "acc")
        return key if key and is_number(run.metrics.get(key)) else None
    for source in [run, *run.seeds.values()]:
        task = source.config.get("task")
        if isinstance(task, dict) and task.get("main_metric"):
            return str(task["main_metric"])
    if run.task_name:
        from electra_tasks.registry import get_task

        try:
            return get_task(run.task_name).main_metric
        except UserError:
            return None
    return None


def is_qa_v2(metrics: dict[str, Any]) -> bool:
    return any(is_number(metrics.get(key)) for key in QA_V2_KEYS)


# --- figures --------------------------------------------------------------------------------
def new_figure(width: float = 8.0, height: float = 4.5, rows: int = 1, cols: int = 1, **kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # Agg: no display, and no pyplot state shared with a caller's figures
    return fig, fig.subplots(rows, cols, squeeze=False, **kwargs)


def save_figure(fig, path: Path) -> Path:
    """savefig to a temporary name in the same folder, then rename (no half-written PNGs)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
        readable(path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def readable(path: Path) -> None:
    """Temporary files are created 0600; a report is meant to be shared, so honour the umask instead."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def note(ax, text: str) -> None:
    """A line of explanation at the bottom of the axes, with room made so it covers no point."""
    ax.margins(y=0.25)
    ax.text(0.01, 0.02, text, transform=ax.transAxes, fontsize=8, color="0.3", va="bottom", wrap=True)


def plot_loss(run: Run, title: str, path: Path) -> str | None:
    """Training loss per logged step (one line per seed); learning rate on a second axis."""
    curves = {label: series(h, "loss") for label, h in run.histories().items()}
    curves = {label: c for label, c in curves.items() if c[0]}
    if not curves:
        return None
    extra = []
    fig, axes = new_figure()
    ax = axes[0][0]
    for label, (steps, values) in curves.items():
        ax.plot(steps, values, marker="o" if len(steps) < 30 else None, markersize=3,
                label=f"{label} training loss".strip())
    if not run.seeds:
        means = [e["train_loss"] for e in run.history if is_number(e.get("train_loss"))]
        if means:
            ax.axhline(means[-1], color="0.5", linestyle=":", label=f"mean over the run: {means[-1]:.4f}")
        steps, lrs = series(run.history, "learning_rate")
        if steps:
            lr_ax = ax.twinx()
            extra = lr_ax.plot(steps, lrs, color="tab:orange", linestyle="--", linewidth=1, label="learning rate (first parameter group)")
            lr_ax.set_ylabel("learning rate", color="tab:orange")
            lr_ax.tick_params(axis="y", colors="tab:orange")
    if max(len(c[0]) for c in curves.values()) == 1:
        note(ax, "only one logged step: log more often (--logging-steps) to see a curve")
    ax.set(title=f"{title}: training loss", xlabel="optimizer step", ylabel="loss")
    ax.grid(alpha=0.3)
    ax.legend(handles=ax.get_lines() + extra, loc="upper right", fontsize=8)
    save_figure(fig, path)
    return f"Training loss at every logged step ({sum(len(c[0]) for c in curves.values())} points)"


def metric_points(run: Run, metric: str) -> tuple[list[float], list[float]]:
    """Logged `eval_<metric>` points, then metrics.json's score at the run's last step (if not logged there)."""
    steps, values = series(run.history, f"eval_{metric}")
    end, score = final_step(run), run.metrics.get(metric)
    if is_number(end) and is_number(score) and not (steps and steps[-1] == end):
        steps, values = steps + [end], values + [score]
    return steps, values


def plot_main_metric(run: Run, metric: str, title: str, path: Path) -> str | None:
    """Logged `eval_<metric>` points plus the final score at the last step, per run; nothing invented."""
    runs = run.seeds or {None: run}
    fig, axes = new_figure()
    ax = axes[0][0]
    drawn, evaluated_during = 0, False
    last_steps = []
    for seed, sub in runs.items():
        label = f"seed {seed}" if seed is not None else metric
        steps, values = metric_points(sub, metric)
        if not steps:
            continue
        evaluated_during |= len(steps) > 1
        line = ax.plot(steps, values, marker="o", label=label)[0]
        ax.annotate(f"{values[-1]:.4g}", (steps[-1], values[-1]), textcoords="offset points", xytext=(-6, 6),
                    ha="right", fontsize=8, color=line.get_color())
        drawn += len(steps)
        last_steps.append(steps[-1])
    if not drawn:
        return None
    ax.set_xlim(0, max(last_steps) * 1.08 if max(last_steps) > 0 else 1)
    if not evaluated_during:
        note(ax, "evaluated once, at the end of training: one point per run "
                 "(the log history has no per-step evaluation)")
    ax.set(title=f"{title}: {metric} (validation)", xlabel="optimizer step", ylabel=metric)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    save_figure(fig, path)
    if evaluated_during:
        return f"{metric} at every logged evaluation"
    return f"{metric} against optimizer steps: one point per run, at the end of training"


def seed_metrics(metrics: dict[str, Any]) -> list[str]:
    """Metric names with per-seed values, in metrics.json order (bookkeeping counts left out)."""
    return [key[: -len("_per_seed")] for key, value in metrics.items()
            if key.endswith("_per_seed") and isinstance(value, list)
            and not key.startswith("num_") and any(is_number(v) for v in value)]


def plot_seed_spread(run: Run, main: str | None, title: str, path: Path) -> str | None:
    """One panel per metric (the main one first): each seed's value, the median, and mean +- std."""
    names = sorted(seed_metrics(run.metrics), key=lambda name: name != main)
    if not names:
        return None
    seeds = run.metrics.get("seeds") or []
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = new_figure(3.2 * cols, 3.4 * rows + 0.6, rows, cols)
    for index, ax in enumerate(ax for row in axes for ax in row):
        if index >= len(names):
            ax.set_visible(False)
            continue
        name = names[index]
        values = [v if is_number(v) else math.nan for v in run.metrics[f"{name}_per_seed"]]
        xs = [0.0] if len(values) == 1 else [-0.2 + 0.4 * i / (len(values) - 1) for i in range(len(values))]
        ax.scatter(xs, values, color="tab:blue", zorder=3)
        for x, value, seed in zip(xs, values, seeds):
            if is_number(value):
                ax.annotate(f"seed {seed}", (x, value), textcoords="offset points", xytext=(4, 3), fontsize=7)
        median, mean, std = (run.metrics.get(f"{name}_{s}") for s in ("median", "mean", "std"))
        if is_number(median):
            ax.axhline(median, color="tab:red", label=f"median {median:.4g}")
        if is_number(mean) and is_number(std):
            ax.axhspan(mean - std, mean + std, color="tab:gray", alpha=0.2, label=f"mean {mean:.4g} ± {std:.2g}")
            ax.axhline(mean, color="tab:gray", linestyle="--")
        ax.set_xlim(-0.5, 0.5)
        ax.set_xticks([])
        ax.set_title(f"{name} (main)" if name == main else name, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"{title}: spread across seeds {', '.join(str(s) for s in seeds)}")
    save_figure(fig, path)
    return f"Spread across seeds {', '.join(str(s) for s in seeds)}: each seed's value, median, mean ± std " \
           f"({len(names)} metrics)"


def plot_qa_v2(run: Run, title: str, path: Path) -> str | None:
    """Exact match and F1 over all questions, answerable (HasAns) and unanswerable (NoAns) ones."""
    metrics = run.metrics
    groups = {"exact match": ("exact_match", "HasAns_exact", "NoAns_exact", "best_exact"),
              "F1": ("f1", "HasAns_f1", "NoAns_f1", "best_f1")}
    parts = ("all questions", "HasAns", "NoAns", "best threshold")
    fig, axes = new_figure()
    ax = axes[0][0]
    width = 0.2
    for i, part in enumerate(parts):
        xs, heights, errors = [], [], []
        for g, keys in enumerate(groups.values()):
            if is_number(metrics.get(keys[i])):
                xs.append(g + (i - 1.5) * width)
                heights.append(metrics[keys[i]])
                std = metrics.get(f"{keys[i]}_std")
                errors.append(std if is_number(std) else 0.0)
        if not xs:
            continue
        total = metrics.get(f"{part}_total") if part in ("HasAns", "NoAns") else None
        label = f"{part} ({total} questions)" if is_number(total) else part
        bars = ax.bar(xs, heights, width, yerr=errors if any(errors) else None, capsize=3, label=label)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylim(0, 118)  # headroom for the legend above 100
    ax.set_yticks(range(0, 101, 20))
    ax.set(title=f"{title}: answerable vs unanswerable questions", ylabel="score (0-100)")
    if run.is_multi_seed:
        note(ax, "bars: median over seeds; error bars: std")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper center", ncols=2)
    save_figure(fig, path)
    return "SQuAD 2.0: exact match and F1 on all, answerable (HasAns) and unanswerable (NoAns) questions"


def plot_pretraining(run: Run, title: str, path: Path) -> str | None:
    """RTD curves per logged step: discriminator accuracy, replaced-token precision/recall; the two losses."""
    found = rtd_keys(run.history)
    losses = sorted({k for e in run.history for k in e if k.endswith("_loss") and k not in ("train_loss", "eval_loss")})
    if not found and not losses:
        return None
    fig, axes = new_figure(8.0, 7.0, 2, 1, sharex=True)
    top, bottom = axes[0][0], axes[1][0]
    for label, key in found.items():
        steps, values = series(run.history, key)
        top.plot(steps, values, marker="o" if len(steps) < 30 else None, markersize=3, label=f"{label} ({key})")
    top.set(title=f"{title}: replaced-token detection", ylabel="rate", ylim=(0, 1.02))
    for key in losses:
        steps, values = series(run.history, key)
        bottom.plot(steps, values, marker="o" if len(steps) < 30 else None, markersize=3, label=key)
    bottom.set(xlabel="optimizer step", ylabel="loss")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8, loc="best")
    save_figure(fig, path)
    return "Replaced-token detection against optimizer steps: " + ", ".join([*found.values(), *losses])


# --- the Markdown summary -----------------------------------------------------------------
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
                     "max_train_samples", "max_eval_samples", "pair_swap", "data_dir", "train_file",
                     "validation_file", "test_file", "split")
PATH_SETTINGS = ("model", "discriminator", "generator", "tokenizer", "data_dir", "train_file", "validation_file",
                 "test_file")
PRETRAIN_SETTINGS = ("discriminator", "generator", "from_scratch", "size", "objective", "tokenizer", "corpus",
                     "max_steps", "learning_rate", "batch_size", "max_seq_length", "warmup_steps", "weight_decay",
                     "mask_prob", "discriminator_weight", "temperature", "generator_size", "vocab_size", "seed")


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
    labels = source.config.get("labels")
    if isinstance(labels, list) and labels:
        rows.append(("labels", labels if len(labels) <= 12 else f"{len(labels)} labels"))
    counts = (source.config.get("data") or {}).get("counts")
    if isinstance(counts, dict) and counts:
        rows.append(("examples", ", ".join(f"{split} {n}" for split, n in counts.items())))
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
                         f"at step {fmt(steps[-1])} ({len(steps)} logged points).")
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


# --- the command ----------------------------------------------------------------------------
def report(run_dir: str | Path, *, output_dir: str | Path | None = None, overwrite: bool = False) -> list[Path]:
    """Write OUT/report/README.md and its PNG plots; returns the files written."""
    run = load_run(run_dir)
    target = Path(output_dir) if output_dir else run.path / "report"
    if target.exists() and not target.is_dir():
        raise UserError(f"--output-dir {target}: exists and is a file; expected a folder")
    existing = [n for n in (README, *PLOTS) if (target / n).exists()]
    if existing and not overwrite:
        raise UserError(f"{target}: already holds a report ({', '.join(existing)}); pass --overwrite to replace it")
    target.mkdir(parents=True, exist_ok=True)
    title = run.task_name or ("pre-training" if run.is_pretraining else run.path.resolve().name)
    main = main_metric(run)
    drawn: dict[str, str] = {}
    notes: list[str] = []
    logged = any(run.histories().values())
    jobs = [("loss.png", lambda p: plot_loss(run, title, p))] if logged else []
    if run.is_pretraining:
        jobs.append(("pretraining.png", lambda p: plot_pretraining(run, title, p)))
    elif main and logged:
        jobs.append(("main_metric.png", lambda p: plot_main_metric(run, main, title, p)))
    if run.is_multi_seed:
        jobs.append(("seed_spread.png", lambda p: plot_seed_spread(run, main, title, p)))
    if is_qa_v2(run.metrics):
        jobs.append(("qa_v2.png", lambda p: plot_qa_v2(run, title, p)))
    for name, draw in jobs:
        caption = draw(target / name)
        if caption:
            drawn[name] = caption
        else:
            notes.append(f"no {name}: nothing logged to draw it from")
    if not logged:
        why = " (an evaluation)" if run.command == "eval" else ""
        notes.append(f"no {LOG_HISTORY} in this folder{why}: no training curves")
    notes += [f"seed {s}: folder missing, its curves are not shown" for s in run.missing_seeds]
    if main and not run.is_pretraining and "main_metric.png" in drawn and "end of training" in drawn["main_metric.png"]:
        notes.append(f"{main} was evaluated once, at the end of training (no per-step evaluation was logged).")
    for stale in PLOTS:
        if stale not in drawn and (target / stale).exists():
            (target / stale).unlink()  # only reached with --overwrite: keep the folder consistent with README
    readable(atomic_write_text(target / README, render_markdown(run, main, drawn, notes)))
    return [target / README] + [target / name for name in drawn]
