"""Batches of [examples x choices x tokens]: every choice padded to the batch's longest, every
example to the batch's most choices (padded choices are [CLS] [SEP] with `choice_mask` 0)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class ChoiceCollator:
    def __init__(self, pad_token_id: int, filler: list[int]):
        self.pad = int(pad_token_id)
        self.filler = list(filler)  # the ids of a padded choice: never attended to as a real one

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        choices = max(len(f["input_ids"]) for f in features)
        width = max(max(len(c) for c in f["input_ids"]) for f in features)
        width = max(width, len(self.filler))
        shape = (len(features), choices, width)
        ids = np.full(shape, self.pad, dtype=np.int64)
        mask = np.zeros(shape, dtype=np.int64)
        types = np.zeros(shape, dtype=np.int64)
        choice_mask = np.zeros(shape[:2], dtype=np.int64)
        for i, feature in enumerate(features):
            count = len(feature["input_ids"])
            choice_mask[i, :count] = 1
            for j in range(choices):
                row = feature["input_ids"][j] if j < count else self.filler
                ids[i, j, :len(row)] = row
                mask[i, j, :len(row)] = 1
                if j < count and "token_type_ids" in feature:
                    types[i, j, :len(row)] = feature["token_type_ids"][j]
        batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
                 "choice_mask": torch.from_numpy(choice_mask)}
        if "token_type_ids" in features[0]:
            batch["token_type_ids"] = torch.from_numpy(types)
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([int(f["labels"]) for f in features], dtype=torch.long)
        return batch
