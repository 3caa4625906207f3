"""The nine GLUE tasks, as declarative definitions for the classification family.

`glue` describes each task's original TSV layout (read exactly as `download_glue_data.py` wrote
it: CoLA has no header, MRPC starts with a byte-order mark, MNLI has matched/mismatched files);
`hub_columns` the columns of `nyu-mll/glue` on the hub. Label lists follow the hub's label order,
so hub label ids and GLUE file labels map to the same classes.
"""

from electra_tasks.registry import TaskDefinition, register

GLUE_FILES = "GLUE TSV (--data-dir), hub nyu-mll/glue, tsv/csv/json/jsonl files"


def glue_task(name: str, hub_name: str, description: str, *, metrics, main_metric, labelled, test,
              hub_columns, labels=None, regression=False, files=None, defaults=None, **spec):
    return TaskDefinition(
        name=f"glue-{name}",
        family="classification",
        description=description,
        metrics=tuple(metrics),
        main_metric=main_metric,
        data_formats=GLUE_FILES,
        hub_dataset=("nyu-mll/glue", hub_name),
        spec={"glue": {"labelled": labelled, "test": test}, "hub_columns": hub_columns, "labels": labels,
              "regression": regression, "files": files, **spec},
        defaults=defaults or {},
    )


BINARY = ("0", "1")
NLI2 = ("entailment", "not_entailment")
PAIR = {"header": True, "text": "sentence1", "pair": "sentence2", "label": "label", "index": "index"}
PAIR_TEST = {"header": True, "text": "sentence1", "pair": "sentence2", "index": "index"}

register(
    glue_task("cola", "cola", "Corpus of Linguistic Acceptability: is the sentence grammatical?",
              metrics=["matthews_correlation", "accuracy"], main_metric="matthews_correlation",
              labelled={"header": False, "text": 3, "label": 1},
              test={"header": True, "text": "sentence", "index": "index"},
              hub_columns={"text": "sentence"}, labels=BINARY),
    glue_task("sst2", "sst2", "Stanford Sentiment Treebank: positive (1) or negative (0) sentence",
              metrics=["accuracy"], main_metric="accuracy",
              labelled={"header": True, "text": "sentence", "label": "label"},
              test={"header": True, "text": "sentence", "index": "index"},
              hub_columns={"text": "sentence"}, labels=BINARY),
    glue_task("mrpc", "mrpc", "Microsoft Research Paraphrase Corpus: are the two sentences paraphrases?",
              metrics=["accuracy", "f1"], main_metric="f1",
              labelled={"header": True, "text": "#1 String", "pair": "#2 String", "label": "Quality"},
              test={"header": True, "text": "#1 String", "pair": "#2 String", "index": "index"},
              hub_columns={"text": "sentence1", "pair": "sentence2"}, labels=BINARY, positive_label="1"),
    glue_task("stsb", "stsb", "Semantic Textual Similarity Benchmark: similarity score 0-5 (regression)",
              metrics=["pearson", "spearmanr"], main_metric="spearmanr",
              labelled={**PAIR, "label": "score"}, test=PAIR_TEST,
              hub_columns={"text": "sentence1", "pair": "sentence2"}, regression=True,
              defaults={"epochs": 10.0}),
    glue_task("qqp", "qqp", "Quora Question Pairs: are the two questions duplicates?",
              metrics=["accuracy", "f1"], main_metric="f1",
              labelled={"header": True, "text": "question1", "pair": "question2", "label": "is_duplicate",
                        "index": "id"},
              test={"header": True, "text": "question1", "pair": "question2", "index": "id"},
              hub_columns={"text": "question1", "pair": "question2"}, labels=BINARY, positive_label="1"),
    glue_task("mnli", "mnli", "Multi-Genre NLI: entailment, neutral or contradiction (matched + mismatched)",
              metrics=["accuracy"], main_metric="accuracy",
              labelled={**PAIR, "label": "gold_label"}, test=PAIR_TEST,
              hub_columns={"text": "premise", "pair": "hypothesis"},
              labels=("entailment", "neutral", "contradiction"),
              files={"train": "train.tsv", "validation": "dev_matched.tsv",
                     "validation_mismatched": "dev_mismatched.tsv",
                     "test": "test_matched.tsv", "test_mismatched": "test_mismatched.tsv"},
              split_metric_suffix={"validation_matched": "", "validation_mismatched": "_mm",
                                   "test_matched": "_test", "test_mismatched": "_test_mm"}),
    glue_task("qnli", "qnli", "Question NLI: does the sentence answer the question?",
              metrics=["accuracy"], main_metric="accuracy",
              labelled={"header": True, "text": "question", "pair": "sentence", "label": "label",
                        "index": "index"},
              test={"header": True, "text": "question", "pair": "sentence", "index": "index"},
              hub_columns={"text": "question", "pair": "sentence"}, labels=NLI2),
    glue_task("rte", "rte", "Recognizing Textual Entailment: entailment or not_entailment",
              metrics=["accuracy"], main_metric="accuracy", labelled=PAIR, test=PAIR_TEST,
              hub_columns={"text": "sentence1", "pair": "sentence2"}, labels=NLI2, defaults={"epochs": 10.0}),
    glue_task("wnli", "wnli", "Winograd NLI: does the sentence with the pronoun substituted follow? (0/1)",
              metrics=["accuracy"], main_metric="accuracy", labelled=PAIR, test=PAIR_TEST,
              hub_columns={"text": "sentence1", "pair": "sentence2"}, labels=BINARY),
)
