"""Model shapes and pre-training recipes by size (google-research/electra `configure_pretraining.py`).

`tiny` is ours: a 4-layer, 128-wide model that trains on a laptop CPU; `small` and `base` are
the published shapes. The recipe (learning rate, batch, steps) follows the discriminator's width.
"""

from __future__ import annotations

from electra_tasks.errors import UserError, did_you_mean

SHAPES = {
    "tiny": {"hidden_size": 128, "embedding_size": 128, "num_hidden_layers": 4, "num_attention_heads": 2,
             "intermediate_size": 512},
    "small": {"hidden_size": 256, "embedding_size": 128, "num_hidden_layers": 12, "num_attention_heads": 4,
              "intermediate_size": 1024},
    "base": {"hidden_size": 768, "embedding_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072},
}

# Published pre-training recipes: (learning rate, batch size, training steps, vocabulary size).
RECIPES = {
    "tiny": {"learning_rate": 5e-4, "batch_size": 128, "max_steps": 1_000_000, "vocab_size": 8192},
    "small": {"learning_rate": 5e-4, "batch_size": 128, "max_steps": 1_000_000, "vocab_size": 30522},
    "base": {"learning_rate": 2e-4, "batch_size": 256, "max_steps": 766_000, "vocab_size": 30522},
    "large": {"learning_rate": 2e-4, "batch_size": 2048, "max_steps": 400_000, "vocab_size": 30522},
}
WARMUP_STEPS = 10_000
DEFAULT_GENERATOR_SIZE = 0.25


def check_size(size: str | None) -> str:
    if size not in SHAPES:
        raise UserError(f"--size {size}: expected one of {', '.join(SHAPES)}{did_you_mean(str(size), SHAPES)}")
    return size


def recipe_for_width(hidden_size: int) -> dict:
    """The published recipe closest to a discriminator of this width (continued pre-training)."""
    if hidden_size <= 128:
        return dict(RECIPES["tiny"])
    if hidden_size <= 256:
        return dict(RECIPES["small"])
    if hidden_size <= 768:
        return dict(RECIPES["base"])
    return dict(RECIPES["large"])


def generator_shape(shape: dict, fraction: float) -> dict:
    """The generator: same depth and embeddings, width (hidden, heads, FFN) times `fraction`."""
    if not 0 < fraction <= 1:
        raise UserError(f"--generator-size {fraction}: expected a fraction in (0, 1] of the discriminator's width")
    heads = max(1, round(shape["num_attention_heads"] * fraction))
    hidden = max(heads, round(shape["hidden_size"] * fraction / heads) * heads)
    return {**shape, "hidden_size": hidden, "num_attention_heads": heads,
            "intermediate_size": max(1, round(shape["intermediate_size"] * fraction))}
