"""The Emojify data set: short English sentences, each labelled with one of five emoji.

The sentences were written for this course (``data/emojify/``, described in ``data/README.md``);
the test set was written separately from the training set. This module only reads them and splits
text into GloVe's tokens; the models that use them are the assignment's.
"""

from __future__ import annotations

import csv
import re

import numpy as np

from seqmodels.datafiles import data_path

DATA = data_path("emojify")
# Label -> (emoji, name). The order is the label order of the CSV files.
EMOJI = (("\u2764\ufe0f", "heart"), ("\u26be", "baseball"), ("\U0001f604", "smile"),
         ("\U0001f61e", "disappointed"), ("\U0001f374", "fork and knife"))
N_CLASSES = len(EMOJI)

# GloVe 6B was built from text tokenised the Penn Treebank way: "don't" is "do" + "n't", "it's" is
# "it" + "'s". Splitting the same way finds a vector for those pieces instead of none for the whole.
_TOKEN = re.compile(r"[a-z0-9]+(?=n't)|n't|'[a-z]+|[a-z0-9]+")


def tokenize(sentence: str) -> list[str]:
    """The lowercase GloVe tokens of ``sentence``; punctuation is dropped.

    >>> tokenize("I don't like it's taste!")
    ['i', 'do', "n't", 'like', 'it', "'s", 'taste']
    """
    return _TOKEN.findall(sentence.lower().replace("\u2019", "'"))


def label_to_emoji(label: int) -> str:
    """The emoji character of a label 0..4."""
    return EMOJI[int(label)][0]


def read_split(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(sentences, labels) of ``data/emojify/<name>.csv``: arrays of shape (m,), str and int64."""
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sentences = np.array([row["sentence"] for row in rows], dtype=object)
    labels = np.array([int(row["label"]) for row in rows], dtype=np.int64)
    return sentences, labels


def load_emojify() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, Y_train, X_test, Y_test): sentences as object arrays of str, labels as int64 in 0..4."""
    return (*read_split("train"), *read_split("test"))
