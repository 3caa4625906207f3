"""Extractive summarization end to end: train/eval/predict through the CLI and the runner, on toy
documents and (when present) the shared CNN articles."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import run_cli, shared_data

CNN_CSV = ("summarization", "cnn_dailymail_3.0.0_hf_csv", "validation_first1000.csv")
TOPICS = ["john met mary in paris", "the acme corp works in london", "mary visited london"]
FILLER = ["the movie was very good", "it was a red film", "this plot is awful", "one actor said no",
          "the blue film was sad", "two actor love the plot", "three movie was fine"]


def _toy_rows(n: int, seed: int) -> list[dict]:
    """Each document holds one topic sentence, and its summary is that sentence."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        sentences = rng.sample(FILLER, 4)
        sentences.insert(rng.randint(0, 4), topic)
        rows.append({"id": f"doc{i}", "article": " ".join(s.capitalize() + "." for s in sentences),
                     "highlights": topic + " ."})
    return rows


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_toy_train_eval_predict_in_process(tmp_path, tiny_model):
    from electra_tasks.options import RunOptions
    from electra_tasks.training.runner import evaluate, predict, train

    train_file = _write_jsonl(tmp_path / "train.jsonl", _toy_rows(24, 1))
    dev = _write_jsonl(tmp_path / "dev.jsonl", _toy_rows(8, 2))
    out = tmp_path / "run"
    metrics = train(RunOptions(task="extractive-summarization", model=str(tiny_model), train_file=str(train_file),
                               validation_file=str(dev), output_dir=str(out), epochs=1, batch_size=8,
                               summary_sentences=2))
    for name in ("rouge1", "rouge2", "rougeLsum", "lead3_rouge1", "lead3_rouge2", "lead3_rougeLsum",
                 "oracle_rouge1", "oracle_rouge2", "oracle_rougeLsum", "truncated_sentences"):
        assert name in json.loads((out / "metrics.json").read_text())
    assert metrics["oracle_rouge1"] == pytest.approx(100.0)  # the topic sentence is the summary
    assert metrics["truncated_sentences"] == 0
    records = [json.loads(line) for line in (out / "predictions_validation.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [f"doc{i}" for i in range(8)]
    for record, row in zip(records, _toy_rows(8, 2)):
        assert len(record["indices"]) == 2 and record["indices"] == sorted(record["indices"])
        assert len(record["summary"].split("\n")) == 2 and record["summary"].split("\n")[0] in row["article"]
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "not_selected", "1": "selected"}

    again = evaluate(RunOptions(task="extractive-summarization", model=str(out), validation_file=str(dev),
                                output_dir=str(tmp_path / "eval"), summary_sentences=2))
    assert again["rouge1"] == pytest.approx(metrics["rouge1"]) and again["num_eval_examples"] == 8 and "num_examples" not in again

    lines = ['{"article": "John met mary in paris. The movie was very good.", "id": "p"}',
             '{"sentences": ["it was a red film", "mary visited london"]}']
    answers = predict(RunOptions(task="extractive-summarization", model=str(out), summary_sentences=1),
                      lines, "<stdin>")
    assert [a["id"] for a in answers] == ["p", "1"] and all(len(a["indices"]) == 1 for a in answers)
    assert answers[1]["summary"] in ("it was a red film", "mary visited london")


def test_bad_input_through_the_cli_is_one_line_exit_2_nothing_written(tmp_path, tiny_model):
    bad = _write_jsonl(tmp_path / "bad.jsonl", _toy_rows(2, 3) + [{"id": "e", "article": " ", "highlights": "x"}])
    failed = run_cli("train", "extractive-summarization", "--model", tiny_model, "--train-file", bad,
                     "--output-dir", tmp_path / "never")
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        f"electra-tasks: error: {bad}:3 (field 'article'): empty document (id e); "
        f"expected text or a list of sentences"]
    assert not (tmp_path / "never").exists()


@pytest.mark.slow
def test_cnn_articles_train_and_evaluate_with_row_ranges(tmp_path, bert_vocab_model):
    from rouge_score import rouge_scorer

    from electra_tasks.options import RunOptions
    from electra_tasks.training.runner import train

    csv_path = shared_data(*CNN_CSV)
    out = tmp_path / "cnn"
    metrics = train(RunOptions(task="cnn-dailymail", model=str(bert_vocab_model), output_dir=str(out),
                               train_file=f"{csv_path}[:24]", validation_file=f"{csv_path}[990:]",
                               epochs=1, batch_size=8, max_seq_length=256))
    assert metrics["num_examples"] == 24 and metrics["num_eval_examples"] == 10
    # CNN articles run far beyond 256 tokens: sentences past the window are counted, not dropped silently
    assert metrics["truncated_documents"] >= 8 and metrics["truncated_sentences"] > 100
    assert metrics["oracle_rouge2"] > metrics["lead3_rouge2"] and metrics["oracle_rouge2"] > metrics["rouge2"]
    # the written summaries rescored by rouge-score reproduce the reported means
    import csv

    with open(csv_path, newline="", encoding="utf-8") as handle:
        references = {row["id"]: row["highlights"] for row in csv.DictReader(handle)}
    official = rouge_scorer.RougeScorer(["rouge1", "rougeLsum"], use_stemmer=True)
    records = [json.loads(line) for line in (out / "predictions_validation.jsonl").read_text().splitlines()]
    assert len(records) == 10 and all(r["truncated_sentences"] >= 0 for r in records)
    for name in ("rouge1", "rougeLsum"):
        mean = sum(official.score(references[r["id"]], r["summary"])[name].fmeasure for r in records) / 10
        assert metrics[name] == pytest.approx(100 * mean)


@pytest.mark.slow
def test_lead3_on_the_last_cnn_articles_is_near_the_published_cnn_value():
    """Published CNN-only Lead-3 is about 29.1 / 11.1 / 25.9; a regex splitter gives 27.4 / 10.0 / 24.2."""
    from electra_tasks.tasks.extraction import rouge
    from electra_tasks.options import RunOptions
    from electra_tasks.registry import get_task
    from electra_tasks.tasks.extraction.family import FAMILY

    csv_path = shared_data(*CNN_CSV)
    data = FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="cnn-dailymail", validation_file=f"{csv_path}[800:]"),
                       for_training=False)
    split = data.splits["validation"]
    assert len(split) == 200
    lead = rouge.rouge([rouge.lead(d) for d in split["sentences"]], split["reference"])
    assert 27.0 < lead["rouge1"] < 30.0 and 9.5 < lead["rouge2"] < 12.0 and 23.5 < lead["rougeLsum"] < 27.0
    assert not any(s.startswith("(CNN)") for doc in split["sentences"] for s in doc[:1])


def test_presumm_json_documents_load_as_given(tmp_path):
    from electra_tasks.options import RunOptions
    from electra_tasks.registry import get_task
    from electra_tasks.tasks.extraction.family import FAMILY

    path = shared_data("summarization", "cnn_dailymail_bertsum_json", "cnndm_sample.train.0.json")
    data = FAMILY.load(get_task("extractive-summarization"),
                       RunOptions(task="extractive-summarization", train_file=str(path)), for_training=True)
    first = data.splits["train"][0]
    assert len(data.splits["train"]) == 6 and len(first["sentences"]) == 71
    assert first["reference"][0] == "pov video has gone viral on youtube"
    assert 1 <= len(first["oracle"]) <= 3


def test_cli_prints_no_library_line_and_no_zero_truncation_line(tmp_path, tiny_model):
    train_file = _write_jsonl(tmp_path / "train.jsonl", _toy_rows(8, 1))
    dev = _write_jsonl(tmp_path / "dev.jsonl", _toy_rows(1, 2))
    result = run_cli("train", "extractive-summarization", "--model", tiny_model, "--train-file", train_file,
                     "--validation-file", dev, "--output-dir", tmp_path / "run", "--max-steps", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Using default tokenizer." not in result.stderr  # rouge-score's absl line
    assert "documents longer than" not in result.stderr  # nothing was cut: nothing to say
    assert "validation: 1 example predicted" in result.stderr  # not "1 examples"
