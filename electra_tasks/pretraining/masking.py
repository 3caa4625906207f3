"""Which tokens the generator must fill in, and how its guesses are sampled.

A port of google-research/electra `pretrain/pretrain_helpers.py`: a fixed count of
round(mask_prob x sequence length) positions per sequence (at least 1, at most
int((mask_prob + 0.005) x max_seq_length)), drawn without replacement among ordinary tokens;
85% of them become [MASK], 15% keep the original token. Sampling is Gumbel-max in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Masked:
    input_ids: torch.Tensor  # the generator's input: [MASK] at 85% of the chosen positions
    positions: torch.Tensor  # bool [B, L]: the chosen positions (the generator predicts these)


def max_predictions(mask_prob: float, max_seq_length: int) -> int:
    """ELECTRA's `max_predictions_per_seq`: 19 for 15% of 128."""
    return max(1, int((mask_prob + 0.005) * max_seq_length))


def candidates(input_ids: torch.Tensor, attention_mask: torch.Tensor, excluded_ids: list[int]) -> torch.Tensor:
    """Real tokens that may be masked: not padding, [CLS], [SEP] or [MASK]."""
    allowed = attention_mask.bool()
    for token_id in excluded_ids:
        allowed &= input_ids != token_id
    return allowed


def mask_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, *, mask_token_id: int,
                excluded_ids: list[int], mask_prob: float = 0.15, max_seq_length: int = 128,
                mask_share: float = 0.85, generator: torch.Generator | None = None) -> Masked:
    """Choose the positions to predict and replace 85% of them by [MASK]."""
    allowed = candidates(input_ids, attention_mask, excluded_ids)
    num_tokens = attention_mask.sum(dim=1).float()
    count = torch.round(num_tokens * mask_prob).long().clamp(min=1, max=max_predictions(mask_prob, max_seq_length))
    count = torch.minimum(count, allowed.sum(dim=1))
    scores = torch.rand(input_ids.shape, device=input_ids.device, generator=generator)
    scores = scores.masked_fill(~allowed, -1.0)
    ranks = scores.argsort(dim=1, descending=True).argsort(dim=1)
    positions = allowed & (ranks < count.unsqueeze(1))
    to_mask = positions & (torch.rand(input_ids.shape, device=input_ids.device, generator=generator) < mask_share)
    return Masked(input_ids=input_ids.masked_fill(to_mask, mask_token_id), positions=positions)


def gumbel_argmax(logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None,
                  out: torch.Tensor | None = None) -> torch.Tensor:
    """argmax(logits / T + Gumbel noise) per row: a sample from softmax(logits / T); `logits` unchanged.

    Gumbel noise is -log(-log U) for U uniform: `uniform_` and two in-place logs, several times faster
    on CPU than drawing Exponential(1) with `exponential_` (measured in benchmarks/README.md).
    """
    noise = out if out is not None else torch.empty_like(logits)  # `out`: a scratch buffer to reuse
    noise.uniform_(generator=generator).log_().neg_().log_()  # = -Gumbel (U = 0 gives +inf here: never chosen)
    return noise.sub_(logits, alpha=1.0 / float(temperature)).argmin(dim=-1)  # argmin of -(logits / T + Gumbel)


def gumbel_sample(logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row from softmax(logits / T) by Gumbel-max, in fp32, with no gradient."""
    with torch.no_grad():
        return gumbel_argmax(logits.detach().float(), temperature, generator)
