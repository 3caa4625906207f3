"""Bad input and bad options: one line on stderr naming what is wrong, exit 2, nothing written."""

from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.toy_data import write_sentiment_tsv


@pytest.fixture()
def files(tmp_path):
    write_sentiment_tsv(tmp_path / "train.tsv", 20, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 10, seed=2)
    (tmp_path / "empty.tsv").write_text("", encoding="utf-8")
    # binary (a NUL byte): no encoding fits; a Latin-1 file is decoded instead (tests/test_real_files.py)
    (tmp_path / "binary.tsv").write_bytes(b"sentence\tlabel\ngood\t1\nbad \xff\x00\xfe\t0\n")
    (tmp_path / "ragged.tsv").write_text("sentence\tlabel\ngood\t1\nbad\n", encoding="utf-8")
    (tmp_path / "newlabel.tsv").write_text("sentence\tlabel\ngood\t1\nmeh\t2\n", encoding="utf-8")
    (tmp_path / "broken.jsonl").write_text('{"sentence": "good", "label": 1}\n{"sentence": "bad", \n', encoding="utf-8")
    (tmp_path / "nolabel.jsonl").write_text('{"sentence": "good", "label": 1}\n{"sentence": "bad"}\n', encoding="utf-8")
    return tmp_path


# (case, extra arguments, what the one line must say)
CASES = [
    ("missing file", ["--train-file", "{d}/nope.tsv"], r"nope.tsv: file not found"),
    ("empty file", ["--train-file", "{d}/empty.tsv"], r"empty.tsv: the file is empty"),
    ("undecodable bytes", ["--train-file", "{d}/binary.tsv"], r"binary.tsv:3: undecodable byte 0xff"),
    ("wrong field count", ["--train-file", "{d}/ragged.tsv"], r"ragged.tsv:3: 1 fields, expected 2"),
    ("missing column", ["--train-file", "{d}/train.tsv", "--text-column", "sentense"],
     r"no text column 'sentense' \(did you mean 'sentence'\?\)"),
    ("broken json", ["--train-file", "{d}/broken.jsonl"], r"broken.jsonl:2: broken JSON"),
    ("missing label in json", ["--train-file", "{d}/nolabel.jsonl"], r"nolabel.jsonl:2 \(field 'label'\): missing label"),
    ("negative epochs", ["--train-file", "{d}/train.tsv", "--epochs", "-1"], r"--epochs -1.0: expected a number > 0"),
    ("zero length", ["--train-file", "{d}/train.tsv", "--max-seq-length", "0"], r"--max-seq-length 0: expected an integer >= 8"),
    ("zero samples", ["--train-file", "{d}/train.tsv", "--max-train-samples", "0"], r"--max-train-samples 0: expected an integer >= 1"),
    ("bad seeds", ["--train-file", "{d}/train.tsv", "--seeds", "1,x"], r"--seeds 1,x: expected comma-separated integers"),
    ("missing data dir", ["--data-dir", "{d}/nowhere"], r"--data-dir .*nowhere: folder not found"),
    ("unknown --report-to", ["--train-file", "{d}/train.tsv", "--report-to", "tensorbord"],
     r"--report-to tensorbord: unknown integration 'tensorbord'; expected all, none or one of .*tensorboard"),
]


@pytest.mark.parametrize("case,args,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(files, tiny_model, case, args, message):
    out = files / "out"
    result = invoke("train", "classification", "--model", tiny_model, "--output-dir", out,
                    *[a.format(d=files) for a in args])
    assert result.exit_code == 2, (case, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("electra-tasks: error:")]
    assert len(lines) == 1, result.stderr
    import re

    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists(), "nothing may be written on bad input"


def test_unknown_task_suggests_the_close_name(tiny_model, tmp_path):
    result = invoke("train", "glue-sst", "--model", tiny_model, "--output-dir", tmp_path / "o")
    assert result.exit_code == 2
    assert "unknown task 'glue-sst' (did you mean 'glue-sst2'?)" in result.stderr
    assert not (tmp_path / "o").exists()


def test_model_folder_that_does_not_exist(files):
    result = invoke("train", "classification", "--model", files / "no-model", "--train-file", files / "train.tsv",
                    "--output-dir", files / "o")
    assert result.exit_code == 2
    assert "no-model: model folder not found" in result.stderr
    assert not (files / "o").exists()


def test_hub_id_offline_suggests_a_local_folder(files):
    result = invoke("train", "classification", "--model", "google/electra-small-discriminator",
                    "--train-file", files / "train.tsv", "--output-dir", files / "o")
    assert result.exit_code == 2
    assert "could not load it from the Hugging Face hub" in result.stderr
    assert "local folder" in result.stderr
    assert not (files / "o").exists()


def test_data_dir_without_training_file_says_so(tiny_model, tmp_path):
    """QNLI as ../shared/data has it: dev.tsv and test.tsv only; `train` names the folder, not 'pass --data-dir'."""
    folder = tmp_path / "QNLI"
    folder.mkdir()
    (folder / "dev.tsv").write_text("index\tquestion\tsentence\tlabel\n0\tWho?\tHe did.\tentailment\n"
                                    "1\tWhere?\tIt rained.\tnot_entailment\n", encoding="utf-8")
    result = invoke("train", "glue-qnli", "--model", tiny_model, "--data-dir", folder, "--output-dir", tmp_path / "o")
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line == f"electra-tasks: error: --data-dir {folder}: no training split in it (found: validation); " \
                   f"pass --train-file, or a folder with training data", result.stderr
    assert not (tmp_path / "o").exists()


def test_report_to_an_integration_that_is_not_installed(files, tiny_model, monkeypatch):
    """The Trainer raised a RuntimeError traceback ('TensorBoardCallback requires tensorboard')."""
    import transformers.integrations

    monkeypatch.setattr(transformers.integrations, "get_available_reporting_integrations", lambda: [])
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", files / "train.tsv",
                    "--report-to", "tensorboard", "--output-dir", files / "o")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "electra-tasks: error: --report-to tensorboard: tensorboard is not installed (pip install it, or leave " \
        "--report-to out)"
    assert not (files / "o").exists()
