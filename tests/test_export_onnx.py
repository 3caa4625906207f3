"""`electra-tasks export` and `--backend onnx|onnx-int8` on tiny models: every family's graph gives
PyTorch's outputs (1e-4) through the shared inference path and decodes to the same predictions;
int8 agrees with fp32 on a toy set the model learned; bad folders are one line, exit 2, nothing
written."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("onnxruntime", reason="needs the onnx extra: pip install -e '.[onnx]' (part of '.[test]')")
pytest.importorskip("onnxscript", reason="needs the onnx extra: pip install -e '.[onnx]' (part of '.[test]')")

from electra_tasks.export import export_model  # noqa: E402
from electra_tasks.export.runtime import inference_model  # noqa: E402
from electra_tasks.options import RunOptions  # noqa: E402
from electra_tasks.registry import get_task  # noqa: E402
from electra_tasks.tasks.base import FAMILIES, TaskData  # noqa: E402
from electra_tasks.training import runner  # noqa: E402
from electra_tasks.training.inference import predict_outputs  # noqa: E402
from tests.conftest import invoke, run_cli  # noqa: E402
from tests.toy_data import write_sentiment_tsv  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QA_LINES = ['{"question": "who lives in paris", "context": "john lives in paris . mary lives in london ."}',
            "where did mary go\tmary visited london and john visited paris . it was very good . the end",
            '{"question": "what", "context": "red"}']
# task -> (head kind, config overrides, predict input lines of different lengths)
CASES = {
    "classification": ("sequence", {"num_labels": 3, "id2label": {0: "bad", 1: "fine", 2: "good"}},
                       ["the movie was good", "bad", "a very good film , not bad and not awful at all"]),
    "tagging": ("token", {"num_labels": 3, "id2label": {0: "O", 1: "B-PER", 2: "I-PER"}},
                ["john lives in paris", "mary", "mary met john in london and john met mary in paris"]),
    "extractive-summarization": ("token", {"num_labels": 2, "id2label": {0: "not_selected", 1: "selected"}},
                                 ['{"sentences": ["john lives in paris .", "mary lives in london .", '
                                  '"it was good .", "the end ."]}',
                                  '{"article": "the film was bad. the plot was awful. the actor was fine."}']),
    "squad-v2": ("qa", {"num_labels": 2, "qa_answerability_head": True}, QA_LINES),
    "squad": ("qa", {"num_labels": 2}, QA_LINES),  # no classifier: the null-score difference
    "multiple-choice": ("choice", {}, ['{"context": "which one is good", "choices": ["good movie", "bad", '
                                       '"the plot was awful"]}',
                                       '{"context": "what is red", "choices": ["one", "two red"]}']),
}


def fine_tuned(folder, tiny_model, task_name):
    """A model folder as `train` writes it (head, tokenizer, config.electra_tasks), untrained."""
    import torch
    from transformers import (AutoConfig, AutoTokenizer, ElectraForSequenceClassification,
                              ElectraForTokenClassification)

    from electra_tasks.tasks.multiple_choice.model import ElectraForMaskedMultipleChoice
    from electra_tasks.tasks.qa.model import ElectraForQuestionAnsweringWithAnswerability

    kind, overrides, _ = CASES[task_name]
    heads = {"sequence": ElectraForSequenceClassification, "token": ElectraForTokenClassification,
             "qa": ElectraForQuestionAnsweringWithAnswerability, "choice": ElectraForMaskedMultipleChoice}
    if "id2label" in overrides:
        overrides = {**overrides, "label2id": {v: k for k, v in overrides["id2label"].items()}}
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(tiny_model, **overrides)
    model = heads[kind].from_pretrained(tiny_model, config=config)
    model.config.electra_tasks = {"task": task_name, "family": get_task(task_name).family}
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_model):
    """task -> a fine-tuned-looking folder of that task with OUT/onnx (int8 too for one of them)."""
    folders = {}
    for task_name in CASES:
        folder = fine_tuned(tmp_path_factory.mktemp(task_name), tiny_model, task_name)
        export_model(folder, quantize="int8" if task_name == "multiple-choice" else None)
        folders[task_name] = folder
    return folders


def outputs_by_backend(folder, task_name, lines, backends=("torch", "onnx")):
    """The family's outputs for `lines` through predict's own path (encode, collate in batches of 2)."""
    task = get_task(task_name)
    family = FAMILIES[task.family]
    opts = RunOptions(task_name, model=str(folder))
    tokenizer, config, _ = runner.load_source(opts, task)
    data = TaskData(splits={}, labels=family.labels_from_model(config), info={"model": runner.made_for(config)})
    raw = family.read_predict_inputs(lines, "<test>", task, data, opts)
    features = runner.encode_split(family, task, "predict", raw, tokenizer, data, opts, for_training=False)
    results = {}
    for backend in backends:
        opts.backend = backend
        model = inference_model(family, task, config, data, opts)
        results[backend] = predict_outputs(model, features, family.collator(tokenizer),
                                           output_names=family.output_names,
                                           sequence_outputs=family.sequence_outputs, batch_size=2, progress=False)
    return family, results


@pytest.mark.parametrize("task_name", list(CASES))
def test_fp32_graph_gives_pytorchs_outputs_within_1e4(exported, task_name):
    family, results = outputs_by_backend(exported[task_name], task_name, CASES[task_name][2])
    for k, name in enumerate(family.output_names):
        for torch_out, onnx_out in zip(results["torch"][k], results["onnx"][k]):
            assert torch_out.shape == onnx_out.shape, name
            assert abs(torch_out - onnx_out).max() <= 1e-4, name


def test_export_writes_the_folder_with_dynamic_axes(exported):
    onnx_dir = exported["multiple-choice"] / "onnx"
    names = {p.name for p in onnx_dir.iterdir()}
    assert {"model.onnx", "model_int8.onnx", "export.json", "config.json", "tokenizer.json"} <= names
    assert not [p for p in exported["multiple-choice"].iterdir() if p.name.startswith(".")]  # no staging left
    manifest = json.loads((onnx_dir / "export.json").read_text())
    assert manifest["inputs"]["input_ids"] == ["batch", "choices", "sequence"]
    assert manifest["inputs"]["choice_mask"] == ["batch", "choices"]
    assert manifest["outputs"] == {"logits": ["batch", "choices"]}
    qa = json.loads((exported["squad-v2"] / "onnx" / "export.json").read_text())
    assert qa["outputs"] == {"start_logits": ["batch", "sequence"], "end_logits": ["batch", "sequence"],
                             "answerability_logits": ["batch"]}
    classifier = json.loads((exported["classification"] / "onnx" / "export.json").read_text())
    assert classifier["outputs"] == {"logits": ["batch", None]} and classifier["labels"] == ["bad", "fine", "good"]
    tagging = json.loads((exported["tagging"] / "onnx" / "config.json").read_text())
    assert tagging["id2label"] == {"0": "O", "1": "B-PER", "2": "I-PER"}  # the label map beside the graph


def close(a, b):
    """Same predictions; scores equal to 1e-3."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-3)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("task_name", ["tagging", "extractive-summarization", "squad-v2", "multiple-choice"])
def test_predict_decodes_onnx_outputs_with_the_familys_own_decoding(exported, task_name):
    lines = CASES[task_name][2]
    records = {}
    for backend in ("torch", "onnx"):
        opts = RunOptions(task_name, model=str(exported[task_name]), backend=backend)
        records[backend] = runner.predict(opts, lines, "<test>")
    assert close(records["torch"], records["onnx"]), records


def test_missing_export_and_int8_are_one_line(exported, tmp_path):
    result = invoke("predict", "tagging", "--model", exported["tagging"], "--backend", "onnx-int8",
                    input="john lives in paris\n")
    assert result.exit_code == 2
    assert "model_int8.onnx not found" in result.stderr and "--quantize int8" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    bad = invoke("predict", "tagging", "--model", exported["tagging"], "--backend", "tensorrt", input="x\n")
    assert bad.exit_code == 2 and "expected one of torch, onnx, onnx-int8" in bad.stderr


@pytest.fixture(scope="module")
def learned(tmp_path_factory, tiny_model):
    """A classifier that learned the toy sentiment task, exported with --quantize int8 by the CLI."""
    folder = tmp_path_factory.mktemp("toy-onnx")
    write_sentiment_tsv(folder / "train.tsv", 400, seed=1)
    write_sentiment_tsv(folder / "dev.tsv", 200, seed=2)
    out = folder / "out"
    result = run_cli("train", "classification", "--model", tiny_model, "--train-file", folder / "train.tsv",
                     "--validation-file", folder / "dev.tsv", "--output-dir", out, "--epochs", "3",
                     "--learning-rate", "3e-3", "--batch-size", "8", "--seed", "7")
    assert result.returncode == 0, result.stderr[-2000:]
    exported = run_cli("export", out, "--quantize", "int8")
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert exported.stdout.split() == [str(p) for p in sorted((out / "onnx").iterdir())]
    return folder, out


def test_eval_backends_write_the_same_files_and_int8_agrees(learned):
    folder, out = learned
    predictions = {}
    for backend in ("torch", "onnx", "onnx-int8"):
        target = folder / f"eval-{backend}"
        result = invoke("eval", "classification", "--model", out, "--backend", backend, "--output-dir", target)
        assert result.exit_code == 0, result.stderr[-2000:]
        assert {p.name for p in target.iterdir()} == {"metrics.json", "run_config.json",
                                                       "predictions_validation.tsv"}
        predictions[backend] = (target / "predictions_validation.tsv").read_text().splitlines()
        assert json.loads((target / "run_config.json").read_text())["options"]["backend"] == backend
    assert predictions["onnx"] == predictions["torch"]
    accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
    assert accuracy >= 0.9  # the toy set was learned
    rows = list(zip(predictions["onnx"][1:], predictions["onnx-int8"][1:]))
    assert len(rows) == 200
    assert sum(a == b for a, b in rows) / len(rows) >= 0.99


def test_a_stale_export_is_refused(learned, tmp_path):
    import shutil

    _, out = learned
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "model.safetensors").write_bytes((copy / "model.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    result = invoke("predict", "classification", "--model", copy, "--backend", "onnx", input="it was good\n")
    assert result.exit_code == 2 and "exported from other weights" in result.stderr


def not_a_model(tmp_path, tiny_model):
    import shutil

    shutil.copytree(tiny_model, tmp_path / "pretrained")  # a discriminator, never fine-tuned
    return tmp_path / "pretrained"


def unknown_head(tmp_path, tiny_model):
    folder = not_a_model(tmp_path, tiny_model)
    config = json.loads((folder / "config.json").read_text())
    config["electra_tasks"] = {"task": "tagging", "family": "tagging"}  # but architectures: ElectraForPreTraining
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def empty(tmp_path, tiny_model):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


@pytest.mark.parametrize("make, message", [(empty, "not an electra-tasks model (no config.json)"),
                                           (not_a_model, "not an electra-tasks model"),
                                           (unknown_head, "not a fine-tuned ElectraForTokenClassification")])
def test_export_of_a_folder_that_is_not_a_fine_tuned_model_is_one_line(tmp_path, tiny_model, make, message):
    folder = make(tmp_path, tiny_model)
    before = sorted(p.name for p in folder.iterdir())
    result = invoke("export", folder)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written


def test_export_refuses_an_existing_export_and_names_the_missing_extra(exported, monkeypatch):
    again = invoke("export", exported["tagging"])
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.stderr
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    result = invoke("export", exported["tagging"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert 'pip install "electra-tasks[onnx]"' in result.stderr
