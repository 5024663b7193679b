"""Quick feedback inside a learner's notebook: ``check("rnn_step_by_step", rnn_cell_forward)``.

It calls the function in the learner's own kernel on the grader's probes and reports with the
grader's messages. It is a convenience, not the grade: ``python -m autograder grade`` is.
"""

from __future__ import annotations

import copy
from typing import Callable

from autograder import runtime
from autograder.assignments import get_assignment
from autograder.grade import normalise, prepared, reference_runner
from autograder.verdict import Attempt, judge, shared_arrays


def check(assignment_id: str, function: Callable) -> None:
    """Raise AssertionError naming the likely mistake, or print that every probe passed."""
    assignment = get_assignment(assignment_id)
    spec = assignment.function(function.__name__)
    reference = runtime.load_reference(assignment)
    ready = prepared(assignment_id, spec.name)
    probes, expected = ready.copies()
    ref = reference_runner(spec, reference)
    learner_globals = getattr(function, "__globals__", {})
    # As in the grader, graded helpers are the reference's while this function is checked, so an
    # earlier mistake is not reported twice. The learner's own names are put back afterwards.
    saved = {name: learner_globals[name] for name in spec.uses if name in learner_globals}
    namespace = {**learner_globals, spec.name: function, **{u: reference[u] for u in spec.uses}}
    attempts = []
    try:
        learner_globals.update({u: reference[u] for u in spec.uses})
        for probe in probes:
            try:
                value = spec.driver(namespace, spec.name, copy.deepcopy(probe.kwargs))
                attempts.append(Attempt(True, normalise(value), shared=tuple(shared_arrays(value, spec.outputs))))
            except NotImplementedError:
                raise  # an unfinished exercise: stop here, as the notebook expects
            except Exception as exc:  # noqa: BLE001
                attempts.append(Attempt(False, error=f"raised {runtime.describe_exception(exc, 'student')}"))
    finally:
        for name in spec.uses:
            learner_globals.pop(name, None)
        learner_globals.update(saved)
    messages = judge(spec, probes, expected, attempts, ref, ready.clues)
    if messages:
        raise AssertionError(f"{spec.name}:\n  - " + "\n  - ".join(messages))
    print(f"{spec.name}: passed all {len(probes)} check{'s' if len(probes) > 1 else ''}.")
