"""Extractive summarization (BertSumExt, nlpyang/PreSumm): pick a document's key sentences.

Raw examples have the columns `id`, `sentences` (the document, split), `reference` (the reference
summary's sentences; empty where the split has none) and `oracle` (the greedy ROUGE oracle's
sentence indices, the training labels). The model reads `[CLS] s1 [SEP] [CLS] s2 [SEP] ...` with
segment ids alternating per sentence; `ElectraForTokenClassification` (2 classes) scores each
sentence at its [CLS]; every other position has label -100, so the loss is only there.

A document longer than `max_seq_length` (512 by default) keeps the sentences whose [CLS] and at
least one token fit (the last one possibly cut); the rest are never selected by the model and are
counted as `truncated_sentences` (and `truncated_documents`) in metrics.json and the log.
Selection: sentences ranked by score, one sharing a word trigram with an already chosen one is
skipped (trigram blocking), at most `--summary-sentences` (3); the summary keeps document order.

Data: the hub's `abisee/cnn_dailymail` 3.0.0, `--data-dir` with train/validation/test files, or
explicit files; a file name may end in a row range, `articles.csv[:800]`, `articles.csv[800:]`
(0-based data rows, header excluded), to train and evaluate on parts of one file.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from electra_tasks import modeling
from electra_tasks.tasks.extraction.sentences import DEFAULT_LANGUAGE, SentenceError, as_sentences, check_language
from electra_tasks.data import repairs
from electra_tasks.data.lines import json_record
from electra_tasks.data.tables import TABLE_FORMATS, is_saved_dataset, read_table
from electra_tasks.data.text import check_file, format_suffix, open_binary
from electra_tasks.errors import UserError, where
from electra_tasks.tasks.extraction import rouge as rouge_metrics
from electra_tasks.tasks.extraction import stories
from electra_tasks.options import RunOptions, declared_default
from electra_tasks.outputs import atomic_write_jsonl
from electra_tasks.registry import TaskDefinition, register
from electra_tasks.tasks.base import Scored, TaskData, TaskFamily, register_family

log = logging.getLogger("electra_tasks")

DIR_LAYOUT = {split: tuple(f"{stem}{ext}" for stem in stems for ext in TABLE_FORMATS)
              for split, stems in {"train": ("train",), "validation": ("validation", "valid", "val", "dev"),
                                   "test": ("test",)}.items()}
# abisee's url lists, beside cnn/stories and dailymail/stories (see stories.py)
URL_LIST_LAYOUT = {split: (name, f"url_lists/{name}") for split, name in
                   {"train": "all_train.txt", "validation": "all_val.txt", "test": "all_test.txt"}.items()}
LABELS = {0: "not_selected", 1: "selected"}
_WORDS = re.compile(r"[a-z0-9]+")
DEFAULT_SENTENCES = declared_default("summary_sentences")
UNLABELLED = object()  # the summary of a document read without a summary column (a test file, predict)


# --- encoding and decoding (pure functions; the family below calls them) ---------------------
def pack_sentences(sentence_ids: Sequence[Sequence[int]], cls_id: int, sep_id: int,
                   max_length: int) -> tuple[list[int], list[int], list[int]]:
    """`[CLS] s1 [SEP] [CLS] s2 [SEP] ...` within `max_length` tokens.

    Returns input ids, segment ids (0/1 alternating per sentence) and the [CLS] position of each
    sentence that fits; a sentence fits when its [CLS], one of its tokens and its [SEP] do (the
    last one kept may be cut). `len(cls_positions)` is the number of sentences kept.
    """
    input_ids: list[int] = []
    segments: list[int] = []
    positions: list[int] = []
    for number, ids in enumerate(sentence_ids):
        room = max_length - len(input_ids) - 2
        if room < min(1, len(ids)):
            break
        piece = [cls_id, *ids[:room], sep_id]
        positions.append(len(input_ids))
        input_ids.extend(piece)
        segments.extend([number % 2] * len(piece))
    return input_ids, segments, positions


def trigrams(sentence: str) -> set[tuple[str, ...]]:
    words = _WORDS.findall(sentence.lower())
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def select_sentences(sentences: Sequence[str], scores: Sequence[float], count: int = DEFAULT_SENTENCES,
                     block_trigrams: bool = True) -> list[int]:
    """Indices (document order) of the best-scored sentences, skipping trigram repeats.

    `scores` may be shorter than `sentences` (truncated documents): only scored sentences compete.
    """
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    chosen: list[int] = []
    seen: set[tuple[str, ...]] = set()
    for i in order:
        if len(chosen) >= count:
            break
        grams = trigrams(sentences[i])
        if block_trigrams and grams & seen:
            continue
        chosen.append(i)
        seen |= grams
    return sorted(chosen)


# --- the family -------------------------------------------------------------------------------
class ExtractionFamily(TaskFamily):
    name = "extraction"
    head = "ElectraForTokenClassification"
    output_names = ("logits",)
    sequence_outputs = ("logits",)

    layouts = (DIR_LAYOUT, URL_LIST_LAYOUT)

    # --- data -----------------------------------------------------------------------------
    def read_file(self, path, split, task, opts) -> list[dict]:
        """One raw row per document (text and summary as found); `examples` splits and checks them.

        Besides tables: a folder of CNN/DailyMail `.story` files, one `.story` file, a url list
        (`all_train.txt`), and `.txt` JSON lines (arXiv/PubMed's `train.txt`)."""
        for folder in (path, path / "stories"):  # cnn/stories, or cnn/ as its archive unpacks
            if stories.is_story_folder(folder):
                return stories.read_stories(stories.story_files(folder), folder, opts.encoding)
        if path.is_dir() and not is_saved_dataset(path):
            raise UserError(f"{path}: a folder without .story files (nor a stories/ folder of them) and not a "
                            f"datasets save_to_disk folder; expected CNN/DailyMail stories or a table file "
                            f"({', '.join(TABLE_FORMATS)})")
        if format_suffix(path) == stories.STORY:
            return stories.read_stories([check_file(path)], path, opts.encoding)
        fmt = None
        if format_suffix(path) == ".txt":
            if stories.looks_like_url_list(path):
                return stories.read_stories(stories.url_list_files(path, opts.encoding), path, opts.encoding)
            fmt = _txt_format(path)
        table = read_table(path, fmt=fmt, delimiter=opts.delimiter, encoding=opts.encoding, split=split)
        doc_col = opts.document_column or _present(table.columns, task.spec["document_columns"])
        sum_col = opts.summary_column or _present(table.columns, task.spec["summary_columns"])
        id_col = opts.id_column or _present(table.columns, ("id",), None)
        documents = table.values(doc_col, "document")
        if sum_col in table.columns or opts.summary_column or not split.startswith("test"):
            summaries = table.values(sum_col, "summary")
        else:
            summaries = [UNLABELLED] * len(table)  # an unlabelled test file: summaries only, no ROUGE
        ids = table.values(id_col, "id") if id_col else [str(i) for i in range(len(table))]
        return [{"id": str(ids[i]), "document": documents[i], "summary": summaries[i],
                 "doc_where": where(path, line, str(doc_col)), "sum_where": where(path, line, str(sum_col))}
                for i, line in enumerate(table.lines)]

    def read_hub_split(self, task, split, dataset, opts) -> list[dict]:
        path, name = task.hub_dataset
        doc_col, sum_col = task.spec["document_columns"][0], task.spec["summary_columns"][0]
        return [{"id": str(r.get("id", i)), "document": r[doc_col], "summary": r[sum_col],
                 "doc_where": f"{path}/{name}[{split}][{i}]", "sum_where": f"{path}/{name}[{split}][{i}]"}
                for i, r in enumerate(dataset)]

    def examples(self, task, raw, opts, *, for_training, labels=None) -> TaskData:
        _summary_sentences(opts)  # a bad option fails before anything is trained or written
        language = opts.sentence_language = _language(opts)  # resolved: run_config.json records it
        splits, counts = {}, {}
        for split, found in raw.items():
            rows = [_example(r["id"], r["document"], r["summary"], r["doc_where"], r["sum_where"], language)
                    for r in found]
            if for_training and split == "train" and any(not row["reference"] for row in rows):
                missing = next(row for row in rows if not row["reference"])
                raise UserError(f"{missing['_where']}: training documents need a reference summary")
            _check_rouge_tokens(rows, split)
            for row in rows:
                row["oracle"] = rouge_metrics.greedy_oracle(row["sentences"], row["reference"]) \
                    if row["reference"] else []
            splits[split] = _to_dataset(rows)
            counts[split] = {"documents": len(rows), "sentences": sum(len(r["sentences"]) for r in rows)}
            log.info("%s %s: %d documents, %d sentences (%.1f per document)", task.name, split, len(rows),
                     counts[split]["sentences"], counts[split]["sentences"] / max(len(rows), 1))
        return TaskData(splits=splits, labels=None, info={"counts": counts, "sentence_language": language})

    def model_annotations(self, task, data, metrics):
        return {"sentence_language": data.info.get("sentence_language", DEFAULT_LANGUAGE)}

    def model_options(self, annotations):
        return {"sentence_language": annotations.get("sentence_language")}

    # --- model ----------------------------------------------------------------------------
    def build_model(self, task, model_path, data, opts, *, fine_tuned):
        from transformers import ElectraForTokenClassification

        config = modeling.load_config(model_path, trust_remote_code=opts.trust_remote_code, num_labels=2,
                                      id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()})
        return modeling.load_model(ElectraForTokenClassification, model_path, config=config,
                                   trust_remote_code=opts.trust_remote_code)

    def labels_from_model(self, config):
        return None

    def check_model(self, task, config, model_name):
        super().check_model(task, config, model_name)
        labels = {int(k): v for k, v in (getattr(config, "id2label", None) or {}).items()}
        if labels != LABELS:
            shown = ", ".join(labels[k] for k in sorted(labels))
            raise UserError(f"--model {model_name}: a token classifier with the labels {shown}, not a sentence "
                            f"selector ({', '.join(LABELS.values())}); task {task.name} needs a model fine-tuned "
                            f"with `electra-tasks train {task.name}`")

    # --- features -------------------------------------------------------------------------
    def encode(self, batch, tokenizer, data, opts, *, for_training):
        flat = [s for doc in batch["sentences"] for s in doc]
        tokenized = tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"] if flat else []
        out: dict[str, list] = {"input_ids": [], "token_type_ids": [], "attention_mask": [],
                                "cls_positions": [], "length": []}
        if for_training:
            out["labels"] = []
        start = 0
        for number, sentences in enumerate(batch["sentences"]):
            pieces = tokenized[start:start + len(sentences)]
            start += len(sentences)
            ids, segments, positions = pack_sentences(pieces, tokenizer.cls_token_id, tokenizer.sep_token_id,
                                                      int(opts.max_seq_length))
            out["input_ids"].append(ids)
            out["token_type_ids"].append(segments)
            out["attention_mask"].append([1] * len(ids))
            out["cls_positions"].append(positions)
            out["length"].append(len(ids))
            if for_training:
                labels = [-100] * len(ids)
                oracle = set(batch["oracle"][number])
                for sentence, position in enumerate(positions):
                    labels[position] = 1 if sentence in oracle else 0
                out["labels"].append(labels)
        return out

    # --- decoding and scoring -------------------------------------------------------------
    def score(self, task, raw, features, outputs, data, opts) -> Scored:
        count = _summary_sentences(opts)
        block = bool(opts.trigram_blocking)
        documents = raw["sentences"]
        chosen, kept = [], []
        for logits, positions, sentences in zip(outputs[0], features["cls_positions"], documents):
            logits = np.asarray(logits, dtype=np.float64)
            scores = logits[positions, 1] - logits[positions, 0] if positions else np.zeros(0)
            chosen.append(select_sentences(sentences, scores, count, block))
            kept.append(len(positions))
        summaries = [[doc[i] for i in idx] for doc, idx in zip(documents, chosen)]
        truncated = [len(doc) - k for doc, k in zip(documents, kept)]
        metrics: dict[str, float] = {}
        references = raw["reference"]
        if references and all(references):
            oracle = [[doc[i] for i in idx] for doc, idx in zip(documents, raw["oracle"])]
            metrics.update(rouge_metrics.rouge(summaries, references))
            metrics.update(rouge_metrics.rouge([rouge_metrics.lead(d) for d in documents], references, "lead3_"))
            metrics.update(rouge_metrics.rouge(oracle, references, "oracle_"))
            metrics["oracle_sentences_truncated"] = sum(
                sum(1 for i in idx if i >= k) for idx, k in zip(raw["oracle"], kept))
        if documents:
            metrics["truncated_sentences"] = sum(truncated)
            metrics["truncated_documents"] = sum(1 for t in truncated if t > 0)
            if metrics["truncated_documents"]:
                log.info("%d of %d documents longer than %d tokens: %d of %d sentences beyond the window, "
                         "never selected", metrics["truncated_documents"], len(documents), opts.max_seq_length,
                         metrics["truncated_sentences"], sum(len(d) for d in documents))
        return Scored(metrics=metrics, predictions={"indices": chosen, "summaries": summaries,
                                                    "truncated": truncated})

    def write_predictions(self, out_dir, split, raw, scored, data, opts):
        path = Path(out_dir) / f"predictions_{split}.jsonl"
        atomic_write_jsonl(path, self.predict_records(raw, scored, data))
        return [path]

    # --- predict --------------------------------------------------------------------------
    def read_predict_inputs(self, lines, source, task, data, opts):
        _summary_sentences(opts)
        language = _language(opts)
        rows = []
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            doc_id, document = str(len(rows)), stripped
            if stripped.startswith("{"):
                record = json_record(stripped, where(source, number), "{\"article\": ...} or {\"sentences\": [...]}")
                key = next((k for k in (*_SPEC["document_columns"], "sentences") if k in record), None)
                if key is None:
                    raise UserError(f"{where(source, number)}: expected a JSON object with \"article\" "
                                    f"(text) or \"sentences\" (a list of sentences)")
                document = record[key]
                doc_id = str(record.get("id", doc_id))
            rows.append(_example(doc_id, document, UNLABELLED, where(source, number), where(source, number), language))
        if not rows:
            raise UserError(f"{source}: no input lines; expected one document per line "
                            f"({{\"article\": \"...\"}} or {{\"sentences\": [...]}})")
        for row in rows:
            row["oracle"] = []
        return _to_dataset(rows)

    def predict_records(self, raw, scored, data):
        records = []
        for i, doc_id in enumerate(raw["id"]):
            records.append({"id": doc_id, "summary": "\n".join(scored.predictions["summaries"][i]),
                            "indices": scored.predictions["indices"][i],
                            "num_sentences": len(raw["sentences"][i]),
                            "truncated_sentences": scored.predictions["truncated"][i]})
        return records


# --- helpers ----------------------------------------------------------------------------------
def _summary_sentences(opts: RunOptions) -> int:
    count = opts.summary_sentences if opts.summary_sentences is not None else DEFAULT_SENTENCES
    if count < 1:
        raise UserError(f"--summary-sentences {count}: expected an integer >= 1")
    return count


def _txt_format(path: Path) -> str:
    """A `.txt` split file is JSON lines (arXiv/PubMed); anything else is one clear line."""
    with open_binary(path) as stream:
        head = stream.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    if head.lstrip().startswith("{"):
        return ".jsonl"
    raise UserError(f"{path}: a .txt file that is neither JSON lines (one {{...}} a line, as arXiv/PubMed's "
                    f"train.txt) nor a url list (one story URL a line, as all_train.txt); expected one of "
                    f"those, a table ({', '.join(TABLE_FORMATS)}), .story files or a folder of them")


def _present(columns: list[str], candidates: Sequence[str], default: Any = "") -> Any:
    """The first candidate column the table has (else the first candidate, for the error)."""
    found = next((c for c in candidates if c in columns), None)
    if found is not None:
        return found
    return candidates[0] if default == "" else default


def _check_rouge_tokens(rows: list[dict], split: str) -> None:
    """rouge-score compares only a-z and 0-9 (other scripts are dropped): references without
    any score 0 whatever is chosen. Counted where some are; one line where all are."""
    labelled = [row for row in rows if row["reference"]]
    blind = [row for row in labelled if not _WORDS.search("\n".join(row["reference"]).lower())]
    if labelled and len(blind) == len(labelled):
        raise UserError(f"{blind[0]['_sum_where']}: no reference summary has a letter a-z or a digit, the only tokens "
                        f"rouge-score compares (it drops other scripts), so ROUGE and the oracle labels would all "
                        f"be 0; this task scores Latin-script text only")
    if blind:
        repairs.note(f"{split} split", "reference summaries without a letter a-z or digit (rouge-score compares "
                     "only those: they score 0)", len(blind), blind[0]["_sum_where"])


def _language(opts: RunOptions) -> str:
    try:
        return check_language(opts.sentence_language or DEFAULT_LANGUAGE)
    except SentenceError as exc:
        raise UserError(str(exc)) from None


def _example(doc_id: str, document: Any, summary: Any, doc_where: str, sum_where: str,
             language: str = DEFAULT_LANGUAGE) -> dict:
    """One validated raw example; every problem is a one-line `UserError` naming file and line."""
    if document is None or (isinstance(document, str) and not document.strip()) or document == []:
        raise UserError(f"{doc_where}: empty document (id {doc_id}); expected text or a list of sentences")
    try:
        sentences = as_sentences(document, language=language)
    except SentenceError as exc:
        raise UserError(f"{doc_where}: {exc} (id {doc_id})") from None
    if not sentences:
        raise UserError(f"{doc_where}: no sentence found in the document (id {doc_id}); "
                        f"expected text with at least one word")
    reference: list[str] = []
    if summary is None:  # a null in a summary column: the split would silently lose its ROUGE
        raise UserError(f"{sum_where}: no reference summary (null) (id {doc_id}); expected text or a list of "
                        f"sentences")
    if summary is not UNLABELLED:
        try:
            reference = as_sentences(summary, source_tags=False, lines_are_sentences=True, language=language)
        except SentenceError as exc:
            raise UserError(f"{sum_where}: {exc} (id {doc_id})") from None
        if not reference:
            raise UserError(f"{sum_where}: empty reference summary (id {doc_id}); expected at least one sentence")
    return {"id": doc_id, "sentences": sentences, "reference": reference, "_where": doc_where, "_sum_where": sum_where}


def _to_dataset(rows: list[dict]):
    from datasets import Dataset, Features, List, Value

    features = Features({"id": Value("string"), "sentences": List(Value("string")),
                         "reference": List(Value("string")), "oracle": List(Value("int32"))})
    return Dataset.from_list([{k: row[k] for k in features} for row in rows], features=features)


FAMILY = register_family(ExtractionFamily())

# CNN/DM, PreSumm, XSum/Multi-News, arXiv/PubMed, BillSum/WikiHow; then summaries likewise
_SPEC = {"document_columns": ("article", "src", "document", "article_text", "text"),
         "summary_columns": ("highlights", "tgt", "summary", "abstract_text", "abstract", "headline")}
_FORMATS = ("csv/jsonl/json/tsv/parquet files (FILE[a:b] picks data rows a..b-1), PreSumm json (src/tgt), "
            ".story files or folders of them, url lists (all_train.txt), arXiv/PubMed .txt JSON lines")

register(
    TaskDefinition(
        name="cnn-dailymail",
        family="extraction",
        description="CNN/DailyMail extractive summarization (BertSumExt): pick 3 sentences, ROUGE vs Lead-3",
        metrics=("rouge1", "rouge2", "rougeLsum"),
        main_metric="rouge2",
        data_formats=f"hub abisee/cnn_dailymail 3.0.0, {_FORMATS}",
        hub_dataset=("abisee/cnn_dailymail", "3.0.0"),
        spec=_SPEC,
        defaults={"max_seq_length": 512},
    ),
    TaskDefinition(
        name="extractive-summarization",
        family="extraction",
        description="Your own documents with reference summaries: pick key sentences, ROUGE vs Lead-3",
        metrics=("rouge1", "rouge2", "rougeLsum"),
        main_metric="rouge2",
        data_formats=_FORMATS,
        spec=_SPEC,
        defaults={"max_seq_length": 512},
    ),
)
