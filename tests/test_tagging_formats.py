"""The public CoNLL-style and token/tag-table formats an NLP engineer brings, each as a tiny file
built the way the real one is published: WNUT-17, CoNLL-2002 (Spanish in Latin-1, Dutch with a
POS column and -DOCSTART- lines), GermEval 2014 (`#` source lines, a token-number column),
CoNLL-U, BIOES / BILOU / IOB1 tags, JSONL tables, tokens the tokenizer erases, `predict` inputs."""

from __future__ import annotations

import json
import logging

import pytest

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES
from electra_tasks.tasks.tagging.conll import read_conll
from electra_tasks.tasks.tagging.family import conll_text, predict_words
from electra_tasks.tasks.tagging.metrics import BILOU, BIOES, IOB2, PLAIN, detect_scheme, entities, score
from tests.conftest import invoke


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load(**options):
    task = get_task("tagging")
    return FAMILIES["tagging"].load(task, RunOptions(task="tagging", **options), for_training=True)


def sentences(data, split="train"):
    ds = data.splits[split]
    return [list(zip(t, g)) for t, g in zip(ds["tokens"], ds["tags"])]


# --- column files ------------------------------------------------------------------------------
# wnut17train.conll: token TAB tag; the line between sentences holds a lone TAB (or spaces)
WNUT = ("@paulwalk\tO\nIt\tO\n's\tO\nEmpire\tB-location\nState\tI-location\n\t\n"
        "#photography\tO\nwatching\tO\nthe\tO\nVMA\tB-creative-work\n  \n"
        "#\tO\nWinter\tB-creative-work\n's\tI-creative-work\nBone\tI-creative-work\n\t\n")


def test_wnut17_tab_lines_separate_and_hash_tokens_stay_tokens(tmp_path):
    conll = read_conll(write(tmp_path, "wnut17train.conll", WNUT))
    assert conll.separator == "tab" and conll.comments == 0
    assert [s.tokens for s in conll.sentences] == [["@paulwalk", "It", "'s", "Empire", "State"],
                                                   ["#photography", "watching", "the", "VMA"],
                                                   ["#", "Winter", "'s", "Bone"]]
    assert conll.sentences[2].tags == ["O", "B-creative-work", "I-creative-work", "I-creative-work"]


# esp.train: "token tag", Latin-1; ned.train: "token POS tag" with -DOCSTART- -DOCSTART- O lines
ESP = "Melbourne B-LOC\n( O\nAustralia B-LOC\n) O\n\n- O\nEl O\nAbogado B-PER\nGeneral I-PER\nsubrayó O\n\n"
NED = ("-DOCSTART- -DOCSTART- O\nDe Art O\ntekst N O\nFloralux N B-ORG\n. Punc O\n\nIn Prep O\nWeert N B-LOC\n\n"
       "-DOCSTART- -DOCSTART- O\nKees N B-PER\nvan N I-PER\nDam N I-PER\n\n")


def test_conll2002_spanish_latin1_and_dutch_with_pos_and_docstart(tmp_path):
    esp = read_conll(write(tmp_path, "esp.train", ESP, encoding="latin-1"))
    assert esp.sentences[1].tokens == ["-", "El", "Abogado", "General", "subrayó"]
    ned = read_conll(write(tmp_path, "ned.train", NED, encoding="latin-1"))
    assert (ned.columns, ned.tag_column, ned.documents) == (3, 2, 2)
    assert [s.tokens for s in ned.sentences] == [["De", "tekst", "Floralux", "."], ["In", "Weert"],
                                                 ["Kees", "van", "Dam"]]
    assert ned.sentences[2].tags == ["B-PER", "I-PER", "I-PER"]
    assert read_conll(tmp_path / "ned.train", tag_column=1).sentences[0].tags == ["Art", "N", "N", "Punc"]


# NER-de-train.tsv: "#<TAB>source<TAB>[date]" before each sentence; number, token, outer, nested tag
GERMEVAL = ("#\thttp://de.wikipedia.org/wiki/Manfred_Korfmann\t[2009-10-17]\n"
            "1\tAufgrund\tO\tO\n2\tseiner\tO\tO\n3\tin\tO\tO\n4\tStuttgart\tB-LOC\tO\n5\t„\tO\tO\n"
            "6\tTroia\tB-OTH\tB-LOC\n7\t-\tI-OTH\tO\n8\tTraum\tI-OTH\tO\n9\t“\tO\tO\n\n"
            "#\thttp://de.wikipedia.org/wiki/Gerhard_Sch%C3%B6nbohm\t[2009-11-23]\n"
            "1\tGerhard\tB-PER\tO\n2\tSchönbohm\tI-PER\tO\n3\t#\tO\tO\n\n")


def test_germeval_comment_lines_and_token_number_column(tmp_path):
    path = write(tmp_path, "NER-de-train.tsv", GERMEVAL)
    outer = read_conll(path, tag_column=2)
    assert (outer.token_column, outer.tag_column, outer.columns, outer.comments) == (1, 2, 4, 2)
    assert [s.tokens for s in outer.sentences] == [
        ["Aufgrund", "seiner", "in", "Stuttgart", "„", "Troia", "-", "Traum", "“"], ["Gerhard", "Schönbohm", "#"]]
    assert outer.sentences[0].tags == ["O", "O", "O", "B-LOC", "O", "B-OTH", "I-OTH", "I-OTH", "O"]
    assert [s.line for s in outer.sentences] == [2, 13]
    nested = read_conll(path)  # the last column: the nested tags
    assert nested.sentences[0].tags[5] == "B-LOC" and nested.tag_column == 3
    with pytest.raises(UserError, match=r"NER-de-train.tsv:2: --tag-column 1 is the token column; "
                                        r"expected a column from 2 to 3"):
        read_conll(path, tag_column=1)
    broken = write(tmp_path, "broken.tsv", GERMEVAL.replace("3\tin\tO\tO", "x\tin\tO\tO"))
    with pytest.raises(UserError, match=r"broken.tsv:4: column 0 is 'x'; expected a token number as on line 2"):
        read_conll(broken, tag_column=2)


CONLLU = ("# sent_id = 1\n# text = Vámonos al mar.\n"
          "1-2\tVámonos\t_\t_\t_\t_\t_\t_\t_\t_\n1\tVamos\tir\tVERB\t_\t_\t0\troot\t_\t_\n"
          "2\tnos\tnosotros\tPRON\t_\t_\t1\tobj\t_\t_\n3-4\tal\t_\t_\t_\t_\t_\t_\t_\t_\n"
          "3\ta\ta\tADP\t_\t_\t5\tcase\t_\t_\n4\tel\tel\tDET\t_\t_\t5\tdet\t_\t_\n"
          "5\tmar\tmar\tNOUN\t_\t_\t1\tobl\t_\tSpaceAfter=No\n6\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n"
          "# sent_id = 2\n1\tSí\tsí\tINTJ\t_\t_\t0\troot\t_\t_\n2\t!\t!\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n")


def test_conllu_pos_tags_skip_comments_and_multiword_ranges(tmp_path):
    conll = read_conll(write(tmp_path, "es-ud-train.conllu", CONLLU), tag_column=3)
    assert [s.tokens for s in conll.sentences] == [["Vamos", "nos", "a", "el", "mar", "."], ["Sí", "!"]]
    assert conll.sentences[0].tags == ["VERB", "PRON", "ADP", "DET", "NOUN", "PUNCT"]
    assert conll.comments == 3


def test_unicode_separators_inside_tokens_do_not_split_lines_or_fields(tmp_path):
    # U+2028 and NEL (Latin-1's 0x85) are no line ends; a no-break space is no column separator
    text = "10\u00a0000 O\nEuro B-MISC\nline\u2028sep O\nnel\u0085x O\nthe\u00a0 O\n\nok O\n\u00a0\n"
    conll = read_conll(write(tmp_path, "data.txt", text))
    assert [s.tokens for s in conll.sentences] == [["10\u00a0000", "Euro", "line\u2028sep", "nel\u0085x", "the\u00a0"],
                                                   ["ok"]]
    tab = read_conll(write(tmp_path, "tab.tsv", "New York\tB-LOC\u00a0\n\u00a0\tO\n"))
    assert tab.sentences[0].tokens == ["New York", "\u00a0"] and tab.sentences[0].tags == ["B-LOC", "O"]


def test_token_of_only_zero_width_characters_stays_a_word(tmp_path):
    conll = read_conll(write(tmp_path, "data.txt", "John B-PER\n\u200b O\n\ufeffParis B-LOC\n\ufe0f O\n\n"))
    assert conll.sentences[0].tokens == ["John", "\u200b", "Paris", "\ufe0f"]


# --- tag schemes ---------------------------------------------------------------------------------
def test_bilou_scores_exactly_as_its_bioes_form():
    gold = [["U-PER", "O", "B-LOC", "L-LOC"], ["B-ORG", "I-ORG", "L-ORG"]]
    pred = [["U-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "L-ORG", "O"]]
    as_bioes = lambda s: [t.replace("U-", "S-").replace("L-", "E-") for t in s]  # noqa: E731
    assert detect_scheme(gold) == BILOU and detect_scheme([as_bioes(s) for s in gold]) == BIOES
    for strict in (False, True):
        bilou = score(gold, pred, scheme=BILOU, strict=strict)
        bioes = score([as_bioes(s) for s in gold], [as_bioes(s) for s in pred], scheme=BIOES, strict=strict)
        assert bilou == bioes and "PER_f1" in bilou
    # by hand (conlleval): gold PER, LOC, ORG[0,3); predicted PER, LOC (B-LOC I-LOC), ORG[0,2): 2 of 3
    assert score(gold, pred, scheme=BILOU)["f1"] == pytest.approx(2 / 3)
    assert entities(["B-ORG", "I-ORG", "L-ORG", "U-PER"]) == [("ORG", 0, 3), ("PER", 3, 4)]


def test_schemes_and_label_sets_read_from_files(tmp_path):
    bioes = write(tmp_path, "bioes.txt", "John S-PER\nin O\nNew B-LOC\nYork E-LOC\n\nA B-ORG\nB I-ORG\nC E-ORG\n\n")
    bilou = write(tmp_path, "bilou.txt", "John U-PER\nin O\nNew B-LOC\nYork L-LOC\n\n")
    iob1 = write(tmp_path, "iob1.txt", "John I-PER\nin O\nNew I-LOC\nYork I-LOC\nParis B-LOC\n\n")
    data = load(train_file=str(bioes))
    assert data.info["schemes"] == {"train": BIOES}
    assert data.labels == ["O", "B-LOC", "E-LOC", "B-ORG", "I-ORG", "E-ORG", "S-PER"]
    data = load(train_file=str(bilou))
    assert data.info["schemes"] == {"train": BILOU} and data.labels == ["O", "B-LOC", "L-LOC", "U-PER"]
    data = load(train_file=str(iob1))
    assert data.labels == ["O", "B-LOC", "I-LOC", "B-PER"]
    assert sentences(data)[0] == [("John", "B-PER"), ("in", "O"), ("New", "B-LOC"), ("York", "I-LOC"),
                                  ("Paris", "B-LOC")]


def test_tags_that_are_not_entity_tags_are_said_to_score_by_accuracy(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="electra_tasks"):
        load(train_file=str(write(tmp_path, "typo.txt", "John B-PER\nlives 0\nin O\n\n")))
        load(train_file=str(write(tmp_path, "pos.txt", "John NNP\nlives VBZ\n\n")))
    said = [r.getMessage() for r in caplog.records]
    assert any("typo.txt: tags 0 are neither O nor entity tags (B-/I-/E-/S-TYPE) beside entity tags (B-PER): "
               "no entity precision/recall/F1, token accuracy only" in m for m in said), said
    assert any("pos.txt: the tags (NNP, VBZ) are not entity tags" in m for m in said), said
    assert score([["B-PER", "0"]], [["B-PER", "O"]], scheme=PLAIN) == {"accuracy": 0.5}
    assert score([["B-PER", "O"]], [["B-PER", "O"]], scheme=IOB2)["f1"] == 1.0


# --- tables --------------------------------------------------------------------------------------
def test_jsonl_string_tags_ids_with_names_and_tokens_the_tokenizer_erases(tmp_path):
    rows = [{"tokens": ["John", "\u200b", "lives", "", "in", " ", "Paris"],
             "ner_tags": ["B-PER", "O", "O", "O", "O", "O", "B-LOC"]}]
    path = write(tmp_path, "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert sentences(load(train_file=str(path)))[0] == list(zip(rows[0]["tokens"], rows[0]["ner_tags"]))
    names = "O,B-PER,I-PER,B-LOC,I-LOC"
    ids = write(tmp_path, "ids.jsonl", json.dumps({"tokens": ["Mary", "Smith", "in", "Rome"],
                                                   "ner_tags": [1, 2, 0, 3]}) + "\n")
    assert sentences(load(train_file=str(ids), label_names=names))[0] == \
        [("Mary", "B-PER"), ("Smith", "I-PER"), ("in", "O"), ("Rome", "B-LOC")]
    bad = write(tmp_path, "bad.jsonl", json.dumps(rows[0]) + "\n" +
                json.dumps({"tokens": ["a", "b", "c"], "ner_tags": ["O", "O"]}) + "\n")
    with pytest.raises(UserError) as caught:
        load(train_file=str(bad))
    assert str(caught.value) == f"{bad}:2: 3 tokens but 2 tags; expected one tag per token"


def test_predictions_file_keeps_three_fields_for_empty_and_blank_tokens():
    text = conll_text([["John", "", " ", "\u00a0", "\u200b"]], [["B-PER", "O", "O", "O", "O"]],
                      [["B-PER", "O", "B-PER", "O", "O"]])
    assert text == "John B-PER B-PER\n_ O O\n_ O B-PER\n_ O O\n\u200b O O\n\n"
    assert all(len(line.split()) == 3 for line in text.splitlines() if line)  # conlleval.py splits at whitespace


# --- predict -------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, words", [
    ("John lives in New York\n", ["John", "lives", "in", "New", "York"]),
    ('{"tokens": ["New York", "is", "big"]}\n', ["New York", "is", "big"]),
    ('{"words": ["a", "", "b"]}', ["a", "", "b"]),
    ('{"text": "John  lives"}', ["John", "lives"]),
    ('["New York", "is"]', ["New York", "is"]),
    ("[ Reuters ] said", ["[", "Reuters", "]", "said"]),  # not JSON: a sentence that starts with [
    ("[1, 2] items", ["[1,", "2]", "items"]),
])
def test_predict_lines_whitespace_or_pretokenized(line, words):
    assert predict_words(line, "in.txt:1") == words


@pytest.mark.parametrize("line, message", [
    ('{"tokens": "New York"}',
     'in.txt:1 (field \'tokens\'): expected a non-empty list of token strings, found "New York"'),
    ('{"tokens": []}', "in.txt:1 (field 'tokens'): expected a non-empty list of token strings, found []"),
    ('{"sentence": "x"}',
     'in.txt:1: expected a JSON object with a "tokens" list (or a "text" string), found the keys sentence'),
    ('{"tokens": ["a"', "in.txt:1: broken JSON: Expecting ',' delimiter; expected {\"tokens\":"),
])
def test_predict_bad_pretokenized_line_is_one_clear_line(line, message):
    with pytest.raises(UserError) as caught:
        predict_words(line, "in.txt:1")
    assert str(caught.value).startswith(message)


def test_germeval_train_eval_predict_end_to_end(tmp_path, tiny_model):
    """Tokens come from column 1 and outer tags from column 2 all the way to the conlleval file;
    every word of a long sentence and of a pre-tokenized predict line gets exactly one tag."""
    long = "#\tsrc\t[2010-01-01]\n" + "".join(f"{i}\tjohn\tB-PER\tO\n" if i % 3 == 1 else f"{i}\tthe\tO\tO\n"
                                               for i in range(1, 41)) + "\n"
    train = write(tmp_path, "NER-de-train.tsv", GERMEVAL * 6)
    dev = write(tmp_path, "NER-de-dev.tsv", GERMEVAL + long)
    out = tmp_path / "out"
    result = invoke("train", "tagging", "--model", tiny_model, "--train-file", train, "--validation-file", dev,
                    "--tag-column", "2", "--max-seq-length", "16", "--max-steps", "2", "--output-dir", out)
    assert result.exit_code == 0, result.output[-3000:]
    written = [line.split() for line in (out / "predictions_validation.conll").read_text().splitlines()]
    assert [f[:2] for f in written[:10]] == [["Aufgrund", "O"], ["seiner", "O"], ["in", "O"], ["Stuttgart", "B-LOC"],
                                             ["„", "O"], ["Troia", "B-OTH"], ["-", "I-OTH"], ["Traum", "I-OTH"],
                                             ["“", "O"], []]
    assert sum(1 for f in written if f) == 9 + 3 + 40 and all(len(f) in (0, 3) for f in written)
    config = json.loads((out / "run_config.json").read_text())
    assert config["labels"] == ["O", "B-LOC", "B-OTH", "I-OTH", "B-PER", "I-PER"]
    comments = [(r["file"], r["count"]) for r in config["data"]["repairs"]
                if r["repair"] == "comment lines (# ...) before sentences skipped"]
    assert sorted(comments) == [(str(dev), 3), (str(train), 12)]
    lines = 'Gerhard war in Stuttgart\n{"tokens": ["Troia", "-", "Traum"]}\n' + " ".join(["the"] * 50) + "\n"
    result = invoke("predict", "tagging", "--model", out, "--input", "-", input=lines)
    assert result.exit_code == 0, result.output[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[w for w, _ in r["tagged"]] for r in records] == [["Gerhard", "war", "in", "Stuttgart"],
                                                              ["Troia", "-", "Traum"], ["the"] * 50]
