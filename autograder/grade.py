"""Grading a learner's notebook: one sandboxed process per graded function, verdicts here."""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from autograder import childpolicy, dataflow, notebook, removal, runtime, sandbox, variants, wire
from autograder.assignments import get_assignment, known_ids
from autograder.spec import Assignment, GradedFunction, Namespace, Probe
from autograder.verdict import Attempt, Clues, judge, leaves, shared_arrays


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


def other_assignment(nb: dict, assignment_id: str) -> str:
    """Why this notebook is another assignment's (empty if it is not): it has none of ``assignment_id``'s
    grading cells and all of another's. A notebook without nbgrader metadata is not one: it is graded."""
    ids = notebook.grade_ids(nb)
    if {f"test_{f.name}" for f in get_assignment(assignment_id).functions} & ids:
        return ""
    for other in known_ids():
        if other != assignment_id and {f"test_{f.name}" for f in get_assignment(other).functions} <= ids:
            return f"this is the {other} notebook, not {assignment_id}"
    return ""


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


VARIANT_SECONDS = 2.0  # how long the search for a one-slip variant may take, per graded function


def reference_results(assignment: Assignment, spec: GradedFunction, reference: Namespace,
                      probes: list[Probe]) -> tuple[list[Any], Clues]:
    """The reference's result on every probe, and what the shared mistake detectors need."""
    raw = [spec.driver(reference, spec.name, copy.deepcopy(p.kwargs)) for p in probes]
    source = runtime.reference_source(assignment.id, spec.name)
    clues = Clues(reference_shared=[{frozenset(pair) for pair in shared_arrays(r, spec.outputs)} for r in raw],
                  variants=_variant_results(spec, reference, probes, source, runtime.public_names(assignment.id)),
                  flow=dataflow.flow_of(source, spec.name, spec.outputs))
    return [normalise(r) for r in raw], clues


def _variant_results(spec: GradedFunction, reference: Namespace, probes: list[Probe], source: str,
                     public: frozenset[str]):
    """(probe index, only=None) -> (message, outputs by path) of each one-slip variant of the reference, lazily;
    with ``only``, of the variants with that message alone, and outputs None for one that raised there.

    Each variant is run once per process and remembered, so a batch pays for the search once."""
    searches: dict[tuple[int, str | None], _Replay] = {}
    lock = threading.Lock()

    def on_probe(i: int, only: str | None = None):
        with lock:
            if (i, only) not in searches:
                searches[i, only] = _Replay(variant_runs(spec, reference, probes[i].kwargs, source, public, only))
            search = searches[i, only]
        for message, outputs in search.read(VARIANT_SECONDS):
            if outputs is not None or only is not None:
                yield message, outputs
    return on_probe


def variant_runs(spec: GradedFunction, reference: Namespace, kwargs: dict, source: str, public: frozenset[str],
                 only: str | None = None) -> Iterator[tuple[str, Any]]:
    """Every candidate one-slip variant's (message, outputs by path, or None where it raised) on ``kwargs``; with
    ``only``, of the variants with that message alone."""
    seen = variants.final_locals(reference[spec.name], lambda: spec.driver(reference, spec.name, copy.deepcopy(kwargs)))
    kinds = {name: variants.kind_of(value) for name, value in seen.items()}
    for variant in variants.variants(source, spec.name, set(public), kinds, spec.labels):
        if only is not None and variant.message != only:
            continue
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                fn = variants.run_variant(variant, spec.name, reference)
                value = normalise(spec.driver({**reference, spec.name: fn}, spec.name, copy.deepcopy(kwargs)))
            outputs = leaves(value, spec.outputs)
        except Exception:  # noqa: BLE001 - most variants fail on shapes: they are simply not this mistake
            # Yielded after the except block: a generator paused inside it would keep the exception, and with it
            # all the variant made (a list it grew until memory ran out), until it is resumed.
            outputs = None
        yield variant.message, outputs


class _Replay:
    """The items of an iterator, computed once and replayed to every later reader. Computing new ones has a
    deadline per reader, so that each submission gets the full search time, whatever the ones before it used."""

    def __init__(self, items: Iterator):
        self._items, self._seen, self._done = items, [], False
        self._lock = threading.Lock()

    def read(self, seconds: float) -> Iterator:
        deadline = time.perf_counter() + seconds
        i = 0
        while True:
            with self._lock:
                if i == len(self._seen):
                    if self._done or time.perf_counter() > deadline:
                        return
                    try:
                        self._seen.append(next(self._items))
                    except StopIteration:
                        self._done = True
                        return
                item = self._seen[i]
            i += 1
            yield item


@dataclass(frozen=True)
class Prepared:
    """What grading one function takes from the reference: the same for every submission."""

    probes: list[Probe]
    expected: list[Any]
    clues: Clues
    inputs: list[dict[str, bytes]]  # each probe's arguments as the files the child reads (see wire.encode)

    def copies(self) -> tuple[list[Probe], list[Any]]:
        """The probes and expected results to judge one submission with: judging must not change the next one's."""
        return copy.deepcopy((self.probes, self.expected))


@functools.cache
def prepared(assignment_id: str, name: str) -> Prepared:
    """Built once per process, so that a batch builds each reference once (callers must not modify it)."""
    assignment = get_assignment(assignment_id)
    spec = assignment.function(name)
    reference = runtime.load_reference(assignment)
    probes = probes_for(assignment, spec, reference)
    expected, clues = reference_results(assignment, spec, reference, probes)
    return Prepared(probes, expected, clues, [wire.encode(p.kwargs) for p in probes])


def prepare(assignment_id: str) -> None:
    """Start the fork server and build every function's reference results now, for the threads of a batch to
    share (the server's imports overlap the building)."""
    sandbox.start_server(runtime.child_modules(assignment_id))
    for spec in get_assignment(assignment_id).functions:
        prepared(assignment_id, spec.name)


class SandboxUnavailable(Exception):
    """Strict grading was asked for, and this machine cannot confine the graded code fully."""


def sandbox_problems(path: Path, protected: list[Path] = ()) -> list[str]:
    """Why the graded code would not be fully confined here (empty when it would be).

    The solutions, the submission's folder and the ``protected`` ones (where results go) must lie
    outside everything the sandbox lets the graded code read.
    """
    level = sandbox.status()
    problems = [] if level.full else [level.describe()]
    return problems + sandbox.exposed([runtime.REPO / "solutions", Path(path).resolve().parent, *protected])


def grade(path: Path, assignment_id: str | None = None, workers: int = 2,
          only: set[str] | None = None, strict: bool = False, protected: list[Path] = (),
          nb: dict | None = None) -> Report:
    """Grade ``path`` (all functions, or the ``only`` ones); ``nb`` is the notebook as
    :func:`notebook.read_notebook` returned it, when the caller has read it already.

    Raises NotebookError (unreadable, too large, or another assignment's), KeyError (unknown
    assignment), or SandboxUnavailable when ``strict`` and the graded code could not be fully confined.
    """
    path = Path(path)
    nb = notebook.read_notebook(path) if nb is None else nb
    assignment_id = assignment_id or infer_assignment(path, nb)
    if assignment_id not in known_ids():
        raise KeyError(assignment_id)
    if problem := other_assignment(nb, assignment_id):
        raise notebook.NotebookError(problem)
    if strict and (problems := sandbox_problems(path, protected)):
        raise SandboxUnavailable("; ".join(problems))
    # Started first, so that its imports overlap the grader's own (the spec, the reference).
    sandbox.start_server(runtime.child_modules(assignment_id))
    assignment = get_assignment(assignment_id)
    reference = runtime.load_reference(assignment)
    solution_nb = runtime.solution_notebook(assignment.id)
    points = notebook.points(solution_nb)
    graded = runtime.solution_ids(solution_nb, assignment)
    # The child gets code, never paths: the student's graded definitions, extracted here.
    student = notebook.definitions(nb, graded)
    solution = list(runtime.solution_statements(assignment.id))
    notebook_only = notebook.names_outside(nb, graded)  # names a graded function may wrongly rely on

    def one(spec: GradedFunction) -> FunctionResult:
        ready = prepared(assignment.id, spec.name)
        probes, expected = ready.copies()
        helpers = notebook.helper_code(solution, spec.uses, graded, exclude=spec.name)
        attempts, notes = _run_sandboxed(assignment, spec, ready.inputs, student, helpers, notebook_only,
                                         _Quota(error_chars))
        messages = judge(spec, probes, expected, attempts, reference_runner(spec, reference), ready.clues)
        if messages:
            messages = [plain_line(m) for m in messages + notes]
        max_score = points.get(spec.name, 0.0)
        return FunctionResult(spec.name, 0.0 if messages else max_score, max_score, messages)

    chosen = [f for f in assignment.functions if only is None or f.name in only]
    error_chars = min(ERROR_CHARS_PER_FUNCTION, ERROR_CHARS_PER_NOTEBOOK // max(len(chosen), 1))
    sandbox.status()  # decided once, before the worker threads start (it may fork)
    # The functions that call reference helpers take longest (a helper process, a round trip per call): they
    # go first, so that the last job to end is a short one and the workers finish together.
    order = sorted(chosen, key=lambda spec: not spec.uses)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = dict(zip([spec.name for spec in order], pool.map(one, order)))
    return Report(assignment.id, bounded([done[spec.name] for spec in chosen]))


MAX_MESSAGE = 500
# Feedback carries text that the learner's code chose: its exceptions' messages and failing lines, the notes
# of a failed load, the type names and strings it returned. Bounded, so that it is no bulk channel out of the
# sandbox (whatever the graded code finds there, it can send back only this much), but large enough for a
# learner to see each error's type and their own failing line.
ERROR_CHARS_PER_FUNCTION = 400  # of the learner's error messages and load notes
ERROR_CHARS_PER_NOTEBOOK = 2_000
MIN_ERROR_CHARS = 60  # below this, an error is not quoted at all
HIDDEN = (f"an exception (not quoted: feedback quotes at most {ERROR_CHARS_PER_FUNCTION} characters of a function's "
          f"error messages, and {ERROR_CHARS_PER_NOTEBOOK:,} of a notebook's)")
MESSAGE_CHARS_PER_FUNCTION = 1_200  # of everything a function's feedback says
MESSAGE_CHARS_PER_NOTEBOOK = 6_000
CUT = "(further messages cut: feedback is limited to {} characters for {})"


class _Quota:
    """The characters of the learner's own error text that one function's feedback may still quote."""

    def __init__(self, chars: int):
        self.left = chars
        self._taken: dict[str, str] = {}  # a text quoted again (the same error on every probe) is paid for once

    def take(self, text: str) -> str:
        if text not in self._taken:
            if self.left < MIN_ERROR_CHARS:
                return HIDDEN
            self._taken[text] = shortened(text, self.left)
            self.left -= len(self._taken[text])
        return self._taken[text]


def shortened(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, keeping its start (an exception's type) and, in an error of the
    form ``... (in f: `line`)``, the learner's own failing line."""
    if len(text) <= limit:
        return text
    start = text.rfind(" (in ", max(len(text) - limit // 2, 0))  # searched from one place only: no backtracking
    tail = text[start:] if start >= 0 and re.fullmatch(r" \(in \w+: `.*`\)", text[start:], re.S) else ""
    return text[:max(limit - len(tail) - 3, 0)] + "..." + tail


def bounded(results: list[FunctionResult]) -> list[FunctionResult]:
    """The results with at most MESSAGE_CHARS_PER_FUNCTION characters of messages each, and
    MESSAGE_CHARS_PER_NOTEBOOK in all (in the order of the functions, so the same notebook gets the same text)."""
    left = MESSAGE_CHARS_PER_NOTEBOOK
    for result in results:
        kept, used = [], 0
        for message in result.messages:
            function_left = MESSAGE_CHARS_PER_FUNCTION - used
            if len(message) > min(function_left, left):
                kept.append(CUT.format(f"{MESSAGE_CHARS_PER_FUNCTION:,}", "a function") if function_left <= left
                            else CUT.format(f"{MESSAGE_CHARS_PER_NOTEBOOK:,}", "a notebook"))
                break
            kept.append(message)
            used += len(message)
            left -= len(message)
        result.messages = kept
    return results


def plain_line(text: str) -> str:
    """One line of printable text: an error message written by student code cannot add table rows,
    move the terminal's cursor or reorder text (newlines, escapes and bidi controls become spaces)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _run_sandboxed(assignment: Assignment, spec: GradedFunction, inputs: list[dict[str, bytes]],
                   student: list[notebook.Statement], helpers: list[notebook.Statement],
                   notebook_only: dict[str, int], quota: _Quota) -> tuple[list[Attempt], list[str]]:
    """Call the student's function on every probe (``inputs``, as files) in a sandbox; (attempts, extra notes).

    The learner's own error text (messages, load notes) is cut to fit ``quota``."""
    # Removed without recursion, however deep a tree the student's code made; what cannot be removed stays.
    with removal.temporary_folder(prefix=f"grade-{spec.name}-") as tmp:
        box = Path(tmp)
        work = box / "work"
        work.mkdir()
        for i, files in enumerate(inputs):
            wire.write(work / f"in_{i}", files)
        (work / "code.json").write_text(json.dumps([asdict(s) for s in student]))
        if spec.uses:  # for the child's helper process, which deletes it before the student's code runs
            (work / "helpers.json").write_text(json.dumps([asdict(s) for s in helpers]))
        (work / "config.json").write_text(json.dumps({"assignment": assignment.id, "function": spec.name,
                                                      "probes": len(inputs)}))
        outcome = sandbox.run(box=box, seconds=assignment.seconds_per_function, memory_mb=assignment.memory_mb,
                              modules=runtime.child_modules(assignment.id))
        if outcome.setup_error:
            return [Attempt(False, error=outcome.setup_error, process_ended=True)] * len(inputs), []
        attempts: list[Attempt] = []
        for i in range(len(inputs)):
            try:
                status = json.loads(wire.read_regular(work / f"status_{i}.json"))
            except Exception:  # noqa: BLE001 - missing, or forged by the student's code: either way no result
                attempts.append(Attempt(False, error=_ended_early(outcome, assignment), process_ended=True))
                continue
            try:
                value = wire.load(work / f"out_{i}")
            except Exception:  # noqa: BLE001 - over the caps, or forged: the call ended, its result is unusable
                attempts.append(Attempt(False, error="returned a result the grader does not read (over "
                                        f"{wire.MAX_ARRAY_BYTES // 2**20} MB of arrays, or malformed)"))
                continue
            ok = bool(status.get("ok")) if isinstance(status, dict) else False
            error = quota.take(str(status.get("error", ""))) if isinstance(status, dict) else "unreadable status"
            if error.startswith("MemoryError"):
                error = f"MemoryError: it ran out of memory (the limit is {assignment.memory_mb} MB)"
            attempts.append(Attempt(ok, value if ok else None, explain_error(f"raised {error}", notebook_only),
                                    shared=_pairs(status.get("shared") if isinstance(status, dict) else None)))
        notes = [quota.take(note) for note in _load_problems(work) if quota.left >= MIN_ERROR_CHARS]
        return attempts, notes


def explain_error(error: str, notebook_only: dict[str, int]) -> str:
    """Name the mistake behind a NameError for a name that the notebook defines outside the graded cells."""
    match = re.match(r"raised NameError: name '(\w+)' is not defined", error)
    if match and match.group(1) in notebook_only:
        name = match.group(1)
        return (f"likely mistake: it uses {name}, which your notebook defines only in cell {notebook_only[name]}, "
                f"outside the graded cells; the grader runs only those, so take {name} from the function's "
                "arguments instead")
    return error


def _pairs(data: Any) -> tuple[tuple[str, str], ...]:
    """The child's list of output paths that share memory, as far as it is well formed."""
    if not isinstance(data, list):
        return ()
    return tuple((p, q) for p, q in (x for x in data[:10_000] if isinstance(x, list) and len(x) == 2)
                 if isinstance(p, str) and isinstance(q, str))


def _ended_early(outcome: sandbox.Outcome, assignment: Assignment) -> str:
    if outcome.limit == "memory":
        return (f"was stopped: its processes together used more than {assignment.memory_mb} MB of memory "
                "(far too much data, or memory kept without bound)")
    if outcome.limit == "processes":
        return f"was stopped: it started more than {childpolicy.MAX_TASKS} processes or threads at once"
    if outcome.limit == "cpu" or outcome.returncode == -24:  # SIGXCPU: RLIMIT_CPU of one process
        return (f"did not finish within {assignment.seconds_per_function:g} s of CPU time "
                "(an infinite loop, or far too much work)")
    if outcome.limit == "wall":
        return (f"did not finish within {childpolicy.wall_seconds(assignment.seconds_per_function):g} s "
                "of waiting (a sleep, or a wait for something that never comes)")
    if outcome.returncode == 0:
        return "exited its process before returning (do not call sys.exit or os._exit in graded code)"
    return f"crashed its process (exit code {outcome.returncode})"


def _load_problems(work: Path) -> list[str]:
    try:
        problems = json.loads(wire.read_regular(work / "load.json"))
    except Exception:  # noqa: BLE001 - missing or forged
        return []
    if not isinstance(problems, list):
        return []
    return [f"while loading the notebook, {p}"[:MAX_MESSAGE] for p in problems[:3]]
