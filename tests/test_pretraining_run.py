"""`pretrain-continue` end to end: learning on a regular corpus, outputs, resume, bad input, fine-tuning."""

import json
import logging
import math

import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from electra_tasks.cli import app
from electra_tasks.pretraining.options import PretrainOptions
from electra_tasks.pretraining.run import pretrain
from tests.conftest import run_cli
from tests.pretraining_toys import use_micro_size, write_repeated_corpus
from tests.toy_data import sentiment_rows, write_sentiment_tsv


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """200 steps of a micro pair on a highly regular corpus (one shared run for several tests)."""
    mp = pytest.MonkeyPatch()
    use_micro_size(mp)
    folder = tmp_path_factory.mktemp("rtd-learn")
    corpus = write_repeated_corpus(folder / "regular.txt", 2000)
    out = folder / "out"
    try:
        metrics = pretrain(PretrainOptions(corpus=[str(corpus)], output_dir=str(out), from_scratch=True, size="tiny",
                                           max_seq_length=32, batch_size=16, max_steps=200, learning_rate=2e-3,
                                           logging_steps=50, seed=1))
    finally:
        mp.undo()
    return out, metrics


def test_discriminator_beats_always_answering_original(learned):
    out, metrics = learned
    history = [e for e in json.loads((out / "log_history.json").read_text()) if "disc_loss" in e]
    first, last = history[0], history[-1]
    p = last["replaced_fraction"]
    constant = -(p * math.log(p) + (1 - p) * math.log(1 - p))  # the best loss of a constant answer
    assert metrics["disc_constant_answer_loss"] == pytest.approx(constant, abs=1e-4)
    assert 0.05 < p < 0.15  # 15% masked, some sampled back to the original
    assert last["disc_loss"] < 0.6 * constant, (last, constant)
    assert last["disc_loss"] < 0.5 * first["disc_loss"]
    assert last["replaced_recall"] > 0.4 and last["replaced_precision"] > 0.6, last  # chance precision is p
    assert last["mlm_accuracy"] > first["mlm_accuracy"]
    assert metrics["global_step"] == 200 and metrics["train_tokens"] > 200 * 16 * 20


def test_outputs_are_save_pretrained_folders_sharing_the_embeddings(learned):
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    out, _ = learned
    assert not (out / "checkpoints").exists()  # no --save-steps: no empty folder left behind
    for name in ("discriminator", "generator"):
        for file in ("config.json", "model.safetensors", "tokenizer.json"):
            assert (out / name / file).is_file(), (name, file)
    disc, gen = load_file(out / "discriminator" / "model.safetensors"), load_file(out / "generator" / "model.safetensors")
    for key in ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm"):
        name = f"electra.embeddings.{key}.weight"
        assert disc[name].equal(gen[name]), name
    assert ElectraForPreTraining.from_pretrained(out / "discriminator").config.hidden_size == 32
    generator = ElectraForMaskedLM.from_pretrained(out / "generator")
    assert generator.config.hidden_size == 8  # 0.25 x 32
    assert generator.generator_lm_head.weight is generator.electra.embeddings.word_embeddings.weight
    run_config = json.loads((out / "run_config.json").read_text())
    assert run_config["recipe"]["generator_size"] == 0.25 and run_config["recipe"]["warmup_steps"] == 20
    # a WordPiece vocabulary trained on the 20-word corpus: each word one token
    assert run_config["recipe"]["vocab_size"] < 200
    assert generator.config.vocab_size == run_config["recipe"]["vocab_size"]
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(out / "discriminator").tokenize("seventeen eleven") == ["seventeen", "eleven"]
    assert set(json.loads((out / "metrics.json").read_text())) >= {"replaced_precision", "replaced_recall", "disc_accuracy"}


def test_continue_from_a_saved_pair_starts_where_it_left_off(learned, tmp_path):
    """`--discriminator D --generator G` with local folders: the pair's weights, width and vocabulary."""
    out, _ = learned
    corpus = write_repeated_corpus(tmp_path / "more.txt", 100, seed=9)
    metrics = pretrain(PretrainOptions(corpus=[str(corpus)], output_dir=str(tmp_path / "cont"),
                                       discriminator=str(out / "discriminator"), generator=str(out / "generator"),
                                       max_seq_length=32, batch_size=16, max_steps=5, logging_steps=1, seed=3))
    first = [e for e in json.loads((tmp_path / "cont" / "log_history.json").read_text()) if "disc_loss" in e][0]
    assert first["disc_loss"] < 0.3, first  # a fresh pair starts at ln 2 = 0.69
    run_config = json.loads((tmp_path / "cont" / "run_config.json").read_text())
    assert run_config["recipe"]["generator_size"] == 0.25  # read from the two configs
    assert run_config["recipe"]["learning_rate"] == 5e-4  # the published small recipe
    assert metrics["global_step"] == 5 and (tmp_path / "cont" / "generator" / "model.safetensors").is_file()


def test_resume_continues_from_the_checkpoint(tmp_path, monkeypatch, caplog):
    """A longer run resumed from a finished one's last checkpoint (the kill -9 case: test_pretraining_resume.py)."""
    from electra_tasks.training.trainer import latest_checkpoint

    use_micro_size(monkeypatch)
    corpus = write_repeated_corpus(tmp_path / "regular.txt", 200)
    common = dict(corpus=[str(corpus)], output_dir=str(tmp_path / "out"), from_scratch=True, size="tiny",
                  max_seq_length=32, batch_size=8, logging_steps=5, save_steps=10, seed=2)
    first = pretrain(PretrainOptions(**common, max_steps=10))
    assert latest_checkpoint(tmp_path / "out" / "checkpoints").name == "checkpoint-10"
    with caplog.at_level(logging.INFO, logger="electra_tasks"):
        metrics = pretrain(PretrainOptions(**common, max_steps=20, resume=True))
    assert "--resume: continuing from" in caplog.text and "checkpoint-10" in caplog.text
    steps = [e["step"] for e in json.loads((tmp_path / "out" / "log_history.json").read_text()) if "loss" in e]
    assert metrics["global_step"] == 20 and steps == [1, 5, 10, 15, 20]
    assert first["train_tokens"] < metrics["train_tokens"] < 2.2 * first["train_tokens"]  # the run's tokens, once


def test_pretraining_builds_its_own_training_arguments(tmp_path, monkeypatch):
    from electra_tasks.pretraining import sizes
    from electra_tasks.pretraining.run import resolve_settings, training_args
    from electra_tasks.training import trainer as fine_tuning

    monkeypatch.setattr(fine_tuning, "training_arguments",
                        lambda *a, **k: pytest.fail("pre-training used fine-tuning's TrainingArguments"))
    opts = PretrainOptions(corpus=["c.txt"], output_dir=str(tmp_path), from_scratch=True, size="tiny", max_steps=300,
                           warmup_steps=7, batch_size=16, save_steps=50, logging_steps=5, seed=9)
    args = training_args(resolve_settings(opts, sizes.RECIPES["tiny"]), opts, tmp_path)
    assert (args.max_steps, args.warmup_steps, args.per_device_train_batch_size, args.learning_rate) == (300, 7, 16, 5e-4)
    assert (args.save_strategy, args.save_steps, args.save_total_limit, args.logging_steps) == ("steps", 50, 2, 5)
    assert args.output_dir == str(tmp_path / "checkpoints") and args.seed == 9 and args.lr_scheduler_type == "linear"
    assert args.eval_strategy == "no" and args.report_to == [] and args.dataloader_num_workers == 0
    no_saves = training_args(resolve_settings(PretrainOptions(max_steps=10), sizes.RECIPES["tiny"]), opts, tmp_path)
    assert no_saves.save_strategy == "no" and no_saves.warmup_steps == 1  # 10% of the steps


def cli(*args):
    result = CliRunner().invoke(app, ["pretrain-continue", *map(str, args)])
    return result.exit_code, result.stderr if hasattr(result, "stderr") else result.output


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, tiny_model, toy_tokenizer):
    from electra_tasks.pretraining.vocab import SPECIAL_TOKENS
    from electra_tasks.tiny import make_tiny_model, make_tokenizer

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n", encoding="utf-8")
    good = write_repeated_corpus(tmp_path / "good.txt", 20)
    other_vocab = make_tiny_model(tmp_path / "other", make_tokenizer(words=["alpha", "beta"]), hidden=16, layers=1)
    same_size = make_tokenizer(words=[f"word{i}" for i in range(len(toy_tokenizer) - len(SPECIAL_TOKENS))])
    assert len(same_size) == len(toy_tokenizer)
    same_size_vocab = make_tiny_model(tmp_path / "same-size", same_size, hidden=32, layers=1, max_position=512)
    cases = [
        (["--corpus", empty, "--from-scratch", "--size", "tiny"], "empty.txt: empty"),
        (["--corpus", tmp_path / "missing", "--from-scratch", "--size", "tiny"], "missing: no such file or folder"),
        (["--corpus", good, "--discriminator", tiny_model, "--generator", other_vocab], "vocab_size is 7 but"),
        (["--corpus", good, "--discriminator", tiny_model, "--generator", same_size_vocab],
         "its vocabulary differs from the one of --discriminator"),
        (["--corpus", good, "--from-scratch", "--size", "huge"], "--size huge: expected one of tiny, small, base"),
        (["--corpus", good, "--discriminator", tiny_model], "--generator is required"),
    ]
    for args, expected in cases:
        out = tmp_path / "out"
        code, stderr = cli(*args, "--output-dir", out, "--max-steps", 2)
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert code == 2, (args, stderr)
        assert len(lines) == 1 and lines[0].startswith("electra-tasks: error:") and expected in lines[0], (args, stderr)
        assert not out.exists()


def test_pretrained_discriminator_fine_tunes_with_train(tmp_path, monkeypatch, caplog):
    """In-domain unlabeled text through the CLI, then `train` takes OUT/discriminator directly.

    (Accuracy on this toy task says nothing about pre-training: see benchmarks/pretraining.py.)
    """
    use_micro_size(monkeypatch)
    corpus = tmp_path / "unlabeled.txt"
    corpus.write_text("\n".join(sentence for sentence, _ in sentiment_rows(400, seed=5)) + "\n", encoding="utf-8")
    out = tmp_path / "pre"
    with caplog.at_level(logging.WARNING, logger="electra_tasks"):
        result = CliRunner().invoke(app, ["pretrain-continue", "--from-scratch", "--size", "tiny", "--corpus",
                                          str(corpus), "--output-dir", str(out), "--max-steps", "20", "--batch-size",
                                          "8", "--max-seq-length", "32", "--vocab-size", "200", "--logging-steps", "10"])
    assert result.exit_code == 0, result.output[-2000:]
    assert "replaced_recall" in result.stdout and f"outputs: {out}" in result.stdout
    recall = json.loads((out / "metrics.json").read_text())["replaced_recall"]
    assert recall < 0.05 and "has not learned replaced-token detection yet" in caplog.text  # 20 steps: warned
    write_sentiment_tsv(tmp_path / "train.tsv", 400, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 100, seed=2)
    result = run_cli("train", "classification", "--model", out / "discriminator", "--train-file", tmp_path / "train.tsv",
                     "--validation-file", tmp_path / "dev.tsv", "--output-dir", tmp_path / "ft", "--epochs", "3",
                     "--learning-rate", "3e-3", "--batch-size", "16", "--seed", "7")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "ft" / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["num_examples"] == 400
    # the classifier started from the pre-trained encoder, not a fresh init (which differs by ~0.02 per
    # entry): the rows of tokens absent from the fine-tuning data are still the pre-trained ones
    pre = load_file(out / "discriminator" / "model.safetensors")["electra.embeddings.word_embeddings.weight"]
    tuned = load_file(tmp_path / "ft" / "model.safetensors")["electra.embeddings.word_embeddings.weight"]
    assert pre.shape == tuned.shape
    assert (tuned - pre).abs().amax(dim=1).median() < 1e-3


@pytest.mark.parametrize("recall, loss, warned", [
    (0.85, 0.10, False),  # the regular-corpus run above: learned
    (0.001, 0.3611, True),  # the 6,000-step SST-2 run in benchmarks/README.md: 1.7% under the constant answer
    (0.59, 0.69, True),  # a few steps from random init: recall high by chance, loss above the constant answer
    (0.02, 0.20, True),  # flags almost nothing
])
def test_warns_when_the_discriminator_has_not_learned(caplog, recall, loss, warned):
    from electra_tasks.pretraining.run import warn_if_not_learned

    with caplog.at_level(logging.WARNING, logger="electra_tasks"):
        warn_if_not_learned({"replaced_recall": recall, "disc_loss": loss, "disc_constant_answer_loss": 0.3675})
    assert ("has not learned replaced-token detection" in caplog.text) is warned
