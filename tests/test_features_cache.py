"""The feature-cache key does not depend on what the tokenizer did last."""


def test_tokenizer_signature_ignores_the_last_calls_truncation(toy_tokenizer):
    from electra_tasks.training.features import tokenizer_signature

    before = tokenizer_signature(toy_tokenizer)
    toy_tokenizer(["the movie was good"], truncation=True, max_length=4, padding="max_length")
    assert tokenizer_signature(toy_tokenizer) == before
