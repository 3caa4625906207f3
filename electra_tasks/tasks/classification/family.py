"""Sentence and sentence-pair classification (and regression): every GLUE task and the user's own.

Raw examples have the columns `text`, `text_pair` (pairs only), `label` (a label string, a float
for regression, or None where the split has no gold labels) and `index` (the id written to the
prediction file). Model: `ElectraForSequenceClassification`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from electra_tasks import modeling
from electra_tasks.data.lines import json_record
from electra_tasks.data.rows import Rows, first_true
from electra_tasks.data.tables import is_saved_dataset, read_table
from electra_tasks.data.text import format_suffix
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.classification import metrics as glue_metrics
from electra_tasks.tasks.classification.folders import read_class_folders
from electra_tasks.tasks.classification.lines import LINE_FORMATS, read_label_lines
from electra_tasks.tasks.classification.read import as_text, joined_label, rows_from_hub, rows_from_table
from electra_tasks.options import RunOptions
from electra_tasks.outputs import atomic_write_text
from electra_tasks.registry import TaskDefinition, register
from electra_tasks.tasks.base import Scored, TaskData, TaskFamily, register_family
from electra_tasks.training.features import note_truncated

log = logging.getLogger("electra_tasks")


class ClassificationFamily(TaskFamily):
    name = "classification"
    head = "ElectraForSequenceClassification"

    layouts = ({"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"},)

    # --- data -----------------------------------------------------------------------------
    def examples(self, task, raw, opts, *, for_training, labels=None) -> TaskData:
        regression = bool(task.spec.get("regression") or opts.regression)
        label_list = self._label_list(task, raw, labels, regression, for_training)
        splits = {}
        for split, rows in raw.items():
            if not regression:
                self._check_labels(rows, label_list, split, fixed=bool(task.spec.get("labels")))
            splits[split] = rows.dataset
        if for_training and opts.pair_swap and "train" in splits:
            splits["train"] = _with_swapped_pairs(splits["train"])
        info = {"regression": regression, "counts": {split: len(ds) for split, ds in splits.items()}}
        return TaskData(splits=splits, labels=None if regression else label_list, info=info)

    def read_file(self, path: Path, split: str, task: TaskDefinition, opts: RunOptions) -> Rows:
        """Rows of one file (or class folder) as raw examples; GLUE layouts come from the task's `spec`."""
        glue = task.spec.get("glue")
        is_test = split.startswith("test")
        regression = bool(task.spec.get("regression") or opts.regression)
        if not glue and path.is_dir() and not is_saved_dataset(path):
            return read_class_folders(path, label_names=opts.label_names, encoding=opts.encoding,
                                      labelled=not is_test)
        if not glue and format_suffix(path) in LINE_FORMATS:
            return read_label_lines(path, label_column=opts.label_column, regression=regression,
                                    label_names=opts.label_names, encoding=opts.encoding)
        if glue:
            layout = glue["test" if is_test else "labelled"]
            table = read_table(path, header=layout.get("header", True), fmt=".tsv", encoding=opts.encoding)
            text_col, pair_col = layout["text"], layout.get("pair")
            label_col, index_col = layout.get("label"), layout.get("index")
        else:
            table = read_table(path, header=not opts.no_header, delimiter=opts.delimiter, encoding=opts.encoding,
                               split=split)
            text_col = opts.text_column or _first_present(table.columns, ("sentence", "sentence1", "text"), "sentence")
            pair_col = opts.text_pair_column or (_first_present(table.columns, ("sentence2", "text_pair"), None)
                                                 if text_col in ("sentence1", "text") else None)
            label_col = opts.label_column or "label"
            if is_test and str(label_col) not in table.columns and not str(label_col).isdigit():
                label_col = None
            index_col = opts.id_column or ("idx" if "idx" in table.columns else ("index" if "index" in table.columns else None))
        return rows_from_table(table, text_col=text_col, pair_col=pair_col, label_col=label_col, index_col=index_col,
                               regression=regression, label_names=opts.label_names)

    def read_hub_split(self, task: TaskDefinition, split: str, dataset, opts: RunOptions) -> Rows:
        path, name = task.hub_dataset
        hub = task.spec["hub_columns"]
        return rows_from_hub(dataset, text=hub["text"], pair=hub.get("pair"), labels=task.spec.get("labels") or (),
                             regression=bool(task.spec.get("regression")), place_prefix=f"{path}/{name}[{split}]")

    def _label_list(self, task, raw_splits, labels, regression, for_training) -> list[str] | None:
        if regression:
            return None
        if labels:
            return list(labels)
        if task.spec.get("labels"):
            return list(task.spec["labels"])
        train = raw_splits.get("train")
        if not train:
            raise UserError(f"task {task.name}: no label list known; train on labelled data first")
        if train.info.get("label_names"):  # --label-names, or the file's ClassLabel: in id order
            return list(train.info["label_names"])
        import pyarrow.compute as pc

        found = sorted((v for v in pc.unique(train.arrow("label")).to_pylist() if v is not None), key=_label_sort_key)
        joined = joined_label(found)
        if joined is not None:
            row = first_true(pc.equal(as_text(train.arrow("label")), joined))
            raise UserError(f"{train.place(row)}: label '{joined}' joins labels that also stand alone: multi-label "
                            f"data; this task predicts one label per text (single-label)")
        if len(found) < 2:
            raise UserError(f"{train.source}: only one label ({found[0] if found else 'none'}) in the "
                            f"training data; expected at least two (or --regression for scores)")
        return found

    def _check_labels(self, rows: Rows, label_list: list[str], split: str, fixed: bool) -> None:
        """Labels outside the ones the model predicts: an error where the task fixes its label list
        (bad data) or in the training split; in other splits of a learned list, counted and scored
        as misses."""
        import pyarrow as pa
        import pyarrow.compute as pc

        gold = as_text(rows.arrow("label"))
        unknown = pc.and_(pc.invert(pc.is_null(gold)), pc.invert(pc.is_in(gold, value_set=pa.array(label_list))))
        bad = first_true(unknown)
        if bad is None:
            return
        if fixed or split == "train":
            raise UserError(f"{rows.place(bad)}: label '{gold[bad].as_py()}' is not one of the task's labels; "
                            f"expected one of {', '.join(label_list)}")
        unseen = pc.value_counts(pc.filter(gold, unknown)).to_pylist()
        log.warning("%s: %d example(s) have labels never seen in training (%s), scored as misses", split,
                    sum(item["counts"] for item in unseen),
                    ", ".join(f"{item['values']} x{item['counts']}" for item in sorted(unseen, key=lambda i: i["values"])))

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task, model_path, data, opts, *, fine_tuned):
        from transformers import ElectraForSequenceClassification

        if data.labels is None:
            overrides = {"num_labels": 1, "problem_type": "regression"}
        else:
            overrides = {"num_labels": len(data.labels), "problem_type": "single_label_classification",
                         "id2label": dict(enumerate(data.labels)),
                         "label2id": {label: i for i, label in enumerate(data.labels)}}
        config = modeling.load_config(model_path, trust_remote_code=opts.trust_remote_code, **overrides)
        return modeling.load_model(ElectraForSequenceClassification, model_path, config=config,
                                   trust_remote_code=opts.trust_remote_code)

    def labels_from_model(self, config):
        if is_regressor(config):
            return None
        return super().labels_from_model(config)

    def check_model(self, task, config, model_name):
        super().check_model(task, config, model_name)
        made_for = (getattr(config, "electra_tasks", None) or {}).get("task", "another task")
        if task.spec.get("regression") and not is_regressor(config):
            raise UserError(f"--model {model_name}: a classifier ({config.num_labels} labels, made for {made_for}); "
                            f"task {task.name} predicts a score (regression)")
        if task.spec.get("labels") and not task.spec.get("regression"):
            if is_regressor(config):
                raise UserError(f"--model {model_name}: a regression model (one score, made for {made_for}); task "
                                f"{task.name} predicts one of the labels {', '.join(task.spec['labels'])}")
            labels = super().labels_from_model(config) or []
            if sorted(labels) != sorted(task.spec["labels"]):
                raise UserError(f"--model {model_name}: predicts the labels {', '.join(labels)} (made for {made_for}); "
                                f"task {task.name} needs {', '.join(task.spec['labels'])}")

    def model_annotations(self, task, data, metrics):
        train = data.splits.get("train")
        return {"text_pairs": train is not None and "text_pair" in train.column_names}

    # --- features -------------------------------------------------------------------------
    def encode(self, batch, tokenizer, data, opts, *, for_training):
        pair = batch.get("text_pair")
        # no all-ones attention mask (the collator implies it) and no all-zeros segment ids for single
        # sentences: a third of the time and space of a million rows' features
        encoded = tokenizer(batch["text"], pair, truncation=True, max_length=opts.max_seq_length,
                            return_attention_mask=False, return_token_type_ids=pair is not None)
        note_truncated(encoded, opts.max_seq_length)
        encoded = dict(encoded)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        if for_training:
            if data.labels is None:
                encoded["labels"] = [float(v) for v in batch["label"]]
            else:
                index = {label: i for i, label in enumerate(data.labels)}
                encoded["labels"] = [index[str(v)] for v in batch["label"]]
        return encoded

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task, raw, features, outputs, data, opts) -> Scored:
        logits = np.stack(outputs[0]).astype(np.float64)
        if data.labels is None:
            predictions = logits[:, 0].tolist()
            probabilities = None
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            predictions = [data.labels[i] for i in probabilities.argmax(axis=1)]
        gold = raw["label"]
        metrics: dict[str, float] = {}
        if all(g is not None for g in gold):
            names = task.metrics if task.spec.get("glue") or task.hub_dataset else \
                (("pearson", "spearmanr", "mse") if data.labels is None else
                 ("accuracy", "f1") if len(data.labels) == 2 else ("accuracy", "macro_f1"))
            if data.labels is None:
                metrics = glue_metrics.compute(names, [float(g) for g in gold], predictions)
            else:
                positive = positive_label(task, data.labels, opts)
                metrics = {name: (glue_metrics.binary_f1(gold, predictions, positive) if name == "f1"
                                  else glue_metrics.compute([name], gold, predictions)[name]) for name in names}
        return Scored(metrics=metrics, predictions={"labels": predictions, "probabilities": probabilities})

    def write_predictions(self, out_dir, split, raw, scored, data, opts):
        lines = ["index\tprediction"]
        for index, value in zip(raw["index"], scored.predictions["labels"]):
            lines.append(f"{index}\t{value:.3f}" if isinstance(value, float) else f"{index}\t{value}")
        path = Path(out_dir) / f"predictions_{split}.tsv"
        atomic_write_text(path, "\n".join(lines) + "\n")
        return [path]

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines, source, task, data, opts):
        pairs = data.info.get("model", {}).get("text_pairs")  # None: a model from before this was recorded
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            stripped = line.strip()
            if stripped.startswith("{"):
                record = json_record(stripped, where(source, number), "{\"text\": ..., \"text_pair\": ...}")
                text = record.get("text", record.get("sentence", record.get("sentence1")))
                pair = record.get("text_pair", record.get("sentence2"))
                if not isinstance(text, str):
                    raise UserError(f"{where(source, number, 'text')}: expected a JSON object with a \"text\" string")
            elif pairs is False:  # a single-sentence model: a TAB is part of the sentence
                text, pair = line, None
            else:
                text, _, pair = line.rstrip("\n").partition("\t")
                pair = pair or None
            if pairs and pair is None:
                raise UserError(f"{where(source, number)}: one sentence, but this model reads sentence pairs; "
                                f"expected 'sentence<TAB>pair' or {{\"text\": ..., \"text_pair\": ...}}")
            rows.append({"text": text, "text_pair": pair, "label": None, "index": len(rows)})
        if all(r["text_pair"] is None for r in rows):
            for r in rows:
                del r["text_pair"]
        elif any(r["text_pair"] is None for r in rows):
            missing = next(i for i, r in enumerate(rows) if r["text_pair"] is None)
            raise UserError(f"{source}: input {missing + 1} has no second sentence while others do")
        return _to_dataset(rows)

    def predict_records(self, raw, scored, data):
        records = []
        for i, text in enumerate(raw["text"]):
            if data.labels is None:
                records.append({"text": text, "score": float(scored.predictions["labels"][i])})
            else:
                probs = scored.predictions["probabilities"][i]
                records.append({"text": text, "label": scored.predictions["labels"][i],
                                "score": float(probs.max()),
                                "scores": {label: float(p) for label, p in zip(data.labels, probs)}})
            if "text_pair" in raw.column_names:
                records[-1]["text_pair"] = raw["text_pair"][i]
        return records


def positive_label(task, labels: list[str], opts) -> str:
    """Binary F1's positive class: --positive-label, else the task's, else the last of the sorted labels."""
    chosen = opts.positive_label or task.spec.get("positive_label") or labels[-1]
    if chosen not in labels:
        raise UserError(f"--positive-label {chosen}: not a label of this model; expected one of {', '.join(labels)}")
    return chosen


def is_regressor(config) -> bool:
    return getattr(config, "problem_type", None) == "regression" or config.num_labels == 1


def _first_present(columns: list[str], candidates: tuple[str, ...], default):
    return next((c for c in candidates if c in columns), default)


def _label_sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _to_dataset(rows: list[dict]):
    from datasets import Dataset

    clean = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]
    for row in clean:
        row["index"] = str(row["index"])
        if isinstance(row.get("label"), (int,)) and not isinstance(row.get("label"), bool):
            row["label"] = str(row["label"])
    return Dataset.from_list(clean)


def _with_swapped_pairs(dataset):
    """ELECTRA's augmentation for symmetric pair tasks (MRPC, STS-B): add each pair swapped."""
    from datasets import concatenate_datasets

    if "text_pair" not in dataset.column_names:
        raise UserError("--pair-swap needs sentence pairs; this data has single sentences")
    swapped = dataset.map(lambda b: {"text": b["text_pair"], "text_pair": b["text"]}, batched=True)
    return concatenate_datasets([dataset, swapped])


FAMILY = register_family(ClassificationFamily())

register(TaskDefinition(
    name="classification",
    family="classification",
    description="Your own single sentences or pairs with labels (or a regression score)",
    metrics=("accuracy", "f1"),
    main_metric="accuracy",
    data_formats="tsv/csv/json/jsonl/parquet (also .gz/.bz2/.xz/.zst), a save_to_disk folder or a folder of "
                 "class subfolders via --train-file/--validation-file [--test-file]",
    spec={},
))

import electra_tasks.tasks.classification.glue  # noqa: E402,F401  (registers the nine GLUE definitions)
