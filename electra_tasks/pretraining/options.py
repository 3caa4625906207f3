"""Every option of `pretrain-continue`, in one record (written back as run_config.json).

`None` means "the recipe's default for this model size"; `run.resolve_settings` fills it in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from electra_tasks.options import merge_with_config


@dataclass
class PretrainOptions:
    corpus: list[str] = field(default_factory=list)
    output_dir: str | None = None
    discriminator: str | None = None
    generator: str | None = None
    from_scratch: bool = False
    size: str | None = None
    tokenizer: str | None = None
    vocab_size: int | None = None
    objective: str = "rtd"
    max_seq_length: int = 128
    generator_size: float | None = None
    mask_prob: float = 0.15
    discriminator_weight: float = 50.0
    temperature: float = 1.0
    learning_rate: float | None = None
    batch_size: int | None = None
    max_steps: int | None = None
    warmup_steps: int | None = None
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    seed: int = 42
    save_steps: int | None = None
    logging_steps: int = 50
    shuffle_buffer: int = 2000
    text_column: str = "text"
    encoding: str | None = None
    bf16: bool | None = None
    report_to: str | None = None
    resume: bool = False
    overwrite: bool = False
    trust_remote_code: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}


def merge_config(values: dict[str, Any], typed: set[str], config_path: str | Path | None) -> PretrainOptions:
    """Options from `--config FILE` under the ones typed on the command line (`typed`)."""
    merged = merge_with_config(values, typed, config_path, PretrainOptions.field_names())
    if isinstance(merged.get("corpus"), str):
        merged["corpus"] = [merged["corpus"]]
    merged["corpus"] = list(merged.get("corpus") or [])
    return PretrainOptions(**{k: v for k, v in merged.items() if k in PretrainOptions.field_names()})
