"""The options only multiple-choice tasks take. Columns may be dotted paths into JSON objects."""

from electra_tasks.options import Option

PREDICT_INPUT = "{\"context\": ..., \"choices\": [...]} (or the task's own columns)"  # one line of `predict` input

OPTIONS = (
    Option("context_column", str, "Context column (or a dotted path into JSON, e.g. question.stem).",
           default_text="the task's; multiple-choice: context"),
    Option("question_column", str, "Optional question column, joined to the context.",
           default_text="the task's; multiple-choice: question when present"),
    Option("choice_columns", str, "Comma-separated columns, one choice each (e.g. ending0,ending1,ending2).",
           default_text="the task's"),
    Option("choices_column", str, "One column holding a list of choices: strings or {text, label} objects.",
           default_text="the task's; multiple-choice: choices"),
    Option("label_base", str, "0 or 1: the index of the first choice in --label-column (1: Social IQa, WinoGrande).",
           default_text="per file: 1 where its labels have no 0 and reach the number of choices, else 0",
           commands=("train", "eval")),
)
