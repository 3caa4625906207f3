"""Named tasks: small declarative records, looked up by name.

A task is data (where its examples come from, which columns, which labels, which metric, which
recipe defaults); the code that turns it into model features lives in its family's adapter
(`electra_tasks/tasks/<family>.py`). Adding a task means adding one `TaskDefinition`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from electra_tasks.errors import UserError, did_you_mean


@dataclass(frozen=True)
class TaskDefinition:
    name: str
    family: str  # key into FAMILIES: the name of its folder under tasks/
    description: str
    metrics: tuple[str, ...]
    main_metric: str
    data_formats: str  # shown by `electra-tasks tasks`
    hub_dataset: tuple[str, str | None] | None = None  # (path, config) for datasets.load_dataset
    # family-specific declarative settings (columns, label list, file layout, ...)
    spec: dict[str, Any] = field(default_factory=dict)
    # recipe overrides (epochs, learning_rate, max_seq_length, ...)
    defaults: dict[str, Any] = field(default_factory=dict)


TASKS: dict[str, TaskDefinition] = {}


def register(*definitions: TaskDefinition) -> None:
    for definition in definitions:
        if definition.name in TASKS:
            raise ValueError(f"task {definition.name!r} registered twice")
        TASKS[definition.name] = definition


def all_tasks() -> list[TaskDefinition]:
    _load_definitions()
    return list(TASKS.values())


def get_task(name: str) -> TaskDefinition:
    _load_definitions()
    if name not in TASKS:
        raise UserError(
            f"unknown task '{name}'{did_you_mean(name, TASKS)}; "
            f"run `electra-tasks tasks` for the list"
        )
    return TASKS[name]


def _load_definitions() -> None:
    # importing each family registers its task definitions
    from electra_tasks.tasks import load_families

    load_families()
