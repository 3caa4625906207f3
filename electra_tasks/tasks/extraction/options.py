"""The options only extractive-summarization tasks take."""

from electra_tasks.options import DATA, Option

PREDICT_INPUT = "{\"article\": ...} or {\"sentences\": [...]}"  # one line of `predict` input

OPTIONS = (
    Option("document_column", str, "Document column.",
           default_text="the first of article, src, document, article_text, text", commands=DATA),
    Option("summary_column", str, "Reference summary column.",
           default_text="the first of highlights, tgt, summary, abstract_text, abstract, headline", commands=DATA),
    Option("sentence_language", str, "Language of the sentence splitter's rules (pysbd code: en, de, fr, zh, ...).",
           default_text="en; eval and predict: the model's"),
    Option("summary_sentences", int, "Sentences per summary.", default=3),
    Option("trigram_blocking", bool, "Skip a sentence that shares a word trigram with one already chosen.",
           default=True, flags=("--trigram-blocking/--no-trigram-blocking",)),
)
