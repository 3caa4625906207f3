"""A WordPiece vocabulary trained on the corpus with the `tokenizers` library (BERT-style, uncased).

Used by `--from-scratch` when no `--tokenizer` is given; the result is the same fast ELECTRA
tokenizer `tokenizer_from_vocab` builds from any vocab.txt, so it saves and loads like a released one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from electra_tasks.errors import UserError
from electra_tasks.pretraining.corpus import DOC_END, CorpusSource, iter_lines

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tokenizer_from_vocab(vocab_file: str | Path, lowercase: bool = True):
    """A fast WordPiece ELECTRA tokenizer from a vocab.txt; asserts the vocabulary really loaded.

    transformers 5 ignores `vocab_file=` (silently: a 5-token tokenizer, everything [UNK]); `vocab=` works.
    """
    from transformers import ElectraTokenizerFast

    tokenizer = ElectraTokenizerFast(vocab=str(vocab_file), do_lower_case=lowercase)
    expected = sum(1 for line in Path(vocab_file).read_text(encoding="utf-8").splitlines() if line)
    assert len(tokenizer) >= expected, f"tokenizer has {len(tokenizer)} tokens, vocab file {expected}"
    return tokenizer


def train_wordpiece(sources: list[CorpusSource], vocab_size: int, *, text_column: str = "text",
                    min_frequency: int = 2, lowercase: bool = True):
    """Stream the corpus once through a WordPiece trainer; return a fast tokenizer."""
    from tokenizers import BertWordPieceTokenizer

    if vocab_size < len(SPECIAL_TOKENS) + 1:
        raise UserError(f"--vocab-size {vocab_size}: expected at least {len(SPECIAL_TOKENS) + 1}")
    wordpiece = BertWordPieceTokenizer(lowercase=lowercase, clean_text=True, handle_chinese_chars=True,
                                       strip_accents=None)
    lines = (line for line in iter_lines(sources, text_column) if line is not DOC_END)
    wordpiece.train_from_iterator(lines, vocab_size=int(vocab_size), min_frequency=min_frequency,
                                  special_tokens=list(SPECIAL_TOKENS), limit_alphabet=1000,
                                  wordpieces_prefix="##", show_progress=False)
    with tempfile.TemporaryDirectory(prefix="electra-vocab.") as folder:
        vocab_file = Path(wordpiece.save_model(folder)[0])
        tokenizer = tokenizer_from_vocab(vocab_file, lowercase=lowercase)
        # the tokenizer keeps its vocabulary in memory; the temporary file may go
    return tokenizer


def load_tokenizer_option(name: str, *, trust_remote_code: bool = False):
    """`--tokenizer`: a vocab.txt file, or a tokenizer/model folder or hub id."""
    from electra_tasks import modeling

    path = Path(name).expanduser()
    if path.is_file():
        return tokenizer_from_vocab(path)
    return modeling.load_tokenizer(name, role="--tokenizer", trust_remote_code=trust_remote_code)
