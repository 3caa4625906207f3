"""The tagging family end to end: a tiny model learns a toy NER task through the CLI, every word is
predicted exactly once (also in sentences longer than the model's window), and metrics.json equals
seqeval on the written predictions file.

The CLI runs in this process (typer's CliRunner: exit status and stderr as a user sees them), which
saves a new interpreter (~8 s of CPU) per command.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from seqeval.metrics import f1_score

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from tests.conftest import shared_data

NAMES = {"john": "PER", "mary": "PER", "paris": "LOC", "london": "LOC"}
FILLER = "the a is was very it this of to in and works lives visited met said".split()
TRAIN_ARGS = ["--epochs", "4", "--learning-rate", "3e-3", "--batch-size", "16", "--seed", "7",
              "--max-seq-length", "16"]


def cli(*args, input: str | None = None):
    """`electra-tasks ARGS` in this process; click's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from electra_tasks.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def toy_sentences(n: int, seed: int, length=(3, 8)) -> list[list[tuple[str, str]]]:
    """Names are PER/LOC, 'acme corp' is one ORG; everything else O. Mixed case on purpose."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        words: list[tuple[str, str]] = []
        while len(words) < rng.randint(*length):
            roll = rng.random()
            if roll < 0.25:
                name = rng.choice(sorted(NAMES))
                words.append((name.capitalize() if rng.random() < 0.5 else name, f"B-{NAMES[name]}"))
            elif roll < 0.35:
                words += [("Acme", "B-ORG"), ("Corp", "I-ORG")]
            else:
                words.append((rng.choice(FILLER), "O"))
        sentences.append(words)
    return sentences


def write_tsv(path: Path, sentences) -> Path:
    path.write_text("".join("".join(f"{w}\t{t}\n" for w, t in s) + "\n" for s in sentences), encoding="utf-8")
    return path


def read_predictions(path: Path) -> list[list[list[str]]]:
    """The predictions file as conlleval reads it: the last two fields are gold and predicted."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        current.append(line.split())
    assert not current, "the file must end with a blank line"
    return sentences


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("toy-tagging")
    train = write_tsv(folder / "train.tsv", toy_sentences(300, seed=1))
    # dev: ordinary sentences plus three far longer than --max-seq-length 16
    dev_sentences = toy_sentences(40, seed=2) + toy_sentences(3, seed=3, length=(45, 60))
    dev = write_tsv(folder / "dev.tsv", dev_sentences)
    out = folder / "out"
    result = cli("train", "tagging", "--model", tiny_model, "--train-file", train, "--validation-file", dev,
                 "--output-dir", out, *TRAIN_ARGS)
    assert result.exit_code == 0, result.output[-3000:]
    return folder, out, dev_sentences


def test_tiny_model_learns_toy_ner(trained):
    _, out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["f1"] >= 0.8, metrics  # a model that tags nothing scores 0
    for name in ("precision", "recall", "accuracy", "PER_f1", "LOC_f1", "ORG_f1", "PER_precision", "ORG_recall"):
        assert name in metrics
    assert metrics["num_examples"] == 300 and metrics["num_eval_examples"] == 43
    config = json.loads((out / "config.json").read_text())
    assert list(config["id2label"].values()) == ["O", "B-LOC", "B-ORG", "I-ORG", "B-PER"]


def test_every_word_predicted_once_and_f1_matches_the_file(trained):
    _, out, dev_sentences = trained
    written = read_predictions(out / "predictions_validation.conll")
    assert [[fields[0] for fields in s] for s in written] == [[w for w, _ in s] for s in dev_sentences]
    assert [[fields[1] for fields in s] for s in written] == [[t for _, t in s] for s in dev_sentences]
    assert sum(len(s) for s in written) == sum(len(s) for s in dev_sentences)
    gold = [[fields[-2] for fields in s] for s in written]
    predicted = [[fields[-1] for fields in s] for s in written]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["f1"] == pytest.approx(f1_score(gold, predicted))
    long_ones = written[-3:]
    assert all(len(s) >= 45 for s in long_ones)


def test_eval_reproduces_training_metrics_and_strict(trained, tmp_path):
    from electra_tasks.training.runner import evaluate

    folder, out, _ = trained
    base = dict(task="tagging", model=str(out), validation_file=str(folder / "dev.tsv"), max_seq_length=16)
    again = evaluate(RunOptions(**base, output_dir=str(tmp_path / "eval")))
    trained_metrics = json.loads((out / "metrics.json").read_text())
    assert again["f1"] == pytest.approx(trained_metrics["f1"])
    assert (tmp_path / "eval" / "predictions_validation.conll").read_text() == \
        (out / "predictions_validation.conll").read_text()
    strict = evaluate(RunOptions(**base, output_dir=str(tmp_path / "strict"), strict=True))
    assert strict["f1"] <= again["f1"] + 1e-12


def test_predict_writes_words_tags_and_entities(trained, tmp_path):
    _, out, _ = trained
    target = tmp_path / "pred.jsonl"
    words = " ".join(["john", "visited", "paris"] + ["the"] * 40 + ["Acme", "Corp", "said"])
    result = cli("predict", "tagging", "--model", out, "--input", "-", "--output", target, "--max-seq-length", "16",
                 input=f"{words}\n\nmary met john\n")
    assert result.exit_code == 0, result.output[-2000:]
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(records) == 3 and records[1] == {"line": 2, "error": "empty input line"}  # line N answers line N
    del records[1]
    assert [w for w, _ in records[0]["tagged"]] == words.split()
    assert [w for w, _ in records[1]["tagged"]] == ["mary", "met", "john"]
    entity = {"type": "ORG", "start": 43, "end": 45, "text": "Acme Corp"}
    assert entity in records[0]["entities"], records[0]["entities"]
    assert {(e["type"], e["text"]) for e in records[1]["entities"]} == {("PER", "mary"), ("PER", "john")}


def test_bad_file_one_line_exit_2_nothing_written(tmp_path, tiny_model):
    bad = tmp_path / "bad.txt"
    bad.write_text("John B-PER\nlives\tO extra\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("train", "tagging", "--model", tiny_model, "--train-file", bad, "--output-dir", out)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"electra-tasks: error: {bad}:2: 3 columns, expected 2 as on line 1 (inconsistent column count)"]
    assert not out.exists()


@pytest.mark.parametrize("text, expected", [
    ("John B-PER\nlives\n", ":2: missing tag column 1"),
    ("\n\n", ": the file is empty"),
])
def test_bad_validation_file_refused_before_anything_is_written(tmp_path, tiny_model, text, expected):
    from electra_tasks.training.runner import train

    good = write_tsv(tmp_path / "train.tsv", toy_sentences(5, seed=0))
    bad = tmp_path / "dev.txt"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(UserError, match=expected):
        train(RunOptions(task="tagging", model=str(tiny_model), train_file=str(good), validation_file=str(bad),
                         output_dir=str(out)))
    assert not out.exists()


def test_eval_refuses_a_model_that_is_not_a_tagger(tmp_path, tiny_model):
    from electra_tasks.training.runner import evaluate

    dev = write_tsv(tmp_path / "dev.tsv", toy_sentences(3, seed=0))
    with pytest.raises(UserError, match="an ElectraForPreTraining checkpoint, not a fine-tuned ElectraForTokenClassification; task tagging needs"):
        evaluate(RunOptions(task="tagging", model=str(tiny_model), validation_file=str(dev),
                            output_dir=str(tmp_path / "out")))


def test_conll2003_excerpt_end_to_end(tmp_path, bert_vocab_model):
    """Real CoNLL-2003 files (IOB1 original): train a few steps, then the contract's checks."""
    folder = shared_data("conll2003", "original_iob1")
    out = tmp_path / "out"
    result = cli("train", "conll2003", "--model", bert_vocab_model, "--data-dir", folder,
                 "--max-train-samples", "64", "--max-eval-samples", "60", "--max-steps", "4", "--batch-size", "16",
                 "--max-seq-length", "32", "--output-dir", out)
    assert result.exit_code == 0, result.output[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["data"]["schemes"] == {"train": "IOB1", "validation": "IOB1", "test": "IOB1"}
    assert run_config["labels"] == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    from electra_tasks.tasks.tagging.conll import read_conll
    from electra_tasks.tasks.tagging.metrics import iob1_to_iob2

    for split, name, suffix in (("validation", "eng.testa", ""), ("test", "eng.testb", "_test")):
        source = read_conll(folder / name).sentences[:60]
        written = read_predictions(out / f"predictions_{split}.conll")
        assert [[f[0] for f in s] for s in written] == [s.tokens for s in source]
        assert [[f[1] for f in s] for s in written] == [iob1_to_iob2(s.tags) for s in source]
        gold = [[f[-2] for f in s] for s in written]
        predicted = [[f[-1] for f in s] for s in written]
        assert metrics[f"f1{suffix}"] == pytest.approx(f1_score(gold, predicted))


def test_conll2003_hub_unreachable_is_one_clear_line(tmp_path, tiny_model, monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'eriktks/conll2003' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    result = cli("train", "conll2003", "--model", tiny_model, "--output-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "electra-tasks: error: task conll2003: could not load the hub dataset eriktks/conll2003@refs/convert/parquet "
        "(ConnectionError: Couldn't reach 'eriktks/conll2003' on the Hub (OfflineModeIsEnabled)); "
        "pass --data-dir with train.txt/valid.txt/test.txt (or eng.train/eng.testa/eng.testb) instead"]
    assert not (tmp_path / "out").exists()


def test_eval_with_only_a_training_file_never_falls_back_to_the_hub(trained, tmp_path):
    from electra_tasks.training.runner import evaluate

    folder, out, _ = trained
    with pytest.raises(UserError, match="no validation or test file to evaluate"):
        evaluate(RunOptions(task="conll2003", model=str(out), train_file=str(folder / "train.tsv"),
                            output_dir=str(tmp_path / "eval")))


def test_predictions_file_keeps_three_fields_per_line():
    from electra_tasks.tasks.tagging.family import conll_text

    text = conll_text([["New York", "is"], ["hi"]], [["B-LOC", "O"], ["O"]], [["B-LOC", "B-PER"], ["O"]])
    assert text == "New_York B-LOC B-LOC\nis O B-PER\n\nhi O O\n\n"


def test_summarization_refuses_a_tagger_in_one_line(trained):
    _, out, _ = trained
    config = json.loads((out / "config.json").read_text())
    config.pop("electra_tasks")  # as a tagger saved before models remembered their task
    (out.parent / "old-tagger").mkdir(exist_ok=True)
    for item in out.iterdir():
        if item.is_file():
            (out.parent / "old-tagger" / item.name).write_bytes(item.read_bytes())
    (out.parent / "old-tagger" / "config.json").write_text(json.dumps(config))
    for model, expected in ((out, "fine-tuned for tagging (a tagging task); task cnn-dailymail needs"),
                            (out.parent / "old-tagger", "not a sentence selector (not_selected, selected)")):
        result = cli("predict", "cnn-dailymail", "--model", model, input='{"article": "One. Two."}\n')
        assert result.exit_code == 2, result.output[-2000:]
        assert expected in result.stderr and "Traceback" not in result.output
