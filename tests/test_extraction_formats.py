"""Extractive summarization on the public files as they are published: CNN/DailyMail .story
folders and url lists, arXiv/PubMed (.txt JSON lines, <S> tags), Multi-News, BillSum/WikiHow
columns, null summaries, long paragraphs, other languages. Tiny files built in tmp_path."""

from __future__ import annotations

import hashlib
import json

import pytest

from electra_tasks.data import repairs
from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.extraction import sentences as S
from electra_tasks.tasks.extraction.family import FAMILY
from electra_tasks.tasks.extraction.stories import parse_story

URLS = [f"http://web.archive.org/web/20150401000000id_/http://www.cnn.com/2015/04/01/world/story-{i}/index.html"
        for i in range(3)]
STORIES = [
    "(CNN) -- The mayor opened a new park on Monday.\n\nResidents cheered at the event\n\n"
    "@highlight\n\nMayor opens new park\n\n@highlight\n\nResidents cheer\n",
    "LONDON, England (CNN) -- Voters went to the polls.\n\n@highlight\n\nVoters go to the polls.\n",
    "An article whose highlights were never written.\n",
]


def _load(split_file, task="cnn-dailymail", **options):
    with repairs.collect() as found:
        data = FAMILY.load(get_task(task), RunOptions(task=task, validation_file=str(split_file), **options),
                           for_training=False)
    return data.splits["validation"], found


def _stories(root):
    folder = root / "cnn" / "stories"
    folder.mkdir(parents=True)
    for url, text in zip(URLS, STORIES):
        (folder / f"{hashlib.sha1(url.encode()).hexdigest()}.story").write_text(text, encoding="utf-8")
    return folder


def test_story_text_is_read_as_the_hub_script_reads_it():
    article, highlights = parse_story(STORIES[0])
    assert article == "(CNN) -- The mayor opened a new park on Monday. Residents cheered at the event ."
    assert highlights == ["Mayor opens new park .", "Residents cheer ."]
    assert parse_story("Text.\n\n@highlight\n\nSays \u201cno\u201d\n") == ("Text.", ["Says \u201cno\u201d"])


def test_story_folder_skips_and_counts_stories_without_highlights(tmp_path):
    folder = _stories(tmp_path)
    for given in (folder, folder.parent):  # cnn/stories, or cnn/ as the archive unpacks
        rows, found = _load(given)
        ids = sorted(hashlib.sha1(u.encode()).hexdigest() for u in URLS[:2])
        assert sorted(rows["id"]) == ids
        row = rows[rows["id"].index(hashlib.sha1(URLS[0].encode()).hexdigest())]
        assert row["sentences"] == ["The mayor opened a new park on Monday.", "Residents cheered at the event ."]
        assert row["reference"] == ["Mayor opens new park .", "Residents cheer ."]
        assert [(r["repair"], r["count"]) for r in found] == [(
            "stories without highlights or without article text skipped (as the hub's cnn_dailymail script does)", 1)]
    with pytest.raises(UserError, match=r"\.story: no story with both article text and an @highlight"):
        _load(folder / f"{hashlib.sha1(URLS[2].encode()).hexdigest()}.story")  # the one without highlights
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match=r"empty: a folder without \.story files"):
        _load(empty)


def test_url_list_picks_stories_by_sha1_in_list_order_through_data_dir(tmp_path):
    _stories(tmp_path)
    lists = tmp_path / "url_lists"
    lists.mkdir()
    (lists / "all_val.txt").write_text("\n".join([URLS[1], URLS[0], "http://example.com/missing"]) + "\n")
    with repairs.collect() as found:
        data = FAMILY.load(get_task("cnn-dailymail"), RunOptions(task="x", data_dir=str(tmp_path)), for_training=False)
    assert data.splits["validation"]["id"] == [hashlib.sha1(URLS[i].encode()).hexdigest() for i in (1, 0)]
    assert [(r["repair"], r["count"]) for r in found] == [("url-list entries without a story file skipped", 1)]
    (tmp_path / "all_val.txt").write_text("http://example.com/none\n")
    with pytest.raises(UserError, match=r"all_val.txt: none of its 1 URLs has a story file"):
        _load(tmp_path / "all_val.txt")


def test_arxiv_txt_json_lines_sentence_lists_and_s_tags(tmp_path):
    record = {"article_id": "1001.0001", "article_text": ["we study x .", "our results show y .", "z ."],
              "abstract_text": ["<S> we study x . </S>", "<S> results show y . </S>"],
              "labels": None, "section_names": ["introduction"], "sections": [["we study x ."]]}
    path = tmp_path / "val.txt"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    rows, _ = _load(path, task="extractive-summarization")  # no column option needed
    assert rows[0]["sentences"] == ["we study x .", "our results show y .", "z ."]
    assert rows[0]["reference"] == ["we study x .", "results show y ."]
    assert S.as_sentences("<s> first one . </s> <s> second . </s>") == ["first one .", "second ."]  # abisee
    (tmp_path / "notes.txt").write_text("just some text\n")
    with pytest.raises(UserError, match=r"notes.txt: a \.txt file that is neither JSON lines"):
        _load(tmp_path / "notes.txt", task="extractive-summarization")


@pytest.mark.parametrize("record, sentences, reference", [
    ({"document": "A vote passed. It was close. ||||| Critics objected.", "summary": "– The vote passed."},
     ["A vote passed.", "It was close.", "Critics objected."], ["– The vote passed."]),  # Multi-News
    ({"document": "One line.NEWLINE_CHARNEWLINE_CHARTwo line", "summary": "Lines."}, ["One line.", "Two line"],
     ["Lines."]),  # Multi-News raw
    ({"text": "SEC. 2. FINDINGS. Congress finds tests good.", "summary": "Tests are good.", "title": "T"},
     ["SEC. 2.", "FINDINGS.", "Congress finds tests good."], ["Tests are good."]),  # BillSum
    ({"headline": "\nKeep the box closed.,\nStore it dry.", "title": "How to", "text": " Keep it shut. Dry it."},
     ["Keep it shut.", "Dry it."], ["Keep the box closed.,", "Store it dry."]),  # WikiHow
])
def test_public_column_names_need_no_option(tmp_path, record, sentences, reference):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    rows, _ = _load(path, task="extractive-summarization")
    assert rows[0]["sentences"] == sentences and rows[0]["reference"] == reference


def test_null_summary_in_an_evaluated_split_is_one_line(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text('{"article": "A b c.", "highlights": "A b."}\n{"article": "D e f.", "highlights": null}\n')
    with pytest.raises(UserError, match=r"^.*dev.jsonl:2 \(field 'highlights'\): no reference summary \(null\) "
                                        r"\(id 1\); expected text or a list of sentences$"):
        _load(path)


def test_other_languages_splitter_rules_and_rouge_tokens(tmp_path):
    german = "Das ist z. B. ein Test. Er kam am 3. Mai nach Berlin."
    assert S.split_sentences(german) != ["Das ist z. B. ein Test.", "Er kam am 3. Mai nach Berlin."]  # en rules
    path = tmp_path / "de.jsonl"
    path.write_text(json.dumps({"article": german, "highlights": "Ein Test."}) + "\n", encoding="utf-8")
    rows, _ = _load(path, sentence_language="de")
    assert rows[0]["sentences"] == ["Das ist z. B. ein Test.", "Er kam am 3. Mai nach Berlin."]
    with pytest.raises(UserError, match=r"^--sentence-language xx: pysbd has no rules for it; expected one of am, "):
        _load(path, sentence_language="xx")
    chinese = tmp_path / "zh.jsonl"
    chinese.write_text(json.dumps({"article": "今天天气很好。我们去公园。", "highlights": "天气很好。"}) + "\n",
                       encoding="utf-8")
    with pytest.raises(UserError, match=r"zh.jsonl:1 \(field 'highlights'\): no reference summary has a letter a-z"):
        _load(chinese, sentence_language="zh")
    chinese.write_text(chinese.read_text(encoding="utf-8") + json.dumps({"article": "A b.", "highlights": "A."}) + "\n",
                       encoding="utf-8")
    rows, found = _load(chinese)
    assert len(rows) == 2 and [(r["file"], r["count"]) for r in found] == [("validation split", 1)]


def test_long_paragraph_is_segmented_in_windows_linearly(monkeypatch):
    text = " ".join(f"Officials in town {i} said the new park would open in spring." for i in range(400))
    monkeypatch.setattr(S, "WINDOW", 10**9)
    whole = S.split_sentences(text)
    assert len(whole) == 400
    monkeypatch.setattr(S, "WINDOW", 1000)
    monkeypatch.setattr(S, "MARGIN", 200)
    assert S.split_sentences(text) == whole  # windows agree with the single pass on plain prose
    one = "word " * 600 + "end."  # one sentence longer than a window: the window widens
    assert S.split_sentences(one + " Next one.") == [one.replace("  ", " "), "Next one."]
    monkeypatch.setattr(S, "WINDOW", 10_000)  # the default windows over 2,000 sentences lose none and add none
    assert len(S.split_sentences(" ".join([text] * 5))) == 2000


def test_eval_and_predict_split_sentences_by_the_language_the_model_was_trained_with(tmp_path, tiny_model):
    from tests.conftest import invoke

    german = "Das ist z. B. ein Test. Er kam am 3. Mai nach Berlin. Dann ging er heim."
    rows = "".join(json.dumps({"id": str(i), "article": german, "highlights": "Er kam am 3. Mai nach Berlin."}) + "\n"
                   for i in range(6))
    (tmp_path / "train.jsonl").write_text(rows, encoding="utf-8")
    out = tmp_path / "out"
    trained = invoke("train", "extractive-summarization", "--model", tiny_model, "--train-file", tmp_path / "train.jsonl",
                     "--validation-file", tmp_path / "train.jsonl", "--output-dir", out, "--max-steps", "1",
                     "--sentence-language", "de", "--summary-sentences", "1")
    assert trained.exit_code == 0, trained.stderr
    assert json.loads((out / "config.json").read_text())["electra_tasks"]["sentence_language"] == "de"
    line = json.dumps({"article": german}) + "\n"
    remembered = invoke("predict", "extractive-summarization", "--model", out, input=line)
    assert remembered.exit_code == 0, remembered.stderr
    assert json.loads(remembered.stdout)["num_sentences"] == 3  # de: "z. B." and "3. Mai" end no sentence
    english = invoke("predict", "extractive-summarization", "--model", out, "--sentence-language", "en", input=line)
    assert json.loads(english.stdout)["num_sentences"] > 3  # the command line still wins
