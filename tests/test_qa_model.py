"""The QA model: a tiny ELECTRA overfits a handful of questions (v1.1 and v2.0 style), the written
files score as the official rules say, and the checkpoint loads as a stock QA head."""

from __future__ import annotations

import json

import pytest
import torch

from electra_tasks.options import RunOptions
from electra_tasks.training import runner
from tests.test_qa_metrics import official_v1, official_v2

pytestmark = pytest.mark.usefixtures("one_torch_thread")


PARAGRAPHS = [  # one question per paragraph: a 32-wide model learns these in a few seconds
    ("john lives in paris and mary lives in london", [("who lives in paris", "john")]),
    ("acme corp works in london the movie was very good", [("who works in london", "acme corp")]),
    ("the red movie was not good", [("what was not good", "the red movie")]),
    ("mary visited london and paris", [("where did mary go", "london and paris")]),
    ("it is one two three", [("who is john", None)]),
    ("the blue film was awful", [("what is green", None)]),
]


def toy_squad(path, unanswerable: bool):
    articles = [{"title": "toy", "paragraphs": []}]
    for p, (context, questions) in enumerate(PARAGRAPHS):
        qas = []
        for q, (question, answer) in enumerate(questions):
            if answer is None and not unanswerable:
                continue
            answers = [] if answer is None else [{"text": answer, "answer_start": context.index(answer)}]
            qas.append({"id": f"p{p}q{q}", "question": question, "answers": answers,
                        "is_impossible": answer is None})
        if qas:
            articles[0]["paragraphs"].append({"context": context, "qas": qas})
    path.write_text(json.dumps({"version": "v2.0" if unanswerable else "1.1", "data": articles}))
    return path, articles


def train_toy(tmp_path, tiny_model, unanswerable: bool):
    path, articles = toy_squad(tmp_path / "toy.json", unanswerable)
    out = tmp_path / "out"
    opts = RunOptions(task="qa", model=str(tiny_model), output_dir=str(out), train_file=str(path),
                      validation_file=str(path), max_seq_length=32, max_query_length=8, doc_stride=4,
                      batch_size=8, learning_rate=3e-3, layerwise_lr_decay=1.0, warmup_ratio=0.0,
                      max_steps=120, logging_steps=1000, seed=1)
    metrics = runner.train(opts)
    return out, articles, metrics


def test_tiny_model_overfits_answerable_questions(tmp_path, tiny_model):
    out, articles, metrics = train_toy(tmp_path, tiny_model, unanswerable=False)
    predictions = json.loads((out / "predictions.json").read_text())
    assert len(predictions) == 4
    assert metrics["exact_match"] == 100.0 and metrics["f1"] == 100.0, predictions
    assert official_v1(articles, predictions) == {"exact_match": 100.0, "f1": 100.0}
    assert not (out / "na_prob.json").exists()
    nbest = json.loads((out / "nbest.json").read_text())
    assert nbest["p0q0"][0]["text"] == "john" and len(nbest["p0q0"]) <= 20


def test_tiny_model_learns_which_questions_have_no_answer(tmp_path, tiny_model):
    out, articles, metrics = train_toy(tmp_path, tiny_model, unanswerable=True)
    predictions = json.loads((out / "predictions.json").read_text())
    na_probs = json.loads((out / "na_prob.json").read_text())
    assert set(predictions) == set(na_probs) == {f"p{p}q0" for p in range(6)}
    assert predictions["p4q0"] == "" and predictions["p5q0"] == ""
    # the classifier itself learned it (not only the span head's [CLS] score)
    assert min(na_probs["p4q0"], na_probs["p5q0"]) > 0.9 > 0.1 > max(na_probs[f"p{p}q0"] for p in range(4))
    assert metrics["exact_match"] == 100.0 and metrics["NoAns_exact"] == 100.0
    official = official_v2(articles, predictions, na_probs)
    assert metrics["exact_match"] == pytest.approx(official["exact"])
    for key in ("HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh", "best_exact_thresh"):
        assert metrics[key] == pytest.approx(official[key])
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["ElectraForQuestionAnswering"] and config["qa_answerability_head"] is True
    check_loads_as_stock_qa_head(out)


def check_loads_as_stock_qa_head(out):
    """What pipeline("question-answering") loads: AutoModelForQuestionAnswering, span weights equal."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from electra_tasks.tasks.qa.model import ElectraForQuestionAnsweringWithAnswerability

    stock = AutoModelForQuestionAnswering.from_pretrained(out).eval()
    ours = ElectraForQuestionAnsweringWithAnswerability.from_pretrained(out).eval()
    assert type(stock).__name__ == "ElectraForQuestionAnswering" and ours.has_answerability_head
    tokenizer = AutoTokenizer.from_pretrained(out)
    batch = tokenizer(["who lives in paris"], ["john lives in paris"], return_tensors="pt")
    with torch.no_grad():
        a, b = stock(**batch), ours(**batch)
    torch.testing.assert_close(a.start_logits, b.start_logits)
    torch.testing.assert_close(a.end_logits, b.end_logits)
    try:
        from transformers import pipeline

        qa = pipeline("question-answering", model=str(out))
    except KeyError:  # transformers 5 removed the question-answering pipeline task
        return
    assert qa(question="who lives in paris", context="john lives in paris")["answer"] == "john"


def test_answerability_loss_is_half_weighted_and_trained(tiny_model):
    from transformers import AutoConfig

    from electra_tasks.tasks.qa.model import ElectraForQuestionAnsweringWithAnswerability as Model

    config = AutoConfig.from_pretrained(tiny_model)
    config.qa_answerability_head = True
    model = Model.from_pretrained(tiny_model, config=config)
    ids = torch.tensor([[2, 5, 6, 3, 7, 8, 3]])
    labels = {"start_positions": torch.tensor([0]), "end_positions": torch.tensor([0])}
    span_only = model(input_ids=ids, **labels)
    joint = model(input_ids=ids, is_impossible=torch.tensor([1]), **labels)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(joint.answerability_logits, torch.tensor([1.0]))
    torch.testing.assert_close(joint.loss, span_only.loss + 0.5 * bce)
    joint.loss.backward()
    assert model.answerability.dense.weight.grad.abs().sum() > 0
