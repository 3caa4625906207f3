"""CoNLL column reading, tag-scheme detection and IOB1 -> IOB2 conversion."""

from __future__ import annotations

import pytest
from tests.conftest import shared_data

from electra_tasks.tasks.tagging.conll import read_conll
from electra_tasks.errors import UserError
from electra_tasks.tasks.tagging.metrics import BIOES, IOB1, IOB2, PLAIN, detect_scheme, iob1_to_iob2

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

-DOCSTART- -X- -X- O


Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def write(tmp_path, text, name="data.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_sentences_and_skips_docstart(tmp_path):
    conll = read_conll(write(tmp_path, CONLL))
    assert [s.tokens for s in conll.sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert [s.tags for s in conll.sentences] == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert conll.num_tokens == 5 and conll.documents == 2 and conll.columns == 4
    assert [s.line for s in conll.sentences] == [3, 10]


def test_tag_column_option(tmp_path):
    conll = read_conll(write(tmp_path, CONLL), tag_column=2)
    assert conll.sentences[1].tags == ["B-NP", "I-NP"]
    assert read_conll(write(tmp_path, CONLL), tag_column=-3).sentences[0].tags == ["NNP", "VBZ", "JJ"]


def test_tab_separated_two_columns_keep_spaces_in_tokens(tmp_path):
    conll = read_conll(write(tmp_path, "New York\tB-LOC\nis\tO\n\nhi\tO\n"))
    assert conll.separator == "tab"
    assert [s.tokens for s in conll.sentences] == [["New York", "is"], ["hi"]]


@pytest.mark.parametrize("text, message", [
    ("EU B-ORG\nrejects\n", "data.txt:2: missing tag column 1: found 1 column(s); expected 2 as on line 1"),
    ("EU\nrejects O\n", "data.txt:1: missing tag column"),
    ("EU NNP B-ORG\nrejects VBZ B-VP O\n", "data.txt:2: 4 columns, expected 3 as on line 1"),
    ("   \n\n", "data.txt: the file is empty"),
    ("-DOCSTART- -X- -X- O\n\n", "data.txt: no sentences"),
])
def test_bad_files_name_file_and_line(tmp_path, text, message):
    with pytest.raises(UserError) as caught:
        read_conll(write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_tag_column(tmp_path):
    with pytest.raises(UserError, match="is the token column"):
        read_conll(write(tmp_path, CONLL), tag_column=0)
    with pytest.raises(UserError, match=r"data.txt:3: --tag-column 7 but the line has 4 columns"):
        read_conll(write(tmp_path, CONLL), tag_column=7)


def test_missing_file_and_undecodable(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        read_conll(tmp_path / "nope.txt")
    path = tmp_path / "bin.txt"
    path.write_bytes(b"EU O\n\xff\x00\xfe O\n")  # binary: a Latin-1 file is decoded instead
    with pytest.raises(UserError, match=r"bin.txt:2: undecodable byte"):
        read_conll(path)


@pytest.mark.parametrize("iob1, iob2", [
    (["I-PER", "I-PER", "O"], ["B-PER", "I-PER", "O"]),
    (["O", "I-LOC", "I-LOC", "I-ORG"], ["O", "B-LOC", "I-LOC", "B-ORG"]),
    (["I-PER", "B-PER", "I-PER"], ["B-PER", "B-PER", "I-PER"]),  # B- separates two adjacent PER
    (["I-MISC", "O", "I-MISC"], ["B-MISC", "O", "B-MISC"]),
    (["B-LOC", "I-LOC", "O", "B-PER"], ["B-LOC", "I-LOC", "O", "B-PER"]),  # IOB2 stays as it is
    ([], []),
])
def test_iob1_to_iob2(iob1, iob2):
    assert iob1_to_iob2(iob1) == iob2


def test_detect_scheme():
    assert detect_scheme([["B-PER", "I-PER", "O"], ["B-LOC"]]) == IOB2
    assert detect_scheme([["B-PER", "I-PER", "O"], ["O", "I-LOC"]]) == IOB1
    assert detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]]) == BIOES
    assert detect_scheme([["NNP", "VBZ", "O"]]) == PLAIN


def test_real_iob1_files_convert_to_the_iob2_release():
    original = read_conll(shared_data("conll2003", "original_iob1", "eng.testa"))
    iob2 = read_conll(shared_data("conll2003", "valid.txt"))
    assert detect_scheme([s.tags for s in original.sentences]) == IOB1
    assert detect_scheme([s.tags for s in iob2.sentences]) == IOB2
    assert [s.tokens for s in original.sentences] == [s.tokens for s in iob2.sentences]
    assert [iob1_to_iob2(s.tags) for s in original.sentences] == [s.tags for s in iob2.sentences]
    assert len(iob2.sentences) == 3250 and iob2.num_tokens == 51362
