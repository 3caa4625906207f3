"""Each GLUE file layout, read exactly as GLUE ships it (small excerpts with the real quirks)."""

from pathlib import Path

import pytest

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES
from tests.conftest import shared_data


def load(task_name: str, **options):
    task = get_task(task_name)
    return FAMILIES[task.family].load(task, RunOptions(task=task_name, **options), for_training=True)


def write(folder: Path, name: str, text: str, bom: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def test_cola_has_no_header_and_four_columns(tmp_path):
    write(tmp_path, "train.tsv", "gj04\t1\t\tOur friends won't buy this analysis.\n"
                                 "gj04\t0\t*\tThey drank the pub.\n")
    write(tmp_path, "dev.tsv", "gj04\t1\t\tThe sailors rode the breeze.\n")
    write(tmp_path, "test.tsv", "index\tsentence\n0\tBill whistled past the house.\n")
    data = load("glue-cola", data_dir=str(tmp_path))
    assert data.splits["train"]["text"] == ["Our friends won't buy this analysis.", "They drank the pub."]
    assert data.splits["train"]["label"] == ["1", "0"]
    assert data.splits["test"]["label"] == [None]
    assert data.splits["test"]["index"] == ["0"]
    assert data.labels == ["0", "1"]


def test_mrpc_byte_order_mark_and_quality_columns(tmp_path):
    header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    write(tmp_path, "train.tsv", header + '1\t702876\t702977\tAmrozi accused his brother, "the witness".\t'
                                          'Referring to him as "the witness", Amrozi accused his brother.\n'
                                          "0\t2108705\t2108831\tYucaipa owned Dominick's.\tYucaipa bought Dominick's.\n",
          bom=True)
    write(tmp_path, "dev.tsv", header + "1\t1\t2\tA b.\tA c.\n", bom=True)
    data = load("glue-mrpc", data_dir=str(tmp_path))
    train = data.splits["train"]
    assert train["label"] == ["1", "0"]
    # quotes are text, not CSV quoting (GLUE reads with quoting off)
    assert train["text"][0] == 'Amrozi accused his brother, "the witness".'
    assert train["text_pair"][0].startswith('Referring to him as "the witness"')


def test_stsb_score_column_is_a_regression_target(tmp_path):
    header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
    write(tmp_path, "train.tsv", header + "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\t"
                                          "A plane is taking off.\tAn air plane is taking off.\t5.000\n"
                                          "1\tmain-captions\tMSRvid\t2012test\t0004\tnone\tnone\t"
                                          "A man is playing a flute.\tA man is playing a bamboo flute.\t3.800\n")
    write(tmp_path, "dev.tsv", header + "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA.\tB.\t0.500\n")
    data = load("glue-stsb", data_dir=str(tmp_path))
    assert data.labels is None
    assert data.splits["train"]["label"] == [5.0, 3.8]
    assert data.splits["validation"]["label"] == [0.5]


def test_mnli_matched_and_mismatched_dev_files(tmp_path):
    cols = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
            "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
    def row(i, s1, s2, labels):
        return "\t".join([str(i), "1", "1e", "government", "( x )", "( y )", "(ROOT x)", "(ROOT y)", s1, s2, *labels])
    train = "\t".join(cols + ["label1", "gold_label"]) + "\n" + row(0, "A b.", "A c.", ["neutral", "neutral"]) + "\n" \
        + row(1, "D e.", "D f.", ["entailment", "entailment"]) + "\n"
    dev_cols = "\t".join(cols + ["label1", "label2", "label3", "label4", "label5", "gold_label"]) + "\n"
    write(tmp_path, "train.tsv", train)
    write(tmp_path, "dev_matched.tsv", dev_cols + row(0, "G h.", "G i.", ["contradiction"] * 6) + "\n")
    write(tmp_path, "dev_mismatched.tsv", dev_cols + row(0, "J k.", "J l.", ["entailment"] * 6) + "\n")
    data = load("glue-mnli", data_dir=str(tmp_path))
    assert set(data.splits) == {"train", "validation", "validation_mismatched"}
    assert data.splits["validation"]["label"] == ["contradiction"]
    assert data.splits["validation_mismatched"]["text_pair"] == ["J l."]
    assert data.labels == ["entailment", "neutral", "contradiction"]


def test_rte_unknown_label_names_file_and_line(tmp_path):
    write(tmp_path, "train.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n")
    write(tmp_path, "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n1\tC.\tD.\tcontradiction\n")
    with pytest.raises(UserError, match=r"dev.tsv:3: label 'contradiction' is not one of the task's labels"):
        load("glue-rte", data_dir=str(tmp_path))


def test_wrong_number_of_fields_names_the_line(tmp_path):
    write(tmp_path, "train.tsv", "sentence\tlabel\ngood\t1\nbad\t0\textra\n")
    with pytest.raises(UserError, match=r"train.tsv:3: 3 fields, expected 2"):
        load("glue-sst2", data_dir=str(tmp_path))


REAL_COUNTS = {  # from ../shared/data/SOURCES.md
    ("glue-sst2", "SST-2"): {"train": 67349, "validation": 872, "test": 1821},
    ("glue-cola", "CoLA"): {"train": 8551, "validation": 1043},
    ("glue-mrpc", "MRPC"): {"train": 3668, "validation": 408, "test": 1725},
    ("glue-stsb", "STS-B"): {"train": 5749, "validation": 1500, "test": 1379},
    ("glue-rte", "RTE"): {"train": 2490, "validation": 277, "test": 3000},
    ("glue-wnli", "WNLI"): {"train": 635, "validation": 71},
    ("glue-qnli", "QNLI"): {"validation": 5463, "test": 5463},
}


@pytest.mark.parametrize("task_name,folder", list(REAL_COUNTS))
def test_real_glue_files_parse_with_the_documented_counts(task_name, folder):
    path = shared_data("glue", folder)
    task = get_task(task_name)
    data = FAMILIES[task.family].load(task, RunOptions(task=task_name, data_dir=str(path)), for_training=True)
    counts = {split: len(ds) for split, ds in data.splits.items()}
    for split, expected in REAL_COUNTS[(task_name, folder)].items():
        assert counts[split] == expected, split
