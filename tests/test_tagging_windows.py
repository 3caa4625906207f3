"""Sub-word alignment and window splitting: every word labelled once and predicted exactly once."""

from __future__ import annotations

import random

import numpy as np
import pytest

from electra_tasks.tasks.tagging.windows import (IGNORE, best_windows, plan_windows, special_tokens,
                                                 window_features, word_pieces)


@pytest.fixture(scope="module")
def piece_tokenizer():
    from electra_tasks.tiny import make_tokenizer

    return make_tokenizer(words=["john", "play", "##ing", "##ed", "paris", "in", "un", "##believ", "##able"])


def test_word_pieces_first_piece_and_erased_word(piece_tokenizer):
    pieces = word_pieces(piece_tokenizer, [["John", "playing", "\u200b", "unbelievable", "zzz"]])[0]
    tokens = [piece_tokenizer.convert_ids_to_tokens(p) for p in pieces]
    assert tokens == [["john"], ["play", "##ing"], ["[UNK]"], ["un", "##believ", "##able"], ["[UNK]"]]


def test_special_tokens_are_cls_and_sep(piece_tokenizer):
    prefix, suffix = special_tokens(piece_tokenizer)
    assert piece_tokenizer.convert_ids_to_tokens(prefix) == ["[CLS]"]
    assert piece_tokenizer.convert_ids_to_tokens(suffix) == ["[SEP]"]


def test_training_labels_on_first_subtoken_only(piece_tokenizer):
    words = ["John", "playing", "in", "unbelievable", "Paris"]
    pieces = word_pieces(piece_tokenizer, [words])[0]
    prefix, suffix = special_tokens(piece_tokenizer)
    features = window_features(pieces, [1, 0, 0, 0, 2], capacity=30, overlap=10, prefix=prefix, suffix=suffix,
                               for_training=True)
    assert len(features) == 1
    tokens = piece_tokenizer.convert_ids_to_tokens(features[0]["input_ids"])
    assert tokens == ["[CLS]", "john", "play", "##ing", "in", "un", "##believ", "##able", "paris", "[SEP]"]
    assert features[0]["marks"] == [IGNORE, 1, 0, IGNORE, 0, 0, IGNORE, IGNORE, 2, IGNORE]


def test_evaluation_marks_word_index_on_first_subtoken(piece_tokenizer):
    words = ["playing", "unbelievable"]
    pieces = word_pieces(piece_tokenizer, [words])[0]
    prefix, suffix = special_tokens(piece_tokenizer)
    features = window_features(pieces, None, capacity=30, overlap=10, prefix=prefix, suffix=suffix,
                               for_training=False)
    assert features[0]["marks"] == [-1, 0, -1, 1, -1, -1, -1]


def _check_cover(counts, windows, capacity):
    offsets = np.concatenate([[0], np.cumsum(counts)])
    assert windows[0][0] == 0 and windows[-1][1] == len(counts)
    for (s1, e1), (s2, e2) in zip(windows, windows[1:]):
        assert s1 < s2 <= e1, "windows must advance and leave no gap"
    for start, end in windows:
        assert end > start and offsets[end] - offsets[start] <= capacity


def test_plan_windows_random_sentences_cover_every_word():
    rng = random.Random(0)
    for _ in range(300):
        capacity = rng.randint(1, 40)
        overlap = rng.randint(0, capacity - 1)
        counts = [rng.randint(1, capacity) for _ in range(rng.randint(1, 120))]
        windows = plan_windows(counts, capacity, overlap)
        _check_cover(counts, windows, capacity)
        owners = best_windows(counts, windows)
        for word, w in enumerate(owners):
            assert windows[w][0] <= word < windows[w][1]


def test_best_window_is_the_one_with_most_context():
    counts = [1] * 10
    windows = plan_windows(counts, capacity=6, overlap=3)
    assert windows == [(0, 6), (3, 9), (6, 10)]
    owners = best_windows(counts, windows)
    # word 3: left 3/right 2 in window 0, left 0/right 5 in window 1 -> window 0;
    # word 5: left 5/right 0 in window 0, left 2/right 3 in window 1 -> window 1
    assert owners[3] == 0 and owners[5] == 1
    # word 4: min context 1 in both windows of size 6 -> the first; word 7: 1 (+0.06 for size 6) in
    # window 1 beats 1 (+0.04 for size 4) in window 2
    assert owners == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_sentence_far_longer_than_max_length_every_word_read_once(piece_tokenizer):
    rng = random.Random(1)
    vocabulary = ["John", "playing", "in", "unbelievable", "Paris", "played", "\u200b"]
    words = [rng.choice(vocabulary) for _ in range(500)]
    pieces = word_pieces(piece_tokenizer, [words])[0]
    prefix, suffix = special_tokens(piece_tokenizer)
    max_length = 16
    capacity = max_length - len(prefix) - len(suffix)
    evaluation = window_features(pieces, None, capacity=capacity, overlap=capacity // 2, prefix=prefix,
                                 suffix=suffix, for_training=False)
    assert len(evaluation) > 500 // capacity
    assert all(len(f["input_ids"]) <= max_length for f in evaluation)
    read = [m for f in evaluation for m in f["marks"] if m >= 0]
    assert sorted(read) == list(range(len(words)))
    # every read position is the first sub-token of its word
    for feature in evaluation:
        ids = feature["input_ids"]
        for position, word in enumerate(feature["marks"]):
            if word >= 0:
                assert ids[position] == pieces[word][0]
    training = window_features(pieces, [w % 3 for w in range(len(words))], capacity=capacity,
                               overlap=capacity // 2, prefix=prefix, suffix=suffix, for_training=True)
    assert len(training) == len(evaluation)
    labelled = sum(1 for f in training for m in f["marks"] if m != IGNORE)
    assert labelled > len(words)  # words in overlaps are trained in both windows


def test_word_longer_than_a_window_keeps_first_pieces(piece_tokenizer):
    pieces = [[5, 6, 7, 8, 9, 10], [11]]
    features = window_features(pieces, None, capacity=4, overlap=2, prefix=[2], suffix=[3], for_training=False)
    assert [f["input_ids"] for f in features] == [[2, 5, 6, 7, 8, 3], [2, 11, 3]]
    assert [m for f in features for m in f["marks"] if m >= 0] == [0, 1]


@pytest.mark.parametrize("for_training", [True, False])
def test_batched_encoding_gives_the_same_windows_as_word_pieces(piece_tokenizer, for_training):
    from electra_tasks.tasks.tagging.windows import sentence_encodings, sentence_windows

    rng = random.Random(2)
    vocabulary = ["John", "playing", "in", "unbelievable", "Paris", "played", "\u200b", "zzz"]
    sentences = [[rng.choice(vocabulary) for _ in range(rng.choice([1, 3, 8, 40]))] for _ in range(60)]
    prefix, suffix = special_tokens(piece_tokenizer)
    capacity = 12 - len(prefix) - len(suffix)
    piece_tokenizer(["x"], truncation=True, max_length=5)  # a truncation setting left behind must not matter
    encodings = sentence_encodings(piece_tokenizer, sentences)
    for words, pieces, (ids, word_ids) in zip(sentences, word_pieces(piece_tokenizer, sentences), encodings):
        tags = [w % 3 for w in range(len(words))] if for_training else None
        expected = window_features(pieces, tags, capacity=capacity, overlap=capacity // 2, prefix=prefix,
                                   suffix=suffix, for_training=for_training)
        assert sentence_windows(ids, word_ids, len(words), tags, unk_id=piece_tokenizer.unk_token_id,
                                capacity=capacity, overlap=capacity // 2, prefix=prefix, suffix=suffix,
                                for_training=for_training) == expected
