"""Masking and sampling follow ELECTRA's pretrain_helpers: counts, the 85/15 split, Gumbel-max."""

import torch

from electra_tasks.pretraining.masking import gumbel_sample, mask_tokens, max_predictions

PAD, CLS, SEP, MASK = 0, 2, 3, 4


def batch(lengths, width=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.full((len(lengths), width), PAD)
    attention = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(10, 500, (n,), generator=g)
        ids[row, 0], ids[row, n - 1] = CLS, SEP
        attention[row, :n] = 1
    return ids, attention


def test_fixed_count_per_sequence_and_only_ordinary_tokens():
    lengths = [128, 100, 64, 20, 7, 3]
    ids, attention = batch(lengths)
    masked = mask_tokens(ids, attention, mask_token_id=MASK, excluded_ids=[CLS, SEP, MASK, PAD], mask_prob=0.15,
                         max_seq_length=128, generator=torch.Generator().manual_seed(1))
    counts = masked.positions.sum(dim=1).tolist()
    # round(0.15 x length), at least 1, at most int(0.155 x 128) = 19, at most the ordinary tokens
    assert max_predictions(0.15, 128) == 19
    assert counts == [19, 15, 10, 3, 1, 1]
    chosen = ids[masked.positions]
    assert not torch.isin(chosen, torch.tensor([CLS, SEP, PAD])).any()
    assert not (masked.positions & (attention == 0)).any()


def test_85_percent_become_mask_and_15_percent_stay_unchanged():
    ids, attention = batch([128] * 1000, seed=3)
    masked = mask_tokens(ids, attention, mask_token_id=MASK, excluded_ids=[CLS, SEP, MASK, PAD],
                         generator=torch.Generator().manual_seed(2))
    at = masked.positions
    became_mask = (masked.input_ids[at] == MASK).float().mean().item()
    assert 0.83 < became_mask < 0.87, became_mask
    kept = masked.input_ids[at] != MASK
    assert torch.equal(masked.input_ids[at][kept], ids[at][kept])  # the 15% keep their original token
    assert torch.equal(masked.input_ids[~at], ids[~at])  # nothing else changes
    assert at.sum().item() == 19 * 1000


def test_gumbel_max_samples_the_softmax_in_fp32_without_gradient():
    logits = torch.log(torch.tensor([[1.0, 3.0, 0.0 + 1e-30]])).repeat(20000, 1).half().requires_grad_()
    sample = gumbel_sample(logits, generator=torch.Generator().manual_seed(0))
    assert not sample.requires_grad and sample.dtype == torch.long
    share = (sample == 1).float().mean().item()
    assert 0.73 < share < 0.77, share  # softmax gives 0.75
    assert (sample == 2).sum().item() == 0
    hot = gumbel_sample(logits.float() * 10, temperature=10.0, generator=torch.Generator().manual_seed(0))
    assert 0.73 < (hot == 1).float().mean().item() < 0.77  # temperature divides the logits
