"""The QA family's report plot: exact match and F1 on answerable and unanswerable questions."""

from __future__ import annotations

from pathlib import Path

from electra_tasks.report.figures import new_figure, note, save_figure
from electra_tasks.report.load import Run, is_number

QA_V2_KEYS = ("HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1")
PLOT = "qa_v2.png"


def is_qa_v2(metrics: dict) -> bool:
    return any(is_number(metrics.get(key)) for key in QA_V2_KEYS)


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
    thresholds = [f"{name} {metrics[key]:.3g}" for name, key in (("exact", "best_exact_thresh"), ("F1", "best_f1_thresh"))
                  if is_number(metrics.get(key))]
    if thresholds:  # what "best threshold" means, and that 0.0 is "always abstain"
        note(ax, f"best threshold ({', '.join(thresholds)}): answer \"\" when the no-answer probability is above it, "
                 f"chosen on these questions; 0.0 means always abstain, 1.0 never"
                 + ("; bars: median over seeds, error bars: std" if run.is_multi_seed else ""))
    elif run.is_multi_seed:
        note(ax, "bars: median over seeds; error bars: std")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper center", ncols=2)
    save_figure(fig, path)
    return "SQuAD 2.0: exact match and F1 on all, answerable (HasAns) and unanswerable (NoAns) questions"
