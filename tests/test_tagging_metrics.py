"""Entity scores equal conlleval's, computed by hand on small gold/predicted pairs."""

from __future__ import annotations

import pytest

from electra_tasks.tasks.tagging.metrics import BIOES, PLAIN, entities, score

# John Smith visited Paris . / Acme Corp said
GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "I-ORG", "O"]]
PRED = [["B-PER", "O", "O", "I-LOC", "O"], ["B-ORG", "I-ORG", "B-MISC"]]


def test_conlleval_counts_by_hand():
    # gold entities: PER[0,2) LOC[3,4) ORG[0,2) = 3. Predicted as conlleval reads them: PER[0,1) (wrong
    # boundary), LOC[3,4) (starts with I-, still an entity, correct), ORG[0,2) (correct), MISC[2,3)
    # (spurious) = 4, of which 2 correct. Tokens: 8, wrong: Smith, Paris (I-LOC vs B-LOC), said -> 5/8.
    metrics = score(GOLD, PRED)
    assert metrics["precision"] == pytest.approx(2 / 4)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert metrics["accuracy"] == pytest.approx(5 / 8)
    assert (metrics["PER_precision"], metrics["PER_recall"], metrics["PER_f1"]) == (0.0, 0.0, 0.0)
    assert (metrics["LOC_precision"], metrics["LOC_recall"], metrics["LOC_f1"]) == (1.0, 1.0, 1.0)
    assert metrics["ORG_f1"] == 1.0
    assert (metrics["MISC_precision"], metrics["MISC_recall"], metrics["MISC_f1"]) == (0.0, 0.0, 0.0)


def test_strict_mode_drops_entities_that_start_with_i():
    # strict IOB2: the predicted I-LOC is no entity -> predicted PER, ORG, MISC: 1 correct of 3
    metrics = score(GOLD, PRED, strict=True)
    assert metrics["precision"] == pytest.approx(1 / 3)
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert metrics["f1"] == pytest.approx(1 / 3)
    assert metrics["LOC_recall"] == 0.0
    assert metrics["accuracy"] == pytest.approx(5 / 8)


def test_iob1_gold_scores_like_its_iob2_form():
    # conlleval reads I-PER I-PER as one entity either way
    iob1_gold = [["I-PER", "I-PER", "O", "I-LOC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    metrics = score(iob1_gold, pred)
    assert metrics["precision"] == pytest.approx(0.5) and metrics["recall"] == pytest.approx(0.5)
    converted = score([["B-PER", "I-PER", "O", "B-LOC"]], pred)
    # entity scores agree; token accuracy counts I-PER vs B-PER as a different tag
    assert {k: v for k, v in metrics.items() if k != "accuracy"} == \
        {k: v for k, v in converted.items() if k != "accuracy"}
    assert (metrics["accuracy"], converted["accuracy"]) == (0.5, 0.75)


def test_type_change_inside_i_run_splits_entities():
    # I-PER I-LOC: two entities in conlleval; gold has one PER of two words
    metrics = score([["B-PER", "I-PER"]], [["B-PER", "I-LOC"]])
    assert metrics["precision"] == 0.0 and metrics["recall"] == 0.0 and metrics["f1"] == 0.0
    assert metrics["accuracy"] == 0.5


def test_bioes_and_strict_bioes():
    gold = [["S-PER", "O", "B-LOC", "E-LOC"]]
    pred = [["S-PER", "O", "B-LOC", "I-LOC"]]
    assert score(gold, pred)["f1"] == 1.0  # conlleval: B-LOC I-LOC is the same span
    strict = score(gold, pred, strict=True, scheme=BIOES)
    assert strict["precision"] == 1.0 and strict["recall"] == pytest.approx(0.5)


def test_no_entities_anywhere_is_zero_not_an_error():
    metrics = score([["O", "O"]], [["O", "O"]])
    assert metrics["f1"] == 0.0 and metrics["accuracy"] == 1.0


def test_plain_tags_are_scored_by_accuracy_only():
    assert score([["NN", "VB"]], [["NN", "NN"]], scheme=PLAIN) == {"accuracy": 0.5}


def test_entities_end_exclusive():
    assert entities(["B-PER", "I-PER", "O", "I-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
