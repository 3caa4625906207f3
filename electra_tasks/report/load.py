"""Reading a finished run folder (through `runfolder`'s names) and what to draw from it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from electra_tasks.errors import UserError
from electra_tasks.runfolder import LOG_HISTORY, METRICS, RUN_CONFIG, seed_folder

EXPECTED = ("expected a finished run folder with metrics.json and log_history.json, as written by "
            "`electra-tasks train` or `electra-tasks pretrain-continue`")


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
            sub = path / str(runs.get(str(seed), seed_folder(Path("."), int(seed)).name))
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


def family_of_run(run: Run):
    """The task family that wrote the run (for its own plots), or None (pre-training, unknown)."""
    from electra_tasks.registry import get_task
    from electra_tasks.tasks.base import FAMILIES

    if run.is_pretraining or not run.task_name:
        return None
    try:
        return FAMILIES[get_task(run.task_name).family]
    except UserError:
        return None
