"""The generator/discriminator module: shared embeddings, masked-only head, labels, loss weighting."""

import pytest
import torch
import torch.nn.functional as F

import electra_tasks.pretraining.model as model_module
from electra_tasks.errors import UserError
from electra_tasks.pretraining.generator_head import HeadOutput, masked_lm_head
from electra_tasks.pretraining.model import ElectraRTD, share_embeddings

VOCAB = 60
PAD, CLS, SEP, MASK = 0, 2, 3, 4


def pair(vocab=VOCAB, gen_vocab=None, seed=0):
    from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

    torch.manual_seed(seed)
    common = dict(embedding_size=16, num_hidden_layers=2, max_position_embeddings=64, pad_token_id=PAD)
    disc = ElectraForPreTraining(ElectraConfig(vocab_size=vocab, hidden_size=32, num_attention_heads=2,
                                               intermediate_size=64, **common))
    gen = ElectraForMaskedLM(ElectraConfig(vocab_size=gen_vocab or vocab, hidden_size=8, num_attention_heads=1,
                                           intermediate_size=16, **common))
    return disc, gen


def rtd(weight=50.0, seed=0):
    disc, gen = pair(seed=seed)
    return ElectraRTD(gen, disc, mask_token_id=MASK, excluded_ids=[CLS, SEP, MASK, PAD], max_seq_length=32,
                      discriminator_weight=weight)


def inputs(rows=4, length=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(10, VOCAB, (rows, length), generator=g)
    ids[:, 0] = CLS
    attention = torch.ones_like(ids)
    ids[1, 20:], attention[1, 20:] = PAD, 0  # one padded row
    ids[:, -1] = torch.where(attention[:, -1] == 1, torch.tensor(SEP), ids[:, -1])
    ids[1, 19] = SEP
    return {"input_ids": ids, "attention_mask": attention, "token_type_ids": torch.zeros_like(ids)}


def test_embeddings_are_one_tensor_and_a_step_changes_both():
    model = rtd()
    d, g = model.discriminator.electra.embeddings, model.generator.electra.embeddings
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm"):
        assert getattr(d, name).weight is getattr(g, name).weight, name
    assert model.generator.generator_lm_head.weight is d.word_embeddings.weight  # generator in/out tied
    before_d = d.position_embeddings.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model(**inputs())["loss"].backward()
    optimizer.step()
    assert not torch.equal(d.position_embeddings.weight, before_d)
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm"):
        assert torch.equal(getattr(d, name).weight, getattr(g, name).weight), name
    # both losses reach the shared table: the generator alone, then the discriminator alone
    model.zero_grad()
    model(**inputs())["mlm_loss"].backward()
    assert d.word_embeddings.weight.grad.abs().sum() > 0
    model.zero_grad()
    model(**inputs())["disc_loss"].backward()
    assert d.word_embeddings.weight.grad.abs().sum() > 0
    assert model.generator.electra.encoder.layer[0].attention.self.query.weight.grad is None  # no path through sampling


def test_generator_head_sees_only_the_masked_positions(monkeypatch):
    model = rtd()
    seen = []
    model.generator.generator_predictions.register_forward_hook(lambda m, args, out: seen.append(args[0].shape))

    def recording_head(hidden, weight, *args, **kwargs):
        seen.append((tuple(hidden.shape), weight is model.generator.generator_lm_head.weight))
        return masked_lm_head(hidden, weight, *args, **kwargs)

    monkeypatch.setattr(model_module, "masked_lm_head", recording_head)
    batch = inputs()
    out = model(**batch)
    masked = out["masked_positions"].sum().item()
    # round(0.15 x 32) = 5 capped at int(0.155 x 32) = 4 per full row; round(0.15 x 20) = 3 in the padded row
    assert masked == 4 * 3 + 3
    assert seen == [torch.Size([masked, 8]), ((masked, 16), True)]  # the vocabulary head: M rows, tied weight


def test_labels_only_where_the_sample_differs(monkeypatch):
    model = rtd()
    batch = inputs()

    def forced_head(hidden, weight, bias, targets, *args, **kwargs):
        out = masked_lm_head(hidden, weight, bias, targets, *args, **kwargs)
        choice = targets.clone()
        choice[1::2] = torch.where(targets[1::2] == 10, 11, 10)  # every other guess is wrong
        return HeadOutput(loss=out.loss, sampled=choice, correct=out.correct)

    monkeypatch.setattr(model_module, "masked_lm_head", forced_head)
    out = model(**batch)
    positions, replaced = out["masked_positions"], out["replaced"]
    labels_at_masked = replaced[positions]
    assert labels_at_masked[0::2].sum().item() == 0  # sampled the original: labelled "original"
    assert labels_at_masked[1::2].all()
    assert not replaced[~positions].any()
    assert torch.equal(replaced, out["fake_ids"] != batch["input_ids"])


def test_loss_is_mlm_plus_50_times_the_discriminator_loss_over_real_tokens():
    torch.manual_seed(3)
    model = rtd()
    batch = inputs()
    out = model(**batch)
    real = batch["attention_mask"].bool()
    expected_disc = F.binary_cross_entropy_with_logits(out["disc_logits"][real], out["replaced"][real].float())
    assert torch.allclose(out["disc_loss"], expected_disc)
    assert torch.allclose(out["loss"], out["mlm_loss"] + 50.0 * out["disc_loss"])
    torch.manual_seed(3)
    unweighted = rtd(weight=0.0)(**batch)
    assert torch.allclose(unweighted["loss"], unweighted["mlm_loss"])


def test_a_generator_with_another_vocabulary_is_refused():
    disc, gen = pair(vocab=VOCAB, gen_vocab=VOCAB + 5)
    with pytest.raises(UserError, match="vocab_size is 65 but the discriminator's .* is 60"):
        share_embeddings(disc, gen)
