"""Sentence and sentence-pair classification and regression: every GLUE task and the user's own tables."""
