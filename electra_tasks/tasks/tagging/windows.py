"""Words -> model windows, so that no word is ever dropped.

Each word becomes its sub-tokens (a word the tokenizer erases becomes [UNK]; a word longer than
a whole window keeps its first pieces). A sentence longer than the model's limit is cut, at word
boundaries, into overlapping windows. In training every word of a window is labelled on its
first sub-token (-100 elsewhere); in evaluation each word is read from exactly one window, the
one where it has the most context on both sides (BERT's rule for SQuAD windows).
"""

from __future__ import annotations

from typing import Sequence

from electra_tasks.training.tokenize import backend_encodings
from electra_tasks.training.windows import max_context_windows

IGNORE = -100


def word_pieces(tokenizer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Per sentence, per word: its sub-token ids (never empty)."""
    encoded = tokenizer([list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False)
    unk = tokenizer.unk_token_id
    result = []
    for i, words in enumerate(sentences):
        pieces: list[list[int]] = [[] for _ in words]
        for token_id, word in zip(encoded["input_ids"][i], encoded.word_ids(i)):
            if word is not None:
                pieces[word].append(token_id)
        result.append([p if p else [unk] for p in pieces])
    return result


def sentence_encodings(tokenizer, sentences: Sequence[Sequence[str]]) -> list[tuple[list[int], list]]:
    """Per sentence: (sub-token ids, the word of each), straight from the fast tokenizer's backend.

    The same pieces as `word_pieces` (is_split_into_words, no special tokens), without
    transformers' per-sentence conversion into Python lists of every kind (a third of the time).
    """
    encodings = backend_encodings(tokenizer, [list(s) for s in sentences], is_pretokenized=True)
    if encodings is None:  # a slow tokenizer: the general path
        encoded = tokenizer([list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False)
        return [(encoded["input_ids"][i], encoded.word_ids(i)) for i in range(len(sentences))]
    return [(e.ids, e.word_ids) for e in encodings]


def sentence_windows(ids: list[int], word_ids: list, n_words: int, tag_ids: Sequence[int] | None, *,
                     unk_id: int, capacity: int, overlap: int, prefix: Sequence[int], suffix: Sequence[int],
                     for_training: bool) -> list[dict]:
    """`window_features` of one encoded sentence; a sentence that fits one window (nearly all) is
    built directly from the encoding, the others through `window_features`."""
    firsts = [i for i, word in enumerate(word_ids) if i == 0 or word_ids[i - 1] != word]
    if len(ids) <= capacity and len(firsts) == n_words:  # one window, no word erased
        blank = IGNORE if for_training else -1
        marks = [blank] * len(ids)
        for i in firsts:
            word = word_ids[i]
            marks[i] = (tag_ids[word] if tag_ids is not None else IGNORE) if for_training else word
        return [{"input_ids": [*prefix, *ids, *suffix],
                 "marks": [blank] * len(prefix) + marks + [blank] * len(suffix)}]
    pieces: list[list[int]] = [[] for _ in range(n_words)]
    for token_id, word in zip(ids, word_ids):
        if word is not None:
            pieces[word].append(token_id)
    pieces = [p if p else [unk_id] for p in pieces]
    return window_features(pieces, tag_ids, capacity=capacity, overlap=overlap, prefix=prefix, suffix=suffix,
                           for_training=for_training)


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens the model puts before and after a single sequence ([CLS] / [SEP])."""
    encoded = tokenizer([["x"]], is_split_into_words=True, add_special_tokens=True)
    ids, words = encoded["input_ids"][0], encoded.word_ids(0)
    inside = [i for i, word in enumerate(words) if word is not None]
    return list(ids[: inside[0]]), list(ids[inside[-1] + 1:])


def plan_windows(counts: Sequence[int], capacity: int, overlap: int) -> list[tuple[int, int]]:
    """Word ranges [start, end) of the windows; each holds at most `capacity` sub-tokens.

    `counts`: sub-tokens per word, each <= capacity. A new window starts at the first word at
    least `capacity - overlap` tokens after the previous start, never past its end (no gap).
    """
    n = len(counts)
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    advance = max(1, capacity - overlap)
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end = start
        while end < n and offsets[end + 1] - offsets[start] <= capacity:
            end += 1
        windows.append((start, end))
        if end >= n:
            return windows
        nxt = start + 1
        while nxt < end and offsets[nxt] - offsets[start] < advance:
            nxt += 1
        start = nxt


def best_windows(counts: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[int]:
    """Per word, the window where it has the most context (the shared max-context rule)."""
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    owner = max_context_windows(
        (word, w, offsets[word] - offsets[start], offsets[end] - offsets[word + 1], offsets[end] - offsets[start])
        for w, (start, end) in enumerate(windows) for word in range(start, end))
    return [owner.get(word, -1) for word in range(len(counts))]


def window_features(pieces: Sequence[Sequence[int]], tag_ids: Sequence[int] | None, *, capacity: int,
                    overlap: int, prefix: Sequence[int], suffix: Sequence[int],
                    for_training: bool) -> list[dict]:
    """One sentence -> its windows as features.

    Training: `labels` (tag id on each word's first sub-token, -100 elsewhere). Evaluation:
    `word_index` (the word read at this position, -1 where none is read), so that every word is
    read exactly once over all windows.
    """
    pieces = [list(p[:capacity]) for p in pieces]
    counts = [len(p) for p in pieces]
    windows = plan_windows(counts, capacity, overlap)
    owner = None if for_training else best_windows(counts, windows)
    blank = IGNORE if for_training else -1
    features = []
    for w, (start, end) in enumerate(windows):
        ids = list(prefix)
        marks = [blank] * len(prefix)
        for word in range(start, end):
            if for_training:
                first = tag_ids[word] if tag_ids is not None else IGNORE
            else:
                first = word if owner[word] == w else -1
            ids.extend(pieces[word])
            marks.extend([first] + [blank] * (len(pieces[word]) - 1))
        ids.extend(suffix)
        marks.extend([blank] * len(suffix))
        features.append({"input_ids": ids, "marks": marks})
    return features
