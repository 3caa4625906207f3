"""Dynamic padding without the tokenizer's per-example Python path.

`DataCollatorWithPadding` goes through `tokenizer.pad`, which cost ~19 ms a batch of 32 short
sentences here (as much as a tiny model's whole forward pass). This pads the batch to its
longest member with one numpy fill per column. Features need not store `attention_mask` (all ones
before padding, so a million of them cost time to write and space to keep): the collator builds it
from the lengths of `input_ids`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

SEQUENCE_PAD = {"input_ids": None, "attention_mask": 0, "token_type_ids": 0, "labels": -100,
                "special_tokens_mask": 1}


class PadCollator:
    """Pad every per-token column to the batch's longest sequence; stack the rest."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None):
        self.pad_values = {**SEQUENCE_PAD, "input_ids": int(pad_token_id)}
        self.multiple = pad_to_multiple_of

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch: dict[str, torch.Tensor] = {}
        width = max(len(f["input_ids"]) for f in features)
        if self.multiple:
            width = -(-width // self.multiple) * self.multiple
        for key in features[0]:
            values = [f[key] for f in features]
            if isinstance(values[0], (list, tuple, np.ndarray)) and key in self.pad_values:
                array = np.full((len(values), width), self.pad_values[key], dtype=np.int64)
                for row, value in enumerate(values):
                    array[row, : len(value)] = value
                batch[key] = torch.from_numpy(array)
            elif isinstance(values[0], float):
                batch[key] = torch.tensor(values, dtype=torch.float32)
            elif isinstance(values[0], (bool, int, np.integer, np.bool_)):
                batch[key] = torch.tensor([int(v) for v in values], dtype=torch.long)
            else:  # a feature column the collator cannot batch is a bug, never a silent drop
                raise TypeError(f"cannot batch feature column {key!r} of type {type(values[0]).__name__}")
        if "attention_mask" not in batch:  # a family that stores no all-ones mask: implied by the lengths
            lengths = np.fromiter((len(f["input_ids"]) for f in features), dtype=np.int64, count=len(features))
            batch["attention_mask"] = torch.from_numpy((np.arange(width)[None, :] < lengths[:, None]).astype(np.int64))
        if "label" in batch:
            batch["labels"] = batch.pop("label")
        return batch
