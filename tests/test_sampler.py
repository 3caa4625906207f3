"""The length-grouped order: transformers' `get_length_grouped_indices`, index for index, in numpy."""

import numpy as np
import pytest
import torch
from transformers.trainer_pt_utils import get_length_grouped_indices

from electra_tasks.training.collate import PadCollator
from electra_tasks.training.trainer import SeededLengthGroupedSampler, length_grouped_order


@pytest.mark.parametrize("n,batch", [(1, 32), (7, 32), (100, 8), (1000, 32), (12345, 32), (40000, 16)])
def test_same_order_as_transformers(n, batch):
    lengths = np.random.default_rng(n).integers(1, 60, n)
    ours, theirs = torch.Generator(), torch.Generator()
    ours.manual_seed(5)
    theirs.manual_seed(5)
    assert length_grouped_order(lengths, batch, ours).tolist() == \
        get_length_grouped_indices(lengths.tolist(), batch, generator=theirs)


def test_sampler_depends_on_seed_and_epoch_only():
    lengths = np.random.default_rng(0).integers(1, 60, 5000)
    sampler = SeededLengthGroupedSampler(32, lengths, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(5000)) and all(type(i) is int for i in first[:5])
    assert list(SeededLengthGroupedSampler(32, lengths, seed=3)) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_collator_implies_the_attention_mask_from_lengths():
    batch = PadCollator(0)([{"input_ids": [2, 7, 3]}, {"input_ids": [2, 3]}])
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
