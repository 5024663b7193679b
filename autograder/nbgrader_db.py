"""Hand-off to nbgrader: our scores written into an nbgrader gradebook, as auto-scores of the grade cells.

An instructor who already uses nbgrader keeps formgrader (manual grading, feedback) and ``nbgrader
export``, and grades with ``python -m autograder batch ... --nbgrader-db gradebook.db`` instead of
``nbgrader autograde``. Each graded function's score goes to its ``test_<function>`` grade cell through
nbgrader's own API, so the database stays as nbgrader expects it. The assignment must already be in the
gradebook (``nbgrader generate_assignment`` puts it there).

The results come from ``OUT/students/<student>/results.json``; their ``student`` is the batch's id, which is
nbgrader's own student id whenever that is a plain name (letters, digits, ``_ @ + -``, dots inside: see
:func:`autograder.submissions.student_id`); other names are percent-encoded and reach the gradebook so.
"""

from __future__ import annotations

from pathlib import Path


def record(db: Path, assignment_id: str, results: list[dict]) -> int:
    """Write the scores of these results (parsed results.json) into the gradebook at ``db``; returns how many."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{Path(db).resolve()}") as gradebook:
        gradebook.find_assignment(assignment_id)  # MissingEntry: the assignment was never generated with this db
        for result in results:
            student = result["student"]
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(assignment_id, student)
            except MissingEntry:
                gradebook.add_submission(assignment_id, student)
            for test in result["tests"]:
                grade = gradebook.find_grade(f"test_{test['name']}", assignment_id, assignment_id, student)
                grade.auto_score = test["score"]
            gradebook.db.commit()
    return len(results)
