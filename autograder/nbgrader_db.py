"""Hand-off to nbgrader: our scores in an nbgrader gradebook, and the notebooks formgrader shows, in place of
``nbgrader autograde``.

An instructor who already uses nbgrader keeps formgrader (manual grading, feedback) and ``nbgrader
export``, and grades with ``python -m autograder batch ... --nbgrader-db gradebook.db``. For each student:

* the gradebook gets the submission, with the time nbgrader's ``collect`` wrote in ``timestamp.txt``, and each
  graded function's score as the auto-score of its ``test_<function>`` grade cell, through nbgrader's own API.
  A manual score given in formgrader is kept; the cell is then marked for review again, as ``nbgrader
  autograde`` does;
* formgrader's notebook ``autograded/<student>/<assignment>/<assignment>.ipynb`` is written beside the
  gradebook (in the course folder, where nbgrader keeps both by default): the student's cells, the locked cells
  as released (nbgrader's autograde restores them too), and in each ``test_<function>`` cell our score and
  messages as its output. It is built from the checked form the grader reads (:func:`autograder.notebook.
  read_notebook`), so nothing of the submission but its cells' text reaches it: no outputs, attachments or
  metadata of the student's, and nothing is run. A grade cell the student deleted is added at the end, so that
  every score has its place. Formgrader counts a submission as autograded when this folder exists and the
  gradebook's time equals that of ``submitted/``.

The assignment must be in the gradebook, with its grade cells (``nbgrader generate_assignment`` with the
shipped nbgrader_config.py puts them there): :func:`check` says so before anything is graded.

The results come from ``OUT/students/<student>/results.json``; their ``student`` is the batch's id, which is
nbgrader's own student id whenever that is a plain name (letters, digits, ``_ @ + -``, dots inside: see
:func:`autograder.submissions.student_id`); other names are percent-encoded and reach the gradebook so.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from autograder.assignments import get_assignment
from autograder.runtime import REPO

AUTOGRADED = "autograded"  # nbgrader's default CourseDirectory.autograded_directory, beside its default gradebook
TIMESTAMP = "timestamp.txt"  # written by nbgrader's submit, copied by its collect


def release_path(assignment_id: str) -> Path:
    """The student version that ``nbgrader generate_assignment`` wrote (and a test keeps up to date)."""
    return REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb"


def _url(db: Path) -> str:
    return f"sqlite:///{Path(db).resolve()}"


def check(db: Path, assignment_id: str) -> None:
    """ValueError, in one line, unless ``db`` is a gradebook holding the assignment's notebook and a grade cell
    ``test_<function>`` for each graded function."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import DatabaseError

    if not Path(db).is_file():  # nbgrader would make an empty one
        raise ValueError(f"no gradebook at {db}: `nbgrader generate_assignment {assignment_id}`, run in the course "
                         "folder, makes it")
    regenerate = f"run `nbgrader generate_assignment {assignment_id} --force` in the course folder"
    try:
        with Gradebook(_url(db), course_id="") as gradebook:  # "": the course recorded there, none added
            cells = {cell.name for cell in gradebook.find_notebook(assignment_id, assignment_id).grade_cells}
    except MissingEntry:
        raise ValueError(f"{db} does not hold the notebook {assignment_id}.ipynb of assignment {assignment_id}: "
                         f"{regenerate}") from None
    except DatabaseError as exc:
        raise ValueError(f"{db} is not an nbgrader gradebook ({type(exc).__name__})") from None
    missing = [f"test_{f.name}" for f in get_assignment(assignment_id).functions if f"test_{f.name}" not in cells]
    if missing:
        raise ValueError(f"{db} has no grade cell {', '.join(missing)} for {assignment_id}: {regenerate}")


def record(db: Path, assignment_id: str, results: list[dict], notebooks: dict[str, Path | None],
           graded_now: set[str]) -> int:
    """Write the scores of these results (parsed results.json) into the gradebook at ``db``, and the autograded
    notebook beside it of each student in ``graded_now`` or without one, from ``notebooks`` (student id: the graded
    notebook, None if there was none); returns how many results were written. (An autograded notebook is built
    from its result, the submission and the student version, and each of these changes only with a new grade:
    the student version comes from the solution notebook, which is in the grader's fingerprint.)"""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.batch import write_atomically

    release = json.loads(release_path(assignment_id).read_text())
    with Gradebook(_url(db), course_id="") as gradebook:
        for result in results:
            student = result["student"]
            notebook = notebooks.get(student)
            gradebook.update_or_create_student(student)
            try:
                submission = gradebook.find_submission(assignment_id, student)
            except MissingEntry:
                with gradebook.db.no_autoflush:  # nbgrader builds the submission's rows before adding them
                    submission = gradebook.add_submission(assignment_id, student)
            submission.timestamp = submitted_at(notebook)
            for test in result["tests"]:
                grade = gradebook.find_grade(f"test_{test['name']}", assignment_id, assignment_id, student)
                grade.auto_score = test["score"]
                grade.needs_manual_grade = grade.manual_score is not None
            gradebook.db.commit()
            target = Path(db).resolve().parent / AUTOGRADED / student / assignment_id / f"{assignment_id}.ipynb"
            if student in graded_now or not target.exists():  # reading a notebook again costs 10 to 30 ms
                write_atomically(target, json.dumps(autograded(release, _read(notebook), result), indent=1) + "\n")
    return len(results)


def submitted_at(notebook: Path | None) -> datetime | None:
    """The time in the ``timestamp.txt`` beside the notebook, as nbgrader reads it (None if there is none)."""
    from nbgrader.utils import parse_utc

    if notebook is None:
        return None
    try:  # the file is the student's (their submit wrote it): a regular file, a few bytes, or nothing
        fd = os.open(notebook.parent / TIMESTAMP, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            text = f.read(100).decode("ascii")
        return parse_utc(text.strip())
    except (OSError, ValueError, OverflowError):  # ValueError: not ASCII, or not a time
        return None


def _read(notebook: Path | None) -> dict | None:
    from autograder.notebook import NotebookError, read_notebook

    if notebook is None:
        return None
    try:
        return read_notebook(notebook)
    except NotebookError:  # its result says why it was not graded
        return None


def autograded(release: dict, submitted: dict | None, result: dict) -> dict:
    """The notebook formgrader shows for one student (see the module's docstring). ``release`` is the student
    version as generated, ``submitted`` the submission in its checked form (None if it could not be read)."""
    ours = {}
    for cell in release["cells"]:
        ours.setdefault(cell["metadata"].get("nbgrader", {}).get("grade_id"), cell)
    ours.pop(None, None)
    cells, seen = [], set()
    for cell in (submitted or {"cells": []})["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        mine = ours.get(grade_id) if grade_id not in seen else None  # a copied cell is the student's own text
        seen.add(grade_id)
        if mine is None:
            cells.append(_cell(cell["cell_type"], _text(cell), {}))
        elif mine["metadata"]["nbgrader"].get("locked"):
            cells.append(_cell(mine["cell_type"], _source(mine), mine["metadata"]))
        else:
            cells.append(_cell(mine["cell_type"], _text(cell), mine["metadata"]))
    cells += [_cell(cell["cell_type"], _source(cell), cell["metadata"]) for grade_id, cell in ours.items()
              if grade_id not in seen and cell["metadata"]["nbgrader"].get("grade")]
    scores = {f"test_{test['name']}": test for test in result["tests"]}
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
        test = scores.get(cell["metadata"].get("nbgrader", {}).get("grade_id"))
        if test is not None and cell["cell_type"] == "code":
            cell["outputs"] = [_feedback(test)]
    return {"cells": cells, "metadata": release["metadata"], "nbformat": release["nbformat"],
            "nbformat_minor": release["nbformat_minor"]}


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _text(cell: dict) -> str:
    """A submitted cell's text, or why the grader did not read it."""
    return f"(not read by the grader: {cell['unread']})" if "unread" in cell else cell["source"]


def _cell(kind: str, source: str, metadata: dict) -> dict:
    """A cell as nbformat 4 has it; a cell type it does not know becomes raw text."""
    if kind == "code":
        return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [], "source": source}
    return {"cell_type": kind if kind == "markdown" else "raw", "metadata": metadata, "source": source}


def _feedback(test: dict) -> dict:
    """Our score and messages, as the output of a grade cell. The messages were escaped for markdown and HTML
    when they went into results.json, so they show as the text they are."""
    score = f"autograder: {test['score']:g} / {test['max_score']:g}"
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/markdown": f"**{score}**\n\n{test['output']}", "text/plain": score}}
