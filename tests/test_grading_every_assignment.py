"""Every registered assignment: the solution gets full marks, the student version 0 without crashing."""

from __future__ import annotations

import pytest

from autograder.assignments import get_assignment, known_ids
from autograder.grade import grade
from autograder.runtime import REPO


@pytest.mark.parametrize("assignment_id", known_ids())
def test_solution_gets_full_marks(assignment_id):
    report = grade(REPO / "solutions" / assignment_id / f"{assignment_id}.ipynb")
    assert [r.name for r in report.results] == [f.name for f in get_assignment(assignment_id).functions]
    assert all(r.max_score > 0 for r in report.results), "every graded function needs points in the solution"
    assert report.score == report.max_score, [r.messages for r in report.results if r.messages]


@pytest.mark.parametrize("assignment_id", known_ids())
def test_student_version_gets_zero_without_crashing(assignment_id):
    report = grade(REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb")
    assert report.score == 0 and report.max_score > 0
    for r in report.results:
        assert r.messages == ["not implemented yet (it raises NotImplementedError)"]
