"""Extractive summarization (BertSumExt): pick a document's key sentences."""
