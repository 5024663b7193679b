"""How an assignment describes its graded functions to the grader.

Each assignment module in ``autograder.assignments`` defines ``ASSIGNMENT``: for every graded
function, the probe inputs to call it with and the mistakes worth recognising. The reference
answers are never written here: they come from running the solution notebook's own function on
the same probes, so the solution notebook stays the single source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Namespace = dict[str, Any]


@dataclass(frozen=True)
class Probe:
    """One call of a graded function: a name for messages and its keyword arguments."""

    name: str
    kwargs: dict[str, Any]
    note: str = ""  # what this probe isolates, e.g. "b_a = 0"
    compare: bool = True  # False: judged only by the function's ``properties`` (e.g. random samples)


@dataclass
class Context:
    """What a mistake's prediction may look at, for one probe."""

    probe: Probe
    expected: dict[str, Any]  # the reference outputs, by output path
    student: dict[str, Any]  # the student's outputs, by output path
    reference: Callable[..., dict[str, Any]]  # call the reference on other kwargs -> outputs by path


@dataclass(frozen=True)
class Mistake:
    """A likely bug, recognised when the student's ``output`` equals ``predict(context)``.

    ``{output}`` in the message is replaced by the output's label.
    """

    output: str
    message: str
    predict: Callable[[Context], Any]
    probe: str | None = None  # only test it on this probe


def call(namespace: Namespace, name: str, kwargs: dict[str, Any]) -> Any:
    """The default driver: look the function up and call it with the probe's arguments."""
    return namespace[name](**kwargs)


@dataclass(frozen=True)
class GradedFunction:
    """Everything the grader knows about one graded function."""

    name: str
    outputs: tuple[str, ...]  # names of the returned tuple's items; () if it returns a dict or one value
    probes: Callable[[np.random.Generator, Namespace], list[Probe]]  # (rng, reference namespace)
    mistakes: Callable[[], list[Mistake]] = lambda: []
    uses: tuple[str, ...] = ()  # graded helpers replaced by the reference while grading this one
    driver: Callable[[Namespace, str, dict[str, Any]], Any] = call
    time_axis: tuple[str, ...] = ()  # outputs whose last axis is time, for "wrong from step t" hints
    hints: dict[str, str] = field(default_factory=dict)  # output -> advice shown with a shape problem
    labels: dict[str, str] = field(default_factory=dict)  # output path -> name in messages, e.g. "ft (cache[4])"

    def label(self, path: str) -> str:
        return self.labels.get(path, path)
    rtol: float = 1e-6
    # (probe, student value, reference value) -> problems; for what equality cannot judge
    properties: Callable[[Probe, Any, Any], list[str]] | None = None


@dataclass(frozen=True)
class Assignment:
    """A graded assignment: its functions in notebook order and its sandbox limits."""

    id: str
    functions: tuple[GradedFunction, ...]
    seconds_per_function: float = 20.0
    memory_mb: int = 2048
    seed: int = 20261122

    def function(self, name: str) -> GradedFunction:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)
