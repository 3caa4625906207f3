"""The options only classification tasks take."""

from electra_tasks.options import DATA, Option

PREDICT_INPUT = "a sentence, 'sentence<TAB>pair', or {\"text\": ..., \"text_pair\": ...}"  # one line of `predict` input

OPTIONS = (
    Option("text_column", str, "Text column name (or number with --no-header); several, comma-separated "
           "(title,description), are joined with a space.",
           default_text="sentence, sentence1 or text", commands=DATA),
    Option("text_pair_column", str, "Second text column for pairs.", default_text="sentence2 when present",
           commands=DATA),
    Option("regression", bool, "Labels are real-valued scores.", default=False, commands=DATA, encoding=True),
    Option("positive_label", str, "The positive class of binary F1.", default_text="the task's; else the last "
           "label in sorted order (1 of 0/1, pos of neg/pos)"),
    Option("pair_swap", bool, "Add each training pair swapped (MRPC, STS-B).", default=False, commands=("train",),
           encoding=True),
)
