"""The fused vocabulary head gives the same loss and gradients as nn.Linear + cross-entropy, and samples the softmax."""

import pytest
import torch
import torch.nn.functional as F

from electra_tasks.pretraining.generator_head import masked_lm_head


def problem(rows=37, width=12, vocab=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(rows, width, generator=g).requires_grad_()
    weight = torch.randn(vocab, width, generator=g).requires_grad_()
    bias = torch.randn(vocab, generator=g).requires_grad_()
    targets = torch.randint(0, vocab, (rows,), generator=g)
    return hidden, weight, bias, targets


def reference(hidden, weight, bias, targets):
    logits = F.linear(hidden, weight, bias)
    loss = F.cross_entropy(logits, targets)
    grads = torch.autograd.grad(loss, [hidden, weight] + ([bias] if bias is not None else []))
    return loss, grads, (logits.argmax(-1) == targets).sum()


@pytest.mark.parametrize("rows", [1, 5, 37, 1000])  # chunks of one row, uneven chunks, one chunk, larger than M
@pytest.mark.parametrize("with_bias", [True, False])
def test_loss_gradients_and_hits_match_linear_plus_cross_entropy(rows, with_bias):
    hidden, weight, bias, targets = problem()
    bias = bias if with_bias else None
    expected_loss, expected_grads, expected_hits = reference(hidden, weight, bias, targets)
    out = masked_lm_head(hidden, weight, bias, targets, rows=rows)
    grads = torch.autograd.grad(out.loss * 3.0, [hidden, weight] + ([bias] if bias is not None else []))
    assert torch.allclose(out.loss, expected_loss, atol=1e-5)
    for got, want in zip(grads, expected_grads):
        assert torch.allclose(got, 3.0 * want, atol=1e-5)  # the upstream gradient scales them
    assert out.correct.item() == expected_hits.item()
    assert not out.sampled.requires_grad and out.sampled.shape == targets.shape


def test_samples_follow_the_softmax_and_the_temperature():
    rows = 20000
    weight = torch.eye(3)
    hidden = torch.log(torch.tensor([1.0, 3.0, 1e-30])).repeat(rows, 1)  # logits = log([1, 3, 0]): p = [.25, .75, 0]
    targets = torch.zeros(rows, dtype=torch.long)
    out = masked_lm_head(hidden, weight, None, targets, rows=777, generator=torch.Generator().manual_seed(0))
    share = (out.sampled == 1).float().mean().item()
    assert 0.73 < share < 0.77, share
    assert (out.sampled == 2).sum().item() == 0
    hot = masked_lm_head(hidden * 10, weight, None, targets, temperature=10.0, generator=torch.Generator().manual_seed(1))
    assert 0.73 < (hot.sampled == 1).float().mean().item() < 0.77  # temperature divides the logits
    assert out.correct.item() == 0  # argmax is token 1, never the target 0


def test_seeded_sampling_is_reproducible_and_sampling_can_be_skipped():
    hidden, weight, bias, targets = problem()
    a = masked_lm_head(hidden, weight, bias, targets, rows=4, generator=torch.Generator().manual_seed(5))
    b = masked_lm_head(hidden, weight, bias, targets, rows=4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.sampled, b.sampled)
    assert masked_lm_head(hidden, weight, bias, targets, sample=False).sampled is None


def test_bf16_autocast_projects_in_bf16_and_keeps_fp32_gradients():
    hidden, weight, bias, targets = problem(vocab=64)
    expected_loss, _, _ = reference(hidden, weight, bias, targets)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = masked_lm_head(hidden, weight, bias, targets, rows=8)
    grad_hidden, grad_weight = torch.autograd.grad(out.loss, [hidden, weight])
    assert out.loss.dtype == torch.float32 and grad_weight.dtype == torch.float32
    assert torch.allclose(out.loss, expected_loss, rtol=0.05)
    assert torch.isfinite(grad_hidden).all() and grad_weight.abs().sum() > 0


def test_no_grad_evaluation_gives_the_same_loss():
    hidden, weight, bias, targets = problem()
    with torch.no_grad():
        out = masked_lm_head(hidden, weight, bias, targets)
    assert torch.allclose(out.loss, reference(hidden, weight, bias, targets)[0], atol=1e-5)
    assert not out.loss.requires_grad
