"""Extractive summarization: sentence splitting, ROUGE, the greedy oracle, trigram blocking, and
the [CLS]-per-sentence encoding. No model training here (see test_extraction_e2e.py)."""

from __future__ import annotations

import random

import pytest

from electra_tasks.tasks.extraction.sentences import SentenceError, as_sentences, split_sentences, strip_source_tag
from electra_tasks.errors import UserError
from electra_tasks.tasks.extraction import rouge as R
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import TaskData
from electra_tasks.tasks.extraction.family import FAMILY, pack_sentences, select_sentences


# --- sentence splitting -----------------------------------------------------------------------
def test_splitter_keeps_abbreviations_and_quotes_together():
    text = ('Mr. Smith flew to Washington, D.C. on Monday. He said "I am fine. Really." '
            'The U.S. economy grew 3.5% in 2014.')
    assert split_sentences(text) == ["Mr. Smith flew to Washington, D.C. on Monday.",
                                     'He said "I am fine. Really."',
                                     "The U.S. economy grew 3.5% in 2014."]


@pytest.mark.parametrize("text, first", [
    ("(CNN)Share, and your gift will grow. Next one.", "Share, and your gift will grow."),
    ("LONDON, England (CNN) -- The vote was close. Next one.", "The vote was close."),
    ("Jerusalem (CNN)Israeli officials met. Next one.", "Israeli officials met."),
    ("(The Hollywood Reporter)Melissa Benoist is cast. Next one.", "Melissa Benoist is cast."),
    ("John Smith (pictured) said hello. Next one.", "John Smith (pictured) said hello."),
])
def test_cnn_source_tags_are_removed_and_prose_parentheses_kept(text, first):
    sentences = as_sentences(text)
    assert sentences == [first, "Next one."]
    assert strip_source_tag("(CNN)") == "(CNN)"  # nothing after the tag: left alone


def test_presplit_documents_json_lists_and_presumm_tokens():
    assert as_sentences('["First one.", "  Second\\n one. ", "--"]') == ["First one.", "Second one."]
    assert as_sentences([["the", "cat", "sat", "."], ["it", "slept"]]) == ["the cat sat .", "it slept"]
    assert as_sentences("Line one .\nLine two .", lines_are_sentences=True) == ["Line one .", "Line two ."]
    assert as_sentences("No break here. Two sentences.", lines_are_sentences=True) == \
        ["No break here.", "Two sentences."]
    with pytest.raises(SentenceError, match="expected text"):
        as_sentences(42)
    with pytest.raises(SentenceError, match="item 1"):
        as_sentences(["ok.", {"x": 1}])


# --- ROUGE --------------------------------------------------------------------------------------
def test_rouge_matches_hand_computed_values_and_rouge_score():
    from rouge_score import rouge_scorer

    scores = R.rouge([["the cat sat"]], [["the cat sat on the mat"]])
    # ROUGE-1: P 3/3, R 3/6 -> F 2/3; ROUGE-2: P 2/2, R 2/5 -> F 4/7; LCS = unigram here.
    assert scores["rouge1"] == pytest.approx(100 * 2 / 3)
    assert scores["rouge2"] == pytest.approx(100 * 4 / 7)
    assert scores["rougeLsum"] == pytest.approx(100 * 2 / 3)
    official = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    preds = [["Cats were running fast.", "Dogs bark."], ["A totally different text."]]
    refs = [["The cats ran fast.", "The dog barked loudly."], ["Something else entirely."]]
    mine = R.rouge(preds, refs, prefix="x_")
    for name in ("rouge1", "rouge2", "rougeLsum"):
        expected = sum(official.score("\n".join(r), "\n".join(p))[name].fmeasure for p, r in zip(preds, refs)) / 2
        assert mine[f"x_{name}"] == pytest.approx(100 * expected)


def test_oracle_objective_equals_rouge_score_on_random_documents():
    from rouge_score import rouge_scorer

    official = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    words = "cats running dogs barked the a loudly ran fast park city voted mayor running".split()
    rng = random.Random(3)
    for _ in range(30):
        doc = [" ".join(rng.choices(words, k=rng.randint(3, 9))) + "." for _ in range(rng.randint(2, 7))]
        ref = [" ".join(rng.choices(words, k=rng.randint(3, 8))) for _ in range(2)]
        picked = R.greedy_oracle(doc, ref)
        assert picked == sorted(picked) and 1 <= len(picked) <= 3
        text = "\n".join(doc[i] for i in picked)
        got = official.score("\n".join(ref), text)
        assert R.rouge12_sum(R.rouge_tokens(text), R.rouge_tokens("\n".join(ref))) == \
            pytest.approx(got["rouge1"].fmeasure + got["rouge2"].fmeasure)
        # greedy: no single extra sentence would raise the objective while under the cap
        if len(picked) < 3:
            best = got["rouge1"].fmeasure + got["rouge2"].fmeasure
            for i in set(range(len(doc))) - set(picked):
                more = "\n".join(doc[j] for j in sorted(picked + [i]))
                s = official.score("\n".join(ref), more)
                assert s["rouge1"].fmeasure + s["rouge2"].fmeasure <= best + 1e-12


def test_oracle_on_hand_made_document():
    doc = ["The weather was mild on Tuesday.",
           "The mayor announced a new park in the city centre.",
           "Residents said they liked the idea.",
           "The park will open next spring, the mayor said.",
           "Sports results follow below."]
    ref = ["Mayor announces new city centre park.", "Park opens next spring."]
    assert R.greedy_oracle(doc, ref) == [1, 3]  # adding a third sentence only lowers precision
    assert R.greedy_oracle(doc, ref, max_sentences=1) == [1]
    assert R.greedy_oracle(doc, ["Completely unrelated words here."]) == []
    assert R.lead(doc) == doc[:3]


# --- selection ----------------------------------------------------------------------------------
def test_trigram_blocking_skips_repeats_and_keeps_document_order():
    sentences = ["Police arrested the suspect on Monday night.",      # 0
                 "The suspect on Monday night was arrested by police.",  # 1: shares "the suspect on"
                 "The court will hear the case in May.",              # 2
                 "Weather was fine.",                                 # 3
                 "Officials declined to comment."]                    # 4
    scores = [0.9, 0.95, 0.5, 0.1, 0.4]
    assert select_sentences(sentences, scores, 3) == [1, 2, 4]  # 0 blocked by 1, order kept
    assert select_sentences(sentences, scores, 3, block_trigrams=False) == [0, 1, 2]
    assert select_sentences(sentences, scores, 1) == [1]
    # truncated document: only the scored (kept) sentences compete
    assert select_sentences(sentences, [0.1, 0.2, 0.3], 3) == [1, 2]
    assert select_sentences(sentences, [0.1, 0.2, 0.3], 3, block_trigrams=False) == [0, 1, 2]


# --- encoding -----------------------------------------------------------------------------------
def test_pack_sentences_cls_per_sentence_alternating_segments_and_truncation():
    ids, segments, positions = pack_sentences([[11, 12], [13], [14, 15, 16]], cls_id=2, sep_id=3, max_length=20)
    assert ids == [2, 11, 12, 3, 2, 13, 3, 2, 14, 15, 16, 3]
    assert segments == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert positions == [0, 4, 7]
    # 9 tokens: the third sentence's [CLS] + one token + [SEP] fit (cut), nothing more
    ids, segments, positions = pack_sentences([[11, 12], [13], [14, 15, 16], [17]], 2, 3, max_length=10)
    assert ids == [2, 11, 12, 3, 2, 13, 3, 2, 14, 3] and positions == [0, 4, 7]
    ids, _, positions = pack_sentences([[11, 12], [13], [14, 15, 16]], 2, 3, max_length=8)
    assert positions == [0, 4] and len(ids) == 7  # one free slot is no room for a third sentence


def test_encode_maps_cls_positions_back_to_sentences(toy_tokenizer):
    opts = RunOptions(task="extractive-summarization", max_seq_length=16)
    batch = {"id": ["a"], "sentences": [["john met mary", "paris is red", "the movie was good",
                                         "london is blue"]],
             "reference": [["john met mary"]], "oracle": [[0, 2]]}
    data = TaskData(splits={})
    out = FAMILY.encode(batch, toy_tokenizer, data, opts, for_training=True)
    ids, positions, labels = out["input_ids"][0], out["cls_positions"][0], out["labels"][0]
    assert len(ids) <= 16 and out["length"][0] == len(ids)
    assert [ids[p] for p in positions] == [toy_tokenizer.cls_token_id] * len(positions)
    # the tokens after each [CLS] are that sentence's words
    assert toy_tokenizer.decode(ids[positions[1] + 1: positions[2] - 1]) == "paris is red"
    assert len(positions) == 3  # "london is blue" does not fit in 16 tokens
    assert [labels[p] for p in positions] == [1, 0, 1]
    assert all(label == -100 for i, label in enumerate(labels) if i not in positions)
    assert out["token_type_ids"][0][positions[1]] == 1 and out["token_type_ids"][0][positions[2]] == 0
    assert "labels" not in FAMILY.encode(batch, toy_tokenizer, data, opts, for_training=False)


# --- loading and bad input ----------------------------------------------------------------------
def _csv(path, rows, header="article,highlights,id"):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def test_load_row_ranges_ids_oracle_and_unlabelled_test(tmp_path):
    rows = [(f"(CNN)Doc {i} starts here. The mayor opened a park. Rain fell.", "Mayor opened a park.", f"d{i}")
            for i in range(5)]
    path = _csv(tmp_path / "docs.csv", rows)
    test = _csv(tmp_path / "test.jsonl", [])
    test.write_text('{"article": ["One.", "Two."], "id": "t1"}\n', encoding="utf-8")
    opts = RunOptions(task="cnn-dailymail", train_file=f"{path}[:3]", validation_file=f"{path}[3:]",
                      test_file=str(test))
    data = FAMILY.load(get_task("cnn-dailymail"), opts, for_training=True)
    assert data.splits["train"]["id"] == ["d0", "d1", "d2"] and data.splits["validation"]["id"] == ["d3", "d4"]
    assert data.splits["train"][0]["sentences"] == ["Doc 0 starts here.", "The mayor opened a park.", "Rain fell."]
    assert data.splits["train"][0]["oracle"] == [1]
    assert data.splits["test"][0]["reference"] == [] and data.splits["test"][0]["sentences"] == ["One.", "Two."]


@pytest.mark.parametrize("rows, header, options, message", [
    ([("Text here.", "Sum.", "a")], "body,highlights,id", {}, r"docs.csv: no document column 'article'"),
    ([("Text here.", "Sum.", "a")], "article,summary_x,id", {}, r"no summary column 'highlights'"),
    ([("Fine doc.", "Sum.", "a"), ("   ", "Sum.", "b")], None, {}, r"docs.csv:3 \(field 'article'\): empty document \(id b\)"),
    ([("-- ... --", "Sum.", "a")], None, {}, r"docs.csv:2 \(field 'article'\): no sentence found"),
    ([("Fine doc.", "", "a")], None, {}, r"docs.csv:2 \(field 'highlights'\): empty reference summary"),
    ([("Fine doc.", "Sum.", "a")], None, {"train_file": "{path}[5:]"}, r"row range selects no rows"),
])
def test_bad_input_is_one_clear_user_error(tmp_path, rows, header, options, message):
    path = _csv(tmp_path / "docs.csv", rows, header or "article,highlights,id")
    values = {"train_file": str(path), **{k: v.format(path=path) for k, v in options.items()}}
    with pytest.raises(UserError, match=message):
        FAMILY.load(get_task("extractive-summarization"), RunOptions(task="x", **values), for_training=True)


def test_predict_inputs_accept_articles_sentence_lists_and_plain_text():
    lines = ['{"article": "(CNN)First. Second.", "id": "x"}', "", '{"sentences": ["A b.", "C d."]}',
             "Plain text document. With two sentences."]
    raw = FAMILY.read_predict_inputs(lines, "in.jsonl", None, TaskData(splits={}), RunOptions(task="x"))
    assert raw["id"] == ["x", "1", "2"]
    assert raw["sentences"] == [["First.", "Second."], ["A b.", "C d."],
                                ["Plain text document.", "With two sentences."]]
    with pytest.raises(UserError, match=r"in.jsonl:1: expected a JSON object with \"article\""):
        FAMILY.read_predict_inputs(['{"body": "x"}'], "in.jsonl", None, TaskData(splits={}), RunOptions(task="x"))
    with pytest.raises(UserError, match=r"in.jsonl:2: empty document"):
        FAMILY.read_predict_inputs(['{"article": "ok."}', '{"article": ""}'], "in.jsonl", None,
                                   TaskData(splits={}), RunOptions(task="x"))


def test_bad_options_and_offline_hub_fail_before_any_work(tmp_path):
    path = _csv(tmp_path / "docs.csv", [("A doc.", "Sum.", "a")])
    with pytest.raises(UserError, match=r"--summary-sentences 0: expected an integer >= 1"):
        FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="x", train_file=str(path), summary_sentences=0),
                    for_training=True)
    with pytest.raises(UserError, match=r"--max-train-samples 0: expected an integer >= 1"):
        FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="x", train_file=str(path), max_train_samples=0),
                    for_training=True)
    with pytest.raises(UserError, match=r"extractive-summarization: pass --train-file"):
        FAMILY.load(get_task("extractive-summarization"), RunOptions(task="x"), for_training=True)
    with pytest.raises(UserError, match=r"could not load the hub dataset abisee/cnn_dailymail/3.0.0"):
        FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="x"), for_training=True)  # offline in tests


def test_eval_skips_training_documents(tmp_path):
    path = _csv(tmp_path / "docs.csv", [("A doc here.", "Sum.", "a"), ("   ", "Sum.", "b")])
    good = _csv(tmp_path / "dev.csv", [("Another doc.", "Sum.", "c")])
    data = FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="x", train_file=str(path), validation_file=str(good)),
                       for_training=False)
    assert list(data.splits) == ["validation"]  # the bad training row is never read
