"""The generator's vocabulary head, fused: projection, MLM loss, gradient and Gumbel-max sample.

At the masked positions the generator projects onto the whole vocabulary ([M, V] logits), takes
the cross-entropy against the original tokens and samples a replacement from the softmax. Done
with separate PyTorch ops, each of a dozen passes (bias copy, log-softmax, its backward, the
dense one-hot gradient, Gumbel noise, argmaxes) streams the [M, V] matrix through memory: on a
CPU that costs more than the generator's transformer body. Here the rows go through in chunks
small enough to stay in cache, every pass works on the chunk while it is there, and the gradient
(softmax - one-hot) is formed in the same visit, so the [M, V] matrix never exists. The same idea
as "fused linear cross-entropy" (Liger-Kernel), plus ELECTRA's sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from electra_tasks.pretraining.masking import gumbel_argmax

# Elements per chunk: 8 MB of fp32 logits per buffer (the fastest of 1-16 MB measured, benchmarks/README.md); on a
# GPU the chunk only bounds memory, so it is large (few kernel launches).
CPU_CHUNK_ELEMENTS = 1 << 21
GPU_CHUNK_ELEMENTS = 1 << 24  # 64 MB a buffer: a few chunks for a batch of 128 x 128


@dataclass
class HeadOutput:
    loss: torch.Tensor  # mean cross-entropy over the masked positions (differentiable)
    sampled: torch.Tensor | None  # [M] Gumbel-max sample from softmax(logits / T), no gradient; None if not asked
    correct: torch.Tensor  # number of positions where argmax(logits) is the original token


def chunk_rows(vocab_size: int, device: torch.device) -> int:
    budget = GPU_CHUNK_ELEMENTS if device.type == "cuda" else CPU_CHUNK_ELEMENTS
    return max(1, budget // max(vocab_size, 1))


class _FusedMaskedLMHead(torch.autograd.Function):
    """Forward computes the loss and already the gradients; backward only scales them."""

    @staticmethod
    def forward(ctx, hidden, weight, bias, targets, temperature, sample, rows, compute_dtype, generator, grad_enabled):
        count = hidden.shape[0]
        want_grad = grad_enabled and any(ctx.needs_input_grad[:3])
        w = weight.to(compute_dtype)
        b = bias.to(compute_dtype) if bias is not None else None
        h_all = hidden.to(compute_dtype)
        loss = torch.zeros((), dtype=torch.float32, device=hidden.device)
        correct = torch.zeros((), dtype=torch.long, device=hidden.device)
        sampled = torch.empty(count, dtype=torch.long, device=hidden.device)
        grad_hidden = torch.empty(hidden.shape, dtype=torch.float32, device=hidden.device) if want_grad else None
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if want_grad else None
        grad_bias = torch.zeros(weight.shape[0], dtype=torch.float32, device=weight.device) if want_grad else None
        scale = 1.0 / max(count, 1)
        # reused chunk buffers: fresh multi-MB tensors per chunk would cost a page fault per 4 KB
        logits_buffer = torch.empty((min(rows, count), weight.shape[0]), dtype=torch.float32, device=hidden.device)
        exp_buffer, noise_buffer = torch.empty_like(logits_buffer), torch.empty_like(logits_buffer)
        for start in range(0, count, rows):
            stop = min(start + rows, count)
            h, t = h_all[start:stop], targets[start:stop]
            logits, shifted_exp = logits_buffer[: stop - start], exp_buffer[: stop - start]
            if compute_dtype == torch.float32:
                torch.addmm(b, h, w.t(), out=logits) if b is not None else torch.mm(h, w.t(), out=logits)
            else:
                logits.copy_(torch.addmm(b, h, w.t()) if b is not None else h @ w.t())
            peak = logits.amax(dim=-1)
            torch.sub(logits, peak.unsqueeze(1), out=shifted_exp).exp_()
            normalizer = shifted_exp.sum(dim=-1)
            target_logit = logits.gather(1, t.unsqueeze(1)).squeeze(1)
            loss += (normalizer.log() + peak - target_logit).sum()
            correct += (target_logit >= peak).sum()  # the original token has the top logit (an exact tie counts)
            if sample:
                sampled[start:stop] = gumbel_argmax(logits, temperature, generator, out=noise_buffer[: stop - start])
            if want_grad:  # d loss / d logits = (softmax - one-hot) / M
                grad = shifted_exp.mul_((scale / normalizer).unsqueeze(1))
                grad[torch.arange(stop - start, device=grad.device), t] -= scale
                grad_hidden[start:stop] = (grad.to(compute_dtype) @ w).float()
                grad_weight.addmm_(grad.t(), h.float())
                grad_bias += grad.sum(dim=0)
        ctx.mark_non_differentiable(sampled, correct)
        ctx.save_for_backward(grad_hidden, grad_weight, grad_bias)
        ctx.input_dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        return loss * scale, sampled, correct

    @staticmethod
    def backward(ctx, grad_loss, _grad_sampled, _grad_correct):
        grad_hidden, grad_weight, grad_bias = ctx.saved_tensors
        hidden_dtype, weight_dtype, bias_dtype = ctx.input_dtypes
        grads = [None] * 10
        if ctx.needs_input_grad[0]:
            grads[0] = (grad_hidden * grad_loss).to(hidden_dtype)
        if ctx.needs_input_grad[1]:
            grads[1] = (grad_weight * grad_loss).to(weight_dtype)
        if bias_dtype is not None and ctx.needs_input_grad[2]:
            grads[2] = (grad_bias * grad_loss).to(bias_dtype)
        return tuple(grads)


def masked_lm_head(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, targets: torch.Tensor,
                   temperature: float = 1.0, sample: bool = True, rows: int | None = None,
                   generator: torch.Generator | None = None) -> HeadOutput:
    """Loss, sample and hit count of `hidden @ weight.T + bias` against `targets`, chunk by chunk.

    Under autocast the projection runs in the autocast dtype (as nn.Linear would); softmax, loss,
    sampling and gradient accumulation are fp32.
    """
    device_type = hidden.device.type
    compute_dtype = hidden.dtype
    if torch.is_autocast_enabled(device_type):
        compute_dtype = torch.get_autocast_dtype(device_type)
    rows = rows or chunk_rows(weight.shape[0], hidden.device)
    grad_enabled = torch.is_grad_enabled()  # forward runs with grad off; skip the gradient work in evaluation
    with torch.autocast(device_type, enabled=False):
        loss, sampled, correct = _FusedMaskedLMHead.apply(hidden, weight, bias, targets, float(temperature),
                                                          bool(sample), int(rows), compute_dtype, generator, grad_enabled)
    return HeadOutput(loss=loss, sampled=sampled if sample else None, correct=correct)
