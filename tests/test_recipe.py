"""ELECTRA's fine-tuning recipe: layer-wise learning rates, weight decay groups, size defaults."""

import pytest
import torch
from transformers import ElectraConfig, ElectraForSequenceClassification

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.training import recipe


def small_model(layers=3):
    config = ElectraConfig(vocab_size=50, hidden_size=16, embedding_size=8, num_hidden_layers=layers,
                           num_attention_heads=2, intermediate_size=32, num_labels=2)
    return ElectraForSequenceClassification(config)


def test_layer_depths_follow_electra():
    assert recipe.layer_depth("electra.embeddings.word_embeddings.weight", 12) == 0
    assert recipe.layer_depth("electra.embeddings_project.weight", 12) == 0
    assert recipe.layer_depth("electra.encoder.layer.0.attention.self.query.weight", 12) == 1
    assert recipe.layer_depth("electra.encoder.layer.11.output.dense.bias", 12) == 12
    assert recipe.layer_depth("classifier.dense.weight", 12) == 14


def test_parameter_groups_learning_rates_and_decay():
    model = small_model(layers=3)
    groups = recipe.parameter_groups(model, learning_rate=1.0, weight_decay=0.01, decay_rate=0.5)
    by_param = {}
    for group in groups:
        for param in group["params"]:
            by_param[id(param)] = (group["lr"], group["weight_decay"])
    named = dict(model.named_parameters())
    # lr * decay ** (L + 2 - depth), L = 3
    assert by_param[id(named["electra.embeddings.word_embeddings.weight"])] == (0.5 ** 5, 0.01)
    assert by_param[id(named["electra.embeddings.LayerNorm.weight"])] == (0.5 ** 5, 0.0)
    assert by_param[id(named["electra.encoder.layer.0.attention.self.query.weight"])] == (0.5 ** 4, 0.01)
    assert by_param[id(named["electra.encoder.layer.2.output.dense.bias"])] == (0.5 ** 2, 0.0)
    assert by_param[id(named["classifier.out_proj.weight"])] == (1.0, 0.01)
    assert len(by_param) == len(named), "every trainable parameter is in exactly one group"


def test_pretraining_groups_skip_decay_on_biases_and_layer_norms_only():
    model = small_model(layers=2)
    model.electra.embeddings.position_embeddings.weight.requires_grad_(False)
    decay, no_decay = recipe.weight_decay_groups(model, 0.01)
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.01, 0.0)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].endswith(".bias") or "LayerNorm" in names[id(p)] for p in no_decay["params"])
    assert not any(names[id(p)].endswith(".bias") or "LayerNorm" in names[id(p)] for p in decay["params"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(decay["params"]) + len(no_decay["params"]) == len(trainable)  # each once, frozen ones left out


def test_decay_one_turns_layerwise_rates_off():
    groups = recipe.parameter_groups(small_model(), learning_rate=3e-4, weight_decay=0.01, decay_rate=1.0)
    assert {g["lr"] for g in groups} == {3e-4}


def test_defaults_by_model_size_and_task_override():
    small = ElectraConfig(hidden_size=256, num_hidden_layers=12)
    base = ElectraConfig(hidden_size=768, num_hidden_layers=12)
    large = ElectraConfig(hidden_size=1024, num_hidden_layers=24)
    opts = RunOptions(task="glue-rte")
    assert recipe.resolve(opts, {"epochs": 10.0}, small)["learning_rate"] == 3e-4
    assert recipe.resolve(opts, {}, base)["learning_rate"] == 1e-4
    settings = recipe.resolve(opts, {}, large)
    assert (settings["learning_rate"], settings["layerwise_lr_decay"]) == (5e-5, 0.9)
    settings = recipe.resolve(opts, {"epochs": 10.0}, small)
    assert (settings["epochs"], settings["batch_size"], settings["max_seq_length"], settings["warmup_ratio"],
            settings["weight_decay"], settings["max_grad_norm"]) == (10.0, 32, 128, 0.1, 0.01, 1.0)
    explicit = RunOptions(task="glue-rte", epochs=2.0, learning_rate=1e-3, layerwise_lr_decay=1.0)
    settings = recipe.resolve(explicit, {"epochs": 10.0}, small)
    assert (settings["epochs"], settings["learning_rate"], settings["layerwise_lr_decay"]) == (2.0, 1e-3, 1.0)


def test_impossible_values_are_refused():
    with pytest.raises(UserError, match="--warmup-ratio 1.5"):
        recipe.resolve(RunOptions(task="x", warmup_ratio=1.5), {}, ElectraConfig())
    with pytest.raises(UserError, match="--max-steps 0"):
        recipe.resolve(RunOptions(task="x", max_steps=0), {}, ElectraConfig())


def test_optimizer_uses_electra_epsilon():
    optimizer = recipe.make_optimizer(small_model(), {"learning_rate": 1e-4, "weight_decay": 0.01,
                                                      "layerwise_lr_decay": 0.8})
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["eps"] == 1e-6


def test_learning_rate_rises_through_warmup_and_decays_to_zero(tmp_path, tiny_model, one_torch_thread):
    """The schedule is ours (recipe.make_scheduler), so it is the same on every transformers version."""
    import json
    import os

    from tests.conftest import invoke
    from tests.toy_data import write_sentiment_tsv

    write_sentiment_tsv(tmp_path / "train.tsv", 64, seed=1)
    write_sentiment_tsv(tmp_path / "dev.tsv", 8, seed=2)
    old = os.umask(0o022)
    try:
        result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train.tsv",
                        "--validation-file", tmp_path / "dev.tsv", "--output-dir", tmp_path / "out", "--max-steps",
                        "20", "--warmup-ratio", "0.25", "--learning-rate", "1e-3", "--layerwise-lr-decay", "1.0",
                        "--logging-steps", "1", "--batch-size", "4")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    history = json.loads((tmp_path / "out" / "log_history.json").read_text())
    rates = [entry["learning_rate"] for entry in history if "learning_rate" in entry]
    assert len(rates) == 20
    peak = rates.index(max(rates))
    assert max(rates) == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(rates[:peak], rates[1:peak + 1])), rates  # warm-up: strictly rising
    assert all(a > b for a, b in zip(rates[peak:], rates[peak + 1:])), rates  # then strictly falling
    assert 4 <= peak <= 5 and rates[-1] <= 1e-3 / 15 + 1e-12  # 5 warm-up steps of 20; linear to zero
    for name in ("metrics.json", "run_config.json", "predictions_validation.tsv", "config.json"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o644, name  # the umask, not mkstemp's 0600


def test_scheduler_steps_by_hand():
    model = small_model()
    optimizer = recipe.adamw(recipe.weight_decay_groups(model, 0.0), 1.0)
    scheduler = recipe.make_scheduler(optimizer, 0.1, 100)
    seen = []
    for _ in range(100):
        seen.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert seen[0] == 0.0 and seen[5] == pytest.approx(0.5) and seen[10] == pytest.approx(1.0)
    assert seen[55] == pytest.approx(0.5) and scheduler.get_last_lr()[0] == 0.0
