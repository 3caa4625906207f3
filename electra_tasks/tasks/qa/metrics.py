"""SQuAD scoring exactly as the official `evaluate-v1.1.py` and `evaluate-v2.0.py` compute it.

`evaluate.load("squad")` needs the hub; these are the official rules re-stated (normalisation,
token F1, max over gold answers, the v2.0 HasAns/NoAns split and best-threshold search), on the
official 0-100 scale. v2.0's `exact` is reported as `exact_match` (the contract's name).
"""

from __future__ import annotations

import collections
import re
import string
from typing import Mapping, Sequence

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation and articles, collapse whitespace (both official scripts)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def v1_f1(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def v2_f1(prediction: str, gold: str) -> float:
    """v2.0's compute_f1: an empty gold or prediction scores 1 only when both are empty."""
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    return v1_f1(prediction, gold)


def exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def squad_v1(predictions: Mapping[str, str], gold: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """evaluate-v1.1.py: `gold` maps every question id to its answer texts."""
    em = f1 = 0.0
    for qid, answers in gold.items():
        pred = predictions.get(qid)
        if pred is None:  # the official script prints a message and scores 0
            continue
        em += max(exact(pred, a) for a in answers)
        f1 += max(v1_f1(pred, a) for a in answers)
    total = len(gold)
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1 / total}


def squad_v2(predictions: Mapping[str, str], gold: Mapping[str, Sequence[str]],
             na_probs: Mapping[str, float] | None = None, na_prob_thresh: float = 1.0) -> dict[str, float]:
    """evaluate-v2.0.py: `gold` answers are [] for unanswerable questions."""
    na_probs = na_probs if na_probs is not None else {qid: 0.0 for qid in predictions}
    has_ans = {qid: bool(answers) for qid, answers in gold.items()}  # make_qid_to_has_ans
    exact_raw, f1_raw = {}, {}
    for qid, answers in gold.items():
        if qid not in predictions:
            continue
        golds = [a for a in answers if normalize_answer(a)] or [""]
        exact_raw[qid] = max(exact(predictions[qid], a) for a in golds)
        f1_raw[qid] = max(v2_f1(predictions[qid], a) for a in golds)
    exact_thr = _apply_threshold(exact_raw, na_probs, has_ans, na_prob_thresh)
    f1_thr = _apply_threshold(f1_raw, na_probs, has_ans, na_prob_thresh)
    result = _summary(exact_thr, f1_thr, list(exact_thr))  # make_eval_dict: scored ids only
    for name, subset in (("HasAns", [q for q in gold if has_ans[q]]), ("NoAns", [q for q in gold if not has_ans[q]])):
        if subset:
            part = _summary(exact_thr, f1_thr, subset)
            result.update({f"{name}_exact": part["exact_match"], f"{name}_f1": part["f1"],
                           f"{name}_total": len(subset)})
    best_exact, exact_th = _best_threshold(predictions, exact_raw, na_probs, has_ans)
    best_f1, f1_th = _best_threshold(predictions, f1_raw, na_probs, has_ans)
    result.update({"best_exact": best_exact, "best_exact_thresh": exact_th,
                   "best_f1": best_f1, "best_f1_thresh": f1_th})
    return result


def _apply_threshold(scores, na_probs, has_ans, thresh):
    return {qid: float(not has_ans[qid]) if na_probs[qid] > thresh else s for qid, s in scores.items()}


def _summary(exact_scores, f1_scores, qids) -> dict[str, float]:
    total = len(qids)
    return {"exact_match": 100.0 * sum(exact_scores.get(q, 0.0) for q in qids) / total,
            "f1": 100.0 * sum(f1_scores.get(q, 0.0) for q in qids) / total, "total": total}


def _best_threshold(predictions, scores, na_probs, has_ans) -> tuple[float, float]:
    """find_best_thresh: answer exactly the questions whose no-answer probability is <= t."""
    current = best = float(sum(1 for ok in has_ans.values() if not ok))
    best_thresh = 0.0
    for qid in sorted(na_probs, key=lambda q: na_probs[q]):
        if qid not in scores:
            continue
        if has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if predictions[qid] else 0
        current += diff
        if current > best:
            best, best_thresh = current, na_probs[qid]
    return 100.0 * best / len(scores), float(best_thresh)
