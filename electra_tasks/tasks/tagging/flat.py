"""Sentences as flat Arrow arrays: every token (and tag) of a split in one array, plus offsets.

A million sentences held as Python lists of strings cost gigabytes; as two string arrays and an
offset array they cost what their text costs. The readers (CoNLL columns, tables, the hub) fill
`Sentences`; the scheme checks (IOB1 or IOB2, BIOES, BILOU, plain tags) and the IOB1 -> IOB2
conversion run over the flat arrays with numpy, with the same rules as `metrics.detect_scheme`
and `metrics.iob1_to_iob2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from electra_tasks.tasks.tagging import metrics as tag_metrics

# a byte-order mark or a zero-width character glued to a token's start or end (or alone on a
# line); inside a token they stay (a zero-width joiner belongs to Persian words and emoji)
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


@dataclass
class Sentences:
    tokens: object  # pyarrow StringArray: every token of every sentence
    tags: object  # pyarrow StringArray, aligned with tokens
    offsets: np.ndarray  # int64, len(sentences) + 1: sentence i is tokens[offsets[i]:offsets[i + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def list_arrays(self):
        """(tokens, tags) as pyarrow ListArrays, one list per sentence."""
        import pyarrow as pa

        offsets = pa.array(self.offsets.astype(np.int32) if self.offsets[-1] < 2**31 else self.offsets)
        make = pa.ListArray.from_arrays if offsets.type == pa.int32() else pa.LargeListArray.from_arrays
        return make(offsets, self.tokens), make(offsets, self.tags)


def tag_codes(tags):
    """(codes per token as int64 numpy, the distinct tags) of a StringArray."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(tags)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64), \
        encoded.dictionary.to_pylist()


def _kinds(names: list[str]):
    parts = [tag_metrics.split_tag(name) for name in names]
    kinds = {kind: i for i, kind in enumerate(sorted({k for _, k in parts if k is not None}))}
    return parts, np.array([kinds[k] if k is not None else -1 for _, k in parts], dtype=np.int64)


def _starts(offsets: np.ndarray, n: int) -> np.ndarray:
    starts = np.zeros(n, dtype=bool)
    begin = offsets[:-1][offsets[:-1] < offsets[1:]]
    starts[begin] = True
    return starts


def _opens_with_i(codes, names, offsets):
    """Per token: an I-X tag that starts an entity (after O, another type, or a sentence start)."""
    parts, kind_of = _kinds(names)
    is_i = np.array([prefix == "I" and kind is not None for prefix, kind in parts], dtype=bool)
    kind = kind_of[codes]
    previous = np.empty_like(kind)
    previous[1:] = kind[:-1]
    if len(previous):
        previous[0] = -1
    previous[_starts(offsets, len(codes))] = -1
    return is_i[codes] & (previous != kind), parts


def detect_scheme(sentences: Sentences) -> str:
    """`metrics.detect_scheme` over flat arrays (the first plain, E-/S- or L-/U- tag decides, as there)."""
    codes, names = tag_codes(sentences.tags)
    if not names:
        return tag_metrics.IOB2
    opens, parts = _opens_with_i(codes, names, sentences.offsets)
    kinds = {tag_metrics.PLAIN: [kind is None and name != "O" for name, (_, kind) in zip(names, parts)],
             tag_metrics.BIOES: [prefix in ("E", "S") and kind is not None for prefix, kind in parts],
             tag_metrics.BILOU: [prefix in ("L", "U") and kind is not None for prefix, kind in parts]}
    first = {scheme: np.flatnonzero(np.array(marks, dtype=bool)[codes]) for scheme, marks in kinds.items()}
    found = {scheme: at[0] for scheme, at in first.items() if len(at)}
    if found:
        return min(found, key=found.get)
    return tag_metrics.IOB1 if opens.any() else tag_metrics.IOB2


def iob1_to_iob2(sentences: Sentences) -> Sentences:
    """`metrics.iob1_to_iob2` over flat arrays: an I-X that starts an entity becomes B-X."""
    import pyarrow as pa

    codes, names = tag_codes(sentences.tags)
    opens, parts = _opens_with_i(codes, names, sentences.offsets)
    if not opens.any():
        return sentences
    extended = list(names)
    as_b = np.arange(len(names))
    for code, (prefix, kind) in enumerate(parts):
        if prefix == "I" and kind is not None:
            name = f"B-{kind}"
            if name not in extended:
                extended.append(name)
            as_b[code] = extended.index(name)
    codes = np.where(opens, as_b[codes], codes)
    tags = pa.array(extended, pa.string()).take(pa.array(codes))
    return Sentences(sentences.tokens, tags, sentences.offsets)
