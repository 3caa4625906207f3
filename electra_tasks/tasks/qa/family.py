"""Extractive question answering: SQuAD 1.1, SQuAD 2.0 and any SQuAD-format file.

Raw examples (one per question): `id`, `title`, `context`, `question`, `answers` ({text,
answer_start} lists, [] when unanswerable), `unanswerable`, `has_gold`, `example_index` (the
reader's `is_impossible` is renamed: a raw column of the same name as the feature column would
make datasets keep its bool type for the feature's 0/1 labels, which the collator then drops).
Features: the question cut to `max_query_length` tokens, the context in windows of
`max_seq_length` tokens that overlap by `doc_stride` tokens (the tokenizer's `stride`), character
offsets of the context tokens (-1 elsewhere) and BERT's max-context flag per token. A training
window without the answer points at [CLS] and is labelled unanswerable for the classifier.
Model: `ElectraForQuestionAnswering` (+ ELECTRA's answerability classifier when the data has
unanswerable questions, see `qa_model.py`). Scoring: the official SQuAD scripts' rules.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from electra_tasks import modeling
from electra_tasks.tasks.qa import postprocess as qa_postprocess
from electra_tasks.data.lines import json_record
from electra_tasks.data.tables import SAVED_DATASET, read_table, table_format
from electra_tasks.tasks.qa.mrqa import is_mrqa
from electra_tasks.tasks.qa.squad import flat_records, read_mrqa, read_squad
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.qa import metrics as squad_metrics
from electra_tasks.outputs import atomic_write_json
from electra_tasks.tasks.qa.model import FLAG, ElectraForQuestionAnsweringWithAnswerability
from electra_tasks.registry import TaskDefinition, register
from electra_tasks.tasks.base import Scored, TaskData, TaskFamily, register_family
from electra_tasks.training.features import column_array, column_list
from electra_tasks.training.tokenize import backend_encodings
from electra_tasks.training.windows import max_context_windows

log = logging.getLogger("electra_tasks")

FLAT_FORMATS = (".jsonl", ".parquet", SAVED_DATASET)  # one row per question, as the hub stores SQuAD
DOC_STRIDE = 128  # ELECTRA's overlap between context windows (the shared --doc-stride's QA default)
DEFAULT_NULL_THRESHOLD = 0.5  # no-answer probability above which "" is answered, for a model without its own


def qa_setting(opts, name: str) -> int:
    """An explicit option, else the default; the default overlap shrinks for short windows
    (at most half a window's context tokens), so `--max-seq-length 192` works on its own."""
    value = getattr(opts, name, None)
    if value is not None:
        return int(value)
    if name == "doc_stride" and getattr(opts, "max_seq_length", None):
        room = int(opts.max_seq_length) - qa_setting(opts, "max_query_length") - 3
        return max(0, min(DOC_STRIDE, room // 2))
    raise ValueError(f"option {name} has no value")  # every other QA option has a declared default


class QuestionAnsweringFamily(TaskFamily):
    name = "qa"
    head = "ElectraForQuestionAnswering"
    output_names = ("start_logits", "end_logits", "answerability_logits")
    sequence_outputs = ("start_logits", "end_logits")

    layouts = ({"train": "train.json", "validation": "dev.json", "test": "test.json"},)

    # --- data -----------------------------------------------------------------------------
    def read_file(self, path, split, task, opts) -> list[dict]:
        """SQuAD JSON (also compressed), an MRQA `.jsonl(.gz)` file, or the hub's flat rows as
        JSON Lines, Parquet or a save_to_disk folder."""
        required = not split.startswith("test")
        if table_format(path) == ".jsonl" and is_mrqa(path):
            return read_mrqa(path, require_answers=required, encoding=opts.encoding).records
        if table_format(path) in FLAT_FORMATS:
            table = read_table(path, encoding=opts.encoding, split=split)
            rows = [dict(zip(table.columns, row)) for row in table.rows]
            return flat_records(rows, table.path, require_answers=required).records
        return read_squad(path, require_answers=required, encoding=opts.encoding).records

    def read_hub_split(self, task, split, dataset, opts) -> list[dict]:
        # the hub's flat rows, regrouped into SQuAD's article/paragraph form and validated alike
        rows = dataset.with_format("arrow")[:].to_pylist()
        return flat_records(rows, f"{task.hub_dataset[0]}[{split}]", require_answers=not split.startswith("test")).records

    def examples(self, task, raw, opts, *, for_training, labels=None) -> TaskData:
        check_window_options(opts)
        version2 = task.spec.get("version") == 2 or (task.spec.get("version") is None and
                                                     any(r["is_impossible"] for rows in raw.values() for r in rows))
        splits, counts = {}, {}
        for split, records in raw.items():
            if task.spec.get("version") == 1 and any(r["is_impossible"] for r in records):
                first = next(r for r in records if r["is_impossible"])
                raise UserError(f"{first['source']} (question id {first['id']}): unanswerable question "
                                f"in SQuAD 1.1 data; use the task squad-v2 (or qa) for data with unanswerable questions")
            splits[split] = to_dataset(records)
            counts[split] = {"questions": len(records), "articles": len({r["article"] for r in records}),
                             "unanswerable": sum(r["is_impossible"] for r in records),
                             "recovered_answer_starts": sum(r["recovered"] for r in records)}
        for split, count in counts.items():
            log.info("%s %s: %d questions from %d articles (%d unanswerable, %d answer_start recovered)",
                     task.name, split, count["questions"], count["articles"], count["unanswerable"],
                     count["recovered_answer_starts"])
        return TaskData(splits=splits, labels=None, info={"counts": counts, "version2": version2})

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task, model_path, data, opts, *, fine_tuned):
        config = modeling.load_config(model_path, trust_remote_code=opts.trust_remote_code)
        if not fine_tuned:
            config.num_labels = 2
            setattr(config, FLAG, bool(data.info.get("version2")))
        else:
            self.read_fine_tuned(config, data, model_path)
        return modeling.load_model(ElectraForQuestionAnsweringWithAnswerability, model_path, config=config,
                                   trust_remote_code=opts.trust_remote_code)

    def read_fine_tuned(self, config, data, model_path):
        data.info.setdefault("version2", bool(getattr(config, FLAG, False)))  # predict: the model decides
        if data.info["version2"] and not getattr(config, FLAG, False):
            log.info("%s has no answerability classifier; no-answer scores come from the [CLS] span score",
                     model_path)

    def labels_from_model(self, config):
        return None

    # --- features -------------------------------------------------------------------------
    def encode(self, batch, tokenizer, data, opts, *, for_training):
        questions = truncate_questions(batch["question"], tokenizer, qa_setting(opts, "max_query_length"))
        encoded = tokenizer(questions, batch["context"], truncation="only_second", max_length=opts.max_seq_length,
                            stride=qa_setting(opts, "doc_stride"), return_overflowing_tokens=True,
                            return_offsets_mapping=True, padding=False)
        sample = encoded.pop("overflow_to_sample_mapping")
        context_id = 1  # question first, context second (ELECTRA/BERT order)
        offsets_all = encoded.pop("offset_mapping")
        features: dict[str, list] = {"offset_mapping": [], "example_index": [], "length": []}
        if for_training:
            features.update(start_positions=[], end_positions=[], is_impossible=[])
        for i, offsets in enumerate(offsets_all):
            sequence_ids = encoded.sequence_ids(i)
            features["length"].append(len(offsets))
            if for_training:  # only the answer's token span: no per-token offsets are kept
                first = sequence_ids.index(context_id)
                last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_id)
                start, end = answer_tokens(offsets, batch["answers"][sample[i]], batch["unanswerable"][sample[i]],
                                           first=first, last=last)
                features["start_positions"].append(start)
                features["end_positions"].append(end)
                features["is_impossible"].append(int(start == 0))
            else:
                features["offset_mapping"].append([list(o) if s == context_id else [-1, -1]
                                                   for o, s in zip(offsets, sequence_ids)])
                features["example_index"].append(batch["example_index"][sample[i]])
        if not for_training:
            features["max_context"] = max_context_flags(features["offset_mapping"], sample)
        else:
            del features["offset_mapping"], features["example_index"]
            encoded.pop("attention_mask", None)  # all ones: the collator implies it
        return {**encoded, **features}

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task, raw, features, outputs, data, opts) -> Scored:
        version2 = bool(data.info.get("version2"))
        spans = qa_postprocess.best_spans(
            outputs[0], outputs[1], ragged_pairs(features, "offset_mapping"), ragged_pairs(features, "max_context"),
            column_array(features, "example_index"), len(raw),
            answerability=np.asarray(outputs[2]) if version2 else None,
            n_best=qa_setting(opts, "n_best_size"), max_answer_length=qa_setting(opts, "max_answer_length"))
        contexts, ids = column_list(raw, "context"), column_list(raw, "id")
        qa_postprocess.snap_to_words(spans, contexts)
        texts = qa_postprocess.answer_texts(spans, contexts)
        na_probs = qa_postprocess.no_answer_probability(spans) if version2 else None
        if version2:
            threshold = null_threshold(opts, data)
            texts = ["" if p > threshold else t for t, p in zip(texts, na_probs)]
        predictions = dict(zip(ids, texts))
        metrics: dict[str, float] = {}
        has_gold = column_list(raw, "has_gold")
        if all(has_gold):
            gold = {qid: answers["text"] for qid, answers in zip(ids, column_list(raw, "answers"))}
            if version2:
                na = {qid: float(p) for qid, p in zip(ids, na_probs)}
                full = squad_metrics.squad_v2(predictions, gold, na)
                metrics = {k: v for k, v in full.items() if k in task.metrics}
            else:
                metrics = squad_metrics.squad_v1(predictions, gold)
        nbest = nbest_lists(spans, contexts, ids)
        return Scored(metrics=metrics, predictions={
            "texts": predictions, "na_probs": None if na_probs is None else dict(zip(ids, map(float, na_probs))),
            "nbest": nbest})

    def write_predictions(self, out_dir, split, raw, scored, data, opts):
        suffix = "" if split == "validation" else f"_{split}"
        out_dir = Path(out_dir)
        paths = [atomic_write_json(out_dir / f"predictions{suffix}.json", scored.predictions["texts"])]
        if scored.predictions["na_probs"] is not None:
            paths.append(atomic_write_json(out_dir / f"na_prob{suffix}.json", scored.predictions["na_probs"]))
        paths.append(atomic_write_json(out_dir / f"nbest{suffix}.json", scored.predictions["nbest"], indent=None))
        return paths

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines, source, task, data, opts):
        check_window_options(opts)
        records, lines_of = [], {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if not line.lstrip().startswith("{") and "\t" in line:  # question<TAB>context, like pairs elsewhere
                question, _, context = line.partition("\t")
                record = {"question": question, "context": context}
            else:
                record = json_record(line, where(source, number),
                                     "{\"question\": ..., \"context\": ...} or question<TAB>context")
            for key in ("question", "context"):
                if not isinstance(record.get(key), str) or not record[key].strip():
                    problem = "missing key" if key not in record else "expected a non-empty string for"
                    raise UserError(f"{where(source, number, key)}: {problem} \"{key}\"")
            qid = str(record.get("id", len(records)))
            if qid in lines_of:  # answers are keyed by id: a repeated one would overwrite the other's answer
                raise UserError(f"{where(source, number, 'id')}: id {qid!r} is also the id of line {lines_of[qid]} "
                                f"(a line without \"id\" gets its position, from 0); ids must be unique")
            lines_of[qid] = number
            records.append({"id": qid, "title": "", "context": record["context"],
                            "question": record["question"], "answers": {"text": [], "answer_start": []},
                            "is_impossible": False, "has_gold": False, "article": 0,
                            "source": source, "recovered": False})
        if not records:
            raise UserError(f"{source}: no input lines; expected one {{\"question\", \"context\"}} JSON object per line")
        return to_dataset(records)

    def predict_records(self, raw, scored, data):
        texts, na_probs, nbest = scored.predictions["texts"], scored.predictions["na_probs"], scored.predictions["nbest"]
        records = []
        for qid, question in zip(column_list(raw, "id"), column_list(raw, "question")):
            best = nbest[qid][0] if nbest[qid] else {"start": -1, "end": -1, "score": None, "probability": None}
            answered = texts[qid] != ""
            records.append({"id": qid, "question": question, "answer": texts[qid],
                            "start": best["start"] if answered else -1, "end": best["end"] if answered else -1,
                            "score": best["probability"], "logit_score": best["score"],
                            "no_answer_probability": na_probs[qid] if na_probs else None})
        return records


    def model_annotations(self, task, data, metrics):
        """A model with unanswerable questions keeps the no-answer threshold its evaluation found."""
        if data.info.get("version2") and "best_f1_thresh" in metrics:
            return {"null_threshold": float(metrics["best_f1_thresh"])}
        return {}

    # --- report ---------------------------------------------------------------------------
    report_plot_names = ("qa_v2.png",)

    def report_plots(self, run, title):
        from electra_tasks.tasks.qa.report import PLOT, is_qa_v2, plot_qa_v2

        return [(PLOT, lambda path: plot_qa_v2(run, title, path))] if is_qa_v2(run.metrics) else []


def null_threshold(opts, data: TaskData) -> float:
    """--null-threshold, else the threshold the model's evaluation found, else DEFAULT_NULL_THRESHOLD."""
    if opts.null_threshold is not None:
        return float(opts.null_threshold)
    return float(data.info.get("model", {}).get("null_threshold", DEFAULT_NULL_THRESHOLD))


def check_window_options(opts) -> None:
    """Windows must leave room for context: question + 3 special tokens + stride < max length."""
    room = opts.max_seq_length - qa_setting(opts, "max_query_length") - 3
    for name in ("max_query_length", "n_best_size", "max_answer_length"):
        if qa_setting(opts, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} {qa_setting(opts, name)}: expected an integer >= 1")
    if room < 8:
        raise UserError(f"--max-seq-length {opts.max_seq_length}: too short for questions of "
                        f"{qa_setting(opts, 'max_query_length')} tokens; expected at least "
                        f"{qa_setting(opts, 'max_query_length') + 11}")
    if not 0 <= qa_setting(opts, "doc_stride") < room:
        raise UserError(f"--doc-stride {qa_setting(opts, 'doc_stride')}: expected 0..{room - 1} (the overlap "
                        f"between windows must be shorter than the {room} context tokens of a window)")


def truncate_questions(questions: list[str], tokenizer, max_tokens: int) -> list[str]:
    """Cut each question after its `max_tokens`-th token (ELECTRA's max_query_length)."""
    stripped = [q.lstrip() for q in questions]
    encodings = backend_encodings(tokenizer, stripped)
    if encodings is not None:  # the backend's encodings: only the long questions' offsets are read
        return [q[:e.offsets[max_tokens - 1][1]] if len(e.ids) > max_tokens else q for q, e in zip(stripped, encodings)]
    cut = []
    encoded = tokenizer(stripped, add_special_tokens=False, return_offsets_mapping=True)
    for question, offsets in zip(stripped, encoded["offset_mapping"]):
        cut.append(question[:offsets[max_tokens - 1][1]] if len(offsets) > max_tokens else question)
    return cut


def answer_tokens(offsets, answers: dict, impossible: bool, *, first: int | None = None,
                  last: int | None = None) -> tuple[int, int]:
    """Token positions of the first gold answer in a window, or (0, 0) ([CLS]) when not inside.

    The context tokens are `first..last` (else those whose offsets are not -1)."""
    if impossible or not answers["text"]:
        return 0, 0
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    if first is None or last is None:
        context = [i for i, o in enumerate(offsets) if o[0] >= 0]
        first, last = context[0], context[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def max_context_flags(offsets: list[list[list[int]]], sample: list[int]) -> list[list[int]]:
    """1 where a window gives a context token its most context (the shared max-context rule);
    a token is known by its example and character span."""
    context = [[i for i, o in enumerate(rows) if o[0] >= 0] for rows in offsets]
    owner = max_context_windows(
        ((sample[window], tuple(offsets[window][i])), window, j, len(positions) - 1 - j, len(positions))
        for window, positions in enumerate(context) for j, i in enumerate(positions))
    flags = []
    for window, rows in enumerate(offsets):
        row = [0] * len(rows)
        for i in context[window]:
            row[i] = int(owner[(sample[window], tuple(rows[i]))] == window)
        flags.append(row)
    return flags


def ragged_pairs(features, column: str) -> qa_postprocess.Ragged:
    """A list column of the features as one flat numpy array + row splits, straight from Arrow."""
    import pyarrow.compute as pc

    array = features.with_format("arrow")[column]
    array = array.combine_chunks() if hasattr(array, "combine_chunks") else array
    lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(array)
    if hasattr(flat.type, "value_type"):  # (start, end) pairs
        flat = pc.list_flatten(flat).to_numpy(zero_copy_only=False).reshape(-1, 2)
    else:
        flat = flat.to_numpy(zero_copy_only=False)
    return qa_postprocess.Ragged(flat, np.concatenate([[0], np.cumsum(lengths)]))


def nbest_lists(spans: qa_postprocess.Spans, contexts: list[str], ids: list[str]) -> dict[str, list[dict]]:
    """id -> its n-best answers (text, probability, score, character span), best first."""
    nbest: dict[str, list[dict]] = {qid: [] for qid in ids}
    for k in range(len(spans.example)):
        example = int(spans.example[k])
        start, end = int(spans.start_char[k]), int(spans.end_char[k])
        nbest[ids[example]].append({"text": contexts[example][start:end], "probability": float(spans.probability[k]),
                                    "score": float(spans.score[k]), "start": start, "end": end})
    return nbest


def to_dataset(records: list[dict]):
    from datasets import Dataset

    rows = [{**{k: v for k, v in r.items() if k not in ("article", "is_impossible", "source", "recovered")},
             "unanswerable": r["is_impossible"], "example_index": i} for i, r in enumerate(records)]
    return Dataset.from_list(rows)


FAMILY = register_family(QuestionAnsweringFamily())

SQUAD_DEFAULTS = {"max_seq_length": 384, "epochs": 2.0}
V2_METRICS = ("exact_match", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
              "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh")

register(
    TaskDefinition(
        name="squad", family="qa", description="SQuAD 1.1: extract the answer span from a Wikipedia paragraph",
        metrics=("exact_match", "f1"), main_metric="f1",
        data_formats="SQuAD JSON (--data-dir: train-v1.1.json/dev-v1.1.json), hub rajpurkar/squad",
        hub_dataset=("rajpurkar/squad", None),
        spec={"version": 1, "files": {"train": "train-v1.1.json", "validation": "dev-v1.1.json"}},
        defaults=SQUAD_DEFAULTS),
    TaskDefinition(
        name="squad-v2", family="qa",
        description="SQuAD 2.0: answer span or no answer (answerability classifier, best-threshold search)",
        metrics=V2_METRICS, main_metric="f1",
        data_formats="SQuAD JSON (--data-dir: train-v2.0.json/dev-v2.0.json), hub rajpurkar/squad_v2",
        hub_dataset=("rajpurkar/squad_v2", None),
        spec={"version": 2, "files": {"train": "train-v2.0.json", "validation": "dev-v2.0.json"}},
        defaults=SQUAD_DEFAULTS),
    TaskDefinition(
        name="qa", family="qa",
        description="Your own SQuAD-format JSON (unanswerable questions optional: v2.0 rules when present)",
        metrics=V2_METRICS, main_metric="f1",
        data_formats="SQuAD-format JSON (also .gz/.bz2/.xz/.zst), MRQA .jsonl(.gz) or the hub's flat rows "
                     "(jsonl/parquet/save_to_disk) via --train-file/--validation-file [--test-file] or --data-dir "
                     "(train.json/dev.json/test.json)",
        spec={}, defaults=SQUAD_DEFAULTS),
)
