"""Tag schemes and entity scoring the way conlleval does it (seqeval's default mode).

`evaluate.load("seqeval")` needs the hub, so seqeval is called directly. The default mode
reproduces conlleval: an entity may start with I- (IOB1 files, or a model's slip). `strict=True`
is seqeval's strict mode, where only well-formed IOB2 (or BIOES) entities count. BILOU tags
(spaCy's L- last and U- unit) are BIOES under other names and are scored as E- and S-.
"""

from __future__ import annotations

import re
import warnings
from typing import Sequence

from seqeval.metrics import accuracy_score, classification_report
from seqeval.metrics.sequence_labeling import get_entities

from electra_tasks.errors import UserError

ENTITY_TAG = re.compile(r"^([BIESLU])-(.+)$")

IOB1, IOB2, BIOES, BILOU, PLAIN = "IOB1", "IOB2", "BIOES", "BILOU", "plain"
_BILOU_AS_BIOES = {"L": "E", "U": "S"}


def split_tag(tag: str) -> tuple[str, str | None]:
    """`B-PER` -> ("B", "PER"); `O` -> ("O", None); anything else -> (tag, None)."""
    match = ENTITY_TAG.match(tag)
    return (match.group(1), match.group(2)) if match else (tag, None)


def detect_scheme(sentences: Sequence[Sequence[str]]) -> str:
    """IOB1 when an entity starts with I-; BIOES when E-/S- appear (BILOU: L-/U-); IOB2 otherwise.

    `plain` for tag sets that are not entity tags at all (POS tags, ...): scored by accuracy.
    """
    starts_with_i = False
    for tags in sentences:
        previous = "O"
        for tag in tags:
            prefix, kind = split_tag(tag)
            if kind is None and tag != "O":
                return PLAIN
            if prefix in ("E", "S"):
                return BIOES
            if prefix in ("L", "U"):
                return BILOU
            if prefix == "I" and split_tag(previous)[1] != kind:
                starts_with_i = True
            previous = tag
    return IOB1 if starts_with_i else IOB2


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOB1 -> IOB2: an I-X that starts an entity (after O, another type, or at the start) -> B-X.

    B-X in IOB1 only separates two adjacent entities of one type and stays B-X. On IOB2 input
    this is the identity, so it is safe to apply to any B/I/O sequence.
    """
    converted: list[str] = []
    previous_kind = None
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and kind != previous_kind:
            tag = f"B-{kind}"
        converted.append(tag)
        previous_kind = kind
    return converted


def as_bioes(tags: Sequence[str]) -> list[str]:
    """BILOU -> BIOES (L-X -> E-X, U-X -> S-X); any other tag as it is."""
    converted = []
    for tag in tags:
        prefix, kind = split_tag(tag)
        converted.append(f"{_BILOU_AS_BIOES[prefix]}-{kind}" if prefix in _BILOU_AS_BIOES and kind else tag)
    return converted


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entity spans as conlleval reads them: (type, start, end) with `end` exclusive."""
    return [(kind, start, end + 1) for kind, start, end in get_entities(as_bioes(tags))]


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], *, strict: bool = False,
          scheme: str | None = None) -> dict[str, float]:
    """precision, recall, f1 (micro over entities), accuracy (tokens), `<TYPE>_precision/_recall/_f1`.

    `scheme`: the model's tag scheme (IOB2, BIOES or BILOU; `plain` gives accuracy only).
    """
    convert = as_bioes if scheme == BILOU else list
    gold = [convert(s) for s in gold]
    predicted = [convert(s) for s in predicted]
    if [len(s) for s in gold] != [len(s) for s in predicted]:
        raise ValueError("gold and predicted tags differ in sentence count or length")
    metrics = {"accuracy": float(accuracy_score(gold, predicted))}
    if scheme == PLAIN:
        return metrics
    options: dict = {}
    if strict:
        from seqeval.scheme import IOB2 as StrictIOB2
        from seqeval.scheme import IOBES as StrictIOBES

        options = {"mode": "strict", "scheme": StrictIOBES if scheme in (BIOES, BILOU) else StrictIOB2}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = classification_report(gold, predicted, output_dict=True, zero_division=0, **options)
    except (KeyError, ValueError) as exc:
        raise UserError(f"--strict: the tags are not valid {scheme or IOB2} ({exc}); "
                        f"drop --strict for conlleval's scoring") from None
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    metrics = {"precision": float(micro["precision"]), "recall": float(micro["recall"]),
               "f1": float(micro["f1-score"]), **metrics}
    for kind, row in report.items():
        if kind.endswith(" avg"):
            continue
        metrics[f"{kind}_precision"] = float(row["precision"])
        metrics[f"{kind}_recall"] = float(row["recall"])
        metrics[f"{kind}_f1"] = float(row["f1-score"])
    return metrics
