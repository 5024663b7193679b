"""Grading a learner's notebook: one sandboxed process per graded function, verdicts here."""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import notebook, runtime, sandbox, wire
from autograder.assignments import get_assignment, known_ids
from autograder.spec import Assignment, GradedFunction, Namespace, Probe
from autograder.verdict import Attempt, judge


@dataclass
class FunctionResult:
    name: str
    score: float
    max_score: float
    messages: list[str] = field(default_factory=list)


@dataclass
class Report:
    assignment: str
    results: list[FunctionResult]

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def infer_assignment(path: Path, nb: dict) -> str:
    """The assignment id: the file name if it is one, else the one whose grade_ids the notebook has."""
    if path.stem in known_ids():
        return path.stem
    ids = notebook.grade_ids(nb)
    matches = [a for a in known_ids() if {f.name for f in get_assignment(a).functions} <= ids]
    if len(matches) == 1:
        return matches[0]
    raise KeyError(path.stem)


def probes_for(assignment: Assignment, spec: GradedFunction, reference: Namespace) -> list[Probe]:
    """The probes of one function; the same every run (seeded by assignment and function)."""
    index = [f.name for f in assignment.functions].index(spec.name)
    return spec.probes(np.random.default_rng([assignment.seed, index]), reference)


def normalise(value: Any) -> Any:
    """Pass a value through the wire format, so reference and student outputs look alike."""
    schema, arrays = wire.pack(value)
    return wire.unpack(schema, arrays)


def reference_runner(spec: GradedFunction, reference: Namespace):
    def run(kwargs: dict) -> Any:
        return normalise(spec.driver(reference, spec.name, copy.deepcopy(kwargs)))
    return run


def grade(path: Path, assignment_id: str | None = None, workers: int = 2,
          only: set[str] | None = None) -> Report:
    """Grade ``path`` (all functions, or the ``only`` ones).

    Raises NotebookError (unreadable) or KeyError (unknown assignment).
    """
    path = Path(path)
    nb = notebook.read_notebook(path)
    assignment_id = assignment_id or infer_assignment(path, nb)
    assignment = get_assignment(assignment_id)
    reference = runtime.load_reference(assignment)
    points = notebook.points(runtime.solution_notebook(assignment.id))

    def one(spec: GradedFunction) -> FunctionResult:
        probes = probes_for(assignment, spec, reference)
        ref = reference_runner(spec, reference)
        expected = [ref(p.kwargs) for p in probes]
        attempts, notes = _run_sandboxed(path, assignment, spec, probes)
        messages = judge(spec, probes, expected, attempts, ref)
        if messages:
            messages += notes
        max_score = points.get(spec.name, 0.0)
        return FunctionResult(spec.name, 0.0 if messages else max_score, max_score, messages)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, [f for f in assignment.functions if only is None or f.name in only]))
    return Report(assignment.id, results)


def _run_sandboxed(path: Path, assignment: Assignment, spec: GradedFunction,
                   probes: list[Probe]) -> tuple[list[Attempt], list[str]]:
    """Call the student's function on every probe in a sandbox; (attempts, extra notes)."""
    with tempfile.TemporaryDirectory(prefix=f"grade-{spec.name}-") as tmp:
        work = Path(tmp)
        for i, probe in enumerate(probes):
            wire.save(work / f"in_{i}", probe.kwargs)
        (work / "probes.json").write_text(json.dumps([p.name for p in probes]))
        config = {"assignment": assignment.id, "function": spec.name,
                  "notebook": str(path.resolve()), "workdir": str(work)}
        (work / "config.json").write_text(json.dumps(config))
        outcome = sandbox.run([sys.executable, "-m", "autograder._child", str(work / "config.json")],
                              seconds=assignment.seconds_per_function, memory_mb=assignment.memory_mb,
                              workdir=work)
        notes = _load_problems(work)
        attempts: list[Attempt] = []
        for i in range(len(probes)):
            try:
                status = json.loads((work / f"status_{i}.json").read_text())
                value = wire.load(work / f"out_{i}")
            except (OSError, ValueError, KeyError):
                attempts.append(Attempt(False, error=_ended_early(outcome, assignment), process_ended=True))
                continue
            ok = bool(status.get("ok")) if isinstance(status, dict) else False
            error = str(status.get("error", "")) if isinstance(status, dict) else "unreadable status"
            if error.startswith("MemoryError"):
                error = f"MemoryError: it ran out of memory (the limit is {assignment.memory_mb} MB)"
            attempts.append(Attempt(ok, value if ok else None, f"raised {error}"))
        return attempts, notes


def _ended_early(outcome: sandbox.Outcome, assignment: Assignment) -> str:
    if outcome.timed_out or outcome.returncode in (-9, -24):  # SIGKILL from the clock, SIGXCPU
        return (f"did not finish within {assignment.seconds_per_function:g} s "
                "(an infinite loop, or far too much work)")
    if outcome.returncode == 0:
        return "exited its process before returning (do not call sys.exit or os._exit in graded code)"
    return f"crashed its process (exit code {outcome.returncode})"


def _load_problems(work: Path) -> list[str]:
    try:
        problems = json.loads((work / "load.json").read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(problems, list):
        return []
    return [f"while loading the notebook, {p}"[:400] for p in problems[:3]]
