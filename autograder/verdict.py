"""Deciding whether a graded function is right, and saying what is wrong, from plain data only.

Inputs are the probes, the reference outputs and the student's outputs as they came back
through ``wire`` (arrays, numbers, containers, or ``Opaque`` markers). Nothing here calls
student code, so a student cannot influence a verdict except through the numbers it returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from autograder.dataflow import Flow
from autograder.spec import Context, GradedFunction, Probe
from autograder.wire import Opaque

Outputs = dict[str, Any]  # output path -> leaf value


@dataclass
class Attempt:
    """What happened when the student's function was called on one probe."""

    ok: bool
    value: Any = None
    error: str = ""  # a full phrase: "raised ValueError: ..." or "did not finish within 20 s"
    process_ended: bool = False  # the process died, so the same error holds for every probe
    shared: tuple[tuple[str, str], ...] = ()  # pairs of returned arrays that share memory (output paths)


def leaves(value: Any, names: tuple[str, ...]) -> Outputs:
    """Flatten a returned value into ``{path: leaf}``, naming tuple items after ``names``."""
    out: Outputs = {}

    def walk(v: Any, path: str) -> None:
        if isinstance(v, (tuple, list)) and v:
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")
        elif isinstance(v, dict) and v:
            for k, x in v.items():
                walk(x, f"{path}[{k!r}]" if path else str(k))
        else:
            out[path] = v

    if names and isinstance(value, (tuple, list)) and len(value) == len(names) and len(names) > 1:
        for name, item in zip(names, value):
            walk(item, name)
    elif isinstance(value, dict):
        walk(value, "")
    else:
        walk(value, names[0] if len(names) == 1 else "the return value")
    return out


MAX_SHARED_ARRAYS = 400


def shared_arrays(value: Any, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Pairs of output paths whose arrays share memory (a view of, or the same array as, another).

    Computed where the value was made (in the sandbox for the learner's, in the grader for the
    reference's), since sharing does not survive the trip through ``wire``.
    """
    arrays = [(p, v) for p, v in leaves(value, names).items() if isinstance(v, np.ndarray)][:MAX_SHARED_ARRAYS]
    pairs = []
    for i, (p, a) in enumerate(arrays):
        for q, b in arrays[i + 1:]:
            if np.may_share_memory(a, b):
                try:
                    if np.shares_memory(a, b, max_work=10_000):
                        pairs.append((p, q))
                except np.exceptions.TooHardError:
                    pass  # unknown: say nothing rather than guess
    return pairs


def describe(v: Any) -> str:
    if isinstance(v, Opaque):
        return f"a {v.type_name} object"
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape}"
    if isinstance(v, (tuple, list)):
        return f"a {type(v).__name__} of {len(v)} items"
    if isinstance(v, dict):
        return f"a dict with keys {sorted(map(str, v))}"
    return f"a {type(v).__name__}"


def structure_problem(expected: Any, student: Any, names: tuple[str, ...]) -> str | None:
    """A message if the student's result does not have the reference's top-level form."""
    if isinstance(expected, tuple) and len(names) > 1:
        if not isinstance(student, (tuple, list)) or len(student) != len(expected):
            return f"returned {describe(student)}; expected a tuple ({', '.join(names)})"
    if isinstance(expected, dict):
        if not isinstance(student, dict):
            return f"returned {describe(student)}; expected a dict with keys {', '.join(map(str, expected))}"
        missing = [str(k) for k in expected if k not in student]
        if missing:
            return f"the returned dict lacks the keys {', '.join(missing)}"
    return None


def close(student: Any, expected: Any, rtol: float) -> bool:
    """Numerically equal within ``rtol`` of the expected scale; exact for non-numbers."""
    if isinstance(expected, (np.ndarray, int, float)) and not isinstance(expected, bool):
        if isinstance(student, Opaque) or isinstance(student, (str, type(None), dict, tuple, list)):
            return False
        # The shape first: an output of another shape (however large) is never converted.
        if np.shape(student) != np.shape(expected) or np.asarray(student).dtype.kind not in "biuf":
            return False
        s, e = np.asarray(student, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        finite = np.isfinite(e)
        # inf, -inf and NaN must match exactly: an impossible target's loss is inf, not NaN or -inf
        if not np.all(np.isfinite(s) == finite) or not np.array_equal(s[~finite], e[~finite], equal_nan=True):
            return False
        scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))
        return bool(np.max(np.abs(s[finite] - e[finite]), initial=0.0) <= rtol * scale)
    if isinstance(student, Opaque):
        return False
    return type(student) is type(expected) and student == expected


def leaf_problem(path: str, student: Any, expected: Any, rtol: float) -> tuple[str, str] | None:
    """(kind, message) for one output, or None when it is right. kind is 'form' or 'values'."""
    if close(student, expected, rtol):
        return None
    if isinstance(expected, np.ndarray):
        if isinstance(student, Opaque) or not isinstance(student, (np.ndarray, int, float)):
            return "form", f"{path} is {describe(student)}; expected a numpy array of shape {expected.shape}"
        s = np.asarray(student)
        if s.shape != expected.shape:
            hint = ""
            if s.shape == expected.shape[::-1] and s.ndim == 2:
                hint = " (it looks transposed)"
            elif s.size == expected.size:
                hint = " (right size, wrong layout: check keepdims and reshapes)"
            return "form", f"{path} has shape {s.shape}; expected {expected.shape}{hint}"
        if s.dtype.kind in "biuf" and not np.all(np.isfinite(s.astype(np.float64))):  # the expected size: converted
            return "values", f"{path} contains NaN or inf"
        return "values", f"{path} has the right shape but wrong values"
    return "values", f"{path} is {student!r:.60}; expected {expected!r:.60}"


@dataclass
class Clues:
    """What the shared mistake detectors know besides the numbers; every field is optional."""

    reference_shared: list[set[frozenset[str]]] = field(default_factory=list)  # per probe: output paths that
    # share memory in the reference's own result (legitimately, like a cache holding a_next)
    variants: Callable[..., Iterable[tuple[str, Outputs]]] | None = None  # (probe index, only=message) ->
    # (message, outputs) of each one-slip variant of the reference (see autograder.variants), computed lazily
    flow: Flow | None = None  # the reference function's data flow, to name the first wrong value


def judge(spec: GradedFunction, probes: list[Probe], expected: list[Any], attempts: list[Attempt],
          reference: Callable[[dict], Any], clues: Clues | None = None) -> list[str]:
    """All problems found, most informative first; an empty list means the function is right."""
    clues = clues or Clues()
    messages: list[str] = []
    exp_leaves = [leaves(e, spec.outputs) for e in expected]

    def add(msg: str) -> None:
        if msg not in messages:
            messages.append(msg)

    failing: dict[str, list[int]] = {}  # output path -> probes where it is wrong
    wrong_form: set[str] = set()  # output paths with a wrong type or shape (already reported)
    got: dict[int, Outputs] = {}  # probe index -> the student's outputs by path
    errors: dict[str, list[str]] = {}  # error text -> names of the probes that raised it
    for i, (probe, att) in enumerate(zip(probes, attempts)):
        if not att.ok:
            errors.setdefault(att.error, []).append(probe.name)
            continue
        form = structure_problem(expected[i], att.value, spec.outputs)
        if form:
            add(form)
            continue
        if spec.properties:  # checks that need no reference value, e.g. statistics of samples
            try:
                found = spec.properties(probe, att.value, expected[i])
            except Exception as exc:  # noqa: BLE001 - the value came from a sandbox student code ran in
                found = [f"its results could not be checked ({type(exc).__name__}: {exc})"[:300]]
            for msg in found:
                add(msg)
        if not probe.compare:
            continue
        got[i] = leaves(att.value, spec.outputs)
        for path, want in exp_leaves[i].items():
            problem = leaf_problem(spec.label(path), got[i].get(path, Opaque("missing value")), want, spec.rtol)
            if problem:
                if not failing.get(path) and problem[0] == "form":
                    wrong_form.add(path)  # judged by the first probe on which the output is wrong
                failing.setdefault(path, []).append(i)
                if problem[0] == "form":
                    add(problem[1])
    for error, names in errors.items():
        if error.startswith("raised NotImplementedError"):
            add("not implemented yet (it raises NotImplementedError)")
        elif len(names) == len(probes):
            add(error if len(probes) == 1 or any(a.process_ended for a in attempts) else f"{error} (on every input)")
        else:
            add(f"{error} (on the {', '.join(names)} input{'s' if len(names) > 1 else ''})")
    if not failing:
        return messages

    mistakes = spec.mistakes()
    diagnosed: list[str] = []
    undiagnosed: dict[str, str] = {}  # path -> hint
    for path, bad in failing.items():
        first = bad[0]
        if path in wrong_form:
            hint = spec.hints.get(path.split("[")[0], "")
            if hint:
                add(hint)
            continue  # already reported above
        # A recognised mistake: the student's output equals what that bug would produce.
        diagnosis = _recognise(path, bad, probes, exp_leaves, got, mistakes,
                               lambda kw: leaves(reference(kw), spec.outputs))
        if diagnosis:
            diagnosed.append(diagnosis.replace("{output}", spec.label(path)))
            continue
        good = [p for j, p in enumerate(probes) if j not in bad and p.note and attempts[j].ok]
        hint = f" (right only when {' and when '.join(p.note for p in good)})" if good else ""
        undiagnosed[path] = hint + _time_hint(path, got[first].get(path), exp_leaves[first][path], spec)
    # The shared detectors, most specific first; each names one mistake and takes the outputs it explains.
    # A one-slip variant may also explain an output of the wrong shape (a_prev where xt is needed).
    # Where the assignment's own mistakes already named one, they are not asked: one named cause is enough.
    right = [p for p in exp_leaves[0] if p not in failing]
    named_by_spec = bool(diagnosed)
    for detect in (lambda: None if named_by_spec else _variant(spec, [*undiagnosed, *wrong_form], undiagnosed,
                                                               failing, got, clues.variants),
                   lambda: _aliased(spec, undiagnosed, failing, attempts, clues.reference_shared),
                   lambda: _stays_zero(spec, clues.flow, undiagnosed, failing, got, exp_leaves),
                   lambda: None if diagnosed else _root_cause(spec, clues.flow, undiagnosed, right)):
        found = detect() if undiagnosed or wrong_form else None
        if found:
            diagnosed.append(found[0])
            undiagnosed = {p: h for p, h in undiagnosed.items() if p not in found[1]}
    for d in diagnosed:
        add(d if d.startswith("the first wrong") else f"likely mistake: {d}")
    names = [spec.label(p) for p in undiagnosed]
    if diagnosed and names:  # most of these follow from the named mistake: list them briefly
        add("also wrong: " + _some(names))
    elif len(undiagnosed) == 1:
        (path, hint), = undiagnosed.items()
        add(f"{spec.label(path)} has the right shape but wrong values{hint}")
    elif undiagnosed:
        add("wrong values in: " + "; ".join(spec.label(p) + h for p, h in list(undiagnosed.items())[:4])
            + (f"; and {len(undiagnosed) - 4} more" if len(undiagnosed) > 4 else ""))
    # The named mistake first, the evidence (shapes, hints, other outputs) after it.
    return sorted(messages, key=lambda m: not m.startswith("likely mistake"))


Found = tuple[str, list[str]]  # (message, the output paths it explains)


def _some(names: list[str], most: int = 3) -> str:
    """At most ``most`` names, then how many more."""
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _aliased(spec: GradedFunction, undiagnosed: dict[str, str], failing: dict[str, list[int]],
             attempts: list[Attempt], legit: list[set[frozenset[str]]]) -> Found | None:
    """Wrong outputs that share memory with another output, where the reference's outputs do not."""
    hits: list[tuple[str, str]] = []
    for path in undiagnosed:
        i = failing[path][0]
        allowed = legit[i] if i < len(legit) else set()
        other = next((q if p == path else p for p, q in attempts[i].shared
                      if path in (p, q) and frozenset((p, q)) not in allowed), None)
        if other is not None:
            hits.append((path, other))
    if not hits:
        return None
    (path, other), more = hits[0], len(hits) - 1
    return (f"{spec.label(path)} shares memory with {spec.label(other)}, so a later write to one changes the other"
            + (f" ({more} more wrong output{'s' if more > 1 else ''} share memory the same way)" if more else "")
            + ": store a copy (np.copy) or a new array, not a view or the same array"), [p for p, _ in hits]


def _stays_zero(spec: GradedFunction, flow: Flow | None, undiagnosed: dict[str, str], failing: dict[str, list[int]],
                got: dict[int, Outputs], want: list[Outputs]) -> Found | None:
    """Outputs that are still all zeros, as they were initialised, where the reference's are not.

    Only outputs that the reference builds up in place (a sum over steps, an array filled step by
    step) are meant: for any other output, zeros are just wrong values.
    """
    zeros = []
    for path in undiagnosed:
        if flow is None or flow.variable(path) not in flow.accumulated:
            continue
        i = failing[path][0]
        s, e = got[i].get(path), want[i][path]
        if isinstance(s, np.ndarray) and isinstance(e, np.ndarray) and s.shape == e.shape and s.size \
                and not np.any(s) and np.any(e):
            zeros.append(path)
    if not zeros:
        return None
    names = _some([spec.label(p) for p in zeros])
    return (f"{names} stay{'s' if len(zeros) == 1 else ''} at {'its' if len(zeros) == 1 else 'their'} initial zeros: "
            "nothing is ever stored in or added to " + ("it" if len(zeros) == 1 else "them")), zeros


def _variant(spec: GradedFunction, paths: list[str], undiagnosed: dict[str, str], failing: dict[str, list[int]],
             got: dict[int, Outputs], variants: Callable[..., Iterable[tuple[str, Outputs]]] | None) -> Found | None:
    """The one-slip variant of the reference that reproduces the most wrong ``paths``, on the first probe where
    one fails, and does not contradict the learner's outputs on the other probes. Its message keeps the hint
    (which steps are right) of the first output it explains."""
    if variants is None or not paths:
        return None
    i = min(failing[p][0] for p in paths)
    right = [p for p in got[i] if i not in failing.get(p, ())]
    paths = [p for p in paths if i in failing[p]]
    best: Found | None = None
    for message, outputs in variants(i):
        explained = [p for p in paths if p in outputs and close(got[i].get(p), outputs[p], 1e-6)]
        if not explained or not all(p in outputs and close(got[i][p], outputs[p], 1e-6) for p in right):
            continue  # a slip the learner did not make spoils outputs that they got right
        if not any(np.any(got[i][p]) for p in explained):
            continue  # all zeros match too many slips to be evidence of one
        if not _consistent(message, i, explained, got, failing, variants):
            continue  # it matched one probe by chance: small answers (a few ints) often do
        if best is None or len(explained) > len(best[1]):
            best = (message.replace("{output}", spec.label(explained[0])) + undiagnosed.get(explained[0], ""),
                    explained)
            if len(explained) == len(paths):
                break
    return best


def _consistent(message: str, i: int, explained: list[str], got: dict[int, Outputs], failing: dict[str, list[int]],
                variants: Callable[..., Iterable[tuple[str, Outputs]]]) -> bool:
    """Whether the variant named ``message`` agrees with the learner on every probe besides ``i``: on the outputs
    it explains and on those the learner got right there. The learner's code ran on those probes, so a variant
    that raises there (found is None) is not their mistake; one not run in time is no evidence either way."""
    for j, outputs in got.items():
        if j == i:
            continue
        paths = [p for p in outputs if p in explained or j not in failing.get(p, ())]
        runs = [found for _, found in variants(j, only=message)]
        if runs and not any(found is not None and all(p in found and close(outputs[p], found[p], 1e-6) for p in paths)
                            for found in runs):
            return False
    return True


def _root_cause(spec: GradedFunction, flow: Flow | None, wrong: dict[str, str], right: list[str]) -> Found | None:
    """Name the value that is wrong first in dependency order, when it spoils several outputs.

    ``wrong`` maps each wrong output to its hint (which steps are right), kept for the first one named.
    """
    found = flow.root_cause(list(wrong), right) if flow is not None and len(wrong) > 1 else None
    if found is None:
        return None
    variable, explained = found
    direct = [p for p in explained if flow.directly(p, variable)]
    later = [spec.label(p) for p in explained if p not in direct]
    if not later and not right:
        return None  # every output is wrong, and all come straight from one value: that says nothing new
    first = _some([spec.label(p) for p in direct]) + wrong[direct[0]] if direct else ""
    if variable in spec.labels:
        follows = f"; {_some(later)} follow{'s' if len(later) == 1 else ''} from it" if later else ""
        return f"{spec.label(variable)} is wrong: {first} come{'s' if len(direct) == 1 else ''} straight from it" \
               f"{follows}", explained
    follows = f"; {_some(later)} follow{'s' if len(later) == 1 else ''} from the same value" if later else ""
    return f"the first wrong outputs in dependency order: {first}{follows}", explained


def _recognise(path: str, bad: list[int], probes: list[Probe], exp_leaves: list[Outputs],
               got_by_probe: dict[int, Outputs], mistakes: list, reference: Callable) -> str | None:
    for i in bad:
        ctx = Context(probes[i], exp_leaves[i], got_by_probe[i], reference)
        for m in mistakes:
            if m.output != path or m.probe not in (None, probes[i].name):
                continue
            try:
                predicted = m.predict(ctx)
            except Exception:  # noqa: BLE001 - a prediction that does not apply to this probe
                continue
            if close(got_by_probe[i].get(path), predicted, 1e-6):
                return m.message
    return None


def _time_hint(path: str, got: Any, want: Any, spec: GradedFunction) -> str:
    """For outputs with a time axis (last), say which steps are right, numbered from 1 as in the notes.

    Forward passes that break from some step on feed the wrong state forward; backward passes whose
    last step is right but earlier ones are not lose what is carried back from step t+1.
    """
    if path not in spec.time_axis or not isinstance(got, np.ndarray) or got.shape != want.shape:
        return ""
    T = want.shape[-1]
    right = [close(got[..., t], want[..., t], spec.rtol) for t in range(T)]
    if all(right) or not any(right):
        return ""
    first_wrong = right.index(False)
    if all(right[:first_wrong]) and not any(right[first_wrong:]):
        return f"; steps t=1..{first_wrong} are right, t={first_wrong + 1} is the first wrong one: check what is passed on to the next step"
    last_wrong = T - 1 - right[::-1].index(False)
    if all(right[last_wrong + 1:]) and not any(right[:last_wrong + 1]):
        return f"; step t={last_wrong + 2} onwards is right, earlier steps are wrong: check what is carried back from step t+1"
    return ""
