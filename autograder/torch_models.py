"""Driving a learner's torch model from plain data: weights placed by shape, tensors in and arrays out.

Shared by the torch assignments' drivers, which run in the sandbox. A model is given the probe's
weights by matching the shapes of ``model.parameters()``, never by attribute or ``state_dict``
names, so a learner may name and order the layers as they like.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.remote import beside_reference


@beside_reference  # a reference model lives in the helper process while a learner's function is graded
def load_by_shape(model: torch.nn.Module, weights: list[np.ndarray]) -> bool:
    """Copy ``weights`` into the model's parameters, matching by shape; False if the shapes differ."""
    params = list(model.parameters())
    if sorted(tuple(p.shape) for p in params) != sorted(w.shape for w in weights):
        return False
    unused = list(range(len(weights)))
    with torch.no_grad():
        for p in params:
            i = next(i for i in unused if weights[i].shape == tuple(p.shape))
            unused.remove(i)
            p.copy_(torch.from_numpy(weights[i]))
    return True


def tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array, dtype=np.float32))


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        kinds = f" ({', '.join(type(v).__name__ for v in value)})" if len(value) <= 4 else ""
        return f"a {type(value).__name__} of {len(value)} items{kinds}"
    return f"a {type(value).__name__}"


def tensors(value: Any, count: int, what: str, expected: str) -> list[torch.Tensor]:
    """The ``count`` tensors a method returned, or a TypeError that says what came back instead."""
    if count == 1:
        value = [value]
    if (not isinstance(value, (tuple, list)) or len(value) != count
            or not all(isinstance(v, torch.Tensor) for v in value)):
        raise TypeError(f"{what} returned {_describe(value if count > 1 else value[0])}; expected {expected}")
    return list(value)


def plain(t: torch.Tensor) -> np.ndarray:
    return np.array(t.detach().cpu().numpy(), copy=True)
