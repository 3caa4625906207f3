"""Start/end logits of context windows -> the n best answer spans of each question, vectorized.

For each window: the top `n_best` start and end tokens among the allowed ones (context tokens;
starts only where this window gives the token its most context, as BERT's `_check_is_max_context`),
all their pairs scored at once with start <= end and length <= `max_answer_length`, the best
`n_best` pairs kept. Windows are processed in chunks (padded to the chunk's longest), so at most a
chunk of logits is ever padded or expanded; then each question's candidates from all its windows
are ranked together. No Python loop runs per start/end pair or per window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEG = -np.inf


@dataclass
class Ragged:
    """Per-window token arrays stored flat: row i is flat[splits[i]:splits[i+1]]."""

    flat: np.ndarray
    splits: np.ndarray

    @classmethod
    def from_list(cls, rows) -> "Ragged":
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        splits = np.concatenate([[0], np.cumsum(lengths)])
        flat = np.concatenate([np.asarray(r) for r in rows]) if len(rows) else np.zeros(0)
        return cls(flat, splits)

    def padded(self, lo: int, hi: int, fill) -> np.ndarray:
        """Rows lo..hi-1 as one (hi-lo, longest) array, `fill` after each row's end."""
        lengths = np.diff(self.splits[lo:hi + 1])
        shape = (hi - lo, int(lengths.max(initial=1))) + self.flat.shape[1:]
        out = np.full(shape, fill, dtype=np.result_type(self.flat.dtype, type(fill)))
        out[np.arange(out.shape[1]) < lengths[:, None]] = self.flat[self.splits[lo]:self.splits[hi]]
        return out


@dataclass
class Spans:
    """Every question's n-best spans, ranked (rank 0 is the prediction), flat over questions."""

    example: np.ndarray  # question index per candidate, grouped, best first within a question
    score: np.ndarray  # start logit + end logit
    probability: np.ndarray  # softmax of the scores within the question's n-best
    start_char: np.ndarray  # character span in the context, end exclusive
    end_char: np.ndarray
    first: np.ndarray  # per question: index of its best candidate, or -1 when it has none
    no_answer_logit: np.ndarray  # per question: min over its windows of the answerability logit


def best_spans(start_logits, end_logits, offsets: Ragged, max_context: Ragged, feature_example: np.ndarray,
               n_examples: int, *, answerability=None, n_best: int = 20, max_answer_length: int = 30,
               chunk: int = 256) -> Spans:
    """`start_logits`/`end_logits`: one array per window (cut to its length); `offsets`: flat
    (start, end) character pairs per token, -1 outside the context; `feature_example`: the
    question index of each window; `answerability`: one logit per window (or None)."""
    start_logits, end_logits = Ragged.from_list(start_logits), Ragged.from_list(end_logits)
    parts = []
    for lo in range(0, len(feature_example), chunk):
        hi = min(lo + chunk, len(feature_example))
        parts.append(_window_candidates(start_logits, end_logits, offsets, max_context, lo, hi,
                                        n_best, max_answer_length))
    feature, score, start_char, end_char = (np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)
                                            for k in range(4))
    example = feature_example[feature.astype(np.int64)] if len(feature) else np.zeros(0, dtype=np.int64)
    order = np.lexsort((-score, example))
    example, score, start_char, end_char = example[order], score[order], start_char[order], end_char[order]
    group_start = np.flatnonzero(np.r_[True, example[1:] != example[:-1]]) if len(example) else np.zeros(0, int)
    rank = np.arange(len(example)) - np.repeat(group_start, np.diff(np.r_[group_start, len(example)]))
    keep = rank < n_best
    example, score, start_char, end_char = example[keep], score[keep], start_char[keep], end_char[keep]
    first = np.full(n_examples, -1, dtype=np.int64)
    heads = np.flatnonzero(np.r_[True, example[1:] != example[:-1]]) if len(example) else np.zeros(0, int)
    first[example[heads]] = heads
    probability = _group_softmax(score, heads)
    no_answer = np.full(n_examples, np.inf)
    if answerability is not None:
        np.minimum.at(no_answer, feature_example, np.asarray(answerability, dtype=np.float64).reshape(-1))
    return Spans(example, score, probability, start_char, end_char, first, no_answer)


def _window_candidates(start_logits: Ragged, end_logits: Ragged, offsets: Ragged, max_context: Ragged,
                       lo: int, hi: int, n_best: int, max_answer_length: int):
    """The n-best (window, score, start_char, end_char) of windows lo..hi-1."""
    start = start_logits.padded(lo, hi, NEG).astype(np.float64)
    end = end_logits.padded(lo, hi, NEG).astype(np.float64)
    pairs = offsets.padded(lo, hi, -1)  # (B, L, 2)
    char_start, char_end = pairs[..., 0], pairs[..., 1]
    in_context = char_start >= 0
    start = np.where(in_context & (max_context.padded(lo, hi, 0) > 0), start, NEG)
    end = np.where(in_context, end, NEG)
    k = min(n_best, start.shape[1])
    top_s = _top_k(start, k)  # (B, k) token positions
    top_e = _top_k(end, k)
    rows = np.arange(start.shape[0])[:, None]
    scores = start[rows, top_s][:, :, None] + end[rows, top_e][:, None, :]  # (B, k, k)
    length = top_e[:, None, :] - top_s[:, :, None]
    scores = np.where((length >= 0) & (length < max_answer_length), scores, NEG).reshape(len(scores), -1)
    keep = min(n_best, scores.shape[1])
    best = _top_k(scores, keep)  # (B, keep) flat pair indices
    best_scores = scores[rows, best]
    s_tok = top_s[rows, best // k]
    e_tok = top_e[rows, best % k]
    valid = np.isfinite(best_scores)
    window = np.broadcast_to(rows + lo, best.shape)[valid]
    return (window, best_scores[valid], char_start[rows, s_tok][valid], char_end[rows, e_tok][valid])


def _top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values per row, largest first."""
    part = np.argpartition(-values, k - 1, axis=1)[:, :k] if k < values.shape[1] else \
        np.broadcast_to(np.arange(values.shape[1]), values.shape).copy()
    picked = np.take_along_axis(values, part, axis=1)
    return np.take_along_axis(part, np.argsort(-picked, axis=1, kind="stable"), axis=1)


def _group_softmax(score: np.ndarray, heads: np.ndarray) -> np.ndarray:
    if not len(score):
        return score.copy()
    sizes = np.diff(np.r_[heads, len(score)])
    top = np.repeat(score[heads], sizes)  # groups are sorted best first
    weights = np.exp(score - top)
    return weights / np.repeat(np.add.reduceat(weights, heads), sizes)


def snap_to_words(spans: Spans, contexts: list[str]) -> Spans:
    """Widen every span to whole words: a span that starts or ends inside a run of letters and
    digits (a word piece such as "##ors" of "Sensors") is extended to the run's ends, in place."""
    contexts = list(contexts)
    for k in range(len(spans.example)):
        context = contexts[int(spans.example[k])]
        start, end = int(spans.start_char[k]), int(spans.end_char[k])
        while 0 < start < len(context) and context[start - 1].isalnum() and context[start].isalnum():
            start -= 1
        while 0 < end < len(context) and context[end - 1].isalnum() and context[end].isalnum():
            end += 1
        spans.start_char[k], spans.end_char[k] = start, end
    return spans


def answer_texts(spans: Spans, contexts: list[str]) -> list[str]:
    """The best answer text of every question ("" when no window had a valid span)."""
    contexts = list(contexts)  # a datasets 5 column indexes lazily, ~0.5 ms a lookup
    texts = []
    for example, first in enumerate(spans.first):
        texts.append("" if first < 0 else contexts[example][spans.start_char[first]:spans.end_char[first]])
    return texts


def no_answer_probability(spans: Spans) -> np.ndarray:
    """sigmoid of each question's answerability logit (1.0 where no window scored it)."""
    return 1.0 / (1.0 + np.exp(-np.clip(spans.no_answer_logit, -80, 80)))
