"""The options only tagging tasks take."""

from electra_tasks.options import DATA, Option

# one line of `predict` input
PREDICT_INPUT = "a whitespace-tokenized sentence, [\"New York\", \"is\"] or {\"tokens\": [...]}"

OPTIONS = (
    Option("tag_column", int, "0-based column of the tag in CoNLL files.", default_text="the last column",
           commands=DATA, encoding=True),
    Option("tokens_column", str, "Table files (jsonl/json/parquet/csv): the column of token lists.",
           default_text="tokens", commands=DATA),
    Option("tags_column", str, "Table files: the column of tag lists (tag names, or ids named by a ClassLabel "
           "or --label-names).", default_text="ner_tags, tags or labels", commands=DATA),
    Option("strict", bool, "Score with seqeval's strict IOB2 mode instead of conlleval's rules.", default=False,
           commands=DATA),
)
