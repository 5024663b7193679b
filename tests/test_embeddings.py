"""GloVe 6B 50d from the pinned package: shape, vocabulary, lookups, and one read per process."""

from __future__ import annotations

import numpy as np

from seqmodels.embeddings import load_glove


def test_glove_has_400k_words_of_50_dimensions_in_frequency_order():
    glove = load_glove()
    assert len(glove) == 400_000 and glove.vectors.shape == (400_000, 50)
    assert glove.words[:4] == ("the", ",", ".", "of")
    assert glove.index["king"] == glove.words.index("king")
    assert np.array_equal(glove["king"], glove.vectors[glove.index["king"]])


def test_lookups_and_a_smaller_vocabulary():
    glove = load_glove()
    rows = glove.matrix(["man", "woman"])
    assert rows.shape == (2, 50) and np.array_equal(rows[1], glove["woman"])
    small = glove.top(10_000)
    assert len(small) == 10_000 and "king" in small and "durian" not in small and "durian" in glove
    assert np.array_equal(small["king"], glove["king"])


def test_the_vectors_carry_meaning():
    """Not random numbers: the man-woman and king-queen differences point the same way (cosine > 0.5)."""
    glove = load_glove()
    u, v = glove["man"] - glove["woman"], glove["king"] - glove["queen"]
    assert u @ v / np.linalg.norm(u) / np.linalg.norm(v) > 0.5
    w = glove["man"] - glove["apple"]
    assert abs(w @ v / np.linalg.norm(w) / np.linalg.norm(v)) < 0.3


def test_read_once_per_process():
    assert load_glove() is load_glove()
