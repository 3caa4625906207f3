"""The padding collator: same tensors as transformers' DataCollatorWithPadding, without its slow path."""

import torch
from transformers import DataCollatorWithPadding

from electra_tasks.training.collate import PadCollator


def test_matches_data_collator_with_padding(toy_tokenizer):
    encoded = toy_tokenizer(["the movie was good", "bad", "a very very nice film it was"], ["plot", "actor", "the"])
    rows = [{k: encoded[k][i] for k in encoded} | {"labels": i % 2} for i in range(3)]
    ours = PadCollator(toy_tokenizer.pad_token_id)(rows)
    reference = DataCollatorWithPadding(toy_tokenizer)(rows)
    assert set(ours) == set(reference)
    for key in reference:
        assert torch.equal(ours[key], reference[key]), key


def test_token_labels_padded_with_ignore_index_and_float_targets():
    rows = [{"input_ids": [2, 7, 3], "labels": [-100, 1, -100]}, {"input_ids": [2, 3], "labels": [-100, -100]}]
    batch = PadCollator(pad_token_id=0)(rows)
    assert batch["input_ids"].tolist() == [[2, 7, 3], [2, 3, 0]]
    assert batch["labels"].tolist() == [[-100, 1, -100], [-100, -100, -100]]
    regression = PadCollator(0)([{"input_ids": [2, 3], "labels": 0.5}, {"input_ids": [2, 5, 3], "labels": 4.0}])
    assert regression["labels"].dtype == torch.float32 and regression["labels"].tolist() == [0.5, 4.0]
    assert PadCollator(0, pad_to_multiple_of=8)(rows)["input_ids"].shape == (2, 8)


def test_bool_columns_become_integers_and_unknown_types_are_an_error():
    batch = PadCollator(0)([{"input_ids": [2, 3], "is_impossible": True}, {"input_ids": [2, 3], "is_impossible": False}])
    assert batch["is_impossible"].tolist() == [1, 0]
    import pytest

    with pytest.raises(TypeError, match="example_id"):
        PadCollator(0)([{"input_ids": [2, 3], "example_id": "q1"}])
