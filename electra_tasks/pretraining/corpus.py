"""The pre-training corpus: text files, folders or a hub dataset, streamed and packed.

Each line is a sentence (or paragraph); a blank line ends a document, and so does the end of a
file or of a hub record. Lines are tokenized in small batches and packed into sequences of
`max_seq_length` tokens with [CLS] A [SEP] B [SEP], following google-research/electra
`build_pretraining_dataset.py` (`ExampleBuilder`). Nothing is held beyond one document and a
bounded shuffle buffer, so memory does not grow with the corpus.

The stream of packed examples depends only on the corpus, the tokenizer and the options, and its
position can be saved with a checkpoint: a resumed run continues exactly where the interrupted one
stopped, without tokenizing the text before that point again.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from electra_tasks.errors import UserError, reason

HUB_PREFIX = "hf:"
TEXT_SUFFIXES = (".txt", ".text", ".raw", ".tokens")
DOC_END = None  # sentinel in the line stream: end of a document
_TOKENIZE_BATCH = 256
POSITION_FILE = "corpus_position.json"  # in a checkpoint: where the example stream stands


TABLE_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv", ".tsv")  # one document a record, --text-column
GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class CorpusSource:
    """One input: a local text file (maybe compressed, in `encoding`), a table file whose
    `--text-column` holds one document a record, or a hub dataset `hf:NAME[:CONFIG][@SPLIT]`."""

    path: Path | None = None
    hub_name: str | None = None
    hub_config: str | None = None
    hub_split: str = "train"
    encoding: str = "utf-8"

    @property
    def is_table(self) -> bool:
        from electra_tasks.data.text import format_suffix

        return self.path is not None and format_suffix(self.path) in TABLE_SUFFIXES

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        text = HUB_PREFIX + str(self.hub_name)
        return text + (f":{self.hub_config}" if self.hub_config else "") + f"@{self.hub_split}"


def resolve_corpus(paths: Iterable[str], encoding: str | None = None) -> list[CorpusSource]:
    """Files, globs, folders (their text files, recursively, compressed or not) and hub datasets;
    refuse what is missing. Each text file's encoding is found once here (`file_encoding`)."""
    from electra_tasks.data.text import check_encoding

    forced = check_encoding(encoding)
    files: list[Path] = []
    sources: list[CorpusSource] = []
    given = [str(p) for p in paths]
    if not given:
        raise UserError("--corpus is required: text files, folders of .txt files, or hf:DATASET[:CONFIG]")
    for item in given:
        if item.startswith(HUB_PREFIX):
            sources.append(_hub_source(item))
            continue
        path = Path(item).expanduser()
        if not path.exists() and any(c in item for c in GLOB_CHARACTERS):
            import glob

            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            if not matches:
                raise UserError(f"--corpus {item}: the pattern matches no file")
            for match in matches:
                files.extend(_folder_files(match, item) if match.is_dir() else [match])
            continue
        if not path.exists():
            raise UserError(f"--corpus {item}: no such file or folder")
        files.extend(_folder_files(path, item) if path.is_dir() else [path])
    for file in files:
        is_table = CorpusSource(path=file).is_table
        sources.append(CorpusSource(path=file, encoding="utf-8" if is_table else file_encoding(file, forced)))
    return sources


def _folder_files(path: Path, item: str) -> list[Path]:
    from electra_tasks.data.text import format_suffix

    found = sorted(p for p in path.rglob("*") if p.is_file() and format_suffix(p) in TEXT_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not found:
        raise UserError(f"--corpus {item}: folder holds no text files ({', '.join(TEXT_SUFFIXES)}, "
                        f"also compressed)")
    return found


def file_encoding(path: Path, forced: str | None = None) -> str:
    """UTF-8 when the whole file decodes as UTF-8 (checked streaming, once), else the encoding
    detected on its bytes (a Project Gutenberg file in Latin-1), logged; `--encoding` forces one.
    A binary file, or one no encoding fits, is one error naming the file and line."""
    import codecs

    from electra_tasks.data import repairs
    from electra_tasks.data.text import detect_encoding, open_binary, text_at

    if forced is not None:
        return forced
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, sample, failure = 0, b"", None
    with open_binary(path) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            if b"\x00" in chunk:
                raise UserError(f"--corpus {path}: looks like a binary file; expected text")
            if len(sample) < (4 << 20):
                sample += chunk
            if failure is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    failure = offset + exc.start
                    if len(sample) >= (4 << 20):
                        break
            offset += len(chunk)
    if failure is None:
        return "utf-8"
    detected = detect_encoding(sample)
    if detected is None:
        line = sample[:failure].count(b"\n") + 1
        raise UserError(f"--corpus {path}:{line}: not UTF-8 text and no other encoding fits (byte {failure}); "
                        f"pass --encoding")
    shown = text_at(sample, failure, detected) if failure < len(sample) else "?"
    repairs.note(path, f"not UTF-8; decoded as {detected} (detected; --encoding chooses)", 1,
                 f"byte {failure} is {shown!r}")
    return detected


def _hub_source(item: str) -> CorpusSource:
    spec = item[len(HUB_PREFIX):]
    spec, _, split = spec.partition("@")
    name, _, config = spec.partition(":")
    if not name:
        raise UserError(f"--corpus {item}: expected hf:DATASET[:CONFIG][@SPLIT], e.g. hf:wikitext:wikitext-103-raw-v1")
    return CorpusSource(hub_name=name, hub_config=config or None, hub_split=split or "train")


def iter_lines(sources: list[CorpusSource], text_column: str = "text") -> Iterator[str | None]:
    """Stripped non-blank lines, with `DOC_END` after each document (blank line, file end, record)."""
    for source in sources:
        for items, _ in _read(source, text_column):
            yield from items


def _read(source: CorpusSource, text_column: str, start: int = 0,
          pending: bool = False) -> Iterator[tuple[list[str | None], bool]]:
    """One source from its `start`-th unit on (a file's lines, a hub dataset's records; the end of a file
    counts as one more), skipped without tokenizing: per unit, its items (stripped lines, `DOC_END` where
    a document ends) and whether a document is still open after it (`pending`, carried across units)."""
    if source.is_table:
        for record in itertools.islice(_table_records(source, text_column), start, None):
            lines = [line.strip() for line in record.splitlines() if line.strip()]
            yield (lines + [DOC_END] if lines else []), False
    elif source.path is not None:
        with _open_text(source) as handle:
            for line in itertools.islice(handle, start, None):
                line = line.strip()
                if line:
                    yield [line], True
                else:
                    yield ([DOC_END] if pending else []), False
                pending = bool(line)
        yield ([DOC_END] if pending else []), False
    else:
        for record in itertools.islice(_hub_records(source, text_column), start, None):
            lines = [line.strip() for line in record.splitlines() if line.strip()]
            yield (lines + [DOC_END] if lines else []), False


def _hub_records(source: CorpusSource, text_column: str) -> Iterator[str]:
    from electra_tasks.hub import hub_unreachable

    unreachable = hub_unreachable()
    if unreachable is not None:  # a stream has no cache to fall back on: say so before the client's retries
        raise UserError(f"--corpus {source}: the Hugging Face hub does not answer ({unreachable}); streaming a hub "
                        f"dataset needs it: pass local text files instead")
    try:
        import datasets

        stream = datasets.load_dataset(source.hub_name, source.hub_config, split=source.hub_split, streaming=True)
        iterator = iter(stream)
        first = next(iterator, None)
    except Exception as exc:  # offline, unknown name, bad config: one line
        raise UserError(f"--corpus {source}: could not stream the hub dataset ({reason(exc)})") from None
    if first is None:
        return
    if text_column not in first:
        raise UserError(f"--corpus {source}: no text column '{text_column}'; the columns are: "
                        f"{', '.join(first)} (choose one with --text-column)")
    yield str(first[text_column] or "")
    for record in iterator:
        yield str(record[text_column] or "")


def _open_text(source: CorpusSource):
    """The (decompressed) lines of a text file in its encoding (a byte-order mark dropped)."""
    import io

    from electra_tasks.data.text import open_binary

    encoding = "utf-8-sig" if source.encoding == "utf-8" else source.encoding
    binary = open_binary(source.path)
    if not isinstance(binary, io.IOBase):  # pyarrow's decompressing stream: give it the buffered API
        binary = io.BufferedReader(_RawStream(binary))
    return io.TextIOWrapper(binary, encoding=encoding, newline=None)


class _RawStream(io.RawIOBase):
    def __init__(self, stream):
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.stream.close()
        super().close()


def _table_records(source: CorpusSource, text_column: str) -> Iterator[str]:
    """The `--text-column` of each record of a jsonl/json/parquet/csv/tsv file, one document each."""
    from electra_tasks.data.text import format_suffix

    suffix = format_suffix(source.path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.ParquetFile(str(source.path))
        if text_column not in table.schema_arrow.names:
            raise UserError(f"--corpus {source}: no text column '{text_column}'; the columns are: "
                            f"{', '.join(table.schema_arrow.names)} (choose one with --text-column)")
        for batch in table.iter_batches(columns=[text_column], batch_size=4096):
            yield from (str(value or "") for value in batch.column(0).to_pylist())
        return
    from electra_tasks.data.text import read_text

    text = read_text(source.path)
    if suffix in (".csv", ".tsv"):
        import csv

        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        if text_column not in (reader.fieldnames or []):
            raise UserError(f"--corpus {source}: no text column '{text_column}'; the columns are: "
                            f"{', '.join(reader.fieldnames or [])} (choose one with --text-column)")
        yield from (str(row[text_column] or "") for row in reader)
        return
    def parsed(value: str, number: int):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise UserError(f"--corpus {source.path}:{exc.lineno if suffix == '.json' else number}: broken JSON: "
                            f"{exc.msg}") from None

    if suffix == ".json":
        records = parsed(text, 1)
        records = records.get("data", records) if isinstance(records, dict) else records
        numbered = enumerate(records if isinstance(records, list) else [], start=1)
    else:
        numbered = ((number, parsed(line, number)) for number, line in enumerate(text.splitlines(), start=1)
                    if line.strip())
    for number, record in numbered:
        if not isinstance(record, dict) or text_column not in record:
            raise UserError(f"--corpus {source.path}:{number}: expected a JSON object with a text column "
                            f"'{text_column}' (choose one with --text-column)")
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

    def state(self) -> dict:
        """Everything the next examples depend on (the sentences are never changed in place)."""
        return {"sentences": list(self.sentences), "length": self.length, "target": self.target,
                "rng": self.rng.getstate()}

    def load_state(self, state: dict) -> None:
        self.sentences, self.length, self.target = list(state["sentences"]), state["length"], state["target"]
        self.rng.setstate(_rng_state(state["rng"]))

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
    """Packed examples, pass after pass over the corpus, through a bounded shuffle buffer.

    Pass p reads the sources in an order drawn from (seed, p) and packs and shuffles with generators
    seeded from (seed, p); `passes=None` repeats for ever (training: the Trainer stops at max_steps, so
    batches run on across pass ends). With `resumable`, the stream remembers recent points where its
    whole state is known; `save_position(folder, n)` writes the point after `n` examples and
    `resume_at(folder)` makes the next iteration continue from there.
    """

    def __init__(self, sources: list[CorpusSource], tokenizer, max_seq_length: int, *, seed: int = 0,
                 shuffle_buffer: int = 2000, text_column: str = "text", passes: int | None = 1,
                 resumable: bool = False):
        super().__init__()
        self.sources, self.tokenizer, self.max_seq_length = sources, tokenizer, int(max_seq_length)
        self.seed, self.shuffle_buffer, self.text_column = seed, max(1, int(shuffle_buffer)), text_column
        self.passes, self.resumable = passes, resumable
        self._points: deque[dict] = deque()  # recent points of the stream being iterated, oldest first
        self._start: tuple[dict, int] | None = None  # (point, examples after it) where the next iteration begins

    def examples(self) -> Iterator[dict[str, np.ndarray]]:
        """The first pass's packed examples, unshuffled (for inspection and tests)."""
        return (example for example in self._packed(self._pass_start(0, emitted=0)) if example is not None)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        point, skip = self._start or (self._pass_start(0, emitted=0), 0)
        self._start = None
        self._points.clear()
        return itertools.islice(self._stream(_Cursor(point, self._builder())), skip, None)

    # -- the stream -------------------------------------------------------------------------------------

    def _builder(self, rng: random.Random | None = None) -> ExampleBuilder:
        return ExampleBuilder(self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.max_seq_length,
                              rng or random.Random(0))

    def _pass_start(self, pass_index: int, emitted: int) -> dict:
        """The point where pass `pass_index` begins, `emitted` examples into the stream."""
        rng = random.Random(self.seed * 1000003 + pass_index)  # file order, then packing
        order = list(range(len(self.sources)))
        if len(order) > 1:
            rng.shuffle(order)
        return {"emitted": emitted, "pass": pass_index, "order": order, "done": 0, "unit": 0, "pending": False,
                "builder": self._builder(rng).state(),
                "shuffle_rng": random.Random(self.seed * 7919 + pass_index + 1).getstate(),
                "buffer": [], "draining": False}

    def _stream(self, cursor: _Cursor) -> Iterator[dict[str, np.ndarray]]:
        self._remember(cursor)
        while self.passes is None or cursor.pass_index < self.passes:
            if not cursor.draining:
                for example in self._packed_from(cursor):
                    if example is None:  # the whole state is in `cursor` here
                        self._remember(cursor)
                    elif len(cursor.buffer) < self.shuffle_buffer:
                        cursor.buffer.append(example)
                    else:
                        index = cursor.shuffle_rng.randrange(len(cursor.buffer))
                        example, cursor.buffer[index] = cursor.buffer[index], example
                        cursor.emitted += 1
                        yield example
                cursor.shuffle_rng.shuffle(cursor.buffer)
                cursor.draining = True
                self._remember(cursor)
            if not cursor.buffer:
                return  # the buffer holds a pass's last examples: this one had none (no tokens in the corpus)
            for example in cursor.buffer:
                cursor.emitted += 1
                yield example
            cursor = _Cursor(self._pass_start(cursor.pass_index + 1, cursor.emitted), self._builder())
            self._remember(cursor)

    def _packed(self, point: dict) -> Iterator[dict[str, np.ndarray] | None]:
        return self._packed_from(_Cursor(point, self._builder()))

    def _packed_from(self, cursor: _Cursor) -> Iterator[dict[str, np.ndarray] | None]:
        """The rest of this pass, packed; None wherever nothing is pending outside `cursor` (between units)."""
        lines: list[str] = []
        since_point = 0
        while cursor.done < len(cursor.order):
            source = self.sources[cursor.order[cursor.done]]
            for items, pending in _read(source, self.text_column, cursor.unit, cursor.pending):
                cursor.unit, cursor.pending = cursor.unit + 1, pending
                for item in items:
                    if item is DOC_END:
                        yield from self._pack(lines, cursor.builder)
                        lines = []
                        yield from self._pack_end(cursor.builder)
                    else:
                        lines.append(item)
                        since_point += 1
                        if len(lines) >= _TOKENIZE_BATCH:
                            yield from self._pack(lines, cursor.builder)
                            lines = []
                if not lines and since_point >= _TOKENIZE_BATCH:
                    since_point = 0
                    yield None
            cursor.done, cursor.unit, cursor.pending = cursor.done + 1, 0, False
        yield from self._pack(lines, cursor.builder)
        yield from self._pack_end(cursor.builder)

    def _pack(self, lines: list[str], builder: ExampleBuilder) -> Iterator[dict[str, np.ndarray]]:
        if lines:
            for ids in self.tokenizer(lines, add_special_tokens=False)["input_ids"]:
                if ids:
                    for input_ids, types in builder.add(ids):
                        yield {"input_ids": input_ids, "token_type_ids": types}

    @staticmethod
    def _pack_end(builder: ExampleBuilder) -> Iterator[dict[str, np.ndarray]]:
        for input_ids, types in builder.add(None):
            yield {"input_ids": input_ids, "token_type_ids": types}

    # -- positions ----------------------------------------------------------------------------------------

    def _remember(self, cursor: _Cursor) -> None:
        if self.resumable:
            self._points.append(cursor.point())

    def forget_before(self, examples: int) -> None:
        """The consumer has taken `examples` examples: drop the points no save can need any more."""
        while len(self._points) > 1 and self._points[1]["emitted"] <= examples:
            self._points.popleft()

    def _fingerprint(self) -> dict[str, Any]:
        """What the stream depends on, besides the text itself (a different one cannot resume the position)."""
        names = hashlib.sha256("\n".join(str(source) for source in self.sources).encode("utf-8")).hexdigest()
        return {"corpus": f"{len(self.sources)} sources, sha256 of their names {names[:16]}", "seed": self.seed,
                "max_seq_length": self.max_seq_length, "shuffle_buffer": self.shuffle_buffer,
                "vocabulary_size": len(self.tokenizer)}

    def save_position(self, folder: Path, examples: int) -> None:
        """Write where the stream stands after its first `examples` examples into `folder` (a checkpoint)."""
        from electra_tasks.outputs import atomic_write_json

        if not self.resumable:
            raise AssertionError("save_position needs PackedCorpus(resumable=True)")
        known = [point for point in self._points if point["emitted"] <= examples]
        if not known:
            raise AssertionError(f"no stream position at or before example {examples} is remembered")
        point = known[-1]
        buffer = [[e["input_ids"].tolist(), e["token_type_ids"].tolist()] for e in point["buffer"]]
        atomic_write_json(Path(folder) / POSITION_FILE, {
            **self._fingerprint(), "examples": examples, "skip": examples - point["emitted"],
            "point": {**point, "buffer": buffer}}, indent=None)

    def resume_at(self, folder: Path) -> int:
        """The next iteration continues where `save_position` left the stream; returns the examples before it."""
        saved = json.loads((Path(folder) / POSITION_FILE).read_text(encoding="utf-8"))
        for key, value in self._fingerprint().items():
            if saved.get(key) != value:
                raise UserError(f"--resume: {folder} was saved with another {key.replace('_', ' ')} ({saved.get(key)}"
                                f", now {value}); resume with the options the run started with")
        point = saved["point"]
        point["buffer"] = [{"input_ids": np.asarray(ids, dtype=np.int32), "token_type_ids": np.asarray(types, dtype=np.int8)}
                           for ids, types in point["buffer"]]
        self._start = (point, int(saved["skip"]))
        return int(saved["examples"])


def _rng_state(state) -> tuple:
    """A `random.Random` state as `getstate` gives it, also from its JSON form (lists)."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


class _Cursor:
    """The live state of the stream between two examples, made from a point; `point()` copies it back out."""

    def __init__(self, point: dict, builder: ExampleBuilder):
        self.emitted, self.pass_index, self.order = point["emitted"], point["pass"], list(point["order"])
        self.done, self.unit, self.pending = point["done"], point["unit"], point["pending"]
        self.builder = builder
        builder.load_state(point["builder"])
        self.shuffle_rng = random.Random()
        self.shuffle_rng.setstate(_rng_state(point["shuffle_rng"]))
        self.buffer, self.draining = list(point["buffer"]), point["draining"]

    def point(self) -> dict:
        return {"emitted": self.emitted, "pass": self.pass_index, "order": list(self.order), "done": self.done,
                "unit": self.unit, "pending": self.pending, "builder": self.builder.state(),
                "shuffle_rng": self.shuffle_rng.getstate(), "buffer": list(self.buffer), "draining": self.draining}


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
