"""Multiple choice: readers (COPA, SWAG, nested JSON with lettered labels), the padded-choice
collator and mask, one-line errors, and a tiny model that learns a separable toy task whose
examples have different numbers of choices."""

import json
import random

import pytest
import torch

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES
from tests.conftest import run_cli, shared_data
from tests.toy_data import NEGATIVE, NEUTRAL, POSITIVE

LETTERS = "ABCDE"


def load(task_name, for_training=True, **options):
    task = get_task(task_name)
    return FAMILIES[task.family].load(task, RunOptions(task=task_name, **options), for_training=for_training)


def arc_record(rng, i, n_choices):
    """ARC-style: nested question.stem / question.choices with letter labels; answer = the positive choice."""
    right = rng.randrange(n_choices)
    choices = []
    for j in range(n_choices):
        cue = rng.choice(POSITIVE if j == right else NEGATIVE)
        words = rng.sample(NEUTRAL, 2) + [cue]
        rng.shuffle(words)
        choices.append({"text": " ".join(words), "label": LETTERS[j]})
    return {"id": f"q{i}", "question": {"stem": "which one is good", "choices": choices}, "answerKey": LETTERS[right]}


def write_arc(path, n, seed):
    rng = random.Random(seed)
    path.write_text("".join(json.dumps(arc_record(rng, i, 2 + i % 3)) + "\n" for i in range(n)), encoding="utf-8")
    return path


ARC_OPTIONS = ["--context-column", "question.stem", "--choices-column", "question.choices",
               "--label-column", "answerKey"]


def test_copa_reads_the_superglue_files_with_questions_joined():
    folder = shared_data("multiple_choice", "copa")
    data = load("copa", data_dir=str(folder))
    assert {s: len(d) for s, d in data.splits.items()} == {"train": 400, "validation": 100, "test": 500}
    first = data.splits["train"][0]
    assert first["context"] == "My body cast a shadow over the grass."
    assert first["question"] == "What was the cause?"
    assert first["choices"] == ["The sun was rising.", "The grass was cut."]
    assert first["label"] == 0 and first["id"] == "0"
    assert set(data.splits["test"]["label"]) == {-1}  # test.jsonl has no label key at all
    assert sum(data.splits["train"]["label"]) == 205  # SOURCES.md: 195 label 0 / 205 label 1


def test_swag_samples_read_in_the_original_csv_layout():
    folder = shared_data("multiple_choice", "swag", "samples")
    data = load("swag", validation_file=str(folder / "val_first11.csv"), test_file=str(folder / "test_first4_hf_dummy.csv"),
                train_file=str(folder / "train_first4_hf_dummy.csv"))
    assert data.splits["validation"]["label"] == [2, 2, 2, 2, 2, 0, 0, 2, 1, 0, 2]
    assert data.splits["train"]["label"] == [0, 3, 1, 3]
    assert data.splits["test"]["label"] == [-1] * 4
    row = data.splits["validation"][0]
    assert row["context"] == "Students lower their eyes nervously." and row["question"] == "She"
    assert row["choices"][0] == "pats her shoulder, then saunters toward someone."  # a quoted CSV field
    assert data.splits["validation"]["id"][:3] == ["0", "1", "2"]  # the unnamed row-number column
    assert data.info["question_in_choice"] is True


def test_nested_json_with_letter_labels_and_varying_choice_counts(tmp_path):
    path = write_arc(tmp_path / "arc.jsonl", 6, seed=0)
    data = load("multiple-choice", train_file=str(path), context_column="question.stem",
                choices_column="question.choices", label_column="answerKey")
    train = data.splits["train"]
    assert [len(c) for c in train["choices"]] == [2, 3, 4, 2, 3, 4]
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert train["label"] == [LETTERS.index(r["answerKey"]) for r in records]
    assert train["choice_labels"][2] == ["A", "B", "C", "D"]
    assert data.info["counts"]["train"]["choices"] == [2, 3, 4]


def test_collator_pads_choices_and_the_mask_keeps_padded_ones_from_winning():
    from electra_tasks.tasks.multiple_choice.collate import ChoiceCollator
    from electra_tasks.tasks.multiple_choice.model import ElectraForMaskedMultipleChoice
    from transformers import ElectraConfig

    collate = ChoiceCollator(pad_token_id=0, filler=[2, 3])
    batch = collate([{"input_ids": [[2, 7, 3], [2, 8, 9, 3]], "token_type_ids": [[0, 0, 0], [0, 0, 1, 1]], "labels": 1},
                     {"input_ids": [[2, 5, 3], [2, 6, 3], [2, 4, 3]], "token_type_ids": [[0] * 3] * 3, "labels": 2}])
    assert batch["input_ids"].shape == (2, 3, 4)
    assert batch["choice_mask"].tolist() == [[1, 1, 0], [1, 1, 1]]
    assert batch["input_ids"][0, 2].tolist() == [2, 3, 0, 0]  # the filler choice
    assert batch["attention_mask"][0, 1].tolist() == [1, 1, 1, 1]
    assert batch["token_type_ids"][0, 1].tolist() == [0, 0, 1, 1]
    config = ElectraConfig(vocab_size=16, hidden_size=8, embedding_size=8, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=16)
    torch.manual_seed(0)
    model = ElectraForMaskedMultipleChoice(config).eval()
    with torch.no_grad():
        out = model(**batch)
    assert out.logits.shape == (2, 3)
    assert out.logits[0, 2] < -1e3  # the padded choice can never be predicted
    assert torch.isfinite(out.loss)


@pytest.mark.parametrize("case,lines,expected", [
    ("label names no choice", ['{"context": "c", "choices": ["a", "b"], "label": "E"}'],
     r"label 'E' names no choice; expected an index 0..1"),
    ("one choice", ['{"context": "c", "choices": ["a"], "label": 0}'], r"1 choice\(s\); expected at least two"),
    ("missing column", ['{"text": "c", "choices": ["a", "b"], "label": 0}'], r"missing column 'context'"),
    ("index out of range", ['{"context": "c", "choices": ["a", "b"], "label": 3}'], r"label '3' names no choice"),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, tiny_model, case, lines, expected):
    good = '{"context": "c", "choices": ["x y", "z"], "label": 1}'
    (tmp_path / "train.jsonl").write_text("\n".join([good, good] + lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("train", "multiple-choice", "--model", tiny_model, "--train-file", tmp_path / "train.jsonl",
                     "--output-dir", out, "--max-steps", "1")
    assert result.returncode == 2, result.stderr[-1000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "train.jsonl:3" in errors[0], result.stderr
    assert __import__("re").search(expected, errors[0]), errors[0]
    assert not out.exists()


def test_an_option_of_another_family_is_refused(tmp_path, tiny_model):
    write_arc(tmp_path / "arc.jsonl", 4, seed=0)
    result = run_cli("train", "multiple-choice", "--model", tiny_model, "--train-file", tmp_path / "arc.jsonl",
                     "--tag-column", "2", "--output-dir", tmp_path / "out", *ARC_OPTIONS)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == ("electra-tasks: error: --tag-column: an option of tagging "
                                                     "tasks; task multiple-choice is a multiple_choice task")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("toy-mc")
    write_arc(folder / "train.jsonl", 300, seed=1)
    write_arc(folder / "dev.jsonl", 60, seed=2)
    out = folder / "out"
    result = run_cli("train", "multiple-choice", "--model", tiny_model, "--train-file", folder / "train.jsonl",
                     "--validation-file", folder / "dev.jsonl", "--output-dir", out, *ARC_OPTIONS,
                     "--epochs", "4", "--learning-rate", "3e-3", "--batch-size", "8", "--seed", "3",
                     "--max-seq-length", "32")
    assert result.returncode == 0, result.stderr[-2000:]
    return folder, out


def test_tiny_model_learns_a_toy_task_with_varying_choice_counts(trained):
    folder, out = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9, metrics  # chance is (1/2 + 1/3 + 1/4) / 3 = 0.36
    assert metrics["num_examples"] == 300 and metrics["num_eval_examples"] == 60
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["ElectraForMultipleChoice"]
    lines = [json.loads(line) for line in (out / "predictions_validation.jsonl").read_text().splitlines()]
    assert len(lines) == 60
    gold = [json.loads(line) for line in (folder / "dev.jsonl").read_text().splitlines()]
    for record, example in zip(lines, gold):
        n = len(example["question"]["choices"])
        assert set(record) == {"id", "prediction", "choice", "label", "scores"}
        assert record["id"] == example["id"] and len(record["scores"]) == n
        assert 0 <= record["prediction"] < n and record["label"] == LETTERS[record["prediction"]]
        assert abs(sum(record["scores"]) - 1) < 1e-4


def test_stock_head_loads_the_checkpoint(trained):
    from transformers import AutoModelForMultipleChoice

    _, out = trained
    model = AutoModelForMultipleChoice.from_pretrained(out)
    assert type(model).__name__ == "ElectraForMultipleChoice"


def test_predict_reads_raw_json_lines(trained):
    _, out = trained
    lines = ['{"context": "which one is good", "choices": ["the movie was awful", "a great film", "sad plot"]}',
             json.dumps(arc_record(random.Random(5), 0, 4))]
    result = run_cli("predict", "multiple-choice", "--model", out, "--context-column", "question.stem",
                     "--choices-column", "question.choices", input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["prediction"] == 1 and records[0]["choice"] == "a great film"
    assert len(records[1]["scores"]) == 4 and "label" in records[1]


def test_copa_trains_on_the_shared_files(tmp_path, bert_vocab_model):
    folder = shared_data("multiple_choice", "copa")
    out = tmp_path / "copa"
    result = run_cli("train", "copa", "--model", bert_vocab_model, "--data-dir", folder, "--output-dir", out,
                     "--max-steps", "6", "--batch-size", "16", "--max-seq-length", "48")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["num_eval_examples"] == 100
    test = (out / "predictions_test.jsonl").read_text().splitlines()
    assert len(test) == 500 and "accuracy_test" not in metrics  # no labels, no metric


def test_reader_errors_name_the_field(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"context": 3, "choices": ["a", "b"], "label": 0}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"t.jsonl:1 \(field 'context'\): expected text, found 3"):
        load("multiple-choice", train_file=str(tmp_path / "t.jsonl"))
