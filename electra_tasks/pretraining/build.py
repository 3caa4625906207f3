"""The generator/discriminator pair (or the MLM-only model) and its tokenizer, ready to train.

Three starts: a released pair (hub ids or local folders), `--from-scratch` at a named size, or a
resumed run (the tokenizer then comes from the checkpoint). Every shape check happens here,
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from electra_tasks import modeling
from electra_tasks.dropout import use_uniform_mask_dropout
from electra_tasks.errors import UserError
from electra_tasks.pretraining import sizes
from electra_tasks.pretraining.model import ElectraRTD, check_pair
from electra_tasks.pretraining.options import PretrainOptions


@dataclass
class Built:
    model: ElectraRTD
    tokenizer: object
    recipe: dict  # the published recipe this model's width follows
    generator_size: float


def check_tokenizer(tokenizer, vocab_size: int, source: str) -> None:
    """Every token id fits the embeddings, and the special tokens RTD needs exist."""
    for name in ("cls_token_id", "sep_token_id", "mask_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise UserError(f"{source}: the tokenizer has no {name.replace('_id', '').replace('_token', '').upper()} "
                            f"token; expected a BERT/ELECTRA WordPiece tokenizer with [CLS] [SEP] [MASK] [PAD]")
    if len(tokenizer) > vocab_size:
        raise UserError(f"{source}: the tokenizer has {len(tokenizer)} tokens but the model's vocab_size is "
                        f"{vocab_size}; expected the tokenizer the model was trained with")


def check_same_vocabulary(tokenizer, generator: str, source: str, trust_remote_code: bool) -> None:
    """A generator trained on another vocabulary of the same size passes `check_pair`; its tokenizer tells."""
    folder = Path(generator)
    if folder.is_dir() and not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.txt")):
        return  # weights only: nothing to compare with
    theirs = modeling.load_tokenizer(generator, role="--generator", trust_remote_code=trust_remote_code).get_vocab()
    ours = tokenizer.get_vocab()
    if theirs != ours:
        by_id = {index: token for token, index in ours.items()}
        index, token = min((i, t) for t, i in theirs.items() if by_id.get(i) != t)
        raise UserError(f"--generator {generator}: its vocabulary differs from the one of {source} (token id {index} "
                        f"is {token!r} there, {by_id.get(index)!r} here); expected a generator/discriminator pair "
                        f"trained with one vocabulary")


def scratch_configs(opts: PretrainOptions, vocab_size: int, pad_id: int):
    from transformers import ElectraConfig

    shape = sizes.SHAPES[opts.size]
    positions = max(512, int(opts.max_seq_length))
    common = {"vocab_size": vocab_size, "max_position_embeddings": positions, "pad_token_id": pad_id}
    disc = ElectraConfig(**shape, **common)
    fraction = 1.0 if opts.objective == "mlm" else float(opts.generator_size or sizes.DEFAULT_GENERATOR_SIZE)
    gen = ElectraConfig(**sizes.generator_shape(shape, fraction), **common)
    return disc, gen, fraction


def build(opts: PretrainOptions, tokenizer) -> Built:
    """Models for `opts` around an already chosen tokenizer (`tokenizer` may be None: take D's)."""
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    torch.manual_seed(opts.seed)
    if opts.from_scratch:
        if tokenizer is None:
            raise AssertionError("from-scratch needs a tokenizer")
        disc_config, gen_config, fraction = scratch_configs(opts, len(tokenizer), tokenizer.pad_token_id)
        recipe = dict(sizes.RECIPES[opts.size])
        if opts.objective == "mlm":
            generator, discriminator = ElectraForMaskedLM(gen_config), None
        else:
            discriminator, generator = ElectraForPreTraining(disc_config), ElectraForMaskedLM(gen_config)
        source = "--tokenizer" if opts.tokenizer else "corpus vocabulary"
    else:
        trust = opts.trust_remote_code
        disc_config = modeling.load_config(opts.discriminator, role="--discriminator", trust_remote_code=trust)
        if tokenizer is None:
            tokenizer = modeling.load_tokenizer(opts.discriminator, role="--discriminator", trust_remote_code=trust)
        source = "--tokenizer" if opts.tokenizer else f"--discriminator {opts.discriminator}"
        check_tokenizer(tokenizer, int(disc_config.vocab_size), source)
        recipe = sizes.recipe_for_width(int(disc_config.hidden_size))
        if opts.objective == "mlm":  # the discriminator's encoder, trained as a masked LM
            generator = modeling.load_model(ElectraForMaskedLM, opts.discriminator, role="--discriminator",
                                            trust_remote_code=trust, config=disc_config)
            discriminator, fraction = None, 1.0
        else:
            gen_config = modeling.load_config(opts.generator, role="--generator", trust_remote_code=trust)
            check_pair(disc_config, gen_config, opts.discriminator, opts.generator)
            check_same_vocabulary(tokenizer, opts.generator, source, trust)
            discriminator = modeling.load_model(ElectraForPreTraining, opts.discriminator, role="--discriminator",
                                                trust_remote_code=trust, config=disc_config)
            generator = modeling.load_model(ElectraForMaskedLM, opts.generator, role="--generator",
                                            trust_remote_code=trust, config=gen_config)
            fraction = round(gen_config.hidden_size / disc_config.hidden_size, 4)
        limit = int(disc_config.max_position_embeddings)
        if opts.max_seq_length > limit:
            raise UserError(f"--max-seq-length {opts.max_seq_length}: the model has only {limit} positions "
                            f"(config.json max_position_embeddings)")
    check_tokenizer(tokenizer, int(generator.config.vocab_size), source)
    excluded = [tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id, tokenizer.pad_token_id]
    for part in (generator, discriminator):
        if part is not None:
            use_uniform_mask_dropout(part)
    model = ElectraRTD(generator, discriminator, mask_token_id=tokenizer.mask_token_id, excluded_ids=excluded,
                       mask_prob=opts.mask_prob, max_seq_length=opts.max_seq_length,
                       discriminator_weight=opts.discriminator_weight, temperature=opts.temperature)
    return Built(model=model, tokenizer=tokenizer, recipe=recipe, generator_size=fraction)


def checkpoint_tokenizer(checkpoint: Path | None):
    """On --resume, the tokenizer the run started with (a from-scratch vocabulary is not retrained)."""
    from transformers import AutoTokenizer

    if checkpoint is None or not (checkpoint / "tokenizer.json").is_file():
        return None
    return AutoTokenizer.from_pretrained(str(checkpoint))  # the tokenizer files, without a config.json
