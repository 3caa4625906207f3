"""ROUGE as the summarization literature reports it, plus the two reference points: Lead-3 and
the greedy oracle.

Scores come from Google's `rouge-score` package (no metric script download): ROUGE-1, ROUGE-2
and ROUGE-Lsum F1 x 100, Porter stemming on, sentences separated by newlines (ROUGE-Lsum is the
summary-level LCS that papers call ROUGE-L). The mean is taken per document by us, because
rouge-score's BootstrapAggregator is unseeded (see NOTES.md).

The oracle (PreSumm's `greedy_selection`) labels the training data: add, one at a time, the
sentence that most raises ROUGE-1 F + ROUGE-2 F against the reference, while it rises, at most 3.
It counts n-grams exactly as rouge-score does on the newline-joined selection (same tokenizer
and stemmer, bigrams across sentence boundaries included), so the oracle's own score equals
rouge-score's on its summary; tokens are computed once per sentence, which keeps labelling a
thousand articles to a few seconds.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")
ORACLE_MAX_SENTENCES = 3
LEAD_SENTENCES = 3


@lru_cache(maxsize=1)
def scorer():
    from rouge_score import rouge_scorer, tokenizers

    # the tokenizer it would pick itself, passed explicitly: without one it logs "Using default tokenizer."
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True,
                                    tokenizer=tokenizers.DefaultTokenizer(use_stemmer=True))


def rouge(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
          prefix: str = "") -> dict[str, float]:
    """Mean ROUGE F1 x 100 of sentence-list summaries against sentence-list references."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, reference in zip(predictions, references):
        scores = scorer().score("\n".join(reference), "\n".join(prediction))
        for name in ROUGE_TYPES:
            totals[name] += scores[name].fmeasure
    count = max(len(predictions), 1)
    return {f"{prefix}{name}": 100.0 * totals[name] / count for name in ROUGE_TYPES}


class _CachedStemmer:
    """rouge-score's Porter stemmer with a memo: the same words recur across a corpus."""

    def __init__(self):
        from nltk.stem import porter

        self.stem = lru_cache(maxsize=200_000)(porter.PorterStemmer().stem)


@lru_cache(maxsize=1)
def _stemmer() -> _CachedStemmer:
    return _CachedStemmer()


def rouge_tokens(text: str) -> list[str]:
    """The tokens rouge-score compares (lower-cased [a-z0-9] words, Porter-stemmed above 3 chars)."""
    from rouge_score import tokenize

    return tokenize.tokenize(text, _stemmer())


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _f1(candidate: Counter, reference: Counter) -> float:
    if not candidate or not reference:
        return 0.0
    overlap = sum(min(count, reference[gram]) for gram, count in candidate.items() if gram in reference)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / sum(candidate.values()), overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


def rouge12_sum(tokens: Sequence[str], reference_tokens: Sequence[str]) -> float:
    """ROUGE-1 F + ROUGE-2 F (fractions) of a token sequence; the oracle's objective."""
    return _f1(_ngrams(tokens, 1), _ngrams(reference_tokens, 1)) + \
        _f1(_ngrams(tokens, 2), _ngrams(reference_tokens, 2))


def greedy_oracle(sentences: Sequence[str], reference: Sequence[str],
                  max_sentences: int = ORACLE_MAX_SENTENCES) -> list[int]:
    """Indices (document order) of the greedy ROUGE-1 + ROUGE-2 oracle summary."""
    tokens = [rouge_tokens(s) for s in sentences]
    reference_tokens = rouge_tokens("\n".join(reference))
    ref1, ref2 = _ngrams(reference_tokens, 1), _ngrams(reference_tokens, 2)
    selected: list[int] = []
    best = 0.0
    for _ in range(max_sentences):
        choice = None
        for i in range(len(sentences)):
            if i in selected or not tokens[i]:
                continue
            joined = [t for j in sorted(selected + [i]) for t in tokens[j]]
            score = _f1(_ngrams(joined, 1), ref1) + _f1(_ngrams(joined, 2), ref2)
            if score > best:
                best, choice = score, i
        if choice is None:
            break
        selected.append(choice)
    return sorted(selected)


def lead(sentences: Sequence[str], count: int = LEAD_SENTENCES) -> list[str]:
    """The first `count` sentences: the Lead-3 baseline with count 3."""
    return list(sentences[:count])
