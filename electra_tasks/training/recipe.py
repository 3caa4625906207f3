"""ELECTRA's published fine-tuning recipe (google-research/electra `configure_finetuning.py`).

Defaults: AdamW (eps 1e-6), weight decay 0.01 except LayerNorm and biases, 10% linear warm-up then
linear decay, gradient clipping 1.0, batch 32, max length 128, 3 epochs, learning rate by model
size (small 3e-4, base 1e-4, large 5e-5) and layer-wise learning-rate decay 0.8 (0.9 for large).
A task definition may override any of these (some tasks train longer or read longer inputs);
an explicit option overrides both. The defaults themselves are declared in `options.py`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from electra_tasks.errors import UserError



def recipe_defaults() -> dict[str, Any]:
    """The declared defaults of the recipe options (`options.py`)."""
    from electra_tasks.options import all_options

    return {option.name: option.default for option in all_options().values()
            if option.recipe and option.default is not None}


# hidden size -> (learning rate, layer-wise decay): ELECTRA-Small is 256 wide, Base 768, Large 1024.
SIZE_RECIPES = ((256, 3e-4, 0.8), (768, 1e-4, 0.8), (10**9, 5e-5, 0.9))


def size_defaults(config) -> dict[str, float]:
    hidden = int(getattr(config, "hidden_size", 256))
    for limit, lr, decay in SIZE_RECIPES:
        if hidden <= limit:
            return {"learning_rate": lr, "layerwise_lr_decay": decay}
    raise AssertionError("unreachable")


def resolve(opts, task_defaults: dict[str, Any], config) -> dict[str, Any]:
    """Recipe settings: explicit option > task definition > model size > ELECTRA default."""
    settings = {**recipe_defaults(), **size_defaults(config), **task_defaults}
    for key in list(settings) + ["max_steps", "eval_batch_size", "save_steps", "bf16", "torch_compile"]:
        value = getattr(opts, key, None)
        if value is not None:
            settings[key] = value
    settings.setdefault("max_steps", None)
    settings.setdefault("save_steps", None)
    if settings.get("eval_batch_size") is None:
        settings["eval_batch_size"] = max(64, 4 * int(settings["batch_size"]))
    limit = getattr(config, "max_position_embeddings", None)
    if limit and settings["max_seq_length"] > limit:
        settings["max_seq_length"] = int(limit)
    validate(settings)
    return settings


def validate(settings: dict[str, Any]) -> None:
    checks = {
        "epochs": lambda v: v > 0,
        "batch_size": lambda v: v >= 1,
        "eval_batch_size": lambda v: v >= 1,
        "max_seq_length": lambda v: v >= 8,
        "learning_rate": lambda v: v > 0,
        "weight_decay": lambda v: v >= 0,
        "warmup_ratio": lambda v: 0 <= v < 1,
        "layerwise_lr_decay": lambda v: 0 < v <= 1,
        "max_grad_norm": lambda v: v > 0,
        "logging_steps": lambda v: v >= 1,
    }
    expected = {
        "epochs": "a number > 0", "batch_size": "an integer >= 1", "eval_batch_size": "an integer >= 1",
        "max_seq_length": "an integer >= 8", "learning_rate": "a number > 0", "weight_decay": "a number >= 0",
        "warmup_ratio": "a number in [0, 1)", "layerwise_lr_decay": "a number in (0, 1]",
        "max_grad_norm": "a number > 0", "logging_steps": "an integer >= 1",
    }
    for key, ok in checks.items():
        if not ok(settings[key]):
            raise UserError(f"--{key.replace('_', '-')} {settings[key]}: expected {expected[key]}")
    for key in ("max_steps", "save_steps"):
        if settings.get(key) is not None and settings[key] < 1:
            raise UserError(f"--{key.replace('_', '-')} {settings[key]}: expected an integer >= 1")


_LAYER = re.compile(r"\.encoder\.layer\.(\d+)\.")


def layer_depth(name: str, num_layers: int) -> int:
    """ELECTRA's depth of a parameter: embeddings 0, layer i -> i + 1, task head num_layers + 2."""
    if ".embeddings." in f".{name}" or ".embeddings_project." in f".{name}":
        return 0
    match = _LAYER.search(f".{name}")
    if match:
        return int(match.group(1)) + 1
    return num_layers + 2


def no_weight_decay(name: str) -> bool:
    return name.endswith(".bias") or "LayerNorm" in name or "layer_norm" in name


def weight_decay_groups(model, weight_decay: float) -> list[dict[str, Any]]:
    """Two AdamW groups, one learning rate: weight decay except on biases and LayerNorm (pre-training)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():  # shared tensors appear once
        if param.requires_grad:
            (no_decay if no_weight_decay(name) else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def parameter_groups(model, learning_rate: float, weight_decay: float, decay_rate: float):
    """AdamW groups with ELECTRA's layer-wise learning rates: lr * decay ** (L + 2 - depth)."""
    num_layers = int(model.config.num_hidden_layers)
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        depth = layer_depth(name, num_layers)
        skip_decay = no_weight_decay(name)
        key = (depth, skip_decay)
        if key not in groups:
            groups[key] = {
                "params": [],
                "lr": learning_rate * decay_rate ** (num_layers + 2 - depth),
                "weight_decay": 0.0 if skip_decay else weight_decay,
            }
        groups[key]["params"].append(param)
    return [groups[key] for key in sorted(groups)]


def make_optimizer(model, settings: dict[str, Any]) -> torch.optim.Optimizer:
    groups = parameter_groups(model, settings["learning_rate"], settings["weight_decay"],
                              settings["layerwise_lr_decay"])
    return adamw(groups, settings["learning_rate"], fused=settings.get("fused_adamw"))


def adamw(groups: list[dict[str, Any]], learning_rate: float, fused: bool | None = None) -> torch.optim.Optimizer:
    """ELECTRA's AdamW (eps 1e-6); the fused kernel wherever every parameter allows it (`fused=None`):
    7.7x faster than the per-tensor loop on CPU for ELECTRA-tiny (benchmarks/)."""
    if fused is None:
        fused = all(p.dtype in (torch.float32, torch.bfloat16, torch.float16) and p.device.type in ("cpu", "cuda")
                    for group in groups for p in group["params"])
    return torch.optim.AdamW(groups, lr=learning_rate, betas=(0.9, 0.999), eps=1e-6, fused=bool(fused))


def warmup_steps(warmup_ratio: float, total_steps: int) -> int:
    return int(math.ceil(float(warmup_ratio) * int(total_steps)))


def make_scheduler(optimizer: torch.optim.Optimizer, warmup_ratio: float, total_steps: int):
    """ELECTRA's schedule: linear warm-up over `warmup_ratio` of the steps, then linear decay to 0.

    Built here from the step count the Trainer passes in (transformers 4.x reads a ratio from
    `warmup_ratio`, 5.x from a float `warmup_steps`; owning the schedule makes both the same).
    """
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, warmup_steps(warmup_ratio, total_steps), int(total_steps))
