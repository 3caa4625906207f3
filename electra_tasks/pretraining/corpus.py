"""The pre-training corpus: text files, folders or a hub dataset, streamed and packed.

Each line is a sentence (or paragraph); a blank line ends a document, and so does the end of a
file or of a hub record. Lines are tokenized in small batches and packed into sequences of
`max_seq_length` tokens with [CLS] A [SEP] B [SEP], following google-research/electra
`build_pretraining_dataset.py` (`ExampleBuilder`). Nothing is held beyond one document and a
bounded shuffle buffer, so memory does not grow with the corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from electra_tasks.errors import UserError

HUB_PREFIX = "hf:"
TEXT_SUFFIXES = (".txt", ".text", ".raw", ".tokens")
DOC_END = None  # sentinel in the line stream: end of a document
_TOKENIZE_BATCH = 256


@dataclass(frozen=True)
class CorpusSource:
    """One input: a local text file, or a hub dataset `hf:NAME[:CONFIG][@SPLIT]`."""

    path: Path | None = None
    hub_name: str | None = None
    hub_config: str | None = None
    hub_split: str = "train"

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        text = HUB_PREFIX + str(self.hub_name)
        return text + (f":{self.hub_config}" if self.hub_config else "") + f"@{self.hub_split}"


def resolve_corpus(paths: Iterable[str]) -> list[CorpusSource]:
    """Files, folders (their text files, recursively) and hub datasets; refuse what is missing."""
    sources: list[CorpusSource] = []
    given = [str(p) for p in paths]
    if not given:
        raise UserError("--corpus is required: text files, folders of .txt files, or hf:DATASET[:CONFIG]")
    for item in given:
        if item.startswith(HUB_PREFIX):
            sources.append(_hub_source(item))
            continue
        path = Path(item).expanduser()
        if not path.exists():
            raise UserError(f"--corpus {item}: no such file or folder")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                raise UserError(f"--corpus {item}: folder holds no text files ({', '.join(TEXT_SUFFIXES)})")
            sources.extend(CorpusSource(path=f) for f in files)
        else:
            sources.append(CorpusSource(path=path))
    for source in sources:
        if source.path is not None:
            _check_utf8(source.path)
    return sources


def _hub_source(item: str) -> CorpusSource:
    spec = item[len(HUB_PREFIX):]
    spec, _, split = spec.partition("@")
    name, _, config = spec.partition(":")
    if not name:
        raise UserError(f"--corpus {item}: expected hf:DATASET[:CONFIG][@SPLIT], e.g. hf:wikitext:wikitext-103-raw-v1")
    return CorpusSource(hub_name=name, hub_config=config or None, hub_split=split or "train")


def _check_utf8(path: Path) -> None:
    """The first 64 KiB decode as UTF-8 (a binary file is refused before anything is written)."""
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if b"\x00" in head:
        raise UserError(f"--corpus {path}: looks like a binary file; expected UTF-8 text")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 64 KiB boundary
            line = head[: exc.start].count(b"\n") + 1
            raise UserError(f"--corpus {path}:{line}: not UTF-8 text (byte {exc.start})") from None


def iter_lines(sources: list[CorpusSource], text_column: str = "text") -> Iterator[str | None]:
    """Stripped non-blank lines, with `DOC_END` after each document (blank line, file end, record)."""
    for source in sources:
        if source.path is not None:
            with open(source.path, encoding="utf-8-sig", errors="replace") as handle:
                pending = False
                for line in handle:
                    line = line.strip()
                    if line:
                        pending = True
                        yield line
                    elif pending:
                        pending = False
                        yield DOC_END
                if pending:
                    yield DOC_END
        else:
            for record in _hub_records(source, text_column):
                lines = [line.strip() for line in record.splitlines() if line.strip()]
                if lines:
                    yield from lines
                    yield DOC_END


def _hub_records(source: CorpusSource, text_column: str) -> Iterator[str]:
    try:
        import datasets

        stream = datasets.load_dataset(source.hub_name, source.hub_config, split=source.hub_split, streaming=True)
        iterator = iter(stream)
        first = next(iterator, None)
    except Exception as exc:  # offline, unknown name, bad config: one line
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise UserError(f"--corpus {source}: could not stream the hub dataset ({reason})") from None
    if first is None:
        return
    if text_column not in first:
        raise UserError(f"--corpus {source}: no text column '{text_column}'; the columns are: "
                        f"{', '.join(first)} (choose one with --text-column)")
    yield str(first[text_column] or "")
    for record in iterator:
        yield str(record[text_column] or "")


def has_text(sources: list[CorpusSource], text_column: str = "text") -> bool:
    """True as soon as one non-blank line is found (cheap on a large corpus)."""
    return any(line is not DOC_END for line in iter_lines(sources, text_column))


class ExampleBuilder:
    """Sentences in, packed [CLS] A [SEP] B [SEP] sequences out (ELECTRA's ExampleBuilder).

    One change from the original: a sequence is closed when its tokens fill it, and the line that
    overflows continues in the next sequence instead of being cut off (the original drops the
    overflow, up to a third of the text of a paragraph-per-line corpus such as WikiText).
    """

    def __init__(self, cls_id: int, sep_id: int, max_length: int, rng: random.Random):
        self.cls_id, self.sep_id, self.max_length, self.rng = cls_id, sep_id, max_length, rng
        self.sentences: list[list[int]] = []
        self.length = 0
        self.target = max_length

    def add(self, token_ids: list[int] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Add one tokenized line (or None at a document end); returns finished examples."""
        if token_ids is None:
            return [self._create()] if self.length else []
        done = []
        while token_ids:
            room = max(1, self.target - 3 - self.length)
            piece, token_ids = token_ids[:room], token_ids[room:]
            self.sentences.append(piece)
            self.length += len(piece)
            if self.length >= self.target - 3:
                done.append(self._create())
        return done

    def _create(self) -> tuple[np.ndarray, np.ndarray]:
        if self.rng.random() < 0.1:  # sometimes a single segment, as in classification inputs
            first_target = 10**9
        else:
            first_target = (self.target - 3) // 2
        first: list[int] = []
        second: list[int] = []
        for sentence in self.sentences:
            if (not first or len(first) + len(sentence) < first_target
                    or (not second and len(first) < first_target and self.rng.random() < 0.5)):
                first += sentence
            else:
                second += sentence
        first = first[: self.max_length - 2]
        second = second[: max(0, self.max_length - len(first) - 3)]
        self.sentences, self.length = [], 0
        self.target = self.rng.randint(5, self.max_length) if self.rng.random() < 0.05 else self.max_length
        ids = [self.cls_id] + first + [self.sep_id]
        types = [0] * len(ids)
        if second:
            ids += second + [self.sep_id]
            types += [1] * (len(second) + 1)
        return np.asarray(ids, dtype=np.int32), np.asarray(types, dtype=np.int8)


class PackedCorpus(torch.utils.data.IterableDataset):
    """One pass over the corpus per iteration: packed examples through a bounded shuffle buffer."""

    def __init__(self, sources: list[CorpusSource], tokenizer, max_seq_length: int, *, seed: int = 0,
                 shuffle_buffer: int = 2000, text_column: str = "text"):
        super().__init__()
        self.sources, self.tokenizer, self.max_seq_length = sources, tokenizer, int(max_seq_length)
        self.seed, self.shuffle_buffer, self.text_column = seed, max(1, int(shuffle_buffer)), text_column
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer at each pass: a different file order and shuffle each time."""
        self.epoch = int(epoch)

    def _tokenized(self, rng: random.Random) -> Iterator[list[int] | None]:
        sources = list(self.sources)
        if len(sources) > 1:
            rng.shuffle(sources)
        batch: list[str] = []
        for line in iter_lines(sources, self.text_column):
            if line is DOC_END:
                yield from self._encode(batch)
                batch = []
                yield None
            else:
                batch.append(line)
                if len(batch) >= _TOKENIZE_BATCH:
                    yield from self._encode(batch)
                    batch = []
        yield from self._encode(batch)

    def _encode(self, lines: list[str]) -> Iterator[list[int]]:
        if lines:
            for ids in self.tokenizer(lines, add_special_tokens=False)["input_ids"]:
                if ids:
                    yield ids

    def examples(self) -> Iterator[dict[str, np.ndarray]]:
        """Unshuffled packed examples (for inspection and tests)."""
        rng = random.Random(self.seed * 1000003 + self.epoch)
        builder = ExampleBuilder(self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.max_seq_length, rng)
        for ids in self._tokenized(rng):
            for input_ids, types in builder.add(ids):
                yield {"input_ids": input_ids, "token_type_ids": types}
        for input_ids, types in builder.add(None):
            yield {"input_ids": input_ids, "token_type_ids": types}

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        rng = random.Random(self.seed * 7919 + self.epoch + 1)
        buffer: list[dict[str, np.ndarray]] = []
        for example in self.examples():
            if len(buffer) < self.shuffle_buffer:
                buffer.append(example)
                continue
            index = rng.randrange(len(buffer))
            yield buffer[index]
            buffer[index] = example
        rng.shuffle(buffer)
        yield from buffer


class PadCollator:
    """Pad a batch of packed examples to its longest one; attention_mask marks real tokens."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = int(pad_token_id)

    def __call__(self, examples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
        length = max(len(e["input_ids"]) for e in examples)
        ids = torch.full((len(examples), length), self.pad_token_id, dtype=torch.long)
        types = torch.zeros((len(examples), length), dtype=torch.long)
        mask = torch.zeros((len(examples), length), dtype=torch.long)
        for row, example in enumerate(examples):
            n = len(example["input_ids"])
            ids[row, :n] = torch.from_numpy(np.asarray(example["input_ids"], dtype=np.int64))
            types[row, :n] = torch.from_numpy(np.asarray(example["token_type_ids"], dtype=np.int64))
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
