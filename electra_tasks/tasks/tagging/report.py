"""The tagging family's report plot: precision, recall and F1 per entity type (conlleval's rules)."""

from __future__ import annotations

import re
from pathlib import Path

from electra_tasks.report.figures import new_figure, note, save_figure
from electra_tasks.report.load import Run, is_number

PLOT = "entity_types.png"
TYPE_KEY = re.compile(r"^(?P<type>.+)_(?P<part>precision|recall|f1)$")


def entity_types(metrics: dict) -> dict[str, dict[str, float]]:
    """{type: {precision, recall, f1}} from metrics.json's `<TYPE>_precision/_recall/_f1`."""
    found: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        match = TYPE_KEY.match(key)
        if match and is_number(value) and not match["type"].startswith(("HasAns", "NoAns", "best", "lead3", "oracle")):
            found.setdefault(match["type"], {})[match["part"]] = float(value)
    return {kind: parts for kind, parts in sorted(found.items()) if "f1" in parts}


def plot_entity_types(run: Run, title: str, path: Path) -> str | None:
    types = entity_types(run.metrics)
    if not types:
        return None
    fig, axes = new_figure()
    ax = axes[0][0]
    width = 0.27
    for i, part in enumerate(("precision", "recall", "f1")):
        xs = [t + (i - 1) * width for t in range(len(types))]
        bars = ax.bar(xs, [parts.get(part, 0.0) for parts in types.values()], width, label=part)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(types)), list(types))
    ax.set_ylim(0, 1.15)
    ax.set(title=f"{title}: scores per entity type", ylabel="score (0-1)")
    if run.is_multi_seed:
        note(ax, "median over seeds")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper right", ncols=3)
    save_figure(fig, path)
    return f"Precision, recall and F1 per entity type ({', '.join(types)})"
