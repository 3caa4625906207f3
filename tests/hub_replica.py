#!/usr/bin/env python
"""A local replica of the Hugging Face hub, served over HTTP, for the hub path of electra-tasks.

    python tests/hub_replica.py DIR

builds DIR (once: later calls reuse it until this script changes), starts a hub server in the background on 127.0.0.1 and
prints the `export ...` lines a shell needs to run any `electra-tasks` command against it, then
`# pid N` (stop it with `kill N`; it also exits by itself after --idle-exit seconds without a
request). The unmodified Hugging Face clients (huggingface_hub, transformers, datasets) reach it
through `HF_ENDPOINT`: revision resolution, ETags, redirects to a "CDN" for LFS files, range
requests, the tree / paths-info / revision APIs, and their own caching under DIR/hf-home.

What it holds (content built here, at run time, from ../shared/data; random weights):
- models `google/electra-{small,base}-{discriminator,generator}`: the released `config.json`
  values, BERT uncased vocab.txt + tokenizer_config.json (do_lower_case), random weights of the
  released shapes under the released key names. small-generator is `pytorch_model.bin` only (as
  the 2020 uploads are, with the old `position_ids` buffer); the others `model.safetensors`.
- datasets with the hub's schemas (parquet with embedded features + README.md dataset card):
  `nyu-mll/glue` (every config), `eriktks/conll2003` (a loading script on main, the parquet
  export on `refs/convert/parquet`), `rajpurkar/squad`, `rajpurkar/squad_v2`,
  `abisee/cnn_dailymail` (3.0.0), `allenai/swag` (regular).
  MNLI and QQP are not in ../shared/data: their rows are stand-ins (RTE and MRPC pairs, labels
  mapped as written in their dataset cards); every other config holds the real rows.

The server answers like the hub does where the clients look: a missing repo is 401 RepoNotFound,
a missing revision 404 RevisionNotFound, a missing file or folder 404 EntryNotFound; files get
`X-Repo-Commit` and a git-blob `ETag`, LFS files a 302 to /cdn-lfs/<sha256> with `X-Linked-Etag`
and `X-Linked-Size`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ELECTRA_TASKS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DATE = "2020-03-10T20:46:58.000Z"
LFS_SUFFIXES = (".bin", ".safetensors", ".parquet", ".h5", ".msgpack", ".pt")
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)

# --- models ---------------------------------------------------------------------------------
# config.json of the released checkpoints (huggingface.co/google/electra-*/config.json)
_COMMON = {"attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
           "initializer_range": 0.02, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
           "model_type": "electra", "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2,
           "vocab_size": 30522}
MODELS = {
    "google/electra-small-discriminator": {"architectures": ["ElectraForPreTraining"], "embedding_size": 128,
                                           "hidden_size": 256, "intermediate_size": 1024, "num_attention_heads": 4},
    "google/electra-small-generator": {"architectures": ["ElectraForMaskedLM"], "embedding_size": 128,
                                       "hidden_size": 256, "intermediate_size": 1024, "num_attention_heads": 4},
    "google/electra-base-discriminator": {"architectures": ["ElectraForPreTraining"], "embedding_size": 768,
                                          "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
    "google/electra-base-generator": {"architectures": ["ElectraForMaskedLM"], "embedding_size": 768,
                                      "hidden_size": 256, "intermediate_size": 1024, "num_attention_heads": 4},
}
BIN_ONLY = {"google/electra-small-generator"}
TOKENIZER_CONFIG = {"do_lower_case": True, "model_max_length": 512}


def released_config(repo_id: str) -> dict:
    return dict(sorted({**_COMMON, **MODELS[repo_id]}.items()))


def random_state_dict(repo_id: str, seed: int):
    """Random tensors with the released checkpoint's names and shapes (LayerNorm 1/0, biases 0)."""
    import torch
    from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

    config = ElectraConfig(**released_config(repo_id))
    head = ElectraForPreTraining if "discriminator" in repo_id else ElectraForMaskedLM
    with torch.device("meta"):
        shapes = {name: (t.shape, t.dtype) for name, t in head(config).state_dict().items()}
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, (shape, dtype) in shapes.items():
        if "LayerNorm.weight" in name:
            state[name] = torch.ones(shape, dtype=dtype)
        elif name.endswith(".bias"):
            state[name] = torch.zeros(shape, dtype=dtype)
        else:
            state[name] = torch.randn(shape, generator=generator, dtype=dtype).mul_(0.02)
    return state


def model_files(repo_id: str, seed: int) -> dict[str, bytes]:
    import torch

    files = {".gitattributes": GITATTRIBUTES.encode(),
             "README.md": f"---\nlicense: apache-2.0\nlanguage: en\n---\n\n# {repo_id}\n\nReplica for tests: "
                          f"released config and tokenizer, random weights.\n".encode(),
             "config.json": (json.dumps(released_config(repo_id), indent=2) + "\n").encode(),
             "tokenizer_config.json": (json.dumps(TOKENIZER_CONFIG) + "\n").encode(),
             "vocab.txt": (SHARED_DATA / "vocab" / "bert-base-uncased-vocab.txt").read_bytes()}
    state = random_state_dict(repo_id, seed)
    tied = "generator_lm_head.weight"  # the generator's output layer is tied to the token embeddings
    if repo_id in BIN_ONLY:
        # the 2020 uploads: a pickled state dict (loadable with weights_only) holding the tied tensor under
        # both names (one storage) and the old position_ids buffer
        state[tied] = state["electra.embeddings.word_embeddings.weight"]
        state["electra.embeddings.position_ids"] = torch.arange(512).unsqueeze(0)
        buffer = io.BytesIO()
        torch.save(state, buffer)
        files["pytorch_model.bin"] = buffer.getvalue()
    else:
        from safetensors.torch import save

        state.pop(tied, None)  # safetensors holds no aliases: the tied weight is left out, as converted repos do
        files["model.safetensors"] = save(state, metadata={"format": "pt"})
    return files


# --- datasets -------------------------------------------------------------------------------
def read_tsv(path: Path, header: bool = True) -> list:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not header:
        return rows
    names = rows[0]
    return [dict(zip(names, row)) for row in rows[1:]]


def glue_configs():
    """{config: (features, {split: rows})} for nyu-mll/glue, labels as ClassLabel ids, test -1."""
    import datasets as hf

    glue = SHARED_DATA / "glue"
    string, idx = hf.Value("string"), hf.Value("int32")

    def label(*names):
        return hf.ClassLabel(names=list(names))

    def rows(records, **columns):
        out = []
        for i, record in enumerate(records):
            out.append({name: fn(record) for name, fn in columns.items()} | {"idx": i})
        return out

    binary_label = lambda key: (lambda r: int(r[key]))  # noqa: E731
    unlabelled = lambda r: -1  # noqa: E731
    configs = {}

    cola_train = read_tsv(glue / "CoLA" / "train.tsv", header=False)
    cola_dev = read_tsv(glue / "CoLA" / "dev.tsv", header=False)
    configs["cola"] = (
        hf.Features({"sentence": string, "label": label("unacceptable", "acceptable"), "idx": idx}),
        {"train": rows(cola_train[:300], sentence=lambda r: r[3], label=lambda r: int(r[1])),
         "validation": rows(cola_dev[:200], sentence=lambda r: r[3], label=lambda r: int(r[1])),
         # CoLA's unlabelled test set is not in shared/data: later training sentences stand in
         "test": rows(cola_train[300:400], sentence=lambda r: r[3], label=unlabelled)})

    sst = {s: read_tsv(glue / "SST-2" / f"{s}.tsv") for s in ("train", "dev", "test")}
    configs["sst2"] = (
        hf.Features({"sentence": string, "label": label("negative", "positive"), "idx": idx}),
        {"train": rows(sst["train"][:300], sentence=lambda r: r["sentence"], label=binary_label("label")),
         "validation": rows(sst["dev"][:200], sentence=lambda r: r["sentence"], label=binary_label("label")),
         "test": rows(sst["test"][:100], sentence=lambda r: r["sentence"], label=unlabelled)})

    mrpc = {s: read_tsv(glue / "MRPC" / f"{s}.tsv") for s in ("train", "dev", "test")}
    pair = lambda a, b: {"sentence1": lambda r: r[a], "sentence2": lambda r: r[b]}  # noqa: E731
    configs["mrpc"] = (
        hf.Features({"sentence1": string, "sentence2": string, "label": label("not_equivalent", "equivalent"),
                     "idx": idx}),
        {"train": rows(mrpc["train"][:300], **pair("#1 String", "#2 String"), label=binary_label("Quality")),
         "validation": rows(mrpc["dev"][:200], **pair("#1 String", "#2 String"), label=binary_label("Quality")),
         "test": rows(mrpc["test"][:100], **pair("#1 String", "#2 String"), label=unlabelled)})

    # QQP is not in shared/data: MRPC pairs stand in (paraphrase = duplicate), from rows mrpc does not use
    configs["qqp"] = (
        hf.Features({"question1": string, "question2": string, "label": label("not_duplicate", "duplicate"),
                     "idx": idx}),
        {"train": rows(mrpc["train"][300:600], question1=lambda r: r["#1 String"],
                       question2=lambda r: r["#2 String"], label=binary_label("Quality")),
         "validation": rows(mrpc["dev"][200:400], question1=lambda r: r["#1 String"],
                            question2=lambda r: r["#2 String"], label=binary_label("Quality")),
         "test": rows(mrpc["test"][100:200], question1=lambda r: r["#1 String"],
                      question2=lambda r: r["#2 String"], label=unlabelled)})

    sts = {s: read_tsv(glue / "STS-B" / f"{s}.tsv") for s in ("train", "dev", "test")}
    configs["stsb"] = (
        hf.Features({"sentence1": string, "sentence2": string, "label": hf.Value("float32"), "idx": idx}),
        {"train": rows(sts["train"][:300], **pair("sentence1", "sentence2"), label=lambda r: float(r["score"])),
         "validation": rows(sts["dev"][:200], **pair("sentence1", "sentence2"), label=lambda r: float(r["score"])),
         "test": rows(sts["test"][:100], **pair("sentence1", "sentence2"), label=lambda r: -1.0)})

    rte = {s: read_tsv(glue / "RTE" / f"{s}.tsv") for s in ("train", "dev", "test")}
    nli2 = ("entailment", "not_entailment")
    configs["rte"] = (
        hf.Features({"sentence1": string, "sentence2": string, "label": label(*nli2), "idx": idx}),
        {"train": rows(rte["train"][:300], **pair("sentence1", "sentence2"), label=lambda r: nli2.index(r["label"])),
         "validation": rows(rte["dev"][:200], **pair("sentence1", "sentence2"),
                            label=lambda r: nli2.index(r["label"])),
         "test": rows(rte["test"][:100], **pair("sentence1", "sentence2"), label=unlabelled)})

    # MNLI is not in shared/data: RTE pairs stand in (entailment -> entailment, not_entailment -> neutral),
    # from rows rte does not use; matched and mismatched are disjoint slices
    mnli_names = ("entailment", "neutral", "contradiction")
    mnli_label = lambda r: 0 if r["label"] == "entailment" else 1  # noqa: E731
    premise = {"premise": lambda r: r["sentence1"], "hypothesis": lambda r: r["sentence2"]}
    mnli_features = hf.Features({"premise": string, "hypothesis": string, "label": label(*mnli_names), "idx": idx})
    mnli_splits = {
        "train": rows(rte["train"][300:600], **premise, label=mnli_label),
        "validation_matched": rows(rte["dev"][200:240], **premise, label=mnli_label),
        "validation_mismatched": rows(rte["dev"][240:277], **premise, label=mnli_label),
        "test_matched": rows(rte["test"][100:200], **premise, label=unlabelled),
        "test_mismatched": rows(rte["test"][200:300], **premise, label=unlabelled)}
    configs["mnli"] = (mnli_features, mnli_splits)
    configs["mnli_matched"] = (mnli_features, {"validation": mnli_splits["validation_matched"],
                                               "test": mnli_splits["test_matched"]})
    configs["mnli_mismatched"] = (mnli_features, {"validation": mnli_splits["validation_mismatched"],
                                                  "test": mnli_splits["test_mismatched"]})

    qnli = {s: read_tsv(glue / "QNLI" / f"{s}.tsv") for s in ("dev", "test")}
    qs = {"question": lambda r: r["question"], "sentence": lambda r: r["sentence"]}
    configs["qnli"] = (
        hf.Features({"question": string, "sentence": string, "label": label(*nli2), "idx": idx}),
        # QNLI's training set is not in shared/data: the first dev rows train, later ones validate
        {"train": rows(qnli["dev"][:300], **qs, label=lambda r: nli2.index(r["label"])),
         "validation": rows(qnli["dev"][300:500], **qs, label=lambda r: nli2.index(r["label"])),
         "test": rows(qnli["test"][:100], **qs, label=unlabelled)})

    wnli = {s: read_tsv(glue / "WNLI" / f"{s}.tsv") for s in ("train", "dev")}
    configs["wnli"] = (
        hf.Features({"sentence1": string, "sentence2": string, "label": label("not_entailment", "entailment"),
                     "idx": idx}),
        {"train": rows(wnli["train"][:300], **pair("sentence1", "sentence2"), label=binary_label("label")),
         "validation": rows(wnli["dev"], **pair("sentence1", "sentence2"), label=binary_label("label")),
         # WNLI's test set is not in shared/data: later training pairs stand in
         "test": rows(wnli["train"][300:400], **pair("sentence1", "sentence2"), label=unlabelled)})
    return configs


CONLL_POS = ['"', "''", "#", "$", "(", ")", ",", ".", ":", "``", "CC", "CD", "DT", "EX", "FW", "IN", "JJ", "JJR",
             "JJS", "LS", "MD", "NN", "NNP", "NNPS", "NNS", "NN|SYM", "PDT", "POS", "PRP", "PRP$", "RB", "RBR", "RBS",
             "RP", "SYM", "TO", "UH", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "WDT", "WP", "WP$", "WRB"]
CONLL_CHUNK = ["O", "B-ADJP", "I-ADJP", "B-ADVP", "I-ADVP", "B-CONJP", "I-CONJP", "B-INTJ", "I-INTJ", "B-LST",
               "I-LST", "B-NP", "I-NP", "B-PP", "I-PP", "B-PRT", "I-PRT", "B-SBAR", "I-SBAR", "B-UCP", "I-UCP",
               "B-VP", "I-VP"]
CONLL_NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def conll_sentences(path: Path, limit: int) -> list[dict]:
    """The hub loader's reading of the IOB2 files: -DOCSTART- lines and blank lines end a sentence."""
    sentences, columns = [], ([], [], [], [])
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("-DOCSTART-") or not line.strip():
            if columns[0]:
                tokens, pos, chunk, ner = columns
                sentences.append({"id": str(len(sentences)), "tokens": tokens,
                                  "pos_tags": [CONLL_POS.index(t) for t in pos],
                                  "chunk_tags": [CONLL_CHUNK.index(t) for t in chunk],
                                  "ner_tags": [CONLL_NER.index(t) for t in ner]})
                columns = ([], [], [], [])
                if len(sentences) == limit:
                    break
            continue
        token, pos, chunk, ner = line.split(" ")
        for column, value in zip(columns, (token, pos, chunk, ner)):
            column.append(value)
    return sentences


def conll_config():
    import datasets as hf

    folder = SHARED_DATA / "conll2003"
    features = hf.Features({"id": hf.Value("string"), "tokens": hf.Sequence(hf.Value("string")),
                            "pos_tags": hf.Sequence(hf.ClassLabel(names=CONLL_POS)),
                            "chunk_tags": hf.Sequence(hf.ClassLabel(names=CONLL_CHUNK)),
                            "ner_tags": hf.Sequence(hf.ClassLabel(names=CONLL_NER))})
    return features, {"train": conll_sentences(folder / "train.txt", 300),
                      "validation": conll_sentences(folder / "valid.txt", 200),
                      "test": conll_sentences(folder / "test.txt", 200)}


def squad_rows(path: Path, questions: slice) -> list[dict]:
    """The hub's flat rows (id, title, context, question, answers{text, answer_start}) in file order."""
    rows = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                rows.append({"id": qa["id"], "title": article["title"], "context": paragraph["context"],
                             "question": qa["question"],
                             "answers": {"text": [a["text"] for a in qa["answers"]],
                                         "answer_start": [a["answer_start"] for a in qa["answers"]]}})
    return rows[questions]


def squad_features():
    import datasets as hf

    return hf.Features({"id": hf.Value("string"), "title": hf.Value("string"), "context": hf.Value("string"),
                        "question": hf.Value("string"),
                        "answers": hf.Sequence({"text": hf.Value("string"), "answer_start": hf.Value("int32")})})


def cnn_config():
    import datasets as hf

    with open(SHARED_DATA / "summarization" / "cnn_dailymail_3.0.0_hf_csv" / "validation_first1000.csv",
              encoding="utf-8", newline="") as handle:
        rows = [{"article": r["article"], "highlights": r["highlights"], "id": r["id"]} for r in csv.DictReader(handle)]
    features = hf.Features({"article": hf.Value("string"), "highlights": hf.Value("string"), "id": hf.Value("string")})
    # the hub's train split comes in three shards
    return features, {"train": [rows[0:70], rows[70:140], rows[140:210]], "validation": rows[300:400],
                      "test": rows[400:500]}


def swag_config():
    import datasets as hf

    folder = SHARED_DATA / "multiple_choice" / "swag" / "samples"
    names = ["video-id", "fold-ind", "startphrase", "sent1", "sent2", "gold-source",
             "ending0", "ending1", "ending2", "ending3"]

    def read(name):
        with open(folder / name, encoding="utf-8", newline="") as handle:
            return [{**{k: r[k] for k in names}, "label": int(r["label"]) if r.get("label") else -1}
                    for r in csv.DictReader(handle)]

    features = hf.Features({**{k: hf.Value("string") for k in names},
                            "label": hf.ClassLabel(names=["0", "1", "2", "3"])})
    # only samples of SWAG are in shared/data (4 train, 11 validation, 4 test rows)
    return features, {"train": read("train_first4_hf_dummy.csv"), "validation": read("val_first11.csv"),
                      "test": read("test_first4_hf_dummy.csv")}


def parquet_bytes(features, rows: list[dict]) -> bytes:
    import datasets as hf

    buffer = io.BytesIO()
    hf.Dataset.from_list(rows, features=features).to_parquet(buffer)
    return buffer.getvalue()


def dataset_card(title: str, configs: dict, layout: dict | None, extra: dict | None = None, text: str = "") -> bytes:
    """README.md with the hub's YAML header: dataset_info (features, splits) and configs (data_files)."""
    import yaml

    import datasets as hf

    infos = []
    for name, (features, splits) in configs.items():
        sizes = [{"name": split, "num_bytes": sum(hf.Dataset.from_list(s, features=features).data.nbytes
                                                  for s in _shards(rows)),
                  "num_examples": sum(len(s) for s in _shards(rows))} for split, rows in splits.items()]
        infos.append({"config_name": name, "features": features._to_yaml_list(), "splits": sizes,
                      "dataset_size": sum(s["num_bytes"] for s in sizes)})
    header: dict = {**(extra or {}), "dataset_info": infos}
    if layout is not None:
        header["configs"] = [{"config_name": name, **({"default": True} if layout.get("default") == name else {}),
                              "data_files": [{"split": split, "path": f"{layout['dir'](name)}/{split}-*"}
                                             for split in splits]}
                             for name, (_, splits) in configs.items()]
    body = yaml.safe_dump(header, sort_keys=False, allow_unicode=True)
    return f"---\n{body}---\n\n# {title}\n\n{text}Replica for tests, built from ../shared/data.\n".encode()


def _shards(rows):
    return rows if rows and isinstance(rows[0], list) else [rows]


def parquet_tree(configs: dict, folder) -> dict[str, bytes]:
    files = {}
    for name, (features, splits) in configs.items():
        for split, rows in splits.items():
            shards = _shards(rows)
            for n, shard in enumerate(shards):
                files[f"{folder(name)}/{split}-{n:05d}-of-{len(shards):05d}.parquet"] = parquet_bytes(features, shard)
    return files


def dataset_repos() -> dict[str, dict[str, dict[str, bytes]]]:
    """{repo_id: {revision: {path: bytes}}} for every dataset of the replica."""
    base = {".gitattributes": GITATTRIBUTES.encode()}
    repos = {}
    glue = glue_configs()
    repos["nyu-mll/glue"] = {"main": {**base, **parquet_tree(glue, lambda c: c), "README.md": dataset_card(
        "GLUE", glue, {"dir": lambda c: c}, {"pretty_name": "GLUE (General Language Understanding Evaluation benchmark)"},
        "MNLI and QQP rows are stand-ins (RTE and MRPC pairs); CoLA, WNLI and QNLI splits that shared/data "
        "lacks are cut from other splits.\n\n")}}

    conll = {"conll2003": conll_config()}
    repos["eriktks/conll2003"] = {
        # main still holds the loading script (datasets >= 4 refuses it); the parquet export lives on its ref
        "main": {**base, "README.md": dataset_card("CoNLL-2003", conll, None),
                 "conll2003.py": b"# the loading script of the hub repository (replica: not a working copy)\n"},
        "refs/convert/parquet": {**base, **{f"conll2003/{split}/0000.parquet": parquet_bytes(conll["conll2003"][0], rows)
                                            for split, rows in conll["conll2003"][1].items()}}}

    v1 = SHARED_DATA / "squad" / "v1.1" / "dev-v1.1.json"
    squad = {"plain_text": (squad_features(), {"train": squad_rows(v1, slice(0, 300)),
                                               "validation": squad_rows(v1, slice(-200, None))})}
    repos["rajpurkar/squad"] = {"main": {**base, **parquet_tree(squad, lambda c: c),
                                         "README.md": dataset_card("SQuAD", squad, {"dir": lambda c: c})}}
    v2 = SHARED_DATA / "squad" / "v2.0" / "dev-v2.0.json"
    squad2 = {"squad_v2": (squad_features(), {"train": squad_rows(v2, slice(0, 300)),
                                              "validation": squad_rows(v2, slice(-200, None))})}
    repos["rajpurkar/squad_v2"] = {"main": {**base, **parquet_tree(squad2, lambda c: c),
                                            "README.md": dataset_card("SQuAD 2.0", squad2, {"dir": lambda c: c})}}

    cnn = {"3.0.0": cnn_config()}
    repos["abisee/cnn_dailymail"] = {"main": {**base, **parquet_tree(cnn, lambda c: c),
                                              "README.md": dataset_card("CNN / DailyMail", cnn, {"dir": lambda c: c})}}

    swag = {"regular": swag_config()}
    repos["allenai/swag"] = {"main": {**base, **parquet_tree(swag, lambda c: c), "README.md": dataset_card(
        "SWAG", swag, {"dir": lambda c: c, "default": "regular"}, text="Only SWAG's real samples are in shared/data.\n\n")}}
    return repos


# --- the replica on disk ----------------------------------------------------------------------
def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def write_revision(root: Path, kind: str, repo_id: str, revision: str, files: dict[str, bytes]) -> str:
    """Store one revision's files; returns its commit id (a hash of the tree, stable across builds)."""
    entries = {}
    for path, data in sorted(files.items()):
        if path.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            pointer = lfs_pointer(sha, len(data))
            entries[path] = {"size": len(data), "oid": git_blob_oid(pointer),
                             "lfs": {"oid": sha, "size": len(data), "pointerSize": len(pointer)}}
        else:
            entries[path] = {"size": len(data), "oid": git_blob_oid(data), "lfs": None}
    tree = "".join(f"{p} {e['oid']}\n" for p, e in entries.items())
    commit = hashlib.sha1(f"{kind}/{repo_id}@{revision}\n{tree}".encode()).hexdigest()
    snapshot = root / "repos" / kind / repo_id / commit
    for path, data in files.items():
        target = snapshot / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (snapshot.parent / f"{commit}.json").write_text(json.dumps({"files": entries, "date": DATE}))
    refs_path = snapshot.parent / "refs.json"
    refs = json.loads(refs_path.read_text()) if refs_path.exists() else {}
    refs[revision] = commit
    refs_path.write_text(json.dumps(refs, indent=1))
    return commit


def build(root: Path, *, quiet: bool = False) -> None:
    """Write every repository of the replica under root/repos (skipped when already complete)."""
    marker, version = root / "repos" / ".complete", hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text() == version:  # built by this very script: reuse it
        return
    missing = [p for p in (SHARED_DATA / "vocab", SHARED_DATA / "glue", SHARED_DATA / "conll2003") if not p.exists()]
    if missing:
        raise SystemExit(f"hub_replica: {missing[0]} not found; the replica is built from ../shared/data")
    started = time.perf_counter()
    import datasets

    datasets.disable_progress_bars()
    if (root / "repos").exists():
        shutil.rmtree(root / "repos")
    from concurrent.futures import ThreadPoolExecutor

    import safetensors.torch  # noqa: F401  (imported before the threads start: lazy imports race)
    from transformers import ElectraForMaskedLM, ElectraForPreTraining, PreTrainedTokenizerBase  # noqa: F401

    def model(seed: int, repo_id: str) -> None:
        write_revision(root, "models", repo_id, "main", model_files(repo_id, seed))

    # the weights (torch, safetensors, hashing, writing: all outside the GIL) beside the datasets
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = [pool.submit(model, seed, repo_id) for seed, repo_id in enumerate(MODELS)]
        for repo_id, revisions in dataset_repos().items():
            for revision, files in revisions.items():
                write_revision(root, "datasets", repo_id, revision, files)
        for future in built:
            future.result()
    marker.write_text(version)
    if not quiet:
        print(f"# replica built in {time.perf_counter() - started:.1f}s: {root / 'repos'}", flush=True)


# --- the server --------------------------------------------------------------------------------
class Replica:
    """The repositories on disk, indexed: refs, manifests and the LFS objects by sha256."""

    def __init__(self, root: Path):
        self.root = root
        self.repos: dict[tuple[str, str], dict] = {}
        self.lfs: dict[str, Path] = {}
        for refs_path in (root / "repos").glob("*/*/*/refs.json"):
            folder = refs_path.parent
            kind, repo_id = folder.parent.parent.name, f"{folder.parent.name}/{folder.name}"
            refs = json.loads(refs_path.read_text())
            commits = {}
            for commit in set(refs.values()):
                manifest = json.loads((folder / f"{commit}.json").read_text())
                commits[commit] = manifest
                for path, entry in manifest["files"].items():
                    if entry["lfs"]:
                        self.lfs[entry["lfs"]["oid"]] = folder / commit / path
            self.repos[(kind, repo_id)] = {"refs": refs, "commits": commits, "folder": folder}

    def commit(self, repo: dict, revision: str) -> str | None:
        if revision in repo["refs"]:
            return repo["refs"][revision]
        if re.fullmatch(r"[0-9a-f]{40}", revision) and revision in repo["commits"]:
            return revision
        return None


class HubHandler:  # mixed into BaseHTTPRequestHandler in serve()
    replica: Replica
    last_request: list
    cdn: list  # [base URL of the LFS "CDN"]: a host of its own (another port), as the hub's CDN is

    def log_message(self, fmt, *args):  # one line per request in the server's log
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    # routing -------------------------------------------------------------------------------
    def do_HEAD(self):
        self._route("HEAD")

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""  # read whatever the route: the connection stays usable
        self._route("POST")

    def _route(self, method: str):
        self.last_request[0] = time.monotonic()
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if parts[:1] == ["cdn-lfs"] and len(parts) == 2:
                return self._cdn(parts[1], method)
            if parts[:1] == ["api"] and len(parts) >= 4 and parts[1] in ("models", "datasets"):
                return self._api(parts[1], f"{parts[2]}/{parts[3]}", parts[4:], query, method)
            kind = "datasets" if parts[:1] == ["datasets"] else "models"
            rest = parts[1:] if kind == "datasets" else parts
            if len(rest) >= 5 and rest[2] == "resolve":
                return self._resolve(kind, f"{rest[0]}/{rest[1]}", rest[3], "/".join(rest[4:]), method)
            if len(rest) >= 4 and rest[1] == "resolve":  # a repo id without an owner
                return self._send_error(401, "RepoNotFound", "Repository not found")
        except (BrokenPipeError, ConnectionResetError):
            return
        self._send_error(404, None, "Sorry, we can't find the page you are looking for.")

    # answers -------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, method: str = "GET"):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, payload, method: str = "GET"):
        self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"}, method)

    def _send_error(self, status: int, code: str | None, message: str, method: str = "GET"):
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers, method)

    def _repo_and_commit(self, kind: str, repo_id: str, revision: str, method: str):
        repo = self.replica.repos.get((kind, repo_id))
        if repo is None:  # the hub answers 401 for a repository it does not show to an anonymous user
            self._send_error(401, "RepoNotFound", "Repository not found", method)
            return None, None
        commit = self.replica.commit(repo, revision)
        if commit is None:
            self._send_error(404, "RevisionNotFound", f"Invalid rev id: {revision}", method)
            return None, None
        return repo, commit

    def _resolve(self, kind: str, repo_id: str, revision: str, path: str, method: str):
        repo, commit = self._repo_and_commit(kind, repo_id, revision, method)
        if repo is None:
            return
        entry = repo["commits"][commit]["files"].get(path)
        if entry is None:
            return self._send_error(404, "EntryNotFound", f"{path} does not exist on \"{revision}\"", method)
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if entry["lfs"]:
            sha = entry["lfs"]["oid"]
            headers.update({"ETag": f'"{sha}"', "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(entry["size"]),
                            "Location": f"{self.cdn[0]}/cdn-lfs/{sha}"})
            return self._send(302, b"", headers, method)
        headers["ETag"] = f'"{entry["oid"]}"'
        self._send_file(repo["folder"] / commit / path, headers, method)

    def _send_file(self, path: Path, headers: dict, method: str):
        """The file, or the byte range asked for (`Range: bytes=a-b`, `a-`, `-n`), read from disk in pieces."""
        size = path.stat().st_size
        first, last, status = 0, size - 1, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "") or "")
        if match and (match.group(1) or match.group(2)):
            if match.group(1):
                first = int(match.group(1))
                last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                first = max(0, size - int(match.group(2)))
            if first >= size or first > last:
                return self._send(416, b"", {"Content-Range": f"bytes */{size}"}, method)
            headers["Content-Range"], status = f"bytes {first}-{last}/{size}", 206
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        if method == "HEAD":
            return
        with open(path, "rb") as handle:
            handle.seek(first)
            left = last - first + 1
            while left > 0:
                piece = handle.read(min(left, 1 << 20))
                if not piece:
                    break
                self.wfile.write(piece)
                left -= len(piece)

    def _cdn(self, sha: str, method: str):
        path = self.replica.lfs.get(sha)
        if path is None:
            return self._send(404, b"", {}, method)
        self._send_file(path, {"ETag": f'"{sha}"', "Accept-Ranges": "bytes",
                               "Content-Type": "application/octet-stream"}, method)

    def _api(self, kind: str, repo_id: str, rest: list[str], query: dict, method: str):
        revision = "main"
        if rest[:1] in (["revision"], ["tree"], ["paths-info"]) and len(rest) >= 2:
            revision = rest[1]
        repo, commit = self._repo_and_commit(kind, repo_id, revision, method)
        if repo is None:
            return
        files = repo["commits"][commit]["files"]
        if not rest or rest[0] == "revision":
            return self._send_json(self._info(kind, repo_id, repo, commit), method)
        if rest[0] == "refs":
            branches = [{"name": r, "ref": f"refs/heads/{r}", "targetCommit": c}
                        for r, c in repo["refs"].items() if not r.startswith("refs/")]
            converts = [{"name": r.rsplit("/", 1)[-1], "ref": r, "targetCommit": c}
                        for r, c in repo["refs"].items() if r.startswith("refs/convert/")]
            return self._send_json({"branches": branches, "converts": converts, "tags": []}, method)
        if rest[0] == "tree":
            folder = "/".join(rest[2:]).strip("/")
            listing = self._tree(files, folder, query.get("recursive", "false").lower() == "true",
                                 query.get("expand", "false").lower() == "true", commit)
            if listing is None:
                return self._send_error(404, "EntryNotFound", f"{folder} does not exist on \"{revision}\"", method)
            return self._send_json(listing, method)
        if rest[0] == "paths-info" and method == "POST":
            form = self._form()
            paths = form.get("paths", [])
            expand = str(form.get("expand", "false")).lower() in ("true", "1")
            found = []
            for path in (paths if isinstance(paths, list) else [paths]):
                path = path.strip("/")
                if path in files:
                    found.append(self._entry(path, files[path], expand, commit))
                elif any(p.startswith(path + "/") for p in files):
                    found.append({"type": "directory", "oid": _tree_oid(files, path), "path": path})
            return self._send_json(found, method)
        self._send_error(404, None, "Sorry, we can't find the page you are looking for.", method)

    def _form(self) -> dict:
        raw = getattr(self, "body", b"").decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            return json.loads(raw or "{}")
        parsed = parse_qs(raw)
        return {"paths": parsed.get("paths", []), "expand": (parsed.get("expand") or ["false"])[-1]}

    def _entry(self, path: str, entry: dict, expand: bool, commit: str) -> dict:
        item = {"type": "file", "oid": entry["oid"], "size": entry["size"], "path": path}
        if entry["lfs"]:
            item["lfs"] = entry["lfs"]
        if expand:
            item["lastCommit"] = {"id": commit, "title": "replica", "date": DATE}
            item["securityFileStatus"] = {"status": "safe"}
        return item

    def _tree(self, files: dict, folder: str, recursive: bool, expand: bool, commit: str):
        prefix = f"{folder}/" if folder else ""
        if folder and not any(p.startswith(prefix) for p in files):
            return None
        listing, seen = [], set()
        for path, entry in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):].split("/")
            for depth in range(1, len(rest)):
                directory = prefix + "/".join(rest[:depth])
                if directory not in seen and (recursive or depth == 1):
                    seen.add(directory)
                    listing.append({"type": "directory", "oid": _tree_oid(files, directory), "size": 0,
                                    "path": directory})
            if recursive or len(rest) == 1:
                listing.append(self._entry(path, entry, expand, commit))
        return listing

    def _info(self, kind: str, repo_id: str, repo: dict, commit: str) -> dict:
        files = repo["commits"][commit]["files"]
        info = {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
                "author": repo_id.split("/")[0], "sha": commit, "lastModified": DATE, "createdAt": DATE,
                "private": False, "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
                "siblings": [{"rfilename": p} for p in sorted(files)]}
        if kind == "models":
            info.update({"modelId": repo_id, "library_name": "transformers", "pipeline_tag": None})
        return info


def _tree_oid(files: dict, directory: str) -> str:
    listing = "".join(f"{p} {e['oid']}\n" for p, e in sorted(files.items()) if p.startswith(directory + "/"))
    return hashlib.sha1(listing.encode()).hexdigest()


def serve(root: Path, port: int, idle_exit: float) -> None:
    """Serve the replica on 127.0.0.1 until killed, idle for `idle_exit` seconds, or root is removed."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    replica = Replica(root)
    last_request, cdn = [time.monotonic()], [""]
    handler = type("Handler", (HubHandler, BaseHTTPRequestHandler),
                   {"replica": replica, "last_request": last_request, "cdn": cdn, "protocol_version": "HTTP/1.1"})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    cdn_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    cdn[0] = f"http://127.0.0.1:{cdn_server.server_address[1]}"
    for each in (server, cdn_server):
        each.daemon_threads = True
    threading.Thread(target=cdn_server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def watchdog():
        while True:
            time.sleep(1.0)
            if time.monotonic() - last_request[0] > idle_exit or not (root / "repos").is_dir():
                cdn_server.shutdown()
                server.shutdown()
                return

    threading.Thread(target=watchdog, daemon=True).start()
    state = {"port": server.server_address[1], "pid": os.getpid()}
    ready = root / "server.json"
    ready.with_suffix(".tmp").write_text(json.dumps(state))
    ready.with_suffix(".tmp").replace(ready)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        cdn_server.server_close()
        if ready.is_file() and json.loads(ready.read_text()).get("pid") == os.getpid():
            ready.unlink()


def environment(root: Path, port: int) -> dict[str, str]:
    """What a shell (or a test) sets to use the replica: the endpoint, a cache of its own, online."""
    return {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HOME": str(root / "hf-home"),
            "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
            # nothing beyond the replica is reachable: no telemetry, and no background request to the
            # hub's safetensors-conversion Space when a .bin checkpoint is loaded
            "HF_HUB_DISABLE_TELEMETRY": "1", "DISABLE_SAFETENSORS_CONVERSION": "1"}


def start(root: Path, idle_exit: float, port: int = 0) -> tuple[int, dict[str, str]]:
    """Start the server in the background; returns its pid and the environment to use it."""
    ready = root / "server.json"
    if ready.exists():
        ready.unlink()
    log = open(root / "server.log", "ab")
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(root), "--serve",
                                "--port", str(port), "--idle-exit", str(idle_exit)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while not ready.is_file():
        if process.poll() is not None:
            raise SystemExit(f"hub_replica: the server exited (status {process.returncode}); see {root / 'server.log'}")
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"hub_replica: the server did not start; see {root / 'server.log'}")
        time.sleep(0.05)
    state = json.loads(ready.read_text())
    return process.pid, environment(root, int(state["port"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="where the replica lives (built on the first call)")
    parser.add_argument("--idle-exit", type=float, default=3600.0,
                        help="the server exits after this many seconds without a request (default 3600)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the background server itself
    args = parser.parse_args(argv)
    root = args.dir.resolve()
    if args.serve:
        return serve(root, args.port, args.idle_exit)
    root.mkdir(parents=True, exist_ok=True)
    build(root)
    pid, env = start(root, args.idle_exit, args.port)
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    print(f"# pid {pid}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
