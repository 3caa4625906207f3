"""Batched inference: longest first, large batches, `torch.inference_mode`, no padding kept.

Returns each requested model output as a list with one numpy array per feature (sequence outputs
cut to the feature's own length), in the order of the features, so the families decode without
caring how the batches were formed.
"""

from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np
import torch

from electra_tasks.console import Progress
from electra_tasks.training.features import column_array, column_list


def model_device(model) -> torch.device:
    device = getattr(model, "device", None)  # transformers heads and the ONNX Runtime wrapper
    return device if isinstance(device, torch.device) else next(model.parameters()).device


def model_inputs(model) -> set[str]:
    """The batch columns the model takes: an ONNX graph's inputs, or the forward's parameters."""
    declared = getattr(model, "accepted_inputs", None)
    return set(declared) if declared is not None else set(inspect.signature(model.forward).parameters)


def predict_outputs(model, features, collator, *, output_names: Sequence[str], batch_size: int,
                    sequence_outputs: Sequence[str] = (), bf16: bool = False,
                    progress: bool = True, desc: str = "predicting") -> list[list[np.ndarray]]:
    """`sequence_outputs`: the outputs with one row per token (cut to each feature's length)."""
    accepted = model_inputs(model)
    lengths = column_array(features, "length") if "length" in features.column_names else \
        np.asarray([len(ids) for ids in column_list(features, "input_ids")])
    order = np.argsort(-lengths, kind="stable")
    keep = [c for c in features.column_names if c in accepted and not c.startswith("label")
            and c not in ("start_positions", "end_positions", "is_impossible")]
    columns = {c: column_list(features, c) for c in keep}
    results: list[list[np.ndarray | None]] = [[None] * len(features) for _ in output_names]
    device = model_device(model)
    was_training = model.training
    model.eval()
    bar = Progress(desc, total=len(order), unit=" ex", enabled=progress)
    try:
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            for start in range(0, len(order), batch_size):
                index = order[start:start + batch_size]
                batch = collator([{c: columns[c][i] for c in keep} for i in index])
                batch = {k: v.to(device) for k, v in batch.items() if k in accepted}
                out = model(**batch)
                for k, name in enumerate(output_names):
                    tensor = out[name].float().cpu().numpy()
                    sequence = name in sequence_outputs
                    for row, feature in enumerate(index):
                        results[k][feature] = tensor[row, : lengths[feature]] if sequence else tensor[row]
                bar.update(len(index))
    finally:
        bar.close()
        model.train(was_training)
    return results  # type: ignore[return-value]

