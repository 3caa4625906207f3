"""A WordPiece vocabulary trained on the corpus with the `tokenizers` library (BERT-style, uncased).

Used by `--from-scratch` when no `--tokenizer` is given; the result is the same fast ELECTRA
tokenizer `tokenizer_from_vocab` builds from any vocab.txt, so it saves and loads like a released one.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from electra_tasks.errors import UserError
from electra_tasks.pretraining.corpus import DOC_END, CorpusSource, iter_lines

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tokenizer_from_vocab(vocab_file: str | Path, lowercase: bool = True):
    """A fast WordPiece ELECTRA tokenizer from a vocab.txt; asserts the vocabulary really loaded.

    transformers 5 ignores `vocab_file=` (silently: a 5-token tokenizer, everything [UNK]); `vocab=` works.
    transformers 4 takes only `vocab_file=`.
    """
    import transformers
    from transformers import ElectraTokenizerFast

    source = "vocab" if int(transformers.__version__.split(".")[0]) >= 5 else "vocab_file"
    tokenizer = ElectraTokenizerFast(**{source: str(vocab_file)}, do_lower_case=lowercase)
    expected = sum(1 for line in Path(vocab_file).read_text(encoding="utf-8").splitlines() if line)
    assert len(tokenizer) >= expected, f"tokenizer has {len(tokenizer)} tokens, vocab file {expected}"
    return tokenizer


LIMIT_ALPHABET = 1000  # characters kept (the most frequent); the rest become [UNK]
PREFIX = "##"  # WordPiece's continuation prefix
_COUNT_BATCH = 1000  # lines normalized and split into words per call


def train_wordpiece(sources: list[CorpusSource], vocab_size: int, *, text_column: str = "text",
                    min_frequency: int = 2, lowercase: bool = True):
    """Stream the corpus through a WordPiece trainer; return a fast tokenizer. Same corpus, same vocabulary.

    The `tokenizers` trainer alone is not reproducible: it numbers the continuation pieces ("##e") in
    the order it meets them in a hash map (seeded afresh in every process), breaks ties between equally
    frequent pairs by those numbers, and cuts the alphabet at `limit_alphabet` among equal counts in that
    order too. So a first pass counts the characters with the trainer's own normalizer and pre-tokenizer;
    the trainer then gets the alphabet (most frequent first, ties by character) and every continuation
    piece, sorted, ahead of training. With every id fixed before the first merge, so is every tie.
    """
    from tokenizers import BertWordPieceTokenizer

    if vocab_size < len(SPECIAL_TOKENS) + 1:
        raise UserError(f"--vocab-size {vocab_size}: expected at least {len(SPECIAL_TOKENS) + 1}")
    wordpiece = BertWordPieceTokenizer(lowercase=lowercase, clean_text=True, handle_chinese_chars=True,
                                       strip_accents=None)
    alphabet, continuing = count_characters(wordpiece, sources, text_column)
    kept = sorted(alphabet, key=lambda c: (-alphabet[c], c))[:LIMIT_ALPHABET]
    pieces = [PREFIX + c for c in sorted(set(kept) & continuing)]
    lines = (line for line in iter_lines(sources, text_column) if line is not DOC_END)
    # `initial_alphabet` makes the trainer keep exactly `kept`; `special_tokens` come first, in this order,
    # so the continuation pieces get their ids here instead of in hash-map order
    wordpiece.train_from_iterator(lines, vocab_size=int(vocab_size), min_frequency=min_frequency,
                                  special_tokens=list(SPECIAL_TOKENS) + pieces, initial_alphabet=sorted(kept),
                                  limit_alphabet=len(kept), wordpieces_prefix=PREFIX, show_progress=False)
    with tempfile.TemporaryDirectory(prefix="electra-vocab.") as folder:
        vocab_file = Path(wordpiece.save_model(folder)[0])
        tokenizer = tokenizer_from_vocab(vocab_file, lowercase=lowercase)
        # the tokenizer keeps its vocabulary in memory; the temporary file may go
    return tokenizer


def count_characters(wordpiece, sources: list[CorpusSource], text_column: str = "text") -> tuple[Counter, set[str]]:
    """Each character's count in the corpus's words (as the trainer splits them), and those seen inside a word."""
    chunks: Counter = Counter()  # whitespace-separated pieces of the normalized text, each split into words once

    def add(batch: list[str]) -> None:
        # normalizing is per character, so a batch joined by newlines normalizes as its lines do; the
        # pre-tokenizer drops whitespace and splits the pieces between further (at punctuation)
        chunks.update(wordpiece.normalizer.normalize_str("\n".join(batch)).split())

    batch: list[str] = []
    for line in iter_lines(sources, text_column):
        if line is not DOC_END:
            batch.append(line)
            if len(batch) >= _COUNT_BATCH:
                add(batch)
                batch = []
    if batch:
        add(batch)
    alphabet: Counter = Counter()
    continuing: set[str] = set()
    for chunk, count in chunks.items():
        for char, times in Counter(chunk).items():
            alphabet[char] += times * count
        for word, _ in wordpiece.pre_tokenizer.pre_tokenize_str(chunk):
            continuing.update(word[1:])
    return alphabet, continuing


def load_tokenizer_option(name: str, *, trust_remote_code: bool = False):
    """`--tokenizer`: a vocab.txt file, or a tokenizer/model folder or hub id."""
    from electra_tasks import modeling

    path = Path(name).expanduser()
    if path.is_file():
        return tokenizer_from_vocab(path)
    return modeling.load_tokenizer(name, role="--tokenizer", trust_remote_code=trust_remote_code)
