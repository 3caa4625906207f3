"""Multiple choice: a context, an optional question, two or more choices; pick the right one.

Raw examples have the columns `id`, `context`, `question` ("" when there is none), `choices`
(texts), `choice_labels` (each choice's own label, e.g. "A".."E", or [] when the data has none)
and `label` (the right choice's index, -1 where the split has no gold answer). Each choice is
encoded as the pair (context [+ question], choice) — or (context, question + choice) where the
task says the question begins the choice, as SWAG's `sent2` does — the way transformers'
`run_swag.py` does. Examples may have different numbers of choices: the collator pads them and
masks the padded ones. Model: `ElectraForMultipleChoice`. Metric: accuracy.

A task is declarative (`spec`): which columns hold context, question, choices, label and id,
whether the question joins the context or the choice, and question templates (COPA's "cause"
becomes "What was the cause?"). The user's options override the spec's columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from electra_tasks import modeling
from electra_tasks.data.lines import json_record
from electra_tasks.data.tables import read_table
from electra_tasks.errors import UserError, where
from electra_tasks.outputs import atomic_write_jsonl
from electra_tasks.registry import TaskDefinition, register
from electra_tasks.tasks.base import Scored, TaskData, TaskFamily, register_family
from electra_tasks.tasks.multiple_choice.collate import ChoiceCollator
from electra_tasks.tasks.multiple_choice.labels import (NO_LABEL, check_label_base, expected, gold_index, is_missing,
                                                        resolve, resolve_undecided)
from electra_tasks.tasks.multiple_choice.model import ElectraForMaskedMultipleChoice
from electra_tasks.training.features import note_truncated


# --- reading: one record (a table row or a JSON object) -> one raw example --------------------
def lookup(record: dict, path: str) -> Any:
    """A field by name, or by dotted path into nested JSON objects (`question.stem`)."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def has_field(record: dict, path: str) -> bool:
    try:
        lookup(record, path)
        return True
    except KeyError:
        return False


def columns_of(task: TaskDefinition, opts) -> dict[str, Any]:
    """The columns to read: the user's options over the task's spec."""
    spec = task.spec
    choice_columns = opts.choice_columns.split(",") if opts.choice_columns else spec.get("choice_columns")
    return {
        "context": opts.context_column or spec.get("context", "context"),
        "question": opts.question_column or spec.get("question", "question"),
        "question_given": bool(opts.question_column or spec.get("question")),
        "choice_columns": [c.strip() for c in choice_columns] if choice_columns else None,
        "choices": opts.choices_column or spec.get("choices", "choices"),
        "label": opts.label_column or spec.get("label", "label"),
        "id": opts.id_column or spec.get("id"),
    }


def text_field(record: dict, path: str, place: str) -> str:
    try:
        value = lookup(record, path)
    except KeyError:
        value = None
    if value is None:  # absent, or null (a JSON table fills keys a record lacks with null)
        present = [str(k) for k, v in record.items() if v is not None]
        raise UserError(f"{place}: missing column '{path}'; the record has {', '.join(present)}")
    if not isinstance(value, str):
        raise UserError(f"{where(place, None, path)}: expected text, found {shown(value)}")
    return value


def shown(value: Any, width: int = 80) -> str:
    """A value as JSON, cut to `width` characters (a RACE record's list of questions is long)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def read_choices(record: dict, columns: dict[str, Any], place: str) -> tuple[list[str], list[str]]:
    """The choices' texts and (where the data names them) their labels."""
    if columns["choice_columns"]:
        texts = [text_field(record, column, place) for column in columns["choice_columns"]]
        return texts, []
    path = columns["choices"]
    try:
        items = lookup(record, path)
    except KeyError:
        raise UserError(f"{place}: missing column '{path}' (the choices); pass --choices-column or "
                        f"--choice-columns a,b,c") from None
    if isinstance(items, str):  # a CSV cell holding a JSON list
        try:
            items = json.loads(items)
        except json.JSONDecodeError:
            raise UserError(f"{where(place, None, path)}: expected a list of choices, found text") from None
    if isinstance(items, dict) and isinstance(items.get("text"), list):  # the hub's {text: [...], label: [...]}
        items = [{"text": t, "label": lab} for t, lab in zip(items["text"], items.get("label") or [None] * 99)]
    if not isinstance(items, list):
        raise UserError(f"{where(place, None, path)}: expected a list of choices, found {json.dumps(items)}")
    texts, labels = [], []
    for n, item in enumerate(items):
        if isinstance(item, dict):
            text, label = item.get("text"), item.get("label")
            if label is not None:
                labels.append(str(label))
        else:
            text = item
        if not isinstance(text, str):
            raise UserError(f"{where(place, None, path)}: choice {n + 1} is {json.dumps(item)}; expected a string "
                            f"or an object with \"text\"")
        texts.append(text)
    if labels and len(labels) != len(texts):
        raise UserError(f"{where(place, None, path)}: some choices have a \"label\" and some do not")
    return texts, labels


def read_example(record: dict, number: int, place: str, task: TaskDefinition, columns: dict[str, Any],
                 *, labelled: bool | None) -> dict:
    """One validated raw example; `labelled` None: a label is read where the record has one."""
    context = text_field(record, columns["context"], place)
    question = ""
    if columns["question_given"]:
        question = text_field(record, columns["question"], place)
    elif isinstance(record.get(columns["question"]), str):  # the generic task's guess: a text "question"
        question = record[columns["question"]]
    templates = task.spec.get("question_templates")
    if templates and question:
        if question not in templates:
            raise UserError(f"{where(place, None, columns['question'])}: '{question}'; expected one of "
                            f"{', '.join(templates)}")
        question = templates[question]
    choices, choice_labels = read_choices(record, columns, place)
    if len(choices) < 2:
        raise UserError(f"{place}: {len(choices)} choice(s); expected at least two")
    for n, choice in enumerate(choices):
        if not choice.strip():
            raise UserError(f"{place}: choice {n + 1} is empty; expected text")
    label, label_number, label_place = NO_LABEL, None, where(place, None, columns["label"])
    if labelled is not False and has_field(record, columns["label"]):
        value = lookup(record, columns["label"])
        if labelled and is_missing(value):
            raise UserError(f"{label_place}: missing label; expected {expected(len(choices), choice_labels)} "
                            f"(a file without answers is a --test-file)")
        label, label_number = gold_index(value, choice_labels, len(choices), label_place)
    elif labelled:
        raise UserError(f"{place}: missing column '{columns['label']}' (the right choice); pass --label-column")
    example_id = record.get(columns["id"]) if columns["id"] and columns["id"] in record else number
    return {"id": str(example_id), "context": context, "question": question, "choices": choices,
            "choice_labels": choice_labels, "label": label, "_number": label_number, "_place": label_place,
            "_row": place}


def per_question(record: dict, columns: dict[str, Any], place: str) -> list[tuple[dict, int | None]]:
    """A RACE-style record (one article; lists of questions, of choice lists and of answers) as one
    record per question, numbered; any other record as itself."""
    path = columns["question"]
    if not columns["question_given"] or not has_field(record, path) or not isinstance(lookup(record, path), list):
        return [(record, None)]
    questions = lookup(record, path)
    try:
        choice_lists = lookup(record, columns["choices"])
    except KeyError:
        choice_lists = None
    if columns["choice_columns"] or not isinstance(choice_lists, list) or len(choice_lists) != len(questions):
        raise UserError(f"{where(place, None, path)}: a list of {len(questions)} questions, so --choices-column "
                        f"must hold one list of choices per question (RACE: --choices-column options "
                        f"--label-column answers)")
    answers = lookup(record, columns["label"]) if has_field(record, columns["label"]) else None
    if answers is not None and (not isinstance(answers, list) or len(answers) != len(questions)):
        raise UserError(f"{where(place, None, columns['label'])}: {len(questions)} questions, so expected a list of "
                        f"{len(questions)} answers, found {shown(answers)}")
    return [({**record, path: question, columns["choices"]: choice_lists[k],
              **({columns["label"]: answers[k]} if answers is not None else {})}, k)
            for k, question in enumerate(questions)]


def read_records(records, places, task: TaskDefinition, columns: dict[str, Any], source: str, opts,
                 *, labelled: bool | None) -> list[dict]:
    """Validated raw examples of one file or hub split, their numeric labels' base decided over all of it."""
    rows = []
    for i, (record, place) in enumerate(zip(records, places)):
        for one, k in per_question(record, columns, place):
            row = read_example(one, i, place, task, columns, labelled=labelled)
            if k is not None:
                row["id"] = f"{row['id']}-{k}"
            row["_source"] = source
            rows.append(row)
    resolve(rows, check_label_base(opts.label_base))
    return rows


def to_dataset(rows: list[dict]):
    from datasets import Dataset, Features, List, Value

    rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]

    features = Features({"id": Value("string"), "context": Value("string"), "question": Value("string"),
                         "choices": List(Value("string")), "choice_labels": List(Value("string")),
                         "label": Value("int64")})
    return Dataset.from_list(rows, features=features)


class MultipleChoiceFamily(TaskFamily):
    name = "multiple_choice"
    head = "ElectraForMultipleChoice"
    layouts = ({"train": ("train.jsonl", "train.csv", "train.json", "train.tsv"),
                "validation": ("val.jsonl", "dev.jsonl", "validation.jsonl", "val.csv", "dev.csv", "valid.csv",
                               "validation.csv", "dev.json", "val.json", "dev.tsv"),
                "test": ("test.jsonl", "test.csv", "test.json", "test.tsv")},)

    # --- data -----------------------------------------------------------------------------
    def read_file(self, path: Path, split, task, opts) -> list[dict]:
        table = read_table(path, delimiter=opts.delimiter, encoding=opts.encoding, split=split)
        columns = columns_of(task, opts)
        if columns["id"] is None:
            columns["id"] = next((c for c in task.spec.get("id_candidates", ("id", "idx")) if c in table.columns), None)
        labelled = None if split.startswith("test") else True
        records = (dict(zip(table.columns, row)) for row in table.rows)
        return read_records(records, [where(path, line) for line in table.lines], task, columns, str(path), opts,
                            labelled=labelled)

    def read_hub_split(self, task, split, dataset, opts) -> list[dict]:
        columns = columns_of(task, opts)
        path, name = task.hub_dataset
        source = f"{path}/{name}[{split}]"
        return read_records(dataset, [f"{source}[{i}]" for i in range(len(dataset))], task, columns, source, opts,
                            labelled=None)

    def examples(self, task, raw, opts, *, for_training, labels=None) -> TaskData:
        resolve_undecided(raw)
        for split, rows in raw.items():
            missing = next((r for r in rows if r["label"] == NO_LABEL), None)
            if missing is None or split.startswith("test"):
                continue
            if split == "train" and for_training:
                raise UserError(f"{missing['_place']}: no gold label (-1); every training example needs one")
            if any(r["label"] != NO_LABEL for r in rows):
                raise UserError(f"{missing['_place']}: no gold label (-1) while other {split} examples have one; "
                                f"accuracy needs the label of every example")
        splits = {split: to_dataset(rows) for split, rows in raw.items()}
        counts = {split: {"examples": len(rows), "choices": sorted({len(r["choices"]) for r in rows})}
                  for split, rows in raw.items()}
        train = raw.get("train") or []
        return TaskData(splits=splits, labels=None,
                        info={"counts": counts, "question_in_choice": bool(task.spec.get("question_in_choice")),
                              "label_base": train[0].get("_base") if train else None})

    def model_annotations(self, task, data, metrics):
        # numeric labels counted from 0 or 1 in training: an undecided file in eval/predict follows it
        base = data.info.get("label_base")
        return {} if base is None else {"label_base": int(base)}

    def model_options(self, annotations):
        base = annotations.get("label_base")
        return {} if base is None else {"label_base": str(base)}

    def labels_from_model(self, config):
        return None

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task, model_path, data, opts, *, fine_tuned):
        config = modeling.load_config(model_path, trust_remote_code=opts.trust_remote_code)
        return modeling.load_model(ElectraForMaskedMultipleChoice, model_path, config=config,
                                   trust_remote_code=opts.trust_remote_code)

    # examples x choices x tokens; choice_mask marks the real choices of each example
    onnx_inputs = {"input_ids": {0: "batch", 1: "choices", 2: "sequence"},
                   "attention_mask": {0: "batch", 1: "choices", 2: "sequence"},
                   "token_type_ids": {0: "batch", 1: "choices", 2: "sequence"},
                   "choice_mask": {0: "batch", 1: "choices"}}

    def onnx_outputs(self):
        return {"logits": {0: "batch", 1: "choices"}}

    def onnx_example_features(self, tokenizer):
        """An example with 3 choices and one with 2 (a padded choice), of different lengths."""
        rows = []
        for context, choices in (("a b c d e", ["x y z", "x", "y z"]), ("a b", ["x y", "z"])):
            encoded = tokenizer([context] * len(choices), choices)
            rows.append({key: list(encoded[key]) for key in encoded.keys()})
        return rows

    def collator(self, tokenizer):
        return ChoiceCollator(tokenizer.pad_token_id, tokenizer("", add_special_tokens=True)["input_ids"])

    # --- features -------------------------------------------------------------------------
    def encode(self, batch, tokenizer, data, opts, *, for_training):
        question_in_choice = bool(data.info.get("question_in_choice"))
        firsts, seconds, owners = [], [], []
        for i, (context, question, choices) in enumerate(zip(batch["context"], batch["question"], batch["choices"])):
            for choice in choices:
                if question and question_in_choice:
                    firsts.append(context)
                    seconds.append(f"{question} {choice}")
                else:
                    firsts.append(f"{context} {question}".strip() if question else context)
                    seconds.append(choice)
                owners.append(i)
        encoded = tokenizer(firsts, seconds, truncation=True, max_length=int(opts.max_seq_length))
        note_truncated(encoded, int(opts.max_seq_length), what="context + choice inputs")
        out: dict[str, list] = {key: [[] for _ in batch["choices"]] for key in encoded.keys()}
        for row, owner in enumerate(owners):
            for key in encoded.keys():
                out[key][owner].append(encoded[key][row])
        out["length"] = [sum(len(ids) for ids in rows) for rows in out["input_ids"]]
        if for_training:
            out["labels"] = list(batch["label"])
        return out

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task, raw, features, outputs, data, opts) -> Scored:
        choice_counts = [len(c) for c in raw["choices"]]
        probabilities = []
        for logits, count in zip(outputs[0], choice_counts):
            valid = np.asarray(logits[:count], dtype=np.float64)
            shifted = np.exp(valid - valid.max())
            probabilities.append(shifted / shifted.sum())
        predicted = [int(p.argmax()) for p in probabilities]
        gold = list(raw["label"])
        metrics: dict[str, float] = {}
        if gold and all(g != NO_LABEL for g in gold):
            metrics["accuracy"] = float(np.mean([p == g for p, g in zip(predicted, gold)]))
        return Scored(metrics=metrics, predictions={"indices": predicted, "probabilities": probabilities})

    def write_predictions(self, out_dir, split, raw, scored, data, opts):
        path = Path(out_dir) / f"predictions_{split}.jsonl"
        atomic_write_jsonl(path, self.predict_records(raw, scored, data))
        return [path]

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines, source, task, data, opts):
        data.info["question_in_choice"] = bool(task.spec.get("question_in_choice"))
        columns = columns_of(task, opts)
        generic = {**columns, "context": "context", "question": "question", "question_given": False,
                   "choice_columns": None, "choices": "choices", "id": "id"}
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = json_record(line, where(source, number), "an object with a context and its choices")
            own = columns if has_field(record, columns["context"]) else generic
            rows.append(read_example(record, len(rows), where(source, number), task,
                                     {**own, "id": own["id"] or "id"}, labelled=False))
        if not rows:
            raise UserError(f"{source}: no input lines; expected one JSON object per line, e.g. "
                            f"{{\"context\": \"...\", \"choices\": [\"...\", \"...\"]}}")
        return to_dataset(rows)

    def predict_records(self, raw, scored, data):
        records = []
        for i, example_id in enumerate(raw["id"]):
            index = scored.predictions["indices"][i]
            labels = raw["choice_labels"][i]
            record = {"id": example_id, "prediction": index, "choice": raw["choices"][i][index],
                      "scores": [round(float(p), 6) for p in scored.predictions["probabilities"][i]]}
            if labels:
                record["label"] = labels[index]
            records.append(record)
        return records


FAMILY = register_family(MultipleChoiceFamily())

register(
    TaskDefinition(
        name="swag",
        family="multiple_choice",
        description="SWAG: pick the ending of a video-caption sentence (4 choices)",
        metrics=("accuracy",), main_metric="accuracy",
        data_formats="hub allenai/swag regular; --data-dir or files in the original CSV layout "
                     "(train.csv/val.csv/test.csv)",
        hub_dataset=("allenai/swag", "regular"),
        spec={"context": "sent1", "question": "sent2", "question_in_choice": True,
              "choice_columns": ["ending0", "ending1", "ending2", "ending3"], "label": "label",
              "id_candidates": ("", "fold-ind", "id"),
              "files": {"train": "train.csv", "validation": "val.csv", "test": "test.csv"}},
    ),
    TaskDefinition(
        name="copa",
        family="multiple_choice",
        description="COPA (SuperGLUE): the more plausible cause or effect of a premise (2 choices)",
        metrics=("accuracy",), main_metric="accuracy",
        data_formats="SuperGLUE COPA JSON Lines (--data-dir: train.jsonl/val.jsonl/test.jsonl)",
        spec={"context": "premise", "question": "question", "choice_columns": ["choice1", "choice2"],
              "label": "label", "id": "idx",
              "question_templates": {"cause": "What was the cause?", "effect": "What was the effect?"},
              "files": {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}},
    ),
    TaskDefinition(
        name="multiple-choice",
        family="multiple_choice",
        description="Your own multiple-choice data: a context, an optional question, two or more choices",
        metrics=("accuracy",), main_metric="accuracy",
        data_formats="csv/tsv/json/jsonl via --train-file/--validation-file [--test-file]; --context-column, "
                     "--question-column, --choice-columns a,b,c or --choices-column, --label-column",
        spec={},
    ),
)
