"""ElectraForMultipleChoice that also takes a `choice_mask`, for examples with fewer choices.

A batch holds as many choices as its widest example; the padded choices get a logit of -inf-ish
(`MASKED`), so they are never predicted and add nothing to the loss. There are no extra weights
and `config.architectures` names the stock head: the checkpoint loads as a plain
`ElectraForMultipleChoice` (`AutoModelForMultipleChoice`).
"""

from __future__ import annotations

from torch import nn
from transformers import ElectraForMultipleChoice
from transformers.modeling_outputs import MultipleChoiceModelOutput

MASKED = -1e4


class ElectraForMaskedMultipleChoice(ElectraForMultipleChoice):
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None,
                choice_mask=None, **kwargs):
        out = super().forward(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                              return_dict=True, **kwargs)
        logits = out.logits
        if choice_mask is not None:
            logits = logits.masked_fill(choice_mask == 0, MASKED)
        loss = nn.functional.cross_entropy(logits.float(), labels.view(-1)) if labels is not None else None
        return MultipleChoiceModelOutput(loss=loss, logits=logits)

    def save_pretrained(self, save_directory, *args, **kwargs):
        result = super().save_pretrained(save_directory, *args, **kwargs)
        self.config.architectures = ["ElectraForMultipleChoice"]
        self.config.save_pretrained(save_directory)
        return result
