"""The corpus: files and folders, documents, packing into [CLS] A [SEP] B [SEP], streaming."""

import tracemalloc

import pytest

from electra_tasks.errors import UserError
from electra_tasks.pretraining.corpus import (DOC_END, PackedCorpus, PadCollator, has_text, iter_lines,
                                              resolve_corpus)
from tests.pretraining_toys import WORDS


@pytest.fixture(scope="module")
def tokenizer():
    from electra_tasks.tiny import make_tokenizer

    return make_tokenizer(words=WORDS + ["the", "end", "."])


def test_folders_give_their_text_files_and_missing_paths_are_refused(tmp_path):
    (tmp_path / "a.txt").write_text("one two\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("three\n", encoding="utf-8")
    (tmp_path / "README").write_text("not corpus\n", encoding="utf-8")
    names = [s.path.name for s in resolve_corpus([str(tmp_path)])]
    assert names == ["a.txt", "b.txt"]
    with pytest.raises(UserError, match="nope.txt: no such file or folder"):
        resolve_corpus([str(tmp_path / "nope.txt")])
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(UserError, match="bin.txt: looks like a binary file"):
        resolve_corpus([str(tmp_path / "bin.txt")])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n\n", encoding="utf-8")
    assert not has_text(resolve_corpus([str(empty)]))


def test_blank_lines_and_file_ends_close_documents(tmp_path):
    (tmp_path / "a.txt").write_text("one two\nthree\n\n\nfour\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("five\n", encoding="utf-8")
    lines = list(iter_lines(resolve_corpus([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")])))
    assert lines == ["one two", "three", DOC_END, "four", DOC_END, "five", DOC_END]


def test_packed_sequences_have_cls_segments_sep_and_never_exceed_the_length(tmp_path, tokenizer):
    text = "\n\n".join("\n".join(" ".join(WORDS[(d + s) % 20: (d + s) % 20 + 1] * 7) for s in range(5))
                       for d in range(40))
    (tmp_path / "c.txt").write_text(text + "\n" + " ".join(WORDS * 15) + "\n", encoding="utf-8")
    corpus = PackedCorpus(resolve_corpus([str(tmp_path / "c.txt")]), tokenizer, 32, seed=1)
    examples = list(corpus.examples())
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    two_segments = 0
    for example in examples:
        ids, types = example["input_ids"].tolist(), example["token_type_ids"].tolist()
        assert 3 <= len(ids) <= 32 and len(ids) == len(types)
        assert ids[0] == cls and ids[-1] == sep and ids.count(sep) in (1, 2) and cls not in ids[1:]
        first_sep = ids.index(sep)
        assert set(types[: first_sep + 1]) == {0} and set(types[first_sep + 1:]) <= {1}
        two_segments += ids.count(sep) == 2
    assert 0 < two_segments < len(examples)  # pairs of segments and single segments, as in ELECTRA
    # no text is lost: a line that overflows a sequence (even a 300-token one) continues in the next
    content = sum(len(e["input_ids"]) - e["input_ids"].tolist().count(sep) - 1 for e in examples)
    assert content == 40 * 5 * 7 + 300
    shuffled = list(corpus)
    assert len(shuffled) == len(examples)
    batch = PadCollator(tokenizer.pad_token_id)(shuffled[:8])
    lengths = batch["attention_mask"].sum(dim=1)
    assert batch["input_ids"].shape[1] == int(lengths.max())
    assert (batch["input_ids"][batch["attention_mask"] == 0] == tokenizer.pad_token_id).all()


def _peak_bytes(path, tokenizer) -> int:
    corpus = PackedCorpus(resolve_corpus([str(path)]), tokenizer, 32, shuffle_buffer=50)
    tracemalloc.start()
    count = sum(1 for _ in corpus)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count > 50
    return peak


def test_memory_does_not_grow_with_the_corpus(tmp_path, tokenizer):
    line = " ".join(WORDS) + "\n"
    (tmp_path / "small.txt").write_text(line * 300, encoding="utf-8")
    (tmp_path / "large.txt").write_text(line * 3000, encoding="utf-8")
    small, large = _peak_bytes(tmp_path / "small.txt", tokenizer), _peak_bytes(tmp_path / "large.txt", tokenizer)
    assert large < 1.5 * small, (small, large)  # 10x the text, about the same peak


def _as_lists(examples):
    return [(e["input_ids"].tolist(), e["token_type_ids"].tolist()) for e in examples]


def test_a_saved_position_continues_the_stream_exactly(tmp_path, tokenizer, monkeypatch):
    """Cut the endless stream anywhere (mid-file, mid-shuffle, while the buffer drains, passes later),
    save, resume in a new corpus object: the rest is the uninterrupted stream, example for example."""
    import itertools

    from electra_tasks.pretraining import corpus as corpus_module

    monkeypatch.setattr(corpus_module, "_TOKENIZE_BATCH", 3)  # positions are remembered every few lines
    for index, (documents, length) in enumerate([(6, 9), (3, 25), (9, 4)]):
        text = "\n\n".join("\n".join(" ".join(WORDS[(d * 3 + s + index) % 20:][:length]) for s in range(d % 3 + 1))
                           for d in range(documents))
        (tmp_path / f"part{index}.txt").write_text(text + "\n", encoding="utf-8")
    sources = resolve_corpus([str(tmp_path)])

    def corpus(**extra):
        return PackedCorpus(sources, tokenizer, 16, seed=4, shuffle_buffer=5, passes=None, **extra)

    one_pass = len(list(PackedCorpus(sources, tokenizer, 16, seed=4, shuffle_buffer=5)))
    total = 3 * one_pass + 7
    reference = _as_lists(itertools.islice(corpus(), total + 10))
    assert reference[:one_pass] != reference[one_pass:2 * one_pass]  # each pass has its own order
    for cut in range(total):
        interrupted = corpus(resumable=True)
        stream = iter(interrupted)
        taken = list(itertools.islice(stream, cut + 4))  # a data loader reads ahead of what was trained on
        assert _as_lists(taken) == reference[:cut + 4]
        interrupted.forget_before(cut)
        interrupted.save_position(tmp_path / "checkpoint", cut)
        resumed = corpus(resumable=True)
        resumed.resume_at(tmp_path / "checkpoint")
        assert _as_lists(itertools.islice(resumed, 10)) == reference[cut:cut + 10], cut
    with pytest.raises(UserError, match="another seed"):
        PackedCorpus(sources, tokenizer, 16, seed=5, shuffle_buffer=5, passes=None).resume_at(tmp_path / "checkpoint")


def test_real_gutenberg_folder_with_a_latin1_book_is_read_right(caplog):
    from tests.conftest import shared_data

    folder = shared_data("corpus", "gutenberg-nltk")
    sources = {s.path.name: s for s in resolve_corpus([str(folder)])}
    assert sources["shakespeare-caesar.txt"].encoding in ("cp1252", "iso8859-1", "iso8859-15")  # no option needed
    assert sources["austen-emma.txt"].encoding == "utf-8"
    lines = list(iter_lines([sources["shakespeare-caesar.txt"]]))
    assert any("Cæsar" in line for line in lines if line) and not any("\ufffd" in line for line in lines if line)
    assert "shakespeare-caesar.txt: not UTF-8; decoded as" in caplog.text


def test_compressed_globbed_and_table_corpora_read_as_their_plain_twin(tmp_path):
    import gzip
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    documents = ["one two\nthree", "four five"]
    (tmp_path / "plain.txt").write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    (tmp_path / "plain.txt.gz").write_bytes(gzip.compress((tmp_path / "plain.txt").read_bytes()))
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({"body": d}) + "\n" for d in documents) + "\n",
                                         encoding="utf-8")
    pq.write_table(pa.table({"body": documents, "id": [1, 2]}), tmp_path / "docs.parquet")
    (tmp_path / "latin.txt").write_bytes("Cæsar\n".encode("latin-1"))
    expected = list(iter_lines(resolve_corpus([str(tmp_path / "plain.txt")])))
    assert expected == ["one two", "three", None, "four five", None]
    assert list(iter_lines(resolve_corpus([str(tmp_path / "plain.txt.gz")]))) == expected
    for table in ("docs.jsonl", "docs.parquet"):
        assert list(iter_lines(resolve_corpus([str(tmp_path / table)]), text_column="body")) == expected, table
    globbed = [s.path.name for s in resolve_corpus([str(tmp_path / "plain*")])]
    assert globbed == ["plain.txt", "plain.txt.gz"]
    forced = resolve_corpus([str(tmp_path / "latin.txt")], encoding="latin-1")
    assert list(iter_lines(forced)) == ["Cæsar", None]
    with pytest.raises(UserError, match="the pattern matches no file"):
        resolve_corpus([str(tmp_path / "nothing*.txt")])
    with pytest.raises(UserError, match="docs.jsonl:1: expected a JSON object with a text column 'text'"):
        list(iter_lines(resolve_corpus([str(tmp_path / "docs.jsonl")])))
