"""GLUE metrics computed locally (scikit-learn / scipy), named as the GLUE scripts name them.

`evaluate.load("glue")` fetches its script from the hub and fails offline, so these are the
metrics the toolkit uses everywhere.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef


def accuracy(gold: Sequence, pred: Sequence) -> float:
    gold, pred = np.asarray(gold), np.asarray(pred)
    return float((gold == pred).mean())


def binary_f1(gold: Sequence, pred: Sequence, positive="1") -> float:
    return float(f1_score(gold, pred, pos_label=positive, average="binary", zero_division=0))


def macro_f1(gold: Sequence, pred: Sequence) -> float:
    return float(f1_score(gold, pred, average="macro", zero_division=0))


def matthews_correlation(gold: Sequence, pred: Sequence) -> float:
    return float(matthews_corrcoef(gold, pred))


def pearson(gold: Sequence[float], pred: Sequence[float]) -> float:
    return _correlation(pearsonr, gold, pred)


def spearman(gold: Sequence[float], pred: Sequence[float]) -> float:
    return _correlation(spearmanr, gold, pred)


def mse(gold: Sequence[float], pred: Sequence[float]) -> float:
    return float(np.mean((np.asarray(gold, float) - np.asarray(pred, float)) ** 2))


def _correlation(fn, gold, pred) -> float:
    gold, pred = np.asarray(gold, float), np.asarray(pred, float)
    if gold.std() == 0 or pred.std() == 0:
        return 0.0  # undefined for a constant series; GLUE's scripts would print nan
    return float(fn(gold, pred)[0])


# metric name (as written to metrics.json) -> function(gold, pred)
CLASSIFICATION_METRICS: dict[str, Callable] = {
    "accuracy": accuracy,
    "f1": binary_f1,
    "macro_f1": macro_f1,
    "matthews_correlation": matthews_correlation,
}
REGRESSION_METRICS: dict[str, Callable] = {
    "pearson": pearson,
    "spearmanr": spearman,
    "mse": mse,
}


def compute(names: Sequence[str], gold: Sequence, pred: Sequence) -> dict[str, float]:
    """The named metrics of one split."""
    table = {**CLASSIFICATION_METRICS, **REGRESSION_METRICS}
    return {name: table[name](gold, pred) for name in names}
