"""Activation functions used throughout the course, in numpy.

Softmax runs over axis 0 because the course stores one example per column:
logits have shape (n_y, m).
"""

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^{-z}), elementwise, any shape."""
    # Split by sign so that exp never overflows for large |z|.
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Softmax along ``axis`` (default 0: classes are rows, examples are columns)."""
    shifted = z - np.max(z, axis=axis, keepdims=True)  # subtracting the max keeps exp finite
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
