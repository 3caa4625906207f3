"""Token tagging (NER, chunking, POS): CoNLL-2003 and any CoNLL-column file.

Raw examples have the columns `tokens` (words), `tags` (gold tags, IOB1 already converted to
IOB2; absent for `predict`) and `sentence_id` (position in the split). Features are windows of
sub-tokens (`training/word_windows.py`); every word is predicted exactly once, at word level, and
the metrics are computed from the very tags written to `predictions_<split>.conll`.
Model: `ElectraForTokenClassification`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from electra_tasks import modeling
from electra_tasks.data.lines import json_record
from electra_tasks.data.rows import Rows, dataset_from_arrow
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.tagging import flat as flat_tags
from electra_tasks.tasks.tagging.conll import read_conll
from electra_tasks.tasks.tagging.tables import is_tag_table, read_tag_table, sentences_from_lists
from electra_tasks.tasks.tagging import metrics as tag_metrics
from electra_tasks.outputs import atomic_write_text
from electra_tasks.registry import TaskDefinition, register
from electra_tasks.tasks.base import Scored, TaskData, TaskFamily, register_family
from electra_tasks.tasks.tagging.windows import sentence_encodings, sentence_windows, special_tokens

log = logging.getLogger("electra_tasks")

# --data-dir layouts, tried in order: the common one, then the original CoNLL-2003 release
LAYOUTS = (
    {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"},
    {"train": "eng.train", "validation": "eng.testa", "test": "eng.testb"},
)


PREFIX_ORDER = {"B": 0, "I": 1, "E": 2, "L": 2, "S": 3, "U": 3}


def tag_sort_key(tag: str):
    """O first, then by entity type, B before I before E (L) before S (U); other tags alphabetically."""
    prefix, kind = tag_metrics.split_tag(tag)
    if tag == "O":
        return (0, "", 0)
    if kind is not None:
        return (1, kind, PREFIX_ORDER[prefix])
    return (2, tag, 0)


def label_scheme(labels: list[str]) -> str:
    """The scheme a model's label set speaks: plain (not entity tags), BIOES, BILOU or IOB2."""
    parts = [tag_metrics.split_tag(tag) for tag in labels]
    if any(tag != "O" and kind is None for tag, (_, kind) in zip(labels, parts)):
        return tag_metrics.PLAIN
    if any(prefix in ("E", "S") for prefix, _ in parts):
        return tag_metrics.BIOES
    if any(prefix in ("L", "U") for prefix, _ in parts):
        return tag_metrics.BILOU
    return tag_metrics.IOB2


def say_plain_scoring(labels: list[str], source) -> None:
    """A tag set that is not entity tags is scored by token accuracy alone: say so, and name the
    odd tags when they sit beside entity tags (`0` for `O`, a stray `PER`), where F1 was meant."""
    if label_scheme(labels) != tag_metrics.PLAIN:
        return
    entity = [t for t in labels if tag_metrics.split_tag(t)[1] is not None]
    odd = [t for t in labels if t != "O" and tag_metrics.split_tag(t)[1] is None]
    if entity:
        log.warning("%s: tags %s are neither O nor entity tags (B-/I-/E-/S-TYPE) beside entity tags (%s): "
                    "no entity precision/recall/F1, token accuracy only", source, ", ".join(odd[:5]) +
                    (", ..." if len(odd) > 5 else ""), ", ".join(entity[:3]) + (", ..." if len(entity) > 3 else ""))
    else:
        log.info("%s: the tags (%s) are not entity tags (B-/I-/E-/S-TYPE): scored by token accuracy",
                 source, ", ".join(odd[:5]) + (", ..." if len(odd) > 5 else ""))


class TaggingFamily(TaskFamily):
    name = "tagging"
    head = "ElectraForTokenClassification"
    output_names = ("logits",)
    sequence_outputs = ("logits",)

    layouts = LAYOUTS

    # --- data -----------------------------------------------------------------------------
    def read_file(self, path: Path, split, task, opts) -> Rows:
        """(tokens, tags) per sentence from CoNLL columns or a table of token and tag lists; IOB1
        converted to IOB2; the scheme and the documents found kept in `info`."""
        if is_tag_table(path):
            flat, rows, table, documents = read_tag_table(
                path, split=split, tokens_column=opts.tokens_column, tags_column=opts.tags_column,
                label_names=opts.label_names, delimiter=opts.delimiter, encoding=opts.encoding)
            place = lambda i, field=None: table.place(int(rows[i]), field)  # noqa: E731
        else:
            conll = read_conll(path, tag_column=opts.tag_column, encoding=opts.encoding)
            flat, lines, documents = conll.flat, conll.lines, conll.documents
            place = lambda i, field=None: where(path, int(lines[i]), field)  # noqa: E731
        return sentence_rows(flat, place, source=path, documents=documents)

    def read_hub_split(self, task, split, dataset, opts) -> Rows:
        columns = task.spec["hub_columns"]
        names = dataset.features[columns["tags"]].feature.names
        arrow = dataset.with_format("arrow")[:]
        prefix = f"{task.hub_dataset[0]}[{split}]"
        place = lambda i, field=None: f"{prefix}[{i}]" + (f" (field '{field}')" if field else "")  # noqa: E731
        flat, rows, documents = sentences_from_lists(arrow.column(columns["tokens"]), arrow.column(columns["tags"]),
                                                     place=place, source=prefix, token_field=columns["tokens"],
                                                     tag_field=columns["tags"], names=list(names))
        return sentence_rows(flat, lambda i, field=None: place(int(rows[i]), field), source=prefix,
                             documents=documents)

    def examples(self, task, raw, opts, *, for_training, labels=None) -> TaskData:
        import pyarrow.compute as pc

        info: dict = {}
        for split, rows in raw.items():
            if "scheme" in rows.info:
                info.setdefault("schemes", {})[split] = rows.info["scheme"]
                info.setdefault("documents", {})[split] = rows.info["documents"]
        tag_sets = {split: {t for t in pc.unique(pc.list_flatten(rows.arrow("tags"))).to_pylist()}
                    for split, rows in raw.items()}
        if labels:
            label_list = list(labels)
        elif "train" in raw:
            label_list = sorted(tag_sets["train"], key=tag_sort_key)
        else:
            raise UserError(f"task {task.name}: no tag list known; train on tagged data first")
        if len(label_list) < 2:
            raise UserError(f"{opts.train_file or opts.data_dir or 'the training data'}: only one tag "
                            f"({label_list[0]}) in the training data; expected at least two")
        say_plain_scoring(label_list, raw["train"].source if "train" in raw else f"model {opts.model}")
        splits, unseen = {}, {}
        for split, rows in raw.items():
            missing = sorted(tag_sets[split] - set(label_list))
            if missing:
                unseen[split] = missing
                log.warning("%s: tags never seen in training, scored as misses: %s", split, ", ".join(missing))
            splits[split] = _with_sentence_ids(rows.dataset)
        info["counts"] = {split: len(ds) for split, ds in splits.items()}
        info["words"] = {split: int(pc.sum(pc.list_value_length(rows.arrow("tokens"))).as_py() or 0)
                         for split, rows in raw.items()}
        if unseen:
            info["unseen_tags"] = unseen
        return TaskData(splits=splits, labels=label_list, info=info)

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task, model_path, data, opts, *, fine_tuned):
        from transformers import ElectraForTokenClassification

        config = modeling.load_config(model_path, trust_remote_code=opts.trust_remote_code,
                                      num_labels=len(data.labels), id2label=dict(enumerate(data.labels)),
                                      label2id={label: i for i, label in enumerate(data.labels)})
        return modeling.load_model(ElectraForTokenClassification, model_path, config=config,
                                   trust_remote_code=opts.trust_remote_code)

    # --- features -------------------------------------------------------------------------
    def encode(self, batch, tokenizer, data, opts, *, for_training):
        prefix, suffix = special_tokens(tokenizer)
        capacity = int(opts.max_seq_length) - len(prefix) - len(suffix)
        overlap = min(int(opts.doc_stride), capacity - 1) if opts.doc_stride is not None else capacity // 2
        index = {label: i for i, label in enumerate(data.labels)}
        # no all-ones attention mask and no all-zeros segment ids: the collator and the model imply them
        out: dict[str, list] = {"input_ids": [], "length": []}
        out.update({"labels": []} if for_training else {"sentence_id": [], "word_index": []})
        sentences = batch["tokens"]
        unk = tokenizer.unk_token_id
        for i, (ids, word_ids) in enumerate(sentence_encodings(tokenizer, sentences)):
            tag_ids = [index[t] for t in batch["tags"][i]] if for_training else None
            for feature in sentence_windows(ids, word_ids, len(sentences[i]), tag_ids, unk_id=unk, capacity=capacity,
                                            overlap=overlap, prefix=prefix, suffix=suffix,
                                            for_training=for_training):
                ids = feature["input_ids"]
                out["input_ids"].append(ids)
                out["length"].append(len(ids))
                if for_training:
                    out["labels"].append(feature["marks"])
                else:
                    out["sentence_id"].append(batch["sentence_id"][i])
                    out["word_index"].append(feature["marks"])
        return out

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task, raw, features, outputs, data, opts) -> Scored:
        predicted = read_word_tags(raw["tokens"], features["sentence_id"], features["word_index"], outputs[0],
                                   data.labels)
        metrics: dict[str, float] = {}
        if "tags" in raw.column_names:
            metrics = tag_metrics.score(raw["tags"], predicted, strict=opts.strict,
                                        scheme=label_scheme(data.labels))
        return Scored(metrics=metrics, predictions=predicted)

    def write_predictions(self, out_dir, split, raw, scored, data, opts):
        path = Path(out_dir) / f"predictions_{split}.conll"
        atomic_write_text(path, conll_text(raw["tokens"], raw["tags"], scored.predictions))
        return [path]

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines, source, task, data, opts):
        from datasets import Dataset

        rows = [predict_words(line, where(source, number)) for number, line in enumerate(lines, start=1)
                if line.strip()]
        if not rows:
            raise UserError(f"{source}: no input lines; expected one whitespace-tokenized sentence per line")
        return Dataset.from_dict({"tokens": rows, "sentence_id": list(range(len(rows)))})

    def predict_records(self, raw, scored, data):
        records = []
        for words, tags in zip(raw["tokens"], scored.predictions):
            spans = [{"type": kind, "start": start, "end": end, "text": " ".join(words[start:end])}
                     for kind, start, end in tag_metrics.entities(tags)] \
                if label_scheme(data.labels) != tag_metrics.PLAIN else []
            records.append({"text": " ".join(words), "tagged": [[w, t] for w, t in zip(words, tags)],
                            "entities": spans})
        return records


    # --- report ---------------------------------------------------------------------------
    report_plot_names = ("entity_types.png",)

    def report_plots(self, run, title):
        from electra_tasks.tasks.tagging.report import PLOT, entity_types, plot_entity_types

        return [(PLOT, lambda path: plot_entity_types(run, title, path))] if entity_types(run.metrics) else []


PRETOKENIZED = '{"tokens": ["New York", "is", ...]} or ["New York", "is", ...]'


def predict_words(line: str, place: str) -> list[str]:
    """One `predict` input line -> its words: a JSON object with a `tokens` (or `words`) list or a
    `text` string, a JSON list of strings (words may hold spaces), else the line split at whitespace
    (so a sentence that merely starts with `[`, like `[ Reuters ] said`, stays text)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        record = json_record(stripped, place, PRETOKENIZED)
        field = next((name for name in ("tokens", "words") if name in record), None)
        if field is None:
            if isinstance(record.get("text"), str) and record["text"].split():
                return record["text"].split()
            raise UserError(f"{place}: expected a JSON object with a \"tokens\" list (or a \"text\" string), "
                            f"found the keys {', '.join(map(str, record)) or 'none'}")
        words = record[field]
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            raise UserError(f"{place} (field '{field}'): expected a non-empty list of token strings, found "
                            f"{json.dumps(words)[:60]}")
        return words
    if stripped.startswith("["):
        try:
            words = json.loads(stripped)
        except ValueError:
            words = None
        if isinstance(words, list) and words and all(isinstance(w, str) for w in words):
            return words
    return line.split()


def read_word_tags(sentences, sentence_ids, word_indexes, logits, labels: list[str]) -> list[list[str]]:
    """Per sentence, one predicted tag per word, read where `word_index` marks the word."""
    predicted: list[list[str | None]] = [[None] * len(words) for words in sentences]
    for sentence, marks, scores in zip(sentence_ids, word_indexes, logits):
        best = np.asarray(scores).argmax(axis=-1)
        for position, word in enumerate(marks):
            if word < 0:
                continue
            if predicted[sentence][word] is not None:
                raise RuntimeError(f"sentence {sentence}: word {word} predicted twice")
            predicted[sentence][word] = labels[int(best[position])]
    for sentence, tags in enumerate(predicted):
        if any(t is None for t in tags):
            raise RuntimeError(f"sentence {sentence}: word {tags.index(None)} got no prediction")
    return predicted  # type: ignore[return-value]


def conll_text(sentences, gold, predicted) -> str:
    """`token gold predicted` per line, a blank line after each sentence (conlleval's input).

    conlleval wants the same number of space-separated fields on every line, so a token with
    spaces inside (possible in tab-separated input) is written with `_` in their place, and a
    token with nothing visible but whitespace (an empty or a no-break-space token of a table) as `_`.
    """
    lines = []
    for words, gold_tags, tags in zip(sentences, gold, predicted):
        for word, g, p in zip(words, gold_tags, tags):
            lines.append(f"{'_'.join(word.split()) or '_'} {g} {p}\n")
        lines.append("\n")
    return "".join(lines)


def sentence_rows(flat, place, *, source, documents: int) -> Rows:
    """Sentences -> raw rows (tokens, tags), IOB1 converted to IOB2 (logged), scheme in `info`."""
    import pyarrow as pa

    scheme = flat_tags.detect_scheme(flat)
    if scheme == tag_metrics.IOB1:
        flat = flat_tags.iob1_to_iob2(flat)
        log.info("%s: IOB1 tags found, converted to IOB2 for training and scoring", source)
    tokens, tags = flat.list_arrays()
    dataset = dataset_from_arrow(pa.table({"tokens": tokens, "tags": tags}))
    return Rows(dataset, place, source=source, info={"scheme": scheme, "documents": documents})


def _with_sentence_ids(dataset):
    """The split's rows plus `sentence_id` (the position in the split, after any row range)."""
    import numpy as np
    import pyarrow as pa

    table = dataset.with_format("arrow")[:]
    return dataset_from_arrow(table.append_column("sentence_id", pa.array(np.arange(table.num_rows))))


FAMILY = register_family(TaggingFamily())

TAG_METRICS = ("precision", "recall", "f1", "accuracy")

register(
    TaskDefinition(
        name="conll2003",
        family="tagging",
        description="CoNLL-2003 English NER: PER, ORG, LOC, MISC (IOB1 files converted to IOB2)",
        metrics=TAG_METRICS,
        main_metric="f1",
        data_formats="hub eriktks/conll2003; --data-dir with train.txt/valid.txt/test.txt or eng.train/eng.testa/eng.testb",
        hub_dataset=("eriktks/conll2003", None),
        # main holds only the loading script conll2003.py, which datasets >= 4 refuses to run
        spec={"hub_columns": {"tokens": "tokens", "tags": "ner_tags"}, "hub_revision": "refs/convert/parquet"},
    ),
    TaskDefinition(
        name="tagging",
        family="tagging",
        description="Your own CoNLL-column files: token ... tag per line, blank line between sentences",
        metrics=TAG_METRICS,
        main_metric="f1",
        data_formats="CoNLL columns (space/tab; also .gz/.bz2/.xz/.zst; --tag-column N) or tables of token and tag "
                     "lists (jsonl/json/parquet/csv, save_to_disk; --tokens-column --tags-column) via "
                     "--train-file/--validation-file [--test-file] or --data-dir",
        spec={},
    ),
)
