"""Tokenize once, cache on disk, and say so on the second run.

Features are written as Arrow files keyed by everything that shapes them (the family, the task,
the tokenizer, the relevant options and the raw examples' fingerprint), so a second run of the
same task on the same data loads them instead of tokenizing again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("electra_tasks")


def column_list(dataset, column: str) -> list:
    """A column as a Python list straight from Arrow: a datasets 5 column (`ds[col]`) is lazy and
    iterates row by row, ~0.1 ms a row, seconds for a dev set."""
    return dataset.with_format("arrow")[column].to_pylist()


def column_array(dataset, column: str):
    """An integer column as an int64 numpy array, straight from Arrow (see `column_list`)."""
    import numpy as np

    return np.asarray(dataset.with_format("arrow")[column].to_numpy(), dtype=np.int64)


def note_truncated(encoded, max_length: int, what: str = "inputs") -> None:
    """Count the inputs a fast tokenizer cut to `max_length`; `encode_cached` shows the total once."""
    from electra_tasks.console import notes

    cut = sum(1 for encoding in (getattr(encoded, "encodings", None) or []) if encoding.overflowing)
    notes.add(f"{what} longer than --max-seq-length {max_length} tokens were cut to fit", cut)


def cache_root() -> Path:
    env = os.environ.get("ELECTRA_TASKS_CACHE")
    if env:
        return Path(env)
    from datasets import config

    return Path(config.HF_DATASETS_CACHE) / "electra_tasks_features"


def tokenizer_signature(tokenizer) -> str:
    """A stable hash of the tokenizer's behaviour (its serialized JSON and special tokens).

    The Rust tokenizer's serialization includes the truncation and padding of its last call: left
    in, a split tokenized after another one got a different key (a cache miss every other run).
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        state = json.loads(backend.to_str())
        state.pop("truncation", None)
        state.pop("padding", None)
        text = json.dumps(state, sort_keys=True)
    else:
        text = json.dumps(tokenizer.get_vocab(), sort_keys=True)
    text += json.dumps([tokenizer.__class__.__name__, tokenizer.model_max_length], default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode_cached(raw, encode_fn: Callable[[dict], dict], *, key: dict[str, Any], tokenizer,
                  description: str, remove_columns: bool = True, use_cache: bool = True):
    """`raw.map(encode_fn, batched=True)` with an on-disk cache keyed by `key` and the data."""
    fingerprint = getattr(raw, "_fingerprint", None)
    digest = hashlib.sha256(json.dumps(
        {**key, "tokenizer": tokenizer_signature(tokenizer), "data": fingerprint, "n": len(raw)},
        sort_keys=True, default=str).encode("utf-8")).hexdigest()[:24]
    kwargs: dict[str, Any] = {}
    cached = False
    if use_cache and fingerprint:
        folder = cache_root()
        folder.mkdir(parents=True, exist_ok=True)
        cache_file = folder / f"{digest}.arrow"
        cached = cache_file.exists()
        if cached:
            log.info("%s: tokenized features loaded from cache (%s), tokenization skipped",
                     description, cache_file)
        kwargs = {"cache_file_name": str(cache_file), "load_from_cache_file": True}
    from electra_tasks import console

    with console.phase("tokenizing"), console.Progress(f"tokenizing {description}", total=len(raw),
                                                       unit=" rows", enabled=not cached) as bar:
        tokenized = [0]

        def counted(batch):
            encoded = encode_fn(batch)
            rows = len(next(iter(batch.values()))) if batch else 0
            tokenized[0] += rows
            bar.update(rows)
            return encoded

        started = time.perf_counter()
        features = raw.map(counted, batched=True, remove_columns=raw.column_names if remove_columns else None,
                           desc=f"Tokenizing {description}", new_fingerprint=digest, **kwargs)
    if tokenized[0]:
        elapsed = time.perf_counter() - started
        into = f" into {len(features):,} features" if len(features) != tokenized[0] else ""
        log.info("%s: %s rows tokenized%s in %s", description, f"{tokenized[0]:,}", into,
                 console.format_seconds(elapsed))
    console.notes.flush(description)
    return features
