"""SQuAD scoring against hand-made cases and a transcription of the official evaluation scripts."""

from __future__ import annotations

import collections
import random
import re
import string

import pytest

from electra_tasks.tasks.qa import metrics as squad


# --- the official scripts, transcribed as they are written (evaluate-v1.1.py / evaluate-v2.0.py) ---
def official_normalize(s):
    def remove_articles(text):
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def official_v1(dataset, predictions):
    def f1_score(prediction, ground_truth):
        prediction_tokens = official_normalize(prediction).split()
        ground_truth_tokens = official_normalize(ground_truth).split()
        common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
        num_same = sum(common.values())
        if num_same == 0:
            return 0
        precision = 1.0 * num_same / len(prediction_tokens)
        recall = 1.0 * num_same / len(ground_truth_tokens)
        return (2 * precision * recall) / (precision + recall)

    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                ground_truths = [x["text"] for x in qa["answers"]]
                prediction = predictions[qa["id"]]
                exact_match += max(official_normalize(prediction) == official_normalize(g) for g in ground_truths)
                f1 += max(f1_score(prediction, g) for g in ground_truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def official_v2(dataset, preds, na_probs, na_prob_thresh=1.0):
    def get_tokens(s):
        return official_normalize(s).split() if s else []

    def compute_f1(a_gold, a_pred):
        gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
        common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
        num_same = sum(common.values())
        if len(gold_toks) == 0 or len(pred_toks) == 0:
            return int(gold_toks == pred_toks)
        if num_same == 0:
            return 0
        precision, recall = 1.0 * num_same / len(pred_toks), 1.0 * num_same / len(gold_toks)
        return (2 * precision * recall) / (precision + recall)

    qid_to_has_ans = {qa["id"]: bool(qa["answers"]) for a in dataset for p in a["paragraphs"] for qa in p["qas"]}
    exact_raw, f1_raw = {}, {}
    for article in dataset:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                gold = [a["text"] for a in qa["answers"] if official_normalize(a["text"])] or [""]
                if qa["id"] not in preds:
                    continue
                exact_raw[qa["id"]] = max(int(official_normalize(a) == official_normalize(preds[qa["id"]])) for a in gold)
                f1_raw[qa["id"]] = max(compute_f1(a, preds[qa["id"]]) for a in gold)

    def apply(scores):
        return {q: float(not qid_to_has_ans[q]) if na_probs[q] > na_prob_thresh else s for q, s in scores.items()}

    def make_eval_dict(exact, f1, qid_list=None):
        qid_list = qid_list if qid_list is not None else list(exact)
        total = len(qid_list)
        return {"exact": 100.0 * sum(exact[k] for k in qid_list) / total,
                "f1": 100.0 * sum(f1[k] for k in qid_list) / total, "total": total}

    exact_thr, f1_thr = apply(exact_raw), apply(f1_raw)
    out = make_eval_dict(exact_thr, f1_thr)
    has = [k for k, v in qid_to_has_ans.items() if v]
    no = [k for k, v in qid_to_has_ans.items() if not v]
    for prefix, ids in (("HasAns", has), ("NoAns", no)):
        if ids:
            for k, v in make_eval_dict(exact_thr, f1_thr, ids).items():
                out[f"{prefix}_{k}"] = v

    def find_best_thresh(scores):
        num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
        cur_score = best_score = num_no_ans
        best_thresh = 0.0
        for qid in sorted(na_probs, key=lambda k: na_probs[k]):
            if qid not in scores:
                continue
            diff = scores[qid] if qid_to_has_ans[qid] else (-1 if preds[qid] else 0)
            cur_score += diff
            if cur_score > best_score:
                best_score, best_thresh = cur_score, na_probs[qid]
        return 100.0 * best_score / len(scores), best_thresh

    out["best_exact"], out["best_exact_thresh"] = find_best_thresh(exact_raw)
    out["best_f1"], out["best_f1_thresh"] = find_best_thresh(f1_raw)
    return out


def as_dataset(items):
    """[(id, [gold texts])] -> a one-paragraph SQuAD `data` list."""
    qas = [{"id": qid, "question": "q", "answers": [{"text": t, "answer_start": 0} for t in golds]}
           for qid, golds in items]
    return [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]


def ours_v2(items, preds, na):
    return squad.squad_v2(preds, dict(items), na)


# --- hand-made cases ------------------------------------------------------------------------
def test_normalization_drops_case_punctuation_articles_and_extra_space():
    assert squad.normalize_answer("  The  Eiffel-Tower, in a Paris! ") == "eiffeltower in paris"
    assert squad.normalize_answer("An apple") == "apple"
    assert squad.normalize_answer("theatre") == "theatre"  # only whole-word articles go


def test_v1_takes_the_best_of_several_gold_answers():
    gold = {"q1": ["Denver Broncos", "the Broncos"], "q2": ["1990"], "q3": ["Paris"]}
    preds = {"q1": "Broncos", "q2": "in 1990", "q3": "London"}
    result = squad.squad_v1(preds, gold)
    # q1: EM via "the Broncos"; q2: F1 2*(1/2*1)/(1.5) = 2/3; q3: 0
    assert result["exact_match"] == pytest.approx(100 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0) / 3)


def test_v1_missing_prediction_counts_as_zero():
    result = squad.squad_v1({"a": "x"}, {"a": ["x"], "b": ["y"]})
    assert result == {"exact_match": 50.0, "f1": 50.0}


def test_v2_unanswerable_questions_and_split_totals():
    items = [("a", ["Paris"]), ("b", []), ("c", []), ("d", ["the moon"])]
    preds = {"a": "Paris", "b": "", "c": "cheese", "d": "moon"}
    na = {"a": 0.1, "b": 0.9, "c": 0.4, "d": 0.2}
    result = ours_v2(items, preds, na)
    assert result["exact_match"] == 75.0 and result["f1"] == 75.0
    assert result["HasAns_exact"] == 100.0 and result["NoAns_exact"] == 50.0
    # best threshold: answering only a and d (na <= 0.2) drops the wrong answer to c: 4/4
    assert result["best_exact"] == 100.0 and result["best_exact_thresh"] == pytest.approx(0.2)
    assert result["best_f1"] == 100.0 and result["best_f1_thresh"] == pytest.approx(0.2)


def test_v2_best_threshold_uses_the_no_answer_probabilities():
    items = [("a", ["x"]), ("b", [])]
    preds = {"a": "x", "b": "y"}
    # the wrong answer to b is more confident than the right one to a: no threshold helps
    assert ours_v2(items, preds, {"a": 0.8, "b": 0.3})["best_exact"] == 50.0
    # ordered the other way, a threshold between them scores 100
    result = ours_v2(items, preds, {"a": 0.3, "b": 0.8})
    assert result["best_exact"] == 100.0 and result["best_exact_thresh"] == pytest.approx(0.3)


def test_v2_gold_made_only_of_articles_counts_as_empty():
    items = [("a", ["the"])]
    assert ours_v2(items, {"a": ""}, {"a": 0.0})["exact_match"] == 100.0


def test_random_cases_equal_the_official_scripts():
    rng = random.Random(0)
    words = ["the", "a", "cat", "Cat,", "sat", "on", "mat", "1990", "an", "Dog!"]
    for trial in range(30):
        items, preds, na = [], {}, {}
        for i in range(rng.randint(1, 25)):
            qid = f"q{i}"
            golds = [] if rng.random() < 0.4 else [" ".join(rng.choices(words, k=rng.randint(1, 4)))
                                                     for _ in range(rng.randint(1, 3))]
            items.append((qid, golds))
            preds[qid] = "" if rng.random() < 0.3 else " ".join(rng.choices(words, k=rng.randint(1, 4)))
            na[qid] = round(rng.random(), 2)  # ties on purpose
        data = as_dataset(items)
        expected = official_v2(data, preds, na)
        got = ours_v2(items, preds, na)
        assert got["exact_match"] == pytest.approx(expected["exact"])
        assert got["f1"] == pytest.approx(expected["f1"])
        for key in ("HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_exact", "best_exact_thresh",
                    "best_f1", "best_f1_thresh"):
            if key in expected:
                assert got[key] == pytest.approx(expected[key]), (trial, key)
        answerable = [(q, g) for q, g in items if g]
        if answerable:
            v1 = squad.squad_v1(preds, dict(answerable))
            assert v1 == pytest.approx(official_v1(as_dataset(answerable), preds))


def test_gold_answers_all_empty_strings_score_as_the_official_scripts():
    # evaluate-v2.0.py: such a question has answers, so it is HasAns; its gold becomes [""]
    items = [("e", ["", " "]), ("p", ["Paris"]), ("n", [])]
    preds = {"e": "", "p": "Paris", "n": "London"}
    na = {"e": 0.9, "p": 0.2, "n": 0.5}
    got = ours_v2(items, preds, na)
    assert got["exact_match"] == pytest.approx(200 / 3) and got["HasAns_exact"] == 100.0 and got["NoAns_exact"] == 0.0
    # answering only p (threshold 0.2): e abstains (HasAns: 0), n abstains (NoAns: 1) -> 2/3
    assert got["best_exact"] == pytest.approx(200 / 3) and got["best_exact_thresh"] == pytest.approx(0.2)
    expected = official_v2(as_dataset(items), preds, na)
    for key, value in expected.items():
        assert got.get({"exact": "exact_match"}.get(key, key)) == pytest.approx(value), key
    # evaluate-v1.1.py: "" equals "" (EM 1) but has no tokens in common (F1 0)
    assert squad.squad_v1({"e": ""}, {"e": ["", " "]}) == {"exact_match": 100.0, "f1": 0.0}
    assert official_v1(as_dataset([("e", ["", " "])]), {"e": ""}) == {"exact_match": 100.0, "f1": 0.0}


def test_a_read_file_scores_as_the_official_script_on_the_file_itself(tmp_path):
    """What the reader keeps as gold (repairs included) scores as evaluate-v2.0.py on the raw file."""
    import json

    from electra_tasks.tasks.qa.squad import read_squad

    context = "John lives in Paris. Mary visited London in 1990."
    qas = [{"id": "nq", "question": "Who?", "answers": [{"text": "", "answer_start": -1}]},  # NQ-style
           {"id": "mix", "question": "Where?", "answers": [{"text": "", "answer_start": -1},
                                                          {"text": "Paris", "answer_start": 13}]},  # one off
           {"id": "v2", "question": "Why?", "answers": [], "is_impossible": True,
            "plausible_answers": [{"text": "London", "answer_start": 34}]},
           {"id": "ok", "question": "When?", "answers": [{"text": "in 1990", "answer_start": 41}]}]
    data = [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}))
    gold = {r["id"]: r["answers"]["text"] for r in read_squad(path).records}
    preds = {"nq": "", "mix": "Paris", "v2": "London", "ok": "1990"}
    na = {"nq": 0.7, "mix": 0.1, "v2": 0.6, "ok": 0.3}
    got = squad.squad_v2(preds, gold, na)
    expected = official_v2(data, preds, na)
    for key, value in expected.items():
        assert got[{"exact": "exact_match"}.get(key, key)] == pytest.approx(value), key
    assert got["HasAns_total"] == 3 and got["NoAns_total"] == 1  # as the official script splits them
    assert got["f1"] == pytest.approx(100 * (1 + 1 + 0 + 2 / 3) / 4)
