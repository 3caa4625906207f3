"""ELECTRA's generator + discriminator as one module, and the RTD loss.

The generator (ElectraForMaskedLM) and the discriminator (ElectraForPreTraining) share one
embedding module (token, position and type embeddings and their LayerNorm); the generator's
output projection is tied to the shared token embeddings. The generator's vocabulary projection
runs only on the masked positions, fused with the MLM loss and the sampling
(`generator_head.masked_lm_head`: the [masked, vocabulary] logits never exist as a whole).
Loss = MLM loss + 50 x the discriminator's sigmoid cross-entropy over every real (non-pad) token,
as in google-research/electra `run_pretraining.py`.
`objective="mlm"` trains the generator alone (the masked-LM baseline at equal compute).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from electra_tasks.errors import UserError
from electra_tasks.pretraining.generator_head import masked_lm_head
from electra_tasks.pretraining.masking import mask_tokens

STAT_NAMES = ("steps", "mlm_loss", "masked", "mlm_correct", "disc_loss", "tokens", "disc_correct",
              "replaced", "predicted_replaced", "true_positive")


def share_embeddings(discriminator, generator) -> None:
    """Make the generator use the discriminator's embedding module; re-tie its output layer."""
    check_pair(discriminator.config, generator.config)
    generator.electra.embeddings = discriminator.electra.embeddings
    generator.generator_lm_head.weight = discriminator.electra.embeddings.word_embeddings.weight


def check_pair(disc_config, gen_config, disc_name: str = "--discriminator", gen_name: str = "--generator") -> None:
    """The shapes that must agree for the two models to share one embedding module."""
    for key, what in (("vocab_size", "vocabulary size"), ("embedding_size", "embedding size"),
                      ("max_position_embeddings", "number of positions"), ("type_vocab_size", "number of token types")):
        gen_value, disc_value = getattr(gen_config, key, None), getattr(disc_config, key, None)
        if gen_value != disc_value:
            raise UserError(f"{gen_name}: config.json {key} is {gen_value} but the discriminator's ({disc_name}) "
                            f"is {disc_value}; expected a generator/discriminator pair with the same {what}")


class ElectraRTD(nn.Module):
    """Generator + discriminator; `forward` masks, samples and returns the loss and counters."""

    def __init__(self, generator, discriminator=None, *, mask_token_id: int, excluded_ids: list[int],
                 mask_prob: float = 0.15, max_seq_length: int = 128, discriminator_weight: float = 50.0,
                 temperature: float = 1.0):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        if discriminator is not None:
            share_embeddings(discriminator, generator)
        self.mask_token_id, self.excluded_ids = int(mask_token_id), [int(i) for i in excluded_ids]
        self.mask_prob, self.max_seq_length = float(mask_prob), int(max_seq_length)
        self.discriminator_weight, self.temperature = float(discriminator_weight), float(temperature)
        self._keys_to_ignore_on_save = self.duplicate_names()  # a checkpoint lacking exactly these loads cleanly

    def duplicate_names(self) -> list[str]:
        """State-dict names that alias a tensor listed earlier (the shared embeddings, the tied head)."""
        seen: set[tuple] = set()
        dropped = []
        for name, tensor in self.state_dict().items():
            key = (tensor.device, tensor.data_ptr(), tuple(tensor.shape), tensor.dtype)
            if key in seen:
                dropped.append(name)
            seen.add(key)
        return dropped

    def unique_state_dict(self) -> dict[str, torch.Tensor]:
        """The state dict with each shared tensor once (safetensors refuses aliases)."""
        dropped = set(self.duplicate_names())
        return {name: t.contiguous() for name, t in self.state_dict().items() if name not in dropped}

    def tie_weights(self) -> None:
        """Nothing to re-tie: the sharing is structural (one module, one tensor)."""

    @property
    def objective(self) -> str:
        return "rtd" if self.discriminator is not None else "mlm"

    def generator_hidden(self, masked_ids, attention_mask, token_type_ids, positions) -> torch.Tensor:
        """The generator's last layer, through its prediction transform, at the masked positions only ([M, E])."""
        hidden = self.generator.electra(input_ids=masked_ids, attention_mask=attention_mask,
                                        token_type_ids=token_type_ids).last_hidden_state
        return self.generator.generator_predictions(hidden[positions])

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        masked = mask_tokens(input_ids, attention_mask, mask_token_id=self.mask_token_id,
                             excluded_ids=self.excluded_ids, mask_prob=self.mask_prob,
                             max_seq_length=self.max_seq_length)
        hidden = self.generator_hidden(masked.input_ids, attention_mask, token_type_ids, masked.positions)
        targets = input_ids[masked.positions]
        lm_head = self.generator.generator_lm_head
        head = masked_lm_head(hidden, lm_head.weight, lm_head.bias, targets, self.temperature,
                              sample=self.discriminator is not None)
        mlm_loss = head.loss
        stats = {"steps": torch.ones((), device=input_ids.device), "mlm_loss": mlm_loss.detach(),
                 "tokens": attention_mask.sum(), "masked": masked.positions.sum(), "mlm_correct": head.correct}
        if self.discriminator is None:
            return {"loss": mlm_loss, "stats": stats, "masked_positions": masked.positions}
        fake_ids = input_ids.masked_scatter(masked.positions, head.sampled)
        replaced = (fake_ids != input_ids) & attention_mask.bool()
        disc_logits = self.discriminator(input_ids=fake_ids, attention_mask=attention_mask,
                                         token_type_ids=token_type_ids).logits
        real = attention_mask.bool()
        disc_loss = F.binary_cross_entropy_with_logits(disc_logits[real].float(), replaced[real].float())
        loss = mlm_loss + self.discriminator_weight * disc_loss
        predicted = (disc_logits.detach() > 0) & real
        stats.update({"disc_loss": disc_loss.detach(),
                      "disc_correct": ((predicted == replaced) & real).sum(), "replaced": replaced.sum(),
                      "predicted_replaced": predicted.sum(), "true_positive": (predicted & replaced).sum()})
        return {"loss": loss, "stats": stats, "mlm_loss": mlm_loss, "disc_loss": disc_loss,
                "masked_positions": masked.positions, "fake_ids": fake_ids, "replaced": replaced,
                "disc_logits": disc_logits}


def constant_answer_loss(replaced_fraction: float) -> float:
    """The discriminator's loss when it answers every token with the base rate, i.e. learned nothing."""
    p = min(max(float(replaced_fraction), 1e-9), 1 - 1e-9)
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def summarize(totals: dict[str, float]) -> dict[str, float]:
    """Counters summed over steps -> the logged metrics (losses are per-step means)."""
    steps = max(totals.get("steps", 0.0), 1.0)
    out = {"mlm_loss": totals.get("mlm_loss", 0.0) / steps,
           "mlm_accuracy": totals.get("mlm_correct", 0.0) / max(totals.get("masked", 0.0), 1.0)}
    if "disc_loss" in totals:
        tokens = totals["tokens"]
        out.update({
            "disc_loss": totals["disc_loss"] / steps,
            "disc_accuracy": totals["disc_correct"] / tokens,
            "replaced_precision": totals["true_positive"] / max(totals["predicted_replaced"], 1.0),
            "replaced_recall": totals["true_positive"] / max(totals["replaced"], 1.0),
            "replaced_fraction": totals["replaced"] / tokens,
        })
    return out
