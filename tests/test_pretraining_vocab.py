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
