"""Quick feedback inside a learner's notebook: ``check("rnn_step_by_step", rnn_cell_forward)``.

It calls the function in the learner's own kernel on the grader's probes and reports with the
grader's messages. It is a convenience, not the grade: ``python -m autograder grade`` is.
"""

from __future__ import annotations

import copy
from typing import Callable

from autograder import runtime
from autograder.assignments import get_assignment
from autograder.grade import normalise, probes_for, reference_runner
from autograder.verdict import Attempt, judge


def check(assignment_id: str, function: Callable) -> None:
    """Raise AssertionError naming the likely mistake, or print that every probe passed."""
    assignment = get_assignment(assignment_id)
    spec = assignment.function(function.__name__)
    reference = runtime.load_reference(assignment)
    probes = probes_for(assignment, spec, reference)
    ref = reference_runner(spec, reference)
    namespace = {**getattr(function, "__globals__", {}), spec.name: function}
    attempts = []
    for probe in probes:
        try:
            value = spec.driver(namespace, spec.name, copy.deepcopy(probe.kwargs))
            attempts.append(Attempt(True, normalise(value)))
        except NotImplementedError:
            raise  # an unfinished exercise: stop here, as the notebook expects
        except Exception as exc:  # noqa: BLE001
            attempts.append(Attempt(False, error=f"raised {runtime.describe_exception(exc, 'student')}"))
    messages = judge(spec, probes, [ref(p.kwargs) for p in probes], attempts, ref)
    if messages:
        raise AssertionError(f"{spec.name}:\n  - " + "\n  - ".join(messages))
    print(f"{spec.name}: passed all {len(probes)} check{'s' if len(probes) > 1 else ''}.")
