"""Word-vector vocabularies in probes: plain data on the way to the sandbox, a WordVectors there.

A probe cannot carry a ``WordVectors`` object (only plain data crosses into the sandbox), so it
carries ``{"words": [...], "vectors": (V, n_e) array}`` under the argument name ``vocabulary``, and
the driver hands the graded function ``word_to_vec_map``, the same mapping the notebooks use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqmodels.embeddings import WordVectors

Kwargs = dict[str, Any]


def random_vocabulary(rng: np.random.Generator, size: int, n_e: int) -> dict:
    """``size`` words ("w00", "w01", ...) with random directions and lengths spread over a factor of about 20."""
    vectors = rng.standard_normal((size, n_e)) * np.exp(rng.uniform(-1.5, 1.5, size))[:, None]
    return {"words": [f"w{i:02d}" for i in range(size)], "vectors": vectors}


def word_vectors(vocabulary: dict) -> WordVectors:
    return WordVectors.of(vocabulary["words"], np.asarray(vocabulary["vectors"]))


def vocabulary_driver(namespace: dict, name: str, kwargs: Kwargs) -> Any:
    """Call the function with the probe's vocabulary as ``word_to_vec_map``."""
    kwargs = dict(kwargs)
    kwargs["word_to_vec_map"] = word_vectors(kwargs.pop("vocabulary"))
    return namespace[name](**kwargs)


def vectors_of(kwargs: Kwargs, *words: str) -> list[np.ndarray]:
    """The probe vocabulary's vectors of ``words``, as float64."""
    vocabulary = kwargs["vocabulary"]
    return [np.asarray(vocabulary["vectors"][vocabulary["words"].index(w)], dtype=np.float64) for w in words]
