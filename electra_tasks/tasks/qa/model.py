"""ElectraForQuestionAnswering plus ELECTRA's answerability classifier (SQuAD 2.0).

As in google-research/electra `finetune/qa/qa_tasks.py`: the answerable logit is a dense layer
over concat([CLS] state, start-probability-weighted state) -> GELU -> dense to 1, trained jointly
with the span loss (weight 0.5); sigmoid(logit) is the question's no-answer probability.

The extra weights live under `answerability.` and `config.architectures` stays
`ElectraForQuestionAnswering`, so `transformers.pipeline("question-answering", model=OUT)`
loads the span head and ignores the classifier. A checkpoint without the classifier (v1.1, or a
QA model from elsewhere) gets the start/end null-score difference as its answerability logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import ElectraForQuestionAnswering
from transformers.activations import get_activation
from transformers.modeling_outputs import QuestionAnsweringModelOutput

FLAG = "qa_answerability_head"  # config key: the checkpoint has the classifier
ANSWERABLE_WEIGHT = 0.5


@dataclass
class AnswerabilityQAOutput(QuestionAnsweringModelOutput):
    """Start/end logits plus one no-answer logit per sequence (sigmoid = no-answer probability)."""

    answerability_logits: torch.Tensor | None = None


class AnswerabilityHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(2 * config.hidden_size, config.hidden_size)
        self.activation = get_activation("gelu")
        self.out = nn.Linear(config.hidden_size, 1)

    def forward(self, hidden: torch.Tensor, start_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        start_p = torch.softmax(start_logits.float().masked_fill(mask == 0, -1e4), dim=-1).to(hidden.dtype)
        start_state = torch.einsum("bs,bsh->bh", start_p, hidden)
        features = torch.cat([hidden[:, 0], start_state], dim=-1)
        return self.out(self.activation(self.dense(features))).squeeze(-1)


class ElectraForQuestionAnsweringWithAnswerability(ElectraForQuestionAnswering):
    """The span head of ElectraForQuestionAnswering; with `config.qa_answerability_head` also the
    answerability classifier. Always returns `answerability_logits`."""

    def __init__(self, config):
        super().__init__(config)
        if getattr(config, FLAG, False):
            self.answerability = AnswerabilityHead(config)
            self.post_init()

    @property
    def has_answerability_head(self) -> bool:
        return hasattr(self, "answerability")

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, start_positions=None, end_positions=None, is_impossible=None, **kwargs):
        hidden = self.electra(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                              position_ids=position_ids, inputs_embeds=inputs_embeds, return_dict=True,
                              **kwargs)[0]
        start_logits, end_logits = (t.squeeze(-1).contiguous() for t in self.qa_outputs(hidden).split(1, dim=-1))
        mask = attention_mask if attention_mask is not None else torch.ones_like(start_logits, dtype=torch.long)
        if self.has_answerability_head:
            answerability = self.answerability(hidden, start_logits, mask)
        else:
            answerability = null_score_difference(start_logits, end_logits, mask)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss_fn = nn.CrossEntropyLoss()
            loss = (loss_fn(start_logits, start_positions.view(-1)) + loss_fn(end_logits, end_positions.view(-1))) / 2
            if is_impossible is not None and self.has_answerability_head:
                loss = loss + ANSWERABLE_WEIGHT * nn.functional.binary_cross_entropy_with_logits(
                    answerability.float(), is_impossible.view(-1).float())
        return AnswerabilityQAOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                     answerability_logits=answerability)

    def save_pretrained(self, save_directory, *args, **kwargs):
        """As usual, but config.json names the stock QA head so the pipeline maps to it."""
        result = super().save_pretrained(save_directory, *args, **kwargs)
        self.config.architectures = ["ElectraForQuestionAnswering"]
        self.config.save_pretrained(save_directory)
        return result


def null_score_difference(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[CLS] span score minus the best start + best end elsewhere: > 0 leans to "no answer"."""
    hide = (mask == 0).clone()
    hide[:, 0] = True
    best = start_logits.masked_fill(hide, -1e4).amax(-1) + end_logits.masked_fill(hide, -1e4).amax(-1)
    return start_logits[:, 0] + end_logits[:, 0] - best
