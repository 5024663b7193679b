"""data/emojify/ is a clean, balanced, varied data set whose test part is not a copy of its training part."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from seqmodels.embeddings import load_glove
from seqmodels.emojify import DATA, N_CLASSES, load_emojify, read_split, tokenize

SPLITS = ("train", "test")
NEGATIONS = {"not", "n't", "never", "no"}
# Emoji and their joiners/selectors live in these code-point ranges; plain English text never does.
EMOJI_CHARS = re.compile("[\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\U0001f000-\U0001faff]")


def normalise(sentence: str) -> str:
    """The sentence lowercased with punctuation dropped: two sentences equal here are the same sentence."""
    return " ".join(tokenize(sentence))


@pytest.fixture(scope="module")
def splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    X_train, Y_train, X_test, Y_test = load_emojify()
    return {"train": (X_train, Y_train), "test": (X_test, Y_test)}


@pytest.mark.parametrize("name", SPLITS)
def test_file_format(name: str) -> None:
    """A model reads these files as (sentence, label) pairs, so every row must be one."""
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["sentence", "label"]
    assert all(len(row) == 2 for row in rows[1:])
    X, Y = read_split(name)
    assert [int(label) for _, label in rows[1:]] == Y.tolist()
    assert set(Y.tolist()) <= set(range(N_CLASSES))
    assert all(s.strip() for s in X), "empty sentence"
    assert not [s for s in X if EMOJI_CHARS.search(s)], "an emoji in a sentence gives the label away"


@pytest.mark.parametrize("name, least", [("train", 300), ("test", 100)])
def test_sizes_and_balance(splits, name: str, least: int) -> None:
    """Enough sentences, and no class so rare or common that accuracy hides how it is handled."""
    _, Y = splits[name]
    assert len(Y) >= least
    shares = np.bincount(Y, minlength=N_CLASSES) / len(Y)
    assert np.all((shares >= 0.15) & (shares <= 0.25)), shares


def test_no_leak_between_or_within_splits(splits) -> None:
    """A test sentence seen in training, or a repeated one, measures memory instead of generalisation."""
    train, test = ([normalise(s) for s in splits[name][0]] for name in SPLITS)
    assert len(set(train)) == len(train) and len(set(test)) == len(test), "duplicates within a split"
    assert not set(train) & set(test)
    train_sets = [set(s.split()) for s in train]
    near = [t for t in test
            if max(len(set(t.split()) & u) / len(set(t.split()) | u) for u in train_sets) >= 0.8]
    assert not near, f"test sentences that reword a training sentence: {near[:5]}"


@pytest.mark.parametrize("name, first_tokens", [("train", 30), ("test", 20)])
def test_variety(splits, name: str, first_tokens: int) -> None:
    """Short and long sentences that do not all start alike, so a model cannot lean on one pattern."""
    tokens = [tokenize(s) for s in splits[name][0]]
    lengths = [len(t) for t in tokens]
    assert min(lengths) <= 3 and max(lengths) >= 12
    assert len({t[0] for t in tokens}) >= first_tokens


@pytest.mark.parametrize("name, least", [("train", 20), ("test", 15)])
def test_negation(splits, name: str, least: int) -> None:
    """Negated sentences are where a sequence model beats an average of word vectors."""
    negated = [s for s in splits[name][0] if NEGATIONS & set(tokenize(s))]
    assert len(negated) >= least


def test_test_words_unseen_in_training_have_glove_neighbours(splits) -> None:
    """Pretrained embeddings should help on test words training never showed, through close neighbours."""
    glove = load_glove()
    train_vocab = sorted({w for s in splits["train"][0] for w in tokenize(s) if w in glove})
    unseen = sorted({w for s in splits["test"][0] for w in tokenize(s) if w in glove} - set(train_vocab))
    A, B = glove.matrix(unseen), glove.matrix(train_vocab)
    A, B = A / np.linalg.norm(A, axis=1, keepdims=True), B / np.linalg.norm(B, axis=1, keepdims=True)
    nearest = (A @ B.T).max(axis=1)
    assert int((nearest >= 0.6).sum()) >= 30


@pytest.mark.parametrize("name", SPLITS)
def test_every_sentence_has_a_glove_token(splits, name: str) -> None:
    """A sentence with no known word has no embedding at all and would be a zero vector."""
    glove = load_glove()
    assert not [s for s in splits[name][0] if not any(w in glove for w in tokenize(s))]


def test_tokenize_docstring_example() -> None:
    """The files were checked with this tokenizer; contractions split the Penn Treebank way, as GloVe's are."""
    assert tokenize("I don't like it's taste!") == ["i", "do", "n't", "like", "it", "'s", "taste"]
