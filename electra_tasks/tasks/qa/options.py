"""The options only question-answering tasks take."""

from electra_tasks.options import Option

PREDICT_INPUT = "{\"question\": ..., \"context\": ...}"  # one line of `predict` input

OPTIONS = (
    Option("max_query_length", int, "Question tokens kept.", default=64, encoding=True),
    Option("n_best_size", int, "Candidate starts and ends per window.", default=20),
    Option("max_answer_length", int, "Longest answer, in tokens.", default=30),
    Option("null_threshold", float, "Answer \"\" when the no-answer probability is above this (models trained "
           "with unanswerable questions).", default_text="predict: the best-F1 threshold the model's evaluation "
           "found; eval: 0.5"),
)
