"""Small, separable toy data sets written on the fly (no hub, no shared data needed)."""

from __future__ import annotations

import random
from pathlib import Path

POSITIVE = "good great fine nice happy love best".split()
NEGATIVE = "bad awful poor sad hate worst".split()
NEUTRAL = "movie film plot actor the a is was very it this".split()


def sentiment_rows(n: int, seed: int) -> list[tuple[str, str]]:
    """Label 1 iff the sentence holds a positive word (each holds exactly one cue word)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.sample(NEUTRAL, rng.randint(2, 5)) + [rng.choice(POSITIVE if label else NEGATIVE)]
        rng.shuffle(words)
        rows.append((" ".join(words), str(label)))
    return rows


def write_sentiment_tsv(path: Path, n: int, seed: int, header: bool = True) -> Path:
    lines = (["sentence\tlabel"] if header else []) + [f"{s}\t{l}" for s, l in sentiment_rows(n, seed)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
