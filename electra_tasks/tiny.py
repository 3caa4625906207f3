"""Random-initialised ELECTRA models of any size, for tests, benchmarks and offline starts.

A model folder made here loads like any `save_pretrained` checkpoint (`--model FOLDER`). Its
tokenizer comes from a WordPiece vocabulary file (e.g. the BERT uncased vocab) or a word list.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable

from electra_tasks.pretraining.vocab import SPECIAL_TOKENS, tokenizer_from_vocab


def make_tokenizer(vocab_file: str | Path | None = None, words: Iterable[str] | None = None,
                   lowercase: bool = True):
    """A fast WordPiece tokenizer from a vocab.txt, or from a word list (written to a temporary vocab.txt)."""
    if vocab_file is None:
        vocab = list(SPECIAL_TOKENS)
        for word in words or []:
            if word not in vocab:
                vocab.append(word)
        handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
        handle.write("\n".join(vocab) + "\n")
        handle.close()
        vocab_file = handle.name
    return tokenizer_from_vocab(vocab_file, lowercase=lowercase)


def make_tiny_model(folder: str | Path, tokenizer, *, hidden: int = 32, layers: int = 2, heads: int = 2,
                    intermediate: int | None = None, max_position: int = 512, seed: int = 0,
                    embedding_size: int | None = None) -> Path:
    """Save a random ELECTRA discriminator (ElectraForPreTraining) + tokenizer into `folder`."""
    import torch
    from transformers import ElectraConfig, ElectraForPreTraining

    torch.manual_seed(seed)
    config = ElectraConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, embedding_size=embedding_size or hidden,
        num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=intermediate or 4 * hidden,
        max_position_embeddings=max_position, pad_token_id=tokenizer.pad_token_id,
    )
    model = ElectraForPreTraining(config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
