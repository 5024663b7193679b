"""Deciding whether a graded function is right, and saying what is wrong, from plain data only.

Inputs are the probes, the reference outputs and the student's outputs as they came back
through ``wire`` (arrays, numbers, containers, or ``Opaque`` markers). Nothing here calls
student code, so a student cannot influence a verdict except through the numbers it returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

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
        s, e = np.asarray(student, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if s.shape != e.shape or not np.all(np.isfinite(s) == np.isfinite(e)):
            return False
        finite = np.isfinite(e)
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
        if not np.all(np.isfinite(s.astype(np.float64))):
            return "values", f"{path} contains NaN or inf"
        return "values", f"{path} has the right shape but wrong values"
    return "values", f"{path} is {student!r:.60}; expected {expected!r:.60}"


def judge(spec: GradedFunction, probes: list[Probe], expected: list[Any], attempts: list[Attempt],
          reference: Callable[[dict], Any]) -> list[str]:
    """All problems found, most informative first; an empty list means the function is right."""
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
    undiagnosed: list[tuple[str, str]] = []  # (label, hint)
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
        hint += _time_hint(path, got[first].get(path), exp_leaves[first][path], spec)
        undiagnosed.append((spec.label(path), hint))
    for d in diagnosed:
        add(f"likely mistake: {d}")
    if diagnosed and undiagnosed:  # most of these follow from the named mistake: list them briefly
        add("also wrong: " + ", ".join(name for name, _ in undiagnosed))
    elif len(undiagnosed) == 1:
        add(f"{undiagnosed[0][0]} has the right shape but wrong values{undiagnosed[0][1]}")
    elif undiagnosed:
        add("wrong values in: " + "; ".join(name + hint for name, hint in undiagnosed))
    return messages


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
