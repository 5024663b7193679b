"""From a corpus of solos to the one-hot training windows of the Jazz model."""

from collections.abc import Sequence

import numpy as np

from seqmodels.music.theory import Note, Progression, progression_length
from seqmodels.music.tokens import N_VALUES, encode


def corpus_sequences(corpus: Sequence[tuple[Progression, Sequence[Note]]]) -> list[list[int]]:
    """Token ids of each solo, padded with rests to the end of its chorus."""
    return [encode(notes, progression, progression_length(progression)) for progression, notes in corpus]


def training_windows(sequences: Sequence[Sequence[int]], T_x: int, stride: int = 1,
                     n_values: int = N_VALUES) -> tuple[np.ndarray, np.ndarray]:
    """Every stretch of ``T_x`` consecutive tokens inside a solo, as inputs and targets.

    Returns ``X`` (m, T_x, n_values) float32 and ``Y`` (m, T_x) int64. ``Y[i, t]`` is token
    y^{<t+1>} of window i; the input is the previous token, x^{<t+1>} = y^{<t>}, and the
    first input x^{<1>} is the zero vector, just as when the model generates from scratch.
    """
    windows = [seq[s:s + T_x] for seq in sequences for s in range(0, len(seq) - T_x + 1, stride)]
    Y = np.array(windows, dtype=np.int64).reshape(len(windows), T_x)
    X = np.zeros((len(windows), T_x, n_values), dtype=np.float32)
    rows, steps = np.meshgrid(np.arange(len(windows)), np.arange(1, T_x), indexing="ij")
    X[rows, steps, Y[:, :-1]] = 1.0
    return X, Y
