"""Turning notebook statements into a namespace, and loading an assignment's reference.

Used in three places: the sandboxed child (student code), the grader process (reference code)
and the in-notebook ``check`` (the learner's own kernel).
"""

from __future__ import annotations

import functools
import linecache
import traceback
import types
from pathlib import Path

from autograder import notebook
from autograder.spec import Assignment, Namespace

REPO = Path(__file__).resolve().parents[1]


def solution_path(assignment_id: str) -> Path:
    return REPO / "solutions" / assignment_id / f"{assignment_id}.ipynb"


@functools.cache
def solution_notebook(assignment_id: str) -> dict:
    """The parsed solution notebook, read once per process (callers must not modify it). It is the course's own,
    so it is read here, without the reader process that a submission goes through."""
    return notebook.read_checked(str(solution_path(assignment_id)))


def solution_ids(solution_nb: dict, assignment: Assignment) -> set[str]:
    """The grade_ids of the solution cells: one per graded function."""
    return {fn.name for fn in assignment.functions} & notebook.grade_ids(solution_nb)


def build_namespace(statements: list[notebook.Statement], label: str) -> tuple[Namespace, list[str]]:
    """Execute definitions one at a time; a failing one is reported, not fatal.

    ``label`` becomes the code's filename, so tracebacks can tell student frames from others.
    Catching BaseException matters: ``sys.exit()`` inside a definition's default value or
    decorator raises SystemExit, which must not end grading.
    """
    module = types.ModuleType(label)
    namespace = module.__dict__
    problems: list[str] = []
    for i, stmt in enumerate(statements):
        filename = f"<{label} cell {stmt.cell} #{i}>"
        linecache.cache[filename] = (len(stmt.source), None, stmt.source.splitlines(True), filename)
        try:
            exec(compile(stmt.source, filename, "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            problems.append(f"cell {stmt.cell}: {describe_exception(exc, label)}")
    return namespace, problems


def describe_exception(exc: BaseException, label: str) -> str:
    """``Type: message`` plus the innermost line of the student's own code, never the reference's."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > 300:
        text = text[:300] + "..."
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(f"<{label} ")]
    if frames:
        last = frames[-1]
        text += f" (in {last.name}: `{(last.line or '').strip()}`)"
    return text


# While check() judges from a check pack (autograder.checkpack), what stands in for an assignment's reference:
# the public constants the checks read and the pack's recorded answers of reference objects, never their code.
STAND_INS: dict[str, Namespace] = {}


def load_reference(assignment: Assignment) -> Namespace:
    """The solution notebook's definitions, built once per process and shared (callers must not modify it)."""
    if assignment.id in STAND_INS:
        return STAND_INS[assignment.id]
    return _reference(assignment.id)


@functools.cache
def solution_statements(assignment_id: str) -> tuple[notebook.Statement, ...]:
    """The solution notebook's setup and solution definitions, extracted once per process."""
    from autograder.assignments import get_assignment

    nb = solution_notebook(assignment_id)
    return tuple(notebook.definitions(nb, solution_ids(nb, get_assignment(assignment_id))))


@functools.cache
def _reference(assignment_id: str) -> Namespace:
    namespace, problems = build_namespace(list(solution_statements(assignment_id)), "reference")
    if problems:
        raise RuntimeError(f"the solution notebook of {assignment_id} does not load: {problems}")
    return namespace


@functools.cache
def child_modules(assignment_id: str) -> tuple[str, ...]:
    """What a graded function's child imports: its own code, the assignment's spec, and the modules the notebook
    imports (public: the student version imports the same), for the fork server to import once."""
    imported = notebook.imported_modules(solution_notebook(assignment_id))
    return tuple(dict.fromkeys(["autograder._child", f"autograder.assignments.{assignment_id}", *imported]))


@functools.cache
def reference_source(assignment_id: str, name: str) -> str:
    """The source of the solution cell that defines ``name`` (its definitions only), for grader-side analysis."""
    return "\n\n".join(s.source for s in solution_statements(assignment_id) if s.cell == name)


@functools.cache
def public_names(assignment_id: str) -> frozenset[str]:
    """Every identifier the student version of the assignment shows."""
    return frozenset(notebook.public_names(solution_notebook(assignment_id)))
