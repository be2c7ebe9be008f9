"""The corpora of the LSTM case study: Python's documentation (default) and Penn Treebank files."""

import math

import numpy as np
import pytest

from lrcourse.data import text


# --------------------------------------------------------------------------- stdlib

def test_stdlib_characters_split_90_5_5_in_reading_order():
    corpus = text.stdlib()
    assert corpus.level == "char" and corpus.name == "stdlib"
    n = len(corpus.train) + len(corpus.valid) + len(corpus.test)
    assert n == len(text.stdlib_text()) > 300_000
    assert len(corpus.train) / n == pytest.approx(0.9, abs=0.002)
    assert len(corpus.valid) / n == pytest.approx(0.05, abs=0.002)
    whole = corpus.decode(np.concatenate([corpus.train, corpus.valid, corpus.test]))
    assert whole == text.stdlib_text()
    assert corpus.decode(corpus.train).endswith("\n") and corpus.decode(corpus.valid).endswith("\n")
    assert list(corpus.vocab) == sorted(set(whole)) and 60 < corpus.vocab_size < 200
    assert corpus.train.dtype == np.int64 and not corpus.train.flags.writeable
    assert text.stdlib() is corpus                      # cached


def test_stdlib_white_space_is_tidied():
    tidy = text.stdlib_text()
    assert "  " not in tidy and "\n\n\n" not in tidy and "\t" not in tidy
    assert all(line == line.strip() for line in tidy.splitlines())
    assert 'The "assert" statement' in tidy


def test_stdlib_words():
    corpus = text.stdlib("word")
    assert corpus.level == "word" and text.EOS in corpus.vocab and text.UNK in corpus.vocab
    first = corpus.decode(corpus.train[:4])
    assert first.startswith('The "assert" statement\n')
    assert corpus.unigram_perplexity() > corpus.vocab_size / 100


def test_encode_decode_round_trip_and_unknown_characters():
    corpus = text.stdlib()
    sentence = 'Assert statements are a convenient way to "debug".\n'
    assert corpus.decode(corpus.encode(sentence)) == sentence
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("€")
    words = text.stdlib("word")
    ids = words.encode("the zzzunseenzzz statement")
    assert words.decode(ids) == f"the {text.UNK} statement"


def test_unigram_perplexity_by_hand():
    corpus = text.Corpus("toy", "char", ("a", "b"), np.array([0, 0, 0, 1]), np.array([0, 1]), np.array([1]))
    p_a, p_b = (3 + 1) / 6, (1 + 1) / 6                  # add-one smoothed training frequencies
    assert corpus.unigram_perplexity("valid") == pytest.approx(math.exp(-(math.log(p_a) + math.log(p_b)) / 2))
    assert corpus.unigram_perplexity("test") == pytest.approx(1 / p_b)
    real = text.stdlib()
    assert 1 < real.unigram_perplexity() < real.vocab_size
    with pytest.raises(ValueError, match="Invalid split: 'dev'"):
        corpus.unigram_perplexity("dev")


def test_take_and_repr():
    small = text.stdlib().take(1000, 100, 50)
    assert (len(small.train), len(small.valid), len(small.test)) == (1000, 100, 50)
    assert small.vocab == text.stdlib().vocab
    assert "1,000 / 100 / 50 train / valid / test characters" in " ".join(repr(small).split())
    full = repr(text.stdlib())                     # wrapped to fit a phone, every number kept
    assert max(map(len, full.splitlines())) <= 72 and "vocabulary" in full.splitlines()[-1]


@pytest.mark.parametrize("call, message", [
    (lambda: text.stdlib("bytes"), "Invalid level: 'bytes'"),
    (lambda: text.load("wikitext"), "Invalid data: 'wikitext'"),
    (lambda: text.load(text.stdlib(), level="word"), "Invalid level: 'word'"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_load_by_name():
    assert text.load() is text.stdlib()
    assert text.load("stdlib", "word") is text.stdlib("word")
    small = text.stdlib().take(10, 10, 10)
    assert text.load(small) is small


# --------------------------------------------------------------------------- Penn Treebank

PTB_LINES = {
    "ptb.train.txt": [" the cat sat on the mat ", " a <unk> sat on the N mat "],
    "ptb.valid.txt": [" the dog sat "],
    "ptb.test.txt": [" a cat ", ""],
}


@pytest.fixture
def tiny_ptb(tmp_path, monkeypatch):
    folder = tmp_path / "ptb"
    folder.mkdir()
    for name, lines in PTB_LINES.items():
        (folder / name).write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    return folder


def test_ptb_words(tiny_ptb):
    corpus = text.ptb()
    assert corpus.level == "word" and corpus.name == "ptb"
    assert corpus.vocab == tuple(sorted({"the", "cat", "sat", "on", "mat", "a", "N", "<unk>", "<eos>"}))
    assert corpus.decode(corpus.train) == "the cat sat on the mat\na <unk> sat on the N mat\n"
    assert len(corpus.train) == 6 + 1 + 7 + 1                     # words, then <eos> per line
    assert corpus.decode(corpus.valid) == "the <unk> sat\n"       # 'dog' is not a training word
    assert corpus.decode(corpus.test) == "a cat\n"                # the empty line adds nothing
    assert text.ptb(tiny_ptb).vocab == corpus.vocab


def test_ptb_characters(tiny_ptb):
    corpus = text.ptb(level="char")
    assert corpus.level == "char"
    assert corpus.decode(corpus.train) == "the cat sat on the mat\na <unk> sat on the N mat\n"
    assert corpus.decode(corpus.valid) == "the dog sat\n"
    assert "\n" in corpus.vocab and "d" in corpus.vocab


def test_ptb_is_loaded_once_per_folder_and_level(tiny_ptb):
    first = text.load("ptb")
    assert text.load("ptb") is first
    assert text.load("ptb", "char").level == "char"


def test_ptb_without_the_variable_names_it(monkeypatch):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="LRCOURSE_DATA is not set") as err:
        text.ptb()
    assert all(name in str(err.value) for name in text.PTB_FILES)


def test_ptb_missing_folder_or_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not exist") as err:
        text.ptb()
    assert "ptb.train.txt" in str(err.value) and "LRCOURSE_DATA" in str(err.value)
    (tmp_path / "ptb").mkdir()
    (tmp_path / "ptb" / "ptb.train.txt").write_text(" a b \n")
    with pytest.raises(FileNotFoundError, match="missing in .*: ptb.valid.txt, ptb.test.txt") as err:
        text.ptb()
    assert "LRCOURSE_DATA" in str(err.value)


@pytest.mark.parametrize("content, message", [
    (b"\x80\x81 not utf-8\n", "not UTF-8"),
    (b"PK\x03\x04\x00\x00zip", "NUL bytes"),
    (b"\n \n", "no words"),
])
def test_ptb_damaged_file(tiny_ptb, content, message):
    (tiny_ptb / "ptb.valid.txt").write_bytes(content)
    with pytest.raises(ValueError, match=f"Damaged Penn Treebank file .*ptb.valid.txt: .*{message}") as err:
        text.ptb()
    assert all(name in str(err.value) for name in text.PTB_FILES) and "LRCOURSE_DATA" in str(err.value)
