"""Every option of `train`/`eval`/`predict`, in one record.

The CLI fills a `RunOptions`; `None` means "use the task's or the recipe's default", which the
runner resolves and writes, fully resolved, to `run_config.json` (loadable back with `--config`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from electra_tasks.errors import UserError


@dataclass
class RunOptions:
    task: str
    model: str | None = None
    output_dir: str | None = None
    overwrite: bool = False
    resume: bool = False
    trust_remote_code: bool = False
    # data
    data_dir: str | None = None
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    text_column: str | None = None
    text_pair_column: str | None = None
    label_column: str | None = None
    no_header: bool = False
    regression: bool = False
    tag_column: int | None = None
    strict: bool = False
    document_column: str | None = None
    summary_column: str | None = None
    id_column: str | None = None
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    split: str | None = None
    # training recipe (None = ELECTRA's default for this task and model size)
    epochs: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    eval_batch_size: int | None = None
    max_seq_length: int | None = None
    seed: int = 42
    seeds: list[int] | None = None
    layerwise_lr_decay: float | None = None
    weight_decay: float | None = None
    warmup_ratio: float | None = None
    max_steps: int | None = None
    max_grad_norm: float | None = None
    save_steps: int | None = None
    logging_steps: int | None = None
    pair_swap: bool = False
    bf16: bool | None = None
    torch_compile: bool | None = None
    report_to: str | None = None
    push_to_hub: bool = False
    hub_model_id: str | None = None
    # QA
    doc_stride: int | None = None
    max_query_length: int | None = None
    n_best_size: int | None = None
    max_answer_length: int | None = None
    # extractive summarization
    summary_sentences: int | None = None
    # anything a task family adds without a field of its own
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Options from a YAML, TOML or JSON file (`run_config.json` of an earlier run loads back)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # the parsers' own messages name line and column
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of option names to values")
    # run_config.json nests the options under "options"
    if isinstance(data.get("options"), dict):
        data = data["options"]
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def merge_with_config(values: dict[str, Any], typed: set[str], config_path: str | Path | None,
                      known: set[str]) -> dict[str, Any]:
    """Command-line values over `--config FILE`: a file value fills every option not typed."""
    merged = dict(values)
    if config_path is not None:
        for key, value in load_config_file(config_path).items():
            if key not in known:
                raise UserError(f"{config_path}: unknown option '{key}'")
            if key not in typed:
                merged[key] = value
    return merged
