"""Quick feedback inside a learner's notebook: ``check("rnn_step_by_step", rnn_cell_forward)``.

It calls the function in the learner's own kernel on the check probes and reports with the grader's
messages. It is a convenience, not the grade: ``python -m autograder grade`` is, on other probes (the check
probes come from another random stream, :data:`autograder.checkpack.CHECK_STREAM`).

What it compares with comes from the assignment's check pack (:mod:`autograder.checkpack`) when there is one,
``check_pack/`` beside the notebook, as in a released assignment; else from the solution notebook, as in the
instructor's checkout; else from the pack the installed course carries, as for a notebook opened alone on
Colab. Both give the same verdicts and messages, but for what a pack leaves to the grader to stay small (see
:mod:`autograder.packbuild`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from autograder import checkpack, remote, replay, runtime
from autograder.assignments import get_assignment
from autograder.grade import normalise, reference_results, reference_runner
from autograder.spec import Assignment, GradedFunction, Mistake, Probe
from autograder.verdict import Attempt, Clues, judge, shared_arrays


def check(assignment_id: str, function: Callable, pack: str | Path | None = None) -> None:
    """Raise AssertionError naming the likely mistake, or print that every probe passed.

    ``pack``: the check pack's folder (default: ``check_pack/`` in the current folder, the notebook's)."""
    assignment = get_assignment(assignment_id)
    spec = assignment.function(function.__name__)
    found = checkpack.find(assignment_id, pack)
    if found is None and not runtime.solution_path(assignment_id).is_file():  # a notebook alone: the wheel's pack
        found = checkpack.installed(assignment_id)
        if found is None:
            raise FileNotFoundError(f"check() needs the check pack of {assignment_id}: put its check_pack folder "
                                    "beside this notebook (it comes with the assignment), or pass its folder as pack=...")
    with checkpack.standing_in(assignment_id, found.constants if found else None):
        messages, own, probes = _judged(assignment, spec, function, found)
        learner_globals = getattr(function, "__globals__", {})
        failing = [u for u in spec.uses if own and not _passes(assignment, learner_globals.get(u), u, found)]
    if failing:
        names = ", ".join(failing)
        one = len(failing) == 1
        messages.append(f"the check pack holds no answers for the calls {spec.name} made to {names} on the "
                        f"{', '.join(own)} input{'s' if len(own) > 1 else ''}, so your own {names} ran there, and "
                        f"{'it does' if one else 'they do'} not pass {'its' if one else 'their'} own check yet: "
                        "fix that first")
    if messages:
        raise AssertionError(f"{spec.name}:\n  - " + "\n  - ".join(messages))
    print(f"{spec.name}: passed all {probes} check{'s' if probes > 1 else ''}.")


def _judged(assignment: Assignment, spec: GradedFunction, function: Callable,
            pack: checkpack.Pack | None) -> tuple[list[str], list[str], int]:
    """(messages, the probes on which the learner's own helpers ran, the number of probes)."""
    basis = _from_pack(pack, spec) if pack else _from_solutions(assignment, spec)
    attempts, own = [], []
    for i, probe in enumerate(basis.probes):
        helpers, replay = basis.helpers(i)
        attempt = None if helpers is None else _attempt(basis.spec, function, probe, helpers, stop_if_unfinished=True)
        if attempt is None or (replay is not None and replay.missed):
            # The pack cannot answer this function's helper calls here: judge it with the learner's own helpers.
            own.append(probe.name)
            attempt = _attempt(basis.spec, function, probe, {}, stop_if_unfinished=False)
        attempts.append(attempt)
    return judge(basis.spec, basis.probes, basis.expected, attempts, basis.reference, basis.clues), own, \
        len(basis.probes)


def _passes(assignment: Assignment, function: Any, name: str, pack: checkpack.Pack | None) -> bool:
    """Whether the learner's ``function`` (their definition of the graded ``name``) passes its own check."""
    if not callable(function):
        return False
    try:
        return not _judged(assignment, assignment.function(name), function, pack)[0]
    except NotImplementedError:
        return False


@dataclass
class _Basis:
    """What one function is judged against: probes, expected results, clues, and the helpers for each probe."""

    spec: GradedFunction
    probes: list[Probe]
    expected: list[Any]
    clues: Clues
    reference: Callable[[dict], Any]
    # probe index -> (the objects that stand for spec.uses, or None where the learner's own must run; the replay
    # that answers them from a pack, or None)
    helpers: Callable[[int], tuple[dict[str, Any] | None, replay.Replay | None]]


def _attempt(spec: GradedFunction, function: Callable, probe: Probe, helpers: dict[str, Any],
             stop_if_unfinished: bool) -> Attempt:
    """The learner's function called through the driver on one probe, with ``helpers`` in place of the learner's
    own graded helpers while it runs (the learner's names are put back afterwards)."""
    learner_globals = getattr(function, "__globals__", {})
    saved = {name: learner_globals[name] for name in helpers if name in learner_globals}
    namespace = {**learner_globals, spec.name: function, **helpers}
    try:
        learner_globals.update(helpers)
        value = spec.driver(namespace, spec.name, copy.deepcopy(probe.kwargs))
        return Attempt(True, normalise(value), shared=tuple(shared_arrays(value, spec.outputs)))
    except NotImplementedError:
        if stop_if_unfinished:
            raise  # an unfinished exercise: stop here, as the notebook expects
        return Attempt(False, error="raised NotImplementedError")
    except Exception as exc:  # noqa: BLE001
        return Attempt(False, error=f"raised {runtime.describe_exception(exc, 'student')}")
    finally:
        for name in helpers:
            learner_globals.pop(name, None)
        learner_globals.update(saved)


# ---------------------------------------------------------------------- from the solutions

@functools.cache
def check_prepared(assignment_id: str, name: str) -> tuple[list[Probe], list[Any], Clues]:
    """The check probes of one function, the reference's results on them and the clues: built once per process
    from the solutions (callers must not modify them)."""
    assignment = get_assignment(assignment_id)
    spec = assignment.function(name)
    reference = runtime.load_reference(assignment)
    index = [f.name for f in assignment.functions].index(name)
    probes = spec.probes(checkpack.check_rng(assignment.seed, index), reference)
    expected, clues = reference_results(assignment, spec, reference, probes)
    return probes, expected, clues


def _from_solutions(assignment: Assignment, spec: GradedFunction) -> _Basis:
    reference = runtime.load_reference(assignment)
    probes, expected, clues = check_prepared(assignment.id, spec.name)
    probes, expected = copy.deepcopy((probes, expected))
    # As in the grader, graded helpers are the reference's while this function is checked, so that an earlier
    # mistake is not reported twice.
    helpers = {u: reference[u] for u in spec.uses}
    return _Basis(spec, probes, expected, clues, reference_runner(spec, reference), lambda i: (dict(helpers), None))


# ---------------------------------------------------------------------- from a check pack

def _from_pack(pack: checkpack.Pack, spec: GradedFunction) -> _Basis:
    stored = pack.function(get_assignment(pack.assignment), spec)
    mistakes = spec.mistakes()
    if len(mistakes) != stored.mistakes:
        raise RuntimeError(f"the check pack of {pack.assignment} is older than its assignment's mistakes: "
                           "regenerate it (python -m autograder.packbuild)")
    where = {p.name: i for i, p in enumerate(stored.probes)}

    def predicted(k: int) -> Callable[[Any], Any]:
        def predict(ctx: Any) -> Any:
            return stored.predictions[where[ctx.probe.name]][k]  # KeyError: this mistake does not apply there
        return predict

    packed = [Mistake(m.output, m.message, predicted(k), m.probe) for k, m in enumerate(mistakes)]

    def properties(probe: Probe, value: Any, expected: Any) -> list[str]:
        link = stored.replay(stored.asked[where[probe.name]])
        asked = {name: remote.Proxy(link, handle) for name, handle in stored.asks.items()}
        with checkpack.standing_in(pack.assignment, {**pack.constants, **asked}):
            try:
                found = spec.properties(probe, value, expected)
            except replay.PackMiss:
                return []  # a test that needs the reference on what the learner returned: only the grader runs it
        return [] if link.missed else found

    def helpers(i: int) -> tuple[dict[str, Any] | None, replay.Replay | None]:
        if not spec.uses:
            return {}, None
        if stored.conversations[i] is None:
            return None, None  # too large to keep: the learner's own helpers run on this probe
        link = stored.replay(stored.conversations[i])
        return {name: remote.Proxy(link, stored.helpers[name]) for name in spec.uses}, link

    judged = dataclasses.replace(spec, mistakes=lambda: packed,
                                 properties=properties if spec.properties is not None else None)
    clues = Clues(reference_shared=stored.shared, variants=stored.variants, flow=stored.flow)
    return _Basis(judged, stored.probes, stored.expected, clues, _no_reference, helpers)


def _no_reference(kwargs: dict) -> Any:
    raise LookupError("a check pack holds no reference to call")  # never called: its predictions are stored
