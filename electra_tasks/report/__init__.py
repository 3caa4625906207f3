"""`electra-tasks report OUT`: plots and a model-card summary of a finished run.

Reads only what a run wrote (metrics.json, run_config.json, log_history.json, seed-N/ sub-runs) and
draws only logged points: fine-tuning evaluates once at the end, so its main metric is one point per
run unless the log history holds `eval_*` entries. Everything is read and checked before anything is
written. `load` reads, `figures` draws the plots every run gets, `markdown` writes the summary; a
task family adds its own plots (`TaskFamily.report_plots`).
"""

from __future__ import annotations

from pathlib import Path

from electra_tasks.errors import UserError
from electra_tasks.outputs import atomic_write_text
from electra_tasks.report.figures import (metric_points, plot_loss, plot_main_metric, plot_pretraining,
                                          plot_seed_spread)
from electra_tasks.report.load import family_of_run, load_run, main_metric, rtd_keys
from electra_tasks.report.markdown import fmt, render_markdown
from electra_tasks.runfolder import LOG_HISTORY, REPORT

README = "README.md"
SHARED_PLOTS = ("loss.png", "main_metric.png", "seed_spread.png", "pretraining.png")

__all__ = ["report", "load_run", "metric_points", "rtd_keys", "fmt"]


def every_plot_name() -> set[str]:
    """The file names any run's report may hold (for removing stale ones on --overwrite)."""
    from electra_tasks.registry import all_tasks
    from electra_tasks.tasks.base import FAMILIES

    all_tasks()  # registers every family
    return set(SHARED_PLOTS) | {name for family in FAMILIES.values() for name in family.report_plot_names}


# --- the command ----------------------------------------------------------------------------
def report(run_dir: str | Path, *, output_dir: str | Path | None = None, overwrite: bool = False) -> list[Path]:
    """Write OUT/report/README.md and its PNG plots; returns the files written."""
    run = load_run(run_dir)
    target = Path(output_dir) if output_dir else run.path / REPORT
    if target.exists() and not target.is_dir():
        raise UserError(f"--output-dir {target}: exists and is a file; expected a folder")
    known = every_plot_name()
    existing = [n for n in (README, *sorted(known)) if (target / n).exists()]
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
    family = family_of_run(run)
    if family is not None:
        jobs += family.report_plots(run, title)
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
    for stale in sorted(known):
        if stale not in drawn and (target / stale).exists():
            (target / stale).unlink()  # only reached with --overwrite: keep the folder consistent with README
    atomic_write_text(target / README, render_markdown(run, main, drawn, notes))
    return [target / README] + [target / name for name in drawn]
