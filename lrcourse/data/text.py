"""Text for the LSTM case study: Python's own documentation (always there) and the Penn Treebank.

Nothing is downloaded. The default, :func:`stdlib`, is the English text of the
Python reference topics that ship with the standard library
(``pydoc_data.topics``: the pages ``help("assert")``, ``help("for")``, … show;
about 436,000 characters in Python 3.11, white space tidied). It is read
**character by character**: the vocabulary is the ~100 distinct characters of
the text, so the softmax is cheap, no word is ever unknown, and samples from a
model are readable text.

:func:`ptb` reads the Penn Treebank language-modelling files when you have them
in ``$LRCOURSE_DATA/ptb``::

    $LRCOURSE_DATA/ptb/
        ptb.train.txt     887k words in 42k lines (929k tokens with <eos>), rare words already <unk>
        ptb.valid.txt      70k words
        ptb.test.txt       79k words

read **word by word** by default (the usual 10,000-word benchmark; each line
ends with an ``<eos>`` token), or character by character with ``level="char"``.

Both return a :class:`Corpus`: the vocabulary and the three splits as arrays of
token ids. The splits are fixed, so every run and every reader sees the same text.
"""

from __future__ import annotations

import functools
import math
import os
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lrcourse import _checks
from lrcourse.data.images import DATA_ENV

PTB_DIRNAME = "ptb"
PTB_FILES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")
EOS = "<eos>"
UNK = "<unk>"
LEVELS = ("char", "word")
STDLIB_SPLIT = (0.9, 0.05, 0.05)      # train, validation, test: contiguous, in this order


class Corpus(NamedTuple):
    """A tokenized text with a fixed train/validation/test split.

    ``vocab[i]`` is the token with id ``i`` (a character, or a word); ``train``,
    ``valid`` and ``test`` are 1-D ``int64`` arrays of ids, to be read in order.
    ``level`` is ``"char"`` or ``"word"``.
    """

    name: str
    level: str
    vocab: tuple
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (characters, or words split on white space).

        A word that is not in the vocabulary becomes ``<unk>``; a character that is
        not in it raises ``ValueError``.
        """
        index = {token: i for i, token in enumerate(self.vocab)}
        if self.level == "char":
            unknown = sorted(set(text) - set(index))
            if unknown:
                raise ValueError(f"Invalid text: characters {unknown!r} are not in the vocabulary of {self.name}")
            return np.array([index[c] for c in text], dtype=np.int64)
        return np.array([index.get(w, index[UNK]) for w in text.split()], dtype=np.int64)

    def decode(self, ids) -> str:
        """The text of token ids (``<eos>`` becomes a line break at the word level)."""
        tokens = [self.vocab[int(i)] for i in np.asarray(ids).ravel()]
        if self.level == "char":
            return "".join(tokens)
        text, line = [], []
        for token in tokens:
            if token == EOS:
                text.append(" ".join(line) + "\n")
                line = []
            else:
                line.append(token)
        return "".join(text) + " ".join(line)

    def unigram_perplexity(self, split: str = "valid") -> float:
        """Perplexity on ``split`` of the unigram model: each token drawn independently with
        its training frequency (add-one smoothed, so that no token has probability 0).

            p(v) = (count_train(v) + 1) / (N_train + V),   PPL = exp(−(1/N) Σ_t ln p(x_t))

        The baseline a language model must beat: it knows which tokens are common, and
        nothing about context.
        """
        ids = self.split(split)
        counts = np.bincount(self.train, minlength=self.vocab_size) + 1.0
        log_p = np.log(counts / counts.sum())
        return float(math.exp(-log_p[ids].mean()))

    def split(self, name: str) -> np.ndarray:
        """The ids of ``"train"``, ``"valid"`` or ``"test"``."""
        if name not in ("train", "valid", "test"):
            raise ValueError(f"Invalid split: {name!r} (expected 'train', 'valid' or 'test')")
        return getattr(self, name)

    def take(self, n_train: int | None = None, n_valid: int | None = None, n_test: int | None = None) -> "Corpus":
        """The first ``n_*`` tokens of each split (for quick tests); the vocabulary stays the same."""
        return self._replace(name=f"{self.name}[:{n_train},:{n_valid},:{n_test}]", train=self.train[:n_train],
                             valid=self.valid[:n_valid], test=self.test[:n_test])

    def __repr__(self) -> str:
        unit = "characters" if self.level == "char" else "words"
        return textwrap.fill(f"Corpus({self.name!r}: {len(self.train):,} / {len(self.valid):,} / "
                             f"{len(self.test):,} train / valid / test {unit}, vocabulary {self.vocab_size})",
                             width=72, subsequent_indent=" " * 7, break_long_words=False, break_on_hyphens=False)


def _check_level(level) -> str:
    if level not in LEVELS:
        raise ValueError(f"Invalid level: {level!r} (expected 'char' or 'word')")
    return level


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False          # shared by every caller of a cache
    return array


# --------------------------------------------------------------------------- the default: stdlib

def stdlib_text() -> str:
    """The text of ``pydoc_data.topics``, every topic in alphabetical order of its name,
    with its white space tidied: each line stripped of its indentation, runs of spaces
    made one space, runs of blank lines made one blank line.

    The raw pages indent code and pad tables with spaces (18 % of the characters);
    a small character model would spend its capacity counting spaces, and its samples
    would be mostly blank. The text is the documentation of the running Python, so it
    changes a little between Python versions (the book is computed with Python 3.11).
    """
    from pydoc_data.topics import topics

    lines = []
    for name in sorted(topics):
        for line in topics[name].splitlines() + [""]:
            line = re.sub(" +", " ", line.strip())
            if line or (lines and lines[-1]):
                lines.append(line)
    return "\n".join(lines) + "\n"


def stdlib(level: str = "char") -> Corpus:
    """Python's reference documentation as a corpus, split 90 % / 5 % / 5 % in reading order.

    The split points are moved to the next line break, so no line is cut in two.
    ``level="char"`` (the default) tokenizes characters, with the distinct characters
    of the whole text as vocabulary (sorted); ``level="word"`` splits on white space,
    keeps punctuation attached and ends each line with ``<eos>``, with a vocabulary
    from the training part (other words become ``<unk>``). The result is cached
    and read-only.
    """
    return _stdlib(_check_level(level))


@functools.lru_cache(maxsize=None)
def _stdlib(level: str) -> Corpus:
    text = stdlib_text()
    cuts = []
    for fraction in np.cumsum(STDLIB_SPLIT)[:-1]:
        cuts.append(text.index("\n", int(fraction * len(text))) + 1)
    parts = text[:cuts[0]], text[cuts[0]:cuts[1]], text[cuts[1]:]
    if level == "char":
        vocab = tuple(sorted(set(text)))
        index = {c: i for i, c in enumerate(vocab)}
        train, valid, test = (np.array([index[c] for c in part], dtype=np.int64) for part in parts)
        return Corpus("stdlib", "char", vocab, _frozen(train), _frozen(valid), _frozen(test))
    lines = [part.splitlines() for part in parts]
    return _word_corpus("stdlib (words)", *lines)


def _words(lines) -> list:
    """Tokens of lines: the words of each non-empty line, then ``<eos>``."""
    tokens = []
    for line in lines:
        words = line.split()
        if words:
            tokens += words + [EOS]
    return tokens


def _word_corpus(name: str, train_lines, valid_lines, test_lines) -> Corpus:
    train_tokens = _words(train_lines)
    vocab = tuple(sorted(set(train_tokens) | {UNK, EOS}))
    index = {w: i for i, w in enumerate(vocab)}
    unk = index[UNK]

    def ids(tokens):
        return _frozen(np.array([index.get(w, unk) for w in tokens], dtype=np.int64))

    return Corpus(name, "word", vocab, ids(train_tokens), ids(_words(valid_lines)), ids(_words(test_lines)))


# --------------------------------------------------------------------------- Penn Treebank

def _expected_layout(directory: Path) -> str:
    return (f"expected the Penn Treebank files {', '.join(PTB_FILES)} in {directory} "
            f"(set {DATA_ENV} to the folder that holds {PTB_DIRNAME}/; the files are the "
            "language-modelling version of Mikolov et al., one sentence per line, rare words as <unk>)")


def ptb_dir(root=None) -> Path:
    """Where :func:`ptb` looks: ``root`` if given, else ``$LRCOURSE_DATA/ptb``."""
    if root is not None:
        return Path(root)
    base = os.environ.get(DATA_ENV)
    if not base:
        raise FileNotFoundError(f"Penn Treebank not found: the environment variable {DATA_ENV} is not set; "
                                + _expected_layout(Path(f"${DATA_ENV}") / PTB_DIRNAME))
    return Path(base) / PTB_DIRNAME


def read_ptb_file(path) -> list:
    """The lines of one Penn Treebank file (UTF-8 text, one sentence per line).

    Raises ``FileNotFoundError`` when it is missing and ``ValueError`` when it is not
    such a text (not UTF-8, NUL bytes, or no words at all).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Penn Treebank file {path} is missing; " + _expected_layout(path.parent))
    damaged = f"Damaged Penn Treebank file {path}"
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError(f"{damaged}: it holds NUL bytes, so it is not a text file; {_expected_layout(path.parent)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{damaged}: it is not UTF-8 text ({err}); {_expected_layout(path.parent)}") from None
    lines = text.splitlines()
    if not any(line.split() for line in lines):
        raise ValueError(f"{damaged}: it has no words; {_expected_layout(path.parent)}")
    return lines


def ptb(root=None, level: str = "word") -> Corpus:
    """The Penn Treebank (Mikolov's language-modelling version) from its three text files.

    ``root`` is the ``ptb`` folder itself; by default ``$LRCOURSE_DATA/ptb``.
    ``level="word"``: each line's words then ``<eos>``, the vocabulary is the
    training words (10,000 with ``<eos>`` for the real files; a validation or test
    word not among them becomes ``<unk>``). ``level="char"``: the characters of
    each line (leading and trailing spaces removed) then a line break, the
    vocabulary the characters of the three files. A missing folder or file
    raises ``FileNotFoundError`` and a damaged file ``ValueError``, both naming
    the files expected, where, and the environment variable.
    """
    _check_level(level)
    directory = ptb_dir(root)
    _checks.files(directory, PTB_FILES, "Penn Treebank", _expected_layout(directory))
    lines = [read_ptb_file(directory / name) for name in PTB_FILES]
    if level == "word":
        return _word_corpus("ptb", *lines)
    texts = ["".join(line.strip() + "\n" for line in part if line.strip()) for part in lines]
    vocab = tuple(sorted(set("".join(texts))))
    index = {c: i for i, c in enumerate(vocab)}
    train, valid, test = (_frozen(np.array([index[c] for c in t], dtype=np.int64)) for t in texts)
    return Corpus("ptb (characters)", "char", vocab, train, valid, test)


CORPORA = ("stdlib", "ptb")
_PTB_CACHE: dict = {}


def load(data="stdlib", level: str | None = None) -> Corpus:
    """A :class:`Corpus` by name, ``"stdlib"`` (characters by default) or ``"ptb"`` (words
    by default), or ``data`` itself if it is one. The Penn Treebank is read once per
    folder and level, then cached."""
    if isinstance(data, Corpus):
        if level is not None and _check_level(level) != data.level:
            raise ValueError(f"Invalid level: {level!r} (the corpus {data.name!r} is tokenized by {data.level})")
        return data
    name = data.lower() if isinstance(data, str) else None
    if name == "stdlib":
        return stdlib("char" if level is None else level)
    if name == "ptb":
        level = _check_level("word" if level is None else level)
        key = (str(ptb_dir()), level)
        if key not in _PTB_CACHE:
            _PTB_CACHE.clear()
            _PTB_CACHE[key] = ptb(level=level)
        return _PTB_CACHE[key]
    raise ValueError(f"Invalid data: {data!r} (expected one of {', '.join(map(repr, CORPORA))} or a Corpus)")
