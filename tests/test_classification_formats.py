"""Classification on public files as they are published: AG News (headerless, 1-based classes,
title and description joined), Sentiment140 (Latin-1), fastText and TREC label lines, and
multi-label data refused in one line."""

import json

import pytest

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES
from tests.conftest import invoke

AG_NEWS = ('"3","Wall St. Bears Claw Back (Reuters)","Reuters - Short-sellers are seeing green again."\n'
           '"4","IBM Sues Linux Firm (AP)","AP - IBM said on ""Friday"" it sued."\n'
           '"1","Peace talks resume",""\n'
           '"2","Phelps wins gold","Michael Phelps won his sixth gold medal."\n')


def load(for_training=True, **options):
    task = get_task("classification")
    return FAMILIES[task.family].load(task, RunOptions(task="classification", **options), for_training=for_training)


def test_ag_news_title_and_description_as_a_pair_or_joined(tmp_path):
    (tmp_path / "train.csv").write_text(AG_NEWS, encoding="utf-8")
    common = {"train_file": str(tmp_path / "train.csv"), "no_header": True, "label_column": "0"}
    pair = load(text_column="1", text_pair_column="2", **common)
    assert pair.labels == ["1", "2", "3", "4"] and pair.splits["train"]["label"] == ["3", "4", "1", "2"]
    assert pair.splits["train"]["text_pair"][1] == 'AP - IBM said on "Friday" it sued.'
    joined = load(text_column="1,2", **common).splits["train"]
    assert "text_pair" not in joined.column_names
    assert joined["text"][:3] == ['Wall St. Bears Claw Back (Reuters) Reuters - Short-sellers are seeing green again.',
                                  'IBM Sues Linux Firm (AP) AP - IBM said on "Friday" it sued.', "Peace talks resume "]
    with pytest.raises(UserError, match=r"train.csv: no text column '5'"):
        load(text_column="1,5", **common)


def test_a_column_whose_name_has_a_comma_is_not_split(tmp_path):
    (tmp_path / "t.csv").write_text('"title,body",label\n"good film",1\nbad,0\n', encoding="utf-8")
    data = load(train_file=str(tmp_path / "t.csv"), text_column="title,body")
    assert data.splits["train"]["text"] == ["good film", "bad"]


def test_sentiment140_latin1_headerless_with_0_and_4(tmp_path):
    rows = ['"0","1467810369","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","_TheSpecialOne_","Awww, that\'s a bummer."',
            '"4","1467822272","Mon Apr 06 22:22:45 PDT 2009","NO_QUERY","ersle","I LOVE my caf\xe9 na\xefve"']
    (tmp_path / "s140.csv").write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    data = load(train_file=str(tmp_path / "s140.csv"), no_header=True, label_column="0", text_column="5")
    assert data.labels == ["0", "4"] and data.splits["train"]["text"][1] == "I LOVE my caf\u00e9 na\u00efve"
    assert [e["repair"].split(";")[0] for e in data.info["repairs"]] == ["not UTF-8"]


FASTTEXT = "__label__2 Great CD: My lovely Pat has one of the great voices.\n\n__label__1 Batteries died ...\n"
TREC = ("DESC:manner How did serfdom develop in and then leave Russia ?\n"
        "ENTY:cremat What films featured the character Popeye Doyle ?\n"
        "DESC:def What is ethology ?\n")


def test_fasttext_and_trec_lines(tmp_path):
    (tmp_path / "train.ft.txt").write_text(FASTTEXT, encoding="utf-8")
    data = load(train_file=str(tmp_path / "train.ft.txt"))
    assert list(zip(data.splits["train"]["text"], data.splits["train"]["label"])) == [
        ("Great CD: My lovely Pat has one of the great voices.", "2"), ("Batteries died ...", "1")]
    (tmp_path / "train_5500.label").write_text(TREC, encoding="utf-8")
    fine = load(train_file=str(tmp_path / "train_5500.label"))
    assert fine.labels == ["DESC:def", "DESC:manner", "ENTY:cremat"]
    assert fine.splits["train"]["text"][2] == "What is ethology ?"
    coarse = load(train_file=str(tmp_path / "train_5500.label"), label_column="coarse")
    assert coarse.labels == ["DESC", "ENTY"] and coarse.splits["train"]["label"] == ["DESC", "ENTY", "DESC"]


@pytest.mark.parametrize("name,content,options,message", [
    ("plain.txt", "hello world\nfoo\n", {}, r"plain.txt:1: 'hello world'; expected fastText's '__label__LABEL text' "
                                           r"or TREC's 'COARSE:fine question' lines \(or a table"),
    ("trec.label", "\nDESC:manner How ?\nbroken line\n", {}, r"trec.label:3: 'broken line'; expected 'COARSE:fine "
                                                            r"question' as TREC writes it"),
    ("multi.txt", "__label__a good\n__label__a __label__b both\n", {},
     r"multi.txt:2: several __label__ prefixes: multi-label data; this task predicts one label per text"),
    ("trec.txt", TREC, {"label_column": "topic"}, r"--label-column topic: TREC lines have the labels fine"),
    ("multi.csv", 'text,label\nthe game and the vote,"sports, politics"\nthe match,sports\nthe vote,politics\n', {},
     r"multi.csv:2: label 'sports, politics' joins labels that also stand alone: multi-label data"),
    ("multi.jsonl", '{"text": "the game", "label": ["sports", "politics"]}\n', {},
     r"multi.jsonl:1 \(field 'label'\): expected a label, found \[\"sports\", \"politics\"\] \(a list: multi-label"),
    # a list after plain labels: the column mixes kinds and is read as text, where the list was a class
    ("mixed.jsonl", '{"text": "the vote", "label": "politics"}\n{"text": "the game", "label": ["sports", "politics"]}\n',
     {}, r"mixed.jsonl:2 \(field 'label'\): expected a label, found \[\"sports\", \"politics\"\] \(a list: multi-label"),
])
def test_unreadable_lines_and_multi_label_data_are_one_line(tmp_path, name, content, options, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load(train_file=str(tmp_path / name), **options)


def test_a_label_with_a_comma_that_joins_nothing_is_one_class(tmp_path):
    (tmp_path / "t.csv").write_text('text,label\na,"1,000+"\nb,small\n', encoding="utf-8")
    assert load(train_file=str(tmp_path / "t.csv")).labels == ["1,000+", "small"]


def test_trec_trains_and_predicts_its_test_file(tmp_path, tiny_model):
    (tmp_path / "train_5500.label").write_text(TREC * 3, encoding="utf-8")
    (tmp_path / "TREC_10.label").write_text("DESC:def What is a film ?\nENTY:cremat Who was the actor ?\n")
    out = tmp_path / "out"
    result = invoke("train", "classification", "--model", tiny_model, "--train-file", tmp_path / "train_5500.label",
                    "--test-file", tmp_path / "TREC_10.label", "--label-column", "coarse", "--output-dir", out,
                    "--max-steps", "1")
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "run_config.json").read_text())["labels"] == ["DESC", "ENTY"]
    lines = (out / "predictions_test.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction" and [line.split("\t")[0] for line in lines[1:]] == ["0", "1"]
    assert {line.split("\t")[1] for line in lines[1:]} <= {"DESC", "ENTY"}
    assert "accuracy_test" in json.loads((out / "metrics.json").read_text())  # TREC's test file has labels
