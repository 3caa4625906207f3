"""What a task family supplies to the shared runner.

The runner (`training/runner.py`) is the same for every task: load data, encode, train with the
HF Trainer, predict, decode, score, write. A family says how each step looks for its kind of
task. Families are stateless; everything a run knows travels in `TaskData` and `RunOptions`.
Reading goes through `data.splits.load_splits`: the family reads one file or one hub split into
raw rows, then `examples` validates them and turns them into `datasets` objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from electra_tasks.data.files import Layout
from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import TaskDefinition

log = logging.getLogger("electra_tasks")


@dataclass
class TaskData:
    """Raw examples per split (a `datasets.Dataset` each) plus what the family learned of them."""

    splits: dict[str, Any]  # split name -> datasets.Dataset of raw examples
    labels: list[str] | None = None  # label or tag list (None where the family predicts no labels)
    info: dict[str, Any] = field(default_factory=dict)  # source files, counts, notes for the log

    def eval_splits(self) -> list[str]:
        return [name for name in self.splits if name != "train"]


@dataclass
class Scored:
    """What `TaskFamily.score` returns: official metrics and predictions in the user's terms."""

    metrics: dict[str, float]
    predictions: Any


class TaskFamily:
    """Base class: override what differs. `head` is the transformers class that is fine-tuned."""

    name: str = ""
    head: str = ""  # e.g. "ElectraForSequenceClassification", shown by `electra-tasks tasks`
    output_names: tuple[str, ...] = ("logits",)  # model outputs that `score` decodes
    sequence_outputs: tuple[str, ...] = ()  # those of them with one row per token

    layouts: tuple[Layout, ...] = ()  # --data-dir layouts tried in order (a task's spec["files"] wins)

    # --- data -----------------------------------------------------------------------------
    def load(self, task: TaskDefinition, opts: RunOptions, *, for_training: bool,
             labels: list[str] | None = None) -> TaskData:
        """Read the splits (explicit files, --data-dir or hub), validating every row.

        `labels`: the label list of an already fine-tuned model (eval); gold labels outside it
        are an error. In training the list comes from the task definition or the training data.
        """
        import time

        from electra_tasks import console
        from electra_tasks.data import repairs
        from electra_tasks.data.splits import load_splits

        started = time.perf_counter()
        with console.phase("reading"), console.Progress(f"reading {task.name}", unit=" rows") as bar, \
                repairs.collect() as repaired:  # what the readers repaired, counted (run_config.json "data")
            raw, sources = load_splits(self, task, opts, for_training=for_training, on_rows=bar.update)
            data = self.examples(task, raw, opts, for_training=for_training, labels=labels)
        data.info = {"sources": sources, **data.info, "repairs": repaired}
        counts = ", ".join(f"{split} {len(rows):,}" for split, rows in data.splits.items())
        log.info("%s: read %s examples in %s", task.name, counts,
                 console.format_seconds(time.perf_counter() - started))
        console.notes.flush(task.name)
        return data

    def data_layouts(self, task: TaskDefinition) -> tuple[Layout, ...]:
        return (task.spec["files"],) if task.spec.get("files") else self.layouts

    def read_file(self, path: Path, split: str, task: TaskDefinition, opts: RunOptions):
        """One local file -> its raw rows (a list, or a `datasets.Dataset`), validated as read."""
        raise NotImplementedError

    def read_hub_split(self, task: TaskDefinition, split: str, dataset, opts: RunOptions):
        """One split of the task's hub dataset -> raw rows as `read_file` gives them."""
        raise NotImplementedError

    def examples(self, task: TaskDefinition, raw: dict[str, Any], opts: RunOptions, *, for_training: bool,
                 labels: list[str] | None) -> TaskData:
        """Raw rows per split -> `TaskData` (label list, checks, `datasets` objects, counts)."""
        raise NotImplementedError

    def check_model(self, task: TaskDefinition, config, model_name: str) -> None:
        """`eval`/`predict`: the model must have been fine-tuned for this family (and fit the task);
        otherwise one line naming what the model is and what the task needs."""
        made_for = getattr(config, "electra_tasks", None) or {}
        architectures = list(getattr(config, "architectures", None) or [])
        need = f"task {task.name} needs a model fine-tuned with `electra-tasks train {task.name}`"
        if made_for.get("family") not in (None, self.name):
            raise UserError(f"--model {model_name}: fine-tuned for {made_for.get('task')} (a {made_for['family']} "
                            f"task); {need}")
        if self.head not in architectures:
            what = f"an {architectures[0]} checkpoint" if architectures else "a checkpoint without an architecture"
            raise UserError(f"--model {model_name}: {what}, not a fine-tuned {self.head}; {need}")

    def model_annotations(self, task: TaskDefinition, data: TaskData, metrics: dict[str, Any]) -> dict[str, Any]:
        """What the fine-tuned model's config.json should remember for eval/predict (saved under
        `electra_tasks`, beside the task and family)."""
        return {}

    def model_options(self, annotations: dict[str, Any]) -> dict[str, Any]:
        """Options the fine-tuned model remembers (`annotations`: what `model_annotations` saved)
        that eval and predict take where the command line leaves them unset, so inputs are read
        as in training."""
        return {}

    def labels_from_model(self, config) -> list[str] | None:
        """The label list of a fine-tuned checkpoint (used by eval and predict)."""
        if getattr(config, "id2label", None):
            return [config.id2label[i] for i in range(len(config.id2label))]
        return None

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task: TaskDefinition, model_path: str, data: TaskData, opts: RunOptions,
                    *, fine_tuned: bool):
        """Load the head on top of the encoder (`fine_tuned`: OUT of an earlier `train`)."""
        raise NotImplementedError

    def read_fine_tuned(self, config, data: TaskData, model_path: str) -> None:
        """`eval`/`predict`: what a fine-tuned model's config says about decoding, put in
        `data.info`; called whatever the backend (torch or ONNX)."""

    # --- export (`electra-tasks export`, `--backend onnx`) ----------------------------------
    # graph inputs (in order, where the tokenizer makes them) and the name of each dynamic axis
    onnx_inputs: dict[str, dict[int, str]] = {"input_ids": {0: "batch", 1: "sequence"},
                                             "attention_mask": {0: "batch", 1: "sequence"},
                                             "token_type_ids": {0: "batch", 1: "sequence"}}

    def onnx_outputs(self) -> dict[str, dict[int, str]]:
        """Graph outputs (`output_names`, which `score` decodes) and their dynamic axes."""
        return {name: {0: "batch", 1: "sequence"} if name in self.sequence_outputs else {0: "batch"}
                for name in self.output_names}

    def onnx_example_features(self, tokenizer) -> list[dict[str, Any]]:
        """Two features of different lengths for tracing (the collator pads them: a padded row is
        what keeps the attention mask in the graph)."""
        encoded = tokenizer(["a b c d e f g h", "a b c"], ["x y z", "x"])
        return [{key: encoded[key][i] for key in encoded.keys()} for i in range(2)]

    # --- features -------------------------------------------------------------------------
    def encode(self, dataset, tokenizer, data: TaskData, opts: RunOptions, *, for_training: bool):
        """Raw examples -> model features (a `datasets.Dataset`), with a `length` column."""
        raise NotImplementedError

    def collator(self, tokenizer):
        from electra_tasks.training.collate import PadCollator

        return PadCollator(tokenizer.pad_token_id)

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task: TaskDefinition, raw, features, outputs: list[np.ndarray],
              data: TaskData, opts: RunOptions) -> Scored:
        """Model outputs, aligned to `features` -> metrics + predictions in the user's terms.

        `outputs[k]` belongs to the model's k-th output (`output_names`, e.g. logits): a
        list with one numpy array per feature, sequence outputs cut to the feature's unpadded
        length. When the split has no gold labels (a benchmark's test set) metrics is {}.
        """
        raise NotImplementedError

    def write_predictions(self, out_dir: Path, split: str, raw, scored: Scored,
                          data: TaskData, opts: RunOptions) -> list[Path]:
        """Write the task's standard prediction file(s) (atomically); return their paths."""
        raise NotImplementedError

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines: list[str], source: str, task: TaskDefinition,
                            data: TaskData, opts: RunOptions):
        """Raw inputs of `predict` (one per line) -> a `datasets.Dataset` of raw examples."""
        raise NotImplementedError

    def predict_records(self, raw, scored: Scored, data: TaskData) -> list[dict]:
        """One JSON-serialisable record per raw input for `predict`."""
        raise NotImplementedError

    # --- report ---------------------------------------------------------------------------
    report_plot_names: tuple[str, ...] = ()  # the files `report_plots` may draw

    def report_plots(self, run, title: str) -> list[tuple[str, Any]]:
        """The family's own plots for `electra-tasks report`: (file name, draw(path) -> caption)."""
        return []


FAMILIES: dict[str, TaskFamily] = {}


def register_family(family: TaskFamily) -> TaskFamily:
    FAMILIES[family.name] = family
    return family
