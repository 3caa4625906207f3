"""The cheaper CPU dropout: same drop rate and scaling as nn.Dropout, identity in eval, swap leaves the model unchanged."""

import torch
from torch import nn

from electra_tasks.dropout import UniformMaskDropout, use_uniform_mask_dropout


def test_drops_p_of_the_elements_and_scales_the_rest():
    torch.manual_seed(0)
    layer = UniformMaskDropout(0.1).train()
    x = torch.ones(400, 1000, requires_grad=True)
    y = layer(x)
    dropped = (y == 0).float().mean().item()
    assert 0.098 < dropped < 0.102, dropped
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.9))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # the gradient goes through the same mask and scale


def test_eval_mode_zero_p_and_seeds():
    x = torch.randn(50, 60)
    assert torch.equal(UniformMaskDropout(0.3).eval()(x), x)
    assert torch.equal(UniformMaskDropout(0.0).train()(x), x)
    torch.manual_seed(4)
    a = UniformMaskDropout(0.3).train()(x)
    torch.manual_seed(4)
    assert torch.equal(UniformMaskDropout(0.3).train()(x), a)


def test_swap_replaces_every_dropout_and_changes_no_weight(tiny_model):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=2).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3]])
    before_keys, before_logits = list(model.state_dict()), model(input_ids=ids).logits
    count = sum(type(m) is nn.Dropout for m in model.modules())
    assert count > 0
    use_uniform_mask_dropout(model)
    assert not any(type(m) is nn.Dropout for m in model.modules())
    assert sum(isinstance(m, UniformMaskDropout) for m in model.modules()) == count
    assert list(model.state_dict()) == before_keys
    assert torch.equal(model(input_ids=ids).logits, before_logits)
