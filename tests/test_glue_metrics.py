"""GLUE metrics against values computed by hand."""

import math

import pytest

from electra_tasks.tasks.classification import metrics as glue


def test_accuracy():
    assert glue.accuracy(["1", "0", "1", "1"], ["1", "1", "1", "0"]) == pytest.approx(0.5)


def test_binary_f1_counts_the_positive_class_only():
    gold = ["1", "1", "1", "0", "0"]
    pred = ["1", "1", "0", "1", "0"]
    # tp=2, fp=1, fn=1 -> precision 2/3, recall 2/3, f1 2/3
    assert glue.binary_f1(gold, pred, "1") == pytest.approx(2 / 3)
    # the negative class: tp=1, fp=1, fn=1 -> 1/2
    assert glue.binary_f1(gold, pred, "0") == pytest.approx(0.5)


def test_matthews_correlation_by_hand():
    gold = ["1", "1", "1", "0", "0", "0"]
    pred = ["1", "1", "0", "0", "0", "1"]
    tp, tn, fp, fn = 2, 2, 1, 1
    expected = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert glue.matthews_correlation(gold, pred) == pytest.approx(expected)  # 1/3


def test_pearson_and_spearman_by_hand():
    gold = [1.0, 2.0, 3.0, 4.0]
    pred = [1.0, 3.0, 2.0, 4.0]
    # pearson: deviations (-1.5,-.5,.5,1.5) and (-1.5,.5,-.5,1.5): cov 4, var 5 each -> 0.8
    assert glue.pearson(gold, pred) == pytest.approx(0.8)
    # spearman on ranks (same values here) -> 0.8
    assert glue.spearman(gold, pred) == pytest.approx(0.8)
    assert glue.spearman([1, 2, 3], [10, 200, 3000]) == pytest.approx(1.0)
    assert glue.pearson([1, 2, 3], [5, 5, 5]) == 0.0  # constant prediction: no correlation


def test_macro_f1_and_compute():
    gold = ["a", "b", "c", "a"]
    pred = ["a", "b", "b", "a"]
    # a: f1 1; b: p=1/2 r=1 f1 2/3; c: 0 -> mean 5/9
    assert glue.macro_f1(gold, pred) == pytest.approx(5 / 9)
    assert glue.compute(["accuracy", "macro_f1"], gold, pred) == pytest.approx({"accuracy": 0.75, "macro_f1": 5 / 9})
