"""Committed student notebooks are exactly what nbgrader generates, and leak nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.runtime import REPO

ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


def generate(assignment_id: str, root: Path) -> dict:
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions" / assignment_id, root / "solutions" / assignment_id)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(nbgrader), "generate_assignment", assignment_id, "--force",
                             f"--CourseDirectory.root={root}"], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((root / "assignments" / assignment_id / f"{assignment_id}.ipynb").read_text())


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """One course folder for every assignment, as an instructor has: its gradebook is made once (nbgrader runs
    alembic then, for about 2.5 s of CPU)."""
    return tmp_path_factory.mktemp("course")


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_committed_student_version_is_what_nbgrader_generates(course, assignment_id):
    committed = json.loads((REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb").read_text())
    assert generate(assignment_id, course) == committed, (
        f"assignments/{assignment_id} is stale: run `nbgrader generate_assignment {assignment_id} --force`")


def solution_regions(source: str) -> list[str]:
    return re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, flags=re.S) + \
        re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, flags=re.S)


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_no_solution_or_hidden_test_leaks(assignment_id):
    solution = json.loads((REPO / "solutions" / assignment_id / f"{assignment_id}.ipynb").read_text())
    student_text = (REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb").read_text()
    student = json.loads(student_text)
    student_code = "\n".join("".join(c["source"]) for c in student["cells"])
    assert "BEGIN SOLUTION" not in student_text and "BEGIN HIDDEN TESTS" not in student_text
    regions = [r for c in solution["cells"] for r in solution_regions("".join(c["source"]))]
    assert regions, "the solution notebook has no solution regions"
    for region in regions:
        for line in region.splitlines():
            line = line.strip()
            # Short lines like `return x` may legitimately appear elsewhere; long ones are solution text.
            if len(line) > 25 and not line.startswith("#"):
                assert line not in student_code, f"solution line leaked: {line}"
