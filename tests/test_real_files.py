"""Real files (issue 19): every format and quirk, small files generated here, each read to the
same examples as its plain twin; repairs counted in TaskData.info; bad input stays one line."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import re
from pathlib import Path

import pytest

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES
from tests.conftest import invoke

ROWS = [("a charming, \"funny\" movie", "1"), ("dull and flat", "0"), ("Café au lait — naïve", "1"),
        ("the worst plot", "0"), ("great actors", "1")]
SENTENCES = [(["EU", "rejects", "German", "call"], ["B-ORG", "O", "B-MISC", "O"]),
             (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
             (["Köln", "wins", "."], ["B-LOC", "O", "O"])]
TAGS = ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER"]


def load(task_name: str, for_training: bool = True, **options):
    task = get_task(task_name)
    options = {**({"max_seq_length": 384} if task.family == "qa" else {}), **options}  # the recipe sets it in a run
    return FAMILIES[task.family].load(task, RunOptions(task=task_name, **options), for_training=for_training)


def compress(path: Path, data: bytes) -> Path:
    """Write `data` to `path`, compressed as its last suffix says."""
    suffix = path.suffix
    if suffix == ".zst":
        import pyarrow as pa

        with pa.CompressedOutputStream(str(path), "zstd") as handle:
            handle.write(data)
        return path
    packed = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}.get(suffix, lambda d: d)(data)
    path.write_bytes(packed)
    return path


def table_text(fmt: str, rows=ROWS, header=("sentence", "label")) -> str:
    if fmt == ".tsv":
        return "\n".join(["\t".join(header)] + ["\t".join(r) for r in rows]) + "\n"
    if fmt == ".csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
        return out.getvalue()
    records = [dict(zip(header, r)) for r in rows]
    if fmt == ".jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + "\n"  # a blank last line
    return json.dumps(records, ensure_ascii=False)


def examples(data, split="train"):
    ds = data.splits[split]
    return list(zip(ds["text"], ds["label"]))


def repaired(data) -> dict[str, int]:
    return {entry["repair"]: entry["count"] for entry in data.info["repairs"]}


# --- classification: formats ------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [".tsv", ".csv", ".json", ".jsonl"])
@pytest.mark.parametrize("compression", ["", ".gz", ".bz2", ".xz", ".zst"])
def test_every_text_format_plain_and_compressed(tmp_path, fmt, compression):
    path = compress(tmp_path / f"train{fmt}{compression}", table_text(fmt).encode("utf-8"))
    assert examples(load("classification", train_file=str(path))) == ROWS


def test_json_under_a_data_key_and_parquet_and_saved_datasets(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    (tmp_path / "data.json").write_text(json.dumps({"version": 1, "data": [{"sentence": s, "label": l} for s, l in ROWS]}))
    assert examples(load("classification", train_file=str(tmp_path / "data.json"))) == ROWS
    pq.write_table(pa.table({"sentence": [s for s, _ in ROWS], "label": [int(l) for _, l in ROWS]}),
                   tmp_path / "plain.parquet")
    assert examples(load("classification", train_file=str(tmp_path / "plain.parquet"))) == ROWS
    # the hub's form: integer ids named by a ClassLabel (Parquet carries the features)
    named = [(s, "neg" if l == "0" else "pos") for s, l in ROWS]
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    dataset = Dataset.from_dict({"sentence": [s for s, _ in ROWS], "label": [int(l) for _, l in ROWS]},
                                features=features)
    dataset.to_parquet(str(tmp_path / "hub.parquet"))
    assert examples(load("classification", train_file=str(tmp_path / "hub.parquet"))) == named
    dataset.save_to_disk(str(tmp_path / "saved"))
    assert examples(load("classification", train_file=str(tmp_path / "saved"))) == named
    DatasetDict(train=dataset, validation=dataset.select(range(2))).save_to_disk(str(tmp_path / "dict"))
    data = load("classification", data_dir=str(tmp_path / "dict"))
    assert examples(data) == named and examples(data, "validation") == named[:2]
    data = load("classification", train_file=str(tmp_path / "dict"), validation_file=str(tmp_path / "dict"))
    assert examples(data, "validation") == named[:2]  # the split of the same name
    # integer labels named by --label-names
    data = load("classification", train_file=str(tmp_path / "plain.parquet"), label_names="neg,pos")
    assert examples(data) == named and data.labels == ["neg", "pos"]
    data = load("classification", train_file=str(tmp_path / "plain.parquet"), label_names="zero,one")
    assert data.labels == ["zero", "one"]  # the names' id order, not sorted


def test_folder_of_class_subfolders(tmp_path):
    for i, (text, label) in enumerate(ROWS):
        folder = tmp_path / "train" / ("pos" if label == "1" else "neg")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.txt").write_text(text + "\n", encoding="utf-8")
    (tmp_path / "train" / "urls_pos.txt").write_text("not a document")  # aclImdb's top-level files
    (tmp_path / "train" / "neg" / ".hidden").write_text("x")
    (tmp_path / "train" / "unsup").mkdir()
    (tmp_path / "train" / "unsup" / "9.txt").write_bytes(b"an unlabelled review, caf\xe9")  # Latin-1
    expected = sorted((s, "pos" if l == "1" else "neg") for s, l in ROWS)
    data = load("classification", train_file=str(tmp_path / "train"), label_names="neg,pos")
    assert sorted(examples(data)) == expected
    assert data.splits["train"]["index"][0] == "neg/1.txt"
    everything = load("classification", train_file=str(tmp_path / "train"))
    assert ("an unlabelled review, café", "unsup") in examples(everything)
    assert repaired(everything) == {"files not UTF-8; decoded as cp1252 (detected; --encoding chooses)": 1}
    with pytest.raises(UserError, match=r"no subfolder 'spam' \(--label-names\)"):
        load("classification", train_file=str(tmp_path / "train"), label_names="neg,spam")


# --- classification: quirks -------------------------------------------------------------------
def test_csv_quoted_newlines_crlf_bom_and_semicolons(tmp_path):
    rows = [("line one\nline two", "1"), ("plain", "0"), ("a; b, \"c\"", "1")]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([("sentence", "label"), *rows])
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().replace("line one\nline two", "line one\r\nline two")
                     .encode("utf-8"))
    twin = tmp_path / "twin.jsonl"
    twin.write_text(table_text(".jsonl", [("line one\r\nline two", "1"), *rows[1:]]))
    assert examples(load("classification", train_file=str(path))) == \
        examples(load("classification", train_file=str(twin)))
    semi = io.StringIO()
    csv.writer(semi, delimiter=";", lineterminator="\n").writerows([("sentence", "label"), *rows])
    (tmp_path / "export.csv").write_text(semi.getvalue())
    assert examples(load("classification", train_file=str(tmp_path / "export.csv"), delimiter=";")) == rows


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_file_that_is_not_utf8_is_decoded_and_the_encoding_logged(tmp_path, caplog, encoding):
    rows = [("Café crème, naïve façade", "1"), ("Müller's Straße", "0"), ("plain ascii", "1")]
    path = tmp_path / "legacy.tsv"
    path.write_bytes(table_text(".tsv", rows).encode(encoding))
    with caplog.at_level("WARNING", logger="electra_tasks"):
        data = load("classification", train_file=str(path))
    assert examples(data) == rows
    assert re.search(r"legacy.tsv: not UTF-8; decoded as cp1252", caplog.text)
    assert data.info["repairs"][0]["file"] == str(path)
    forced = load("classification", train_file=str(path), encoding="latin-1")
    assert examples(forced) == rows and forced.info["repairs"] == []


def test_labels_1_and_1_0_spaces_and_trailing_empty_rows(tmp_path):
    text = "sentence,label\na charming movie, 1 \ndull,0.0\ngreat,1.0\nbad,0\n,\n,\n"
    (tmp_path / "sheet.csv").write_text(text)
    data = load("classification", train_file=str(tmp_path / "sheet.csv"))
    assert examples(data) == [("a charming movie", "1"), ("dull", "0"), ("great", "1"), ("bad", "0")]
    assert data.labels == ["0", "1"]
    assert repaired(data) == {"labels normalized (surrounding spaces dropped, 1.0 read as 1)": 3,
                              "rows with every field empty dropped": 2}
    (tmp_path / "mixed.jsonl").write_text('{"sentence": "a", "label": 1}\n{"sentence": "b", "label": "0"}\n'
                                          '{"sentence": "c", "label": 1.0}\n')
    assert examples(load("classification", train_file=str(tmp_path / "mixed.jsonl"))) == \
        [("a", "1"), ("b", "0"), ("c", "1")]


def test_a_row_range_and_an_error_line_after_dropped_rows(tmp_path):
    (tmp_path / "t.csv").write_text("sentence,label\n\n,\na,1\nb,0\nc,\n")
    with pytest.raises(UserError, match=r"t.csv:6 \(field 'label'\): missing label"):
        load("classification", train_file=str(tmp_path / "t.csv"))
    (tmp_path / "u.tsv").write_text("sentence\tlabel\na\t1\n\nb\t0\nc\t2\n")
    data = load("classification", train_file=str(tmp_path / "u.tsv") + "[1:]")
    assert examples(data) == [("b", "0"), ("c", "2")]
    with pytest.raises(UserError, match=r"u.tsv:5: label '2' is not one of the task's labels"):  # GLUE fixes them
        load("glue-sst2", train_file=str(tmp_path / "u.tsv") + "[:2]", validation_file=str(tmp_path / "u.tsv"))


BAD = [  # (file name, bytes, what the one line must say)
    ("ragged.csv.gz", gzip.compress(b"sentence,label\na,1\nb,0,x\n"), r"ragged.csv.gz:3: 3 fields, expected 2"),
    ("quote.csv", b'sentence,label\n"never closed,1\nb,0\n', r"quote.csv:2: .*never closed"),
    ("corrupt.tsv.gz", b"\x1f\x8b\x08\x00garbage", r"corrupt.tsv.gz: not a valid gzip file"),
    ("binary.tsv", b"sentence\tlabel\n\x00\x01\xff\t1\n", r"binary.tsv:2: undecodable byte 0xff"),
    ("number.jsonl", b'{"sentence": "a", "label": 1}\n{"sentence": 5, "label": 0}\n',
     r"number.jsonl:2 \(field 'sentence'\): expected text, found 5"),
    ("ids.jsonl", b'{"sentence": "a", "label": 0}\n{"sentence": "b", "label": 7}\n',
     r"ids.jsonl:2 \(field 'label'\): label id 7 but --label-names names 2 labels"),
]


@pytest.mark.parametrize("name,content,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, tiny_model, name, content, message):
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "out"
    extra = ["--label-names", "neg,pos"] if name == "ids.jsonl" else []
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / name,
                    "--output-dir", out, *extra)
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("electra-tasks: error:")]
    assert len(lines) == 1 and re.search(message, lines[0]), result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_repairs_are_written_to_run_config(tmp_path, tiny_model):
    text = "sentence,label\r\ngood movie, 1.0\r\nbad film,0\r\ngood plot,1\r\nsad actor,0\r\n,\r\n"
    (tmp_path / "train.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    (tmp_path / "dev.csv").write_bytes("sentence,label\ngood caf\u00e9,1\nbad,0\n".encode("latin-1"))
    out = tmp_path / "out"
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.csv",
                    "--validation-file", tmp_path / "dev.csv", "--output-dir", out, "--max-steps", "1")
    assert result.exit_code == 0, result.stderr
    found = json.loads((out / "run_config.json").read_text())["data"]["repairs"]
    assert {(Path(r["file"]).name, r["repair"], r["count"]) for r in found} == {
        ("train.csv", "labels normalized (surrounding spaces dropped, 1.0 read as 1)", 1),
        ("train.csv", "rows with every field empty dropped", 1),
        ("dev.csv", "not UTF-8; decoded as cp1252 (detected; --encoding chooses)", 1)}


# --- tagging ----------------------------------------------------------------------------------
def conll(sentences=SENTENCES, sep=" ") -> str:
    return "".join("".join(f"{t}{sep}{g}\n" for t, g in zip(*s)) + "\n" for s in sentences)


def sentences(data, split="train"):
    ds = data.splits[split]
    return list(zip(ds["tokens"], ds["tags"]))


def as_lists(pairs=SENTENCES):
    return [(list(t), list(g)) for t, g in pairs]


@pytest.mark.parametrize("name", ["train.txt", "train.conll.gz", "train.conll.bz2", "train.txt.xz", "train.txt.zst"])
def test_conll_plain_and_compressed(tmp_path, name):
    path = compress(tmp_path / name, conll().encode("utf-8"))
    assert sentences(load("tagging", train_file=str(path))) == as_lists()


def test_conll_quirks_bom_zero_width_docstart_tabs_crlf_latin1(tmp_path):
    quirky = ("\ufeff-DOCSTART-\tO\n\n"
              "EU\tB-ORG\nrejects\tO\n\u200bGerman\tB-MISC\ncall O\n"  # a space-separated line in a tab file
              "\u200b\n"  # a line of only a zero-width space: a sentence break
              "-DOCSTART- -X- -X- O\n"  # a space-separated DOCSTART in a tab-separated file
              "Peter\tB-PER\nBlackburn\u200b\tI-PER\n\n-DOCSTART-\n\nKöln\tB-LOC\nwins\tO\n.\tO\n")
    path = tmp_path / "quirky.tsv"
    path.write_bytes(quirky.replace("\n", "\r\n").encode("utf-8"))
    data = load("tagging", train_file=str(path))
    assert sentences(data) == as_lists()
    assert data.info["documents"] == {"train": 3}
    assert repaired(data) == {"byte-order marks / zero-width characters dropped from tokens": 2,
                              "lines of only a byte-order mark / zero-width characters read as blank lines": 1,
                              "space-separated lines in a tab-separated file split at whitespace": 1}
    latin = tmp_path / "latin.txt"
    latin.write_bytes(conll().encode("latin-1"))
    assert sentences(load("tagging", train_file=str(latin))) == as_lists()


def test_tagging_tables_names_ids_and_stringified_lists(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import ClassLabel, Dataset, Features, List, Value

    records = [{"tokens": t, "ner_tags": g} for t, g in SENTENCES]
    (tmp_path / "names.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    (tmp_path / "names.json").write_text(json.dumps(records, ensure_ascii=False))
    ids = [{"id": str(i), "words": t, "labels": [TAGS.index(x) for x in g]} for i, (t, g) in enumerate(SENTENCES)]
    (tmp_path / "ids.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ids))
    features = Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=TAGS))})
    hub = Dataset.from_dict({"tokens": [["-DOCSTART-"]] + [t for t, _ in SENTENCES],
                             "ner_tags": [[0]] + [[TAGS.index(x) for x in g] for _, g in SENTENCES]}, features=features)
    hub.to_parquet(str(tmp_path / "hub.parquet"))
    hub.save_to_disk(str(tmp_path / "saved"))
    pq.write_table(pa.table({"tokens": [t for t, _ in SENTENCES], "ner_tags": [g for _, g in SENTENCES]}),
                   tmp_path / "plain.parquet")
    with open(tmp_path / "lists.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tokens", "ner_tags"])
        writer.writerow([json.dumps(SENTENCES[0][0]), json.dumps(SENTENCES[0][1])])  # JSON style
        for t, g in SENTENCES[1:]:
            writer.writerow([repr(t), repr(g)])  # pandas' str(list) style
    for name in ("names.jsonl", "names.json", "hub.parquet", "saved", "plain.parquet", "lists.csv"):
        data = load("tagging", train_file=str(tmp_path / name))
        assert sentences(data) == as_lists(), name
    data = load("tagging", train_file=str(tmp_path / "ids.jsonl"), tokens_column="words", tags_column="labels",
                label_names=",".join(TAGS))
    assert sentences(data) == as_lists()
    assert load("tagging", train_file=str(tmp_path / "hub.parquet")).info["documents"] == {"train": 1}
    with pytest.raises(UserError, match=r"ids.jsonl:1 \(field 'labels'\): tag ids \(3, \.\.\.\) without names"):
        load("tagging", train_file=str(tmp_path / "ids.jsonl"), tokens_column="words", tags_column="labels")
    (tmp_path / "bad.jsonl").write_text('{"tokens": ["a", "b"], "ner_tags": ["O", "O"]}\n'
                                        '{"tokens": ["a", "b", "c"], "ner_tags": ["O", "B-PER"]}\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2: 3 tokens but 2 tags"):
        load("tagging", train_file=str(tmp_path / "bad.jsonl"))


# --- QA -----------------------------------------------------------------------------------------
CONTEXT = "John lives in Paris. Mary visited London in 1990."
QAS = [("q1", "Where does John live?", "Paris", 14), ("q2", "Who visited London?", "Mary", 21),
       ("q3", "When?", "1990", 44)]


def squad(qas=QAS, context=CONTEXT) -> dict:
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": q, "answers": [{"text": a, "answer_start": s}]} for qid, q, a, s in qas]}]}]}


def flat_rows(qas=QAS) -> list[dict]:
    return [{"id": qid, "title": "t", "context": CONTEXT, "question": q,
             "answers": {"text": [a], "answer_start": [s]}} for qid, q, a, s in qas]


def questions(data, split="train"):
    ds = data.splits[split]
    return list(zip(ds["id"], ds["question"], ds["context"], [tuple(a["text"]) for a in ds["answers"]],
                    [tuple(a["answer_start"]) for a in ds["answers"]]))


def test_squad_compressed_flat_jsonl_parquet_saved_and_json_list(tmp_path):
    from datasets import Dataset

    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(squad()))
    expected = questions(load("qa", train_file=str(plain)))
    compress(tmp_path / "dev.json.gz", json.dumps(squad()).encode())
    (tmp_path / "flat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in flat_rows()))
    (tmp_path / "flat.json").write_text(json.dumps(flat_rows()))
    Dataset.from_list(flat_rows()).to_parquet(str(tmp_path / "flat.parquet"))
    Dataset.from_list(flat_rows()).save_to_disk(str(tmp_path / "saved"))
    for name in ("dev.json.gz", "flat.jsonl", "flat.json", "flat.parquet", "saved"):
        assert questions(load("qa", train_file=str(tmp_path / name))) == expected, name


def test_squad_offsets_off_whitespace_and_unicode_variants_are_repaired_and_counted(tmp_path):
    context = "John lives in  Paris. The \u201cBig Apple\u201d is 10\u00a0km away. Paris again."
    qas = [("q1", "a?", "Paris", 16), ("q2", "b?", "Paris", 13), ("q3", "c?", "in Paris", 11),
           ("q4", "d?", '"Big Apple"', 26), ("q5", "e?", "10 km", 40), (7, "f?", "Paris", 51)]
    path = tmp_path / "off.json"
    path.write_text(json.dumps(squad(qas, context)))
    data = load("qa", train_file=str(path))
    got = {qid: (a["text"][0], a["answer_start"][0]) for qid, a in zip(data.splits["train"]["id"],
                                                                        data.splits["train"]["answers"])}
    assert got == {"q1": ("Paris", 15), "q2": ("Paris", 15), "q3": ("in  Paris", 11),
                   "q4": ("\u201cBig Apple\u201d", 26), "q5": ("10\u00a0km", 41), "7": ("Paris", 53)}
    assert repaired(data) == {"answer_start moved to the nearest occurrence of the answer text": 3,
                              "answer text found with its whitespace written differently": 2,  # a no-break space too
                              "answer text found up to Unicode variants (quotes, dashes, spaces, compatibility "
                              "forms)": 1}
    (tmp_path / "nowhere.json").write_text(json.dumps(squad([("q9", "?", "Rome", 3)])))
    with pytest.raises(UserError, match=r"question id q9\) \(answer 1\): the answer text \"Rome\" is nowhere"):
        load("qa", train_file=str(tmp_path / "nowhere.json"))


def test_integer_question_ids_are_written_as_strings(tmp_path, tiny_model):
    context = "john lives in paris and mary lives in london"
    path = tmp_path / "ints.json"
    path.write_text(json.dumps(squad([(1, "who lives in paris", "john", 1), (2, "where does mary live", "london", 38)],
                                     context)))
    out = tmp_path / "out"
    result = invoke("train", "qa", "--model", tiny_model, "--train-file", path, "--validation-file", path,
                    "--output-dir", out, "--max-steps", "1", "--max-seq-length", "32", "--max-query-length", "8",
                    "--doc-stride", "4")
    assert result.exit_code == 0, result.stderr
    predictions = json.loads((out / "predictions.json").read_text())
    assert sorted(predictions) == ["1", "2"] and all(isinstance(v, str) for v in predictions.values())
    repairs = json.loads((out / "run_config.json").read_text())["data"]["repairs"]
    assert {(r["repair"], r["count"]) for r in repairs} == {
        ("answer_start moved to the nearest occurrence of the answer text", 2)}  # train and validation


# --- the other table families ------------------------------------------------------------------
def test_multiple_choice_and_extraction_read_parquet_and_compressed_tables(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [{"context": "it rained", "choices": ["wet", "dry"], "label": 0},
               {"context": "sunny day", "choices": ["wet", "dry", "cold"], "label": 1}]
    (tmp_path / "mc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    compress(tmp_path / "mc.jsonl.xz", (tmp_path / "mc.jsonl").read_bytes())
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "mc.parquet")
    plain = load("multiple-choice", train_file=str(tmp_path / "mc.jsonl")).splits["train"]
    for name in ("mc.jsonl.xz", "mc.parquet"):
        assert load("multiple-choice", train_file=str(tmp_path / name)).splits["train"].to_list() == plain.to_list()
    docs = [("First sentence here. Second one follows.", "First sentence here.", "a"),
            ("Another document. With two sentences.", "With two sentences.", "b")]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([("article", "highlights", "id"), *docs])
    (tmp_path / "docs.csv").write_text(out.getvalue())
    compress(tmp_path / "docs.csv.bz2", out.getvalue().encode())
    pq.write_table(pa.table({"article": [d[0] for d in docs], "highlights": [d[1] for d in docs],
                             "id": [d[2] for d in docs]}), tmp_path / "docs.parquet")
    plain = load("extractive-summarization", train_file=str(tmp_path / "docs.csv")).splits["train"].to_list()
    for name in ("docs.csv.bz2", "docs.parquet"):
        assert load("extractive-summarization", train_file=str(tmp_path / name)).splits["train"].to_list() == plain


@pytest.mark.parametrize("compression", [".gz", ".bz2", ".xz", ".zst"])
def test_plain_text_compressed_reads_as_its_twin(tmp_path, compression):
    from electra_tasks.data.text import read_text

    text = "first line, café\r\nsecond line\n"
    (tmp_path / "plain.txt").write_text(text, encoding="utf-8", newline="")
    packed = compress(tmp_path / f"plain.txt{compression}", text.encode("utf-8"))
    assert read_text(packed) == read_text(tmp_path / "plain.txt") == text
    folder = tmp_path / "docs" / "pos"
    folder.mkdir(parents=True)
    compress(folder / f"a.txt{compression}", b"a compressed review")
    (folder.parent / "neg").mkdir()
    (folder.parent / "neg" / "b.txt").write_text("a plain one")
    assert sorted(examples(load("classification", train_file=str(folder.parent)))) == \
        [("a compressed review", "pos"), ("a plain one", "neg")]
