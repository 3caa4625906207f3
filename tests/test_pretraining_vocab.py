"""The WordPiece vocabulary of `--from-scratch`: library code apart from the test helpers, and reproducible."""

import ast
from pathlib import Path

import electra_tasks


def imported(node) -> list[str]:
    """The modules (and module.name) an import statement names; relative ones taken as inside the package."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = ("electra_tasks." if node.level else "") + (node.module or "")
        return [base.rstrip(".")] + [f"{base.rstrip('.')}.{alias.name}" for alias in node.names]
    return []


def test_no_library_module_imports_the_test_helpers():
    """`tiny.py` (tests and benchmarks) may use the library, never the reverse."""
    package = Path(electra_tasks.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path == package / "tiny.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if any(name == "electra_tasks.tiny" or name.startswith("electra_tasks.tiny.") for name in imported(node)):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert not offenders, offenders


def test_a_vocab_file_gives_a_fast_tokenizer_with_every_token(tmp_path):
    from electra_tasks.pretraining.vocab import SPECIAL_TOKENS, tokenizer_from_vocab

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL_TOKENS + ["hello", "world", "##s"]) + "\n", encoding="utf-8")
    tokenizer = tokenizer_from_vocab(vocab)
    assert tokenizer.is_fast and len(tokenizer) == len(SPECIAL_TOKENS) + 3
    assert tokenizer.tokenize("Hello worlds") == ["hello", "world", "##s"]
    assert tokenizer.mask_token_id == SPECIAL_TOKENS.index("[MASK]")


def _start_from_scratch_run(corpus, out, hash_seed: str):
    """`pretrain-continue --from-scratch` in a fresh process (its own hash seeds, Python's and Rust's)."""
    import os
    import subprocess

    from tests.pretraining_toys import micro_cli_command

    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "HF_HUB_OFFLINE": "1", "CI": "1", "OMP_NUM_THREADS": "1"}
    args = ["--from-scratch", "--size", "tiny", "--corpus", corpus, "--output-dir", out, "--vocab-size", "120",
            "--max-steps", "3", "--batch-size", "8", "--max-seq-length", "32", "--logging-steps", "1", "--seed", "5"]
    with open(f"{out}.log", "w") as log:
        return subprocess.Popen(micro_cli_command("pretrain-continue", *args), stdout=log, stderr=log, env=env)


def test_from_scratch_gives_the_same_vocabulary_and_model_in_every_process(tmp_path):
    """The vocabulary trainer broke ties in hash-map order: each process got its own vocabulary and model."""
    import hashlib
    import json

    from tests.pretraining_toys import write_repeated_corpus

    (tmp_path / "corpus").mkdir()
    write_repeated_corpus(tmp_path / "corpus" / "a.txt", 60, seed=1)
    (tmp_path / "corpus" / "b.txt").write_text("\n".join(
        f"the {w}th rider of the {v}s rode {w}ward past {v}ville" for w in ("four", "six", "seven", "ten")
        for v in ("ash", "elm", "oak")) + "\n", encoding="utf-8")
    runs = [tmp_path / "first", tmp_path / "second"]
    processes = [_start_from_scratch_run(tmp_path / "corpus", out, seed) for out, seed in zip(runs, "12")]
    for out, process in zip(runs, processes):  # side by side
        assert process.wait(timeout=300) == 0, Path(f"{out}.log").read_text()[-2000:]

    def vocabulary(out):
        vocab = json.loads((out / "discriminator" / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
        return "\n".join(sorted(vocab, key=vocab.get))

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert vocabulary(runs[0]) == vocabulary(runs[1])
    for name in ("discriminator/tokenizer.json", "discriminator/model.safetensors", "generator/model.safetensors"):
        assert digest(runs[0] / name) == digest(runs[1] / name), name
    history = [json.loads((out / "log_history.json").read_text())[0] for out in runs]
    assert history[0]["disc_accuracy"] == history[1]["disc_accuracy"]


def test_the_alphabet_keeps_the_most_frequent_characters_ties_by_character(tmp_path, monkeypatch):
    from electra_tasks.pretraining import vocab
    from electra_tasks.pretraining.corpus import resolve_corpus

    monkeypatch.setattr(vocab, "LIMIT_ALPHABET", 4)
    (tmp_path / "c.txt").write_text("zz zz zz fe ef ab ba dc cd\n", encoding="utf-8")  # z 6, the others 2 each
    tokenizer = vocab.train_wordpiece(resolve_corpus([str(tmp_path / "c.txt")]), 40, min_frequency=1)
    tokens = set(tokenizer.get_vocab())
    assert {"z", "a", "b", "c"} <= tokens and not {"d", "e", "f"} & tokens
    assert tokenizer.tokenize("zz ab fe") == ["zz", "ab", "[UNK]"]
