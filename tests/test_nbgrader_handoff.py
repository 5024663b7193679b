"""The nbgrader hand-off: a temporary nbgrader course, our batch grader writing into its gradebook, and
``nbgrader export`` reading our scores back out."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.runtime import REPO, solution_path

ID = "rnn_step_by_step"
BIN = Path(sys.executable).parent  # nbgrader and the alembic it calls live beside this interpreter


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_batch_scores_reach_nbgrader_export(tmp_path):
    course = tmp_path / "course"
    (course / "source" / ID).mkdir(parents=True)
    shutil.copy(solution_path(ID), course / "source" / ID / f"{ID}.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n")
    for student in ("alice", "bob"):
        nbgrader(course, "db", "student", "add", student)
    nbgrader(course, "generate_assignment", ID)  # puts the assignment and its grade cells in the gradebook
    submitted = {"alice": solution_path(ID), "bob": REPO / "assignments" / ID / f"{ID}.ipynb"}
    for student, notebook in submitted.items():
        (course / "submitted" / student / ID).mkdir(parents=True)
        shutil.copy(notebook, course / "submitted" / student / ID / f"{ID}.ipynb")

    graded = subprocess.run([sys.executable, "-m", "autograder", "batch", str(course / "submitted"), "--assignment",
                             ID, "--out", str(tmp_path / "out"), "--nbgrader-db", str(course / "gradebook.db")],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stderr

    nbgrader(course, "export", "--to", str(tmp_path / "export.csv"))
    rows = {row["student_id"]: row for row in csv.DictReader((tmp_path / "export.csv").open())}
    assert float(rows["alice"]["raw_score"]) == float(rows["alice"]["max_score"]) == 100
    assert float(rows["bob"]["raw_score"]) == 0
