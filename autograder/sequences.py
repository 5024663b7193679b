"""Answers of varying length as arrays of one fixed length.

A grader compares outputs leaf by leaf. A list that is too short or too long would be a wrong
*form*, which stops the search for the mistake behind it; as a fixed-length array it is a wrong
*value*, which a mistake's prediction can match. Decoders (labellings) and detectors (steps) both
return such lists.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

PAD = -1  # never a class index or a step


def padded(labels: Iterable[int], length: int) -> np.ndarray:
    """``labels`` as int64, followed by PAD up to ``length``; longer than ``length``: all of them."""
    values = [int(v) for v in labels]
    return np.array(values + [PAD] * (length - len(values)), dtype=np.int64)


def at_steps(steps: Iterable[int], length: int) -> np.ndarray:
    """Steps as a 0/1 vector of ``length``, so that a missing or an extra step is a wrong value."""
    marks = np.zeros(length, dtype=np.int64)
    marks[[int(t) for t in steps]] = 1
    return marks
