"""The plots every run gets: training loss, the main metric, the spread across seeds, RTD curves.

matplotlib's `Figure` is used directly (Agg canvas, no pyplot state, no display); a family adds
its own plots through `TaskFamily.report_plots`, drawn with the helpers here.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from electra_tasks.outputs import atomic_write_bytes
from electra_tasks.report.load import Run, final_step, is_number, rtd_keys, series

DPI = 120


def new_figure(width: float = 8.0, height: float = 4.5, rows: int = 1, cols: int = 1, **kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # Agg: no display, and no pyplot state shared with a caller's figures
    return fig, fig.subplots(rows, cols, squeeze=False, **kwargs)




def save_figure(fig, path: Path) -> Path:
    """Render to PNG in memory, then write it atomically (no half-written PNGs)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return atomic_write_bytes(path, buffer.getvalue())


def from_zero(ax) -> None:
    """A quantity that is never negative (loss, rate, score) gets no negative ticks, even when every
    value is 0 and matplotlib would centre the axis on it."""
    values = [v for line in ax.get_lines() for v in line.get_ydata() if is_number(float(v))]
    if values and min(values) >= 0:
        ax.set_ylim(bottom=0, top=max(max(values) * 1.1, 1e-12) if max(values) > 0 else 1)


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
            which = "learning rate" if run.is_pretraining else "learning rate (task head; lower layers decay)"
            extra = lr_ax.plot(steps, lrs, color="tab:orange", linestyle="--", linewidth=1, label=which)
            lr_ax.set_ylabel("learning rate", color="tab:orange")
            lr_ax.tick_params(axis="y", colors="tab:orange")
            from_zero(lr_ax)
    if max(len(c[0]) for c in curves.values()) == 1:
        note(ax, "only one logged step: log more often (--logging-steps) to see a curve")
    ax.set(title=f"{title}: training loss", xlabel="optimizer step", ylabel="loss")
    from_zero(ax)
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
    from_zero(ax)
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
