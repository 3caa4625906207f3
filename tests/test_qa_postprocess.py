"""Post-processing picks the known best span from hand-made logits, and equals a brute force."""

from __future__ import annotations

import numpy as np

from electra_tasks.tasks.qa.postprocess import Ragged, answer_texts, best_spans, no_answer_probability

CONTEXT = "alpha beta gamma delta epsilon"
#          0     6    11    17    23


def window(token_chars, n_question=2):
    """Offsets of one window: [CLS], question tokens, [SEP], context tokens, [SEP]."""
    offsets = [[-1, -1]] * (n_question + 2) + [list(c) for c in token_chars] + [[-1, -1]]
    return np.asarray(offsets)


WORDS = [(0, 5), (6, 10), (11, 16), (17, 22), (23, 30)]


def run(starts, ends, offsets, flags=None, example=None, n_examples=1, **kwargs):
    flags = flags or [np.ones(len(o), dtype=np.int8) for o in offsets]
    example = np.zeros(len(offsets), dtype=np.int64) if example is None else np.asarray(example)
    return best_spans([np.asarray(s, float) for s in starts], [np.asarray(e, float) for e in ends],
                      Ragged.from_list(offsets), Ragged.from_list(flags), example, n_examples, **kwargs)


def test_picks_the_best_valid_span():
    offsets = window(WORDS)  # context tokens at positions 4..8
    start, end = np.full(len(offsets), -10.0), np.full(len(offsets), -10.0)
    start[0] = end[0] = 50  # [CLS] is never an answer
    start[1] = end[2] = 40  # question tokens are never an answer
    start[8], end[4] = 9, 9  # "epsilon" .. "alpha": end before start, invalid
    start[5], end[7] = 5, 6  # "beta gamma delta": 11, the best valid span
    spans = run([start], [end], [offsets])
    assert answer_texts(spans, [CONTEXT]) == ["beta gamma delta"]
    assert spans.score[spans.first[0]] == 11
    assert np.all(np.diff(spans.score[spans.example == 0]) <= 0)  # ranked best first
    assert abs(spans.probability.sum() - 1) < 1e-9


def test_max_answer_length_and_max_context():
    offsets = window(WORDS)
    start, end = np.full(len(offsets), -10.0), np.full(len(offsets), -10.0)
    start[4], end[8] = 10, 10  # "alpha ... epsilon": 5 tokens, 20
    start[6], end[6] = 1, 2  # "gamma": 3
    assert answer_texts(run([start], [end], [offsets], max_answer_length=5), [CONTEXT]) == [CONTEXT]
    assert answer_texts(run([start], [end], [offsets], max_answer_length=3), [CONTEXT]) == ["alpha beta gamma"]
    assert answer_texts(run([start], [end], [offsets], max_answer_length=2), [CONTEXT]) == ["gamma"]
    flags = np.ones(len(offsets), dtype=np.int8)
    flags[4] = 0  # another window gives "alpha" more context: no start here
    assert answer_texts(run([start], [end], [offsets], flags=[flags]), [CONTEXT]) == ["gamma delta epsilon"]


def test_best_across_windows_and_questions():
    first = window(WORDS[:3])
    second = window(WORDS[2:])
    s1, e1 = np.zeros(len(first)), np.zeros(len(first))
    s2, e2 = np.zeros(len(second)), np.zeros(len(second))
    s1[4], e1[4] = 2, 2  # "alpha": 4
    s2[6], e2[6] = 4, 3  # "epsilon": 7, in the second window
    third = window(WORDS)
    s3, e3 = np.zeros(len(third)), np.zeros(len(third))
    s3[5], e3[5] = 1, 1
    spans = run([s1, s2, s3], [e1, e2, e3], [first, second, third], example=[0, 0, 1], n_examples=3,
                answerability=[2.0, -1.0, 3.0])
    assert answer_texts(spans, [CONTEXT] * 3) == ["epsilon", "beta", ""]  # question 2 has no window
    assert spans.first[2] == -1
    np.testing.assert_allclose(no_answer_probability(spans)[:2], 1 / (1 + np.exp([1.0, -3.0])))


def brute_force(start, end, offsets, flags, n_best, max_len):
    """The straightforward loop over the top starts and ends of one window."""
    context = offsets[:, 0] >= 0
    starts = [i for i in np.argsort(-start, kind="stable") if context[i] and flags[i]][:n_best]
    ends = [i for i in np.argsort(-end, kind="stable") if context[i]][:n_best]
    return max((start[s] + end[e] for s in starts for e in ends if s <= e < s + max_len), default=None)


def test_random_logits_match_the_brute_force_loop():
    rng = np.random.default_rng(0)
    for trial in range(40):
        n = int(rng.integers(8, 60))
        offsets = window([(3 * i, 3 * i + 2) for i in range(n)], n_question=int(rng.integers(1, 5)))
        flags = (rng.random(len(offsets)) < 0.8).astype(np.int8)
        start, end = rng.normal(size=len(offsets)), rng.normal(size=len(offsets))
        n_best, max_len = int(rng.integers(1, 25)), int(rng.integers(1, 35))
        spans = run([start], [end], [offsets], flags=[flags], n_best=n_best, max_answer_length=max_len)
        expected = brute_force(start, end, offsets, flags, n_best, max_len)
        got = None if spans.first[0] < 0 else spans.score[spans.first[0]]
        assert (got is None and expected is None) or abs(got - expected) < 1e-9, trial
        assert (spans.example == 0).sum() <= n_best


def test_chunks_do_not_change_the_result():
    rng = np.random.default_rng(1)
    offsets = [window([(3 * i, 3 * i + 2) for i in range(int(rng.integers(5, 40)))]) for _ in range(30)]
    starts = [rng.normal(size=len(o)) for o in offsets]
    ends = [rng.normal(size=len(o)) for o in offsets]
    example = np.repeat(np.arange(10), 3)
    a = run(starts, ends, offsets, example=example, n_examples=10, chunk=4)
    b = run(starts, ends, offsets, example=example, n_examples=10, chunk=1000)
    np.testing.assert_array_equal(a.first, b.first)
    np.testing.assert_allclose(a.score, b.score)
