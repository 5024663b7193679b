"""Every registered assignment: the solution gets full marks, the student version 0 without crashing."""

from __future__ import annotations

import pytest

from autograder.assignments import get_assignment, known_ids
from autograder.grade import grade
from autograder.notebook import definitions, helper_code
from autograder.runtime import REPO, solution_ids, solution_notebook


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


@pytest.mark.parametrize("assignment_id", known_ids())
def test_a_sandbox_gets_its_helpers_code_and_never_the_graded_functions_own(assignment_id):
    """What enters the sandbox of each function: the setup cells, the reference code of the helpers it
    is graded with (and of what those call), never the reference of the function itself or any other."""
    assignment = get_assignment(assignment_id)
    solution_nb = solution_notebook(assignment_id)
    graded = solution_ids(solution_nb, assignment)
    statements = definitions(solution_nb, graded)
    for spec in assignment.functions:
        cells = {s.cell for s in helper_code(statements, spec.uses, graded, exclude=spec.name)}
        helpers = cells - {c for c in cells if c.startswith("setup")}
        assert spec.name not in helpers
        assert set(spec.uses) <= helpers
        for extra in helpers - set(spec.uses):  # only what a helper calls in turn
            assert any(extra in "".join(s.source for s in statements if s.cell == h) for h in spec.uses), extra


def test_helpers_called_by_helpers_come_along():
    """Dinosaurus Island's model is graded with optimize and sample; the reference optimize calls clip."""
    assignment = get_assignment("dinosaurus_island")
    solution_nb = solution_notebook("dinosaurus_island")
    graded = solution_ids(solution_nb, assignment)
    code = helper_code(definitions(solution_nb, graded), ("optimize", "sample"), graded, exclude="model")
    assert {s.cell for s in code if not s.cell.startswith("setup")} == {"optimize", "sample", "clip"}
