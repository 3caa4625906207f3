"""The run folder's format: its file names, run_config.json, metrics.json and the seeds summary.

Training, evaluation, pre-training and `report` all read and write a run folder through this
module, so a file name or a field is defined here once.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from electra_tasks.outputs import atomic_write_json

RUN_CONFIG = "run_config.json"  # every resolved setting; loads back with --config
METRICS = "metrics.json"  # flat JSON, metric names as the official scripts use them
LOG_HISTORY = "log_history.json"  # the Trainer's logged steps (loss, learning rate, RTD metrics)
CHECKPOINTS = "checkpoints"  # --save-steps checkpoints, for --resume
REPORT = "report"  # `electra-tasks report` writes README.md and plots here
EVAL_FOLDER = "eval-{task}-{split}"  # `eval` without --output-dir writes MODEL/<this>


def seed_folder(out: Path, seed: int) -> Path:
    return Path(out) / f"seed-{seed}"


def versions() -> dict[str, str]:
    import torch
    import transformers

    from electra_tasks import __version__

    return {"electra_tasks": __version__, "transformers": transformers.__version__, "torch": torch.__version__}


def write_run_config(out: Path, command: str, options: dict[str, Any], **sections: Any) -> Path:
    """`run_config.json`: the command, its options (fully resolved) and any further sections."""
    return atomic_write_json(Path(out) / RUN_CONFIG, {"command": command, "options": options, **sections,
                                                      "versions": versions()})


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    return atomic_write_json(Path(out) / METRICS, metrics)


def write_log_history(out: Path, history: list[dict[str, Any]]) -> Path:
    return atomic_write_json(Path(out) / LOG_HISTORY, history)


def aggregate_seeds(per_seed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Median (ELECTRA's papers report medians), mean and std of each numeric metric."""
    summary: dict[str, Any] = {"seeds": list(per_seed)}
    names = [k for k, v in next(iter(per_seed.values())).items() if isinstance(v, (int, float))]
    for name in names:
        values = [float(m[name]) for m in per_seed.values() if isinstance(m.get(name), (int, float))]
        summary[name] = statistics.median(values)
        summary[f"{name}_median"] = statistics.median(values)
        summary[f"{name}_mean"] = statistics.fmean(values)
        summary[f"{name}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[f"{name}_per_seed"] = values
    return summary


def seed_runs(seeds) -> dict[str, str]:
    """The `runs` section of a multi-seed run's run_config.json: seed -> its sub-folder."""
    return {str(seed): seed_folder(Path("."), seed).name for seed in seeds}
