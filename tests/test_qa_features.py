"""QA features: windows over long contexts, offsets back to characters, labels, max-context flags."""

from __future__ import annotations

import numpy as np
import pytest

from electra_tasks.options import RunOptions
from electra_tasks.tasks.base import TaskData
from electra_tasks.tasks.qa.family import FAMILY, check_window_options, to_dataset, truncate_questions
from electra_tasks.errors import UserError

WORDS = "john lives in paris mary visited london acme corp works the a is was very red blue green".split()


def long_context(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, size=n_words))


def records(context: str, answers: list[tuple[str, int]]):
    return [{"id": f"q{i}", "title": "", "context": context, "question": "who works in london",
             "answers": {"text": [t], "answer_start": [s]}, "is_impossible": False, "has_gold": True,
             "article": 0} for i, (t, s) in enumerate(answers)]


def encode(tokenizer, rows, *, for_training, max_len=32, stride=8, max_query=6):
    opts = RunOptions(task="qa", max_seq_length=max_len, doc_stride=stride, max_query_length=max_query)
    raw = to_dataset(rows)
    data = TaskData(splits={"x": raw}, info={"version2": False})
    out = raw.map(lambda b: FAMILY.encode(b, tokenizer, data, opts, for_training=for_training), batched=True,
                  remove_columns=raw.column_names)
    return raw, out


def test_windows_cover_the_context_and_offsets_round_trip(toy_tokenizer):
    context = long_context(120)
    raw, features = encode(toy_tokenizer, records(context, [("john", context.index("john"))]), for_training=False)
    assert len(features) > 5  # a long context becomes many overlapping windows
    covered = set()
    for ids, offsets, flags in zip(features["input_ids"], features["offset_mapping"], features["max_context"]):
        assert len(ids) <= 32
        for token, (start, end) in zip(ids, offsets):
            if start < 0:
                continue
            # every context token maps back to exactly its word in the context
            assert toy_tokenizer.convert_ids_to_tokens(token) == context[start:end]
            covered.add(start)
    word_starts = {i for i in range(len(context)) if i == 0 or context[i - 1] == " "}
    assert covered == word_starts
    # each context token is "max context" in exactly one window
    counts: dict[int, int] = {}
    for offsets, flags in zip(features["offset_mapping"], features["max_context"]):
        for (start, _), flag in zip(offsets, flags):
            if start >= 0 and flag:
                counts[start] = counts.get(start, 0) + 1
    assert set(counts) == word_starts and set(counts.values()) == {1}


def test_windows_overlap_by_the_stride(toy_tokenizer):
    context = long_context(100, seed=1)
    _, features = encode(toy_tokenizer, records(context, [("john", context.index("john"))]), for_training=False)
    starts = [[s for s, _ in offsets if s >= 0] for offsets in features["offset_mapping"]]
    for first, second in zip(starts, starts[1:]):
        assert len(set(first) & set(second)) == 8


def test_training_labels_point_at_the_answer_or_cls(toy_tokenizer):
    context = long_context(120, seed=2) + " acme corp"
    start = len(context) - len("acme corp")
    _, features = encode(toy_tokenizer, records(context, [("acme corp", start)]), for_training=True)
    labelled = [(ids, s, e, imp) for ids, s, e, imp in zip(features["input_ids"], features["start_positions"],
                                                           features["end_positions"], features["is_impossible"])]
    inside = [row for row in labelled if row[1] > 0]
    assert inside, "the window holding the answer is labelled"
    for ids, s, e, impossible in labelled:
        if s == 0:
            assert e == 0 and impossible == 1
        else:
            assert toy_tokenizer.decode(ids[s:e + 1]) == "acme corp" and impossible == 0
    assert "offset_mapping" not in features.column_names
    assert features.features["is_impossible"].dtype == "int64"  # 0/1 labels the collator keeps


def test_unanswerable_training_question_points_at_cls(toy_tokenizer):
    rows = records("john lives in paris", [("x", 0)])
    rows[0].update(answers={"text": [], "answer_start": []}, is_impossible=True)
    _, features = encode(toy_tokenizer, rows, for_training=True)
    assert features["start_positions"] == [0] and features["is_impossible"] == [1]


def test_question_cut_to_max_query_length(toy_tokenizer):
    long_question = " ".join(["what"] * 20)
    assert truncate_questions([long_question, "  who is"], toy_tokenizer, 4) == ["what what what what", "who is"]


@pytest.mark.parametrize("kwargs, message", [
    ({"max_seq_length": 40, "max_query_length": 64}, "--max-seq-length 40"),
    ({"max_seq_length": 384, "doc_stride": 400}, "--doc-stride 400"),
    ({"max_seq_length": 384, "n_best_size": 0}, "--n-best-size 0"),
])
def test_window_options_are_checked(kwargs, message):
    with pytest.raises(UserError, match=message):
        check_window_options(RunOptions(task="qa", **kwargs))
