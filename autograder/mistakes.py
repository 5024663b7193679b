"""Builders for the mistakes that recur across assignments.

Each returns :class:`~autograder.spec.Mistake` objects whose ``predict`` says what an output
would be *if* the student made that mistake, computed from the reference outputs or from the
reference called on altered inputs (an ablation). No model code is written here.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from autograder.spec import Context, Mistake
from seqmodels.activations import sigmoid, softmax

Kwargs = dict[str, Any]


def altered(kwargs: Kwargs, path: tuple, value: Callable[[Any], Any]) -> Kwargs:
    """A deep copy of ``kwargs`` with the item at ``path`` (keys/indices) replaced by ``value(old)``."""
    new = copy.deepcopy(kwargs)

    def replace(container: Any, keys: tuple) -> Any:
        head, *rest = keys
        items = list(container) if isinstance(container, tuple) else container
        items[head] = value(items[head]) if not rest else replace(items[head], tuple(rest))
        return tuple(items) if isinstance(container, tuple) else items

    return replace(new, path)


def zeroed(kwargs: Kwargs, path: tuple) -> Kwargs:
    return altered(kwargs, path, np.zeros_like)


def changed(**changes: Any) -> Callable[[Context], Kwargs]:
    """The probe's arguments with some of them replaced, for :func:`like_reference`."""
    return lambda ctx: {**ctx.probe.kwargs, **changes}


def like_reference(message: str, kwargs: Callable[[Context], Kwargs], outputs: list[str],
                   probe: str | None = None) -> list[Mistake]:
    """The bug behaves like the reference called on ``kwargs(ctx)`` (an ablation)."""
    return [Mistake(out, message, lambda ctx, out=out: ctx.reference(kwargs(ctx))[out], probe) for out in outputs]


def ignores(term: str, path: tuple, outputs: list[str], probe: str = "random") -> list[Mistake]:
    """``output ignores term``: the output equals the reference's with that input zeroed."""
    return like_reference(f"{{output}} ignores {term}", lambda ctx: zeroed(ctx.probe.kwargs, path), outputs, probe)


def reference_with(message: str, path: tuple, value: Callable[[Any], Any], outputs: list[str],
                   probe: str = "random") -> list[Mistake]:
    """The bug behaves like the reference on inputs where ``path`` is replaced by ``value(old)``."""
    return like_reference(message, lambda ctx: altered(ctx.probe.kwargs, path, value), outputs, probe)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "the sigmoid": sigmoid,
    "ReLU": lambda z: np.maximum(z, 0.0),
    "no activation": lambda z: z,
}
_INVERSES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.arctanh,
    "the sigmoid": lambda y: np.log(y) - np.log1p(-y),
}


def wrong_activation(output: str, correct: str) -> list[Mistake]:
    """``output`` applies another activation to the right pre-activation z.

    z is recovered from the reference output through the inverse of the correct activation.
    """
    return [Mistake(output, f"{{output}} uses {name} where it needs {correct}" if name != "no activation"
                    else f"{{output}} is missing its {correct}",
                    lambda ctx, g=g: g(_INVERSES[correct](ctx.expected[output])))
            for name, g in _ACTIVATIONS.items() if name != correct]


def softmax_mistakes(output: str, logits: Callable[[Context], np.ndarray]) -> list[Mistake]:
    """Softmax over the wrong axis, a sigmoid instead, or no softmax at all."""
    return [
        Mistake(output, f"{output} applies the softmax over axis 1 (the batch); the classes are on axis 0",
                lambda ctx: softmax(logits(ctx), axis=1)),
        Mistake(output, f"{output} uses the sigmoid; it needs a softmax over axis 0",
                lambda ctx: sigmoid(logits(ctx))),
        Mistake(output, f"{output} is missing the softmax", logits),
    ]


def stored_previous_step(output: str, what: str) -> Mistake:
    """Writing the state *before* the step into slot t, instead of the new one."""
    def predict(ctx: Context) -> np.ndarray:
        want = ctx.expected[output]
        shifted = np.zeros_like(want)
        shifted[..., 1:] = want[..., :-1]
        shifted[..., 0] = ctx.probe.kwargs.get("a0", 0.0)
        return shifted
    return Mistake(output, f"{output}[:, :, t] holds the state before step t; store {what} instead", predict)
