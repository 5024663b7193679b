"""nbgrader's own workflow, end to end, in a temporary course that uses the shipped nbgrader_config.py:
``generate_assignment``, ``release_assignment``, two students' ``fetch_assignment`` and ``submit`` through an
exchange in a temporary folder, ``collect``, our ``batch --nbgrader-db`` in place of ``autograde``, and
``nbgrader export``; then what formgrader shows for manual review.

nbgrader runs as an instructor runs it, ``.venv/bin/nbgrader`` with no venv activated: the venv's bin/ is not
on PATH (nbgrader's call of ``alembic`` must still work). The exchange root and the course id come from a
deployment-wide config (as /etc/jupyter/nbgrader_config.py on a JupyterHub), here a temporary JUPYTER_CONFIG_DIR.
Each student works in a home folder of their own; as all of this runs as one user, a student names themself
with ``--student``, as nbgrader's submit allows."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.runtime import REPO, solution_path

ID = "rnn_step_by_step"
BIN = Path(sys.executable).parent  # the venv's bin/: nbgrader, and the alembic it calls
STUDENTS = ("alice", "bob")  # alice fills in the solution, bob hands in the notebook as fetched


def without_venv(path: str) -> str:
    return os.pathsep.join(p for p in path.split(os.pathsep) if p and Path(p).resolve() != BIN.resolve())


def nbgrader(cwd: Path, env: dict, *args: str) -> str:
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stderr  # nbgrader logs there


def filled_in(fetched: Path) -> None:
    """What an honest student does: write the answer into each solution cell of the fetched notebook."""
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in json.loads(solution_path(ID).read_text())
               ["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(fetched.read_text())
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    fetched.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("nbgrader")
    course = root / "course"
    shutil.copytree(REPO / "solutions" / ID, course / "solutions" / ID)
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    deployment = root / "etc-jupyter"
    deployment.mkdir()
    (deployment / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(root / 'exchange')!r}\nc.CourseDirectory.course_id = 'seqmodels'\n")
    path = without_venv(os.environ.get("PATH", ""))
    assert shutil.which("alembic", path=path) is None, "the test must run nbgrader without alembic on PATH"
    env = {**os.environ, "PATH": path, "JUPYTER_CONFIG_DIR": str(deployment), "HOME": str(root)}
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)

    nbgrader(course, env, "generate_assignment", ID)
    nbgrader(course, env, "release_assignment", ID)
    for student in STUDENTS:
        home = root / "home" / student
        home.mkdir(parents=True)
        student_env = {**env, "HOME": str(home)}
        nbgrader(home, student_env, "fetch_assignment", ID)
        if student == "alice":
            filled_in(home / ID / f"{ID}.ipynb")
        nbgrader(home, student_env, "submit", ID, f"--student={student}")
    nbgrader(course, env, "collect", ID)

    graded = subprocess.run([sys.executable, "-m", "autograder", "batch", str(course / "submitted"), "--assignment",
                             ID, "--out", str(root / "grades"), "--nbgrader-db", str(course / "gradebook.db")],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stderr
    assert "2 graded now (0 could not be graded)" in graded.stdout
    nbgrader(course, env, "export", "--to", str(root / "export.csv"))
    return {"course": course, "export": root / "export.csv", "grades": root / "grades"}


def test_nbgrader_export_holds_our_scores_and_the_submission_times(course):
    rows = {row["student_id"]: row for row in csv.DictReader(course["export"].open())}
    assert sorted(rows) == list(STUDENTS)
    assert float(rows["alice"]["raw_score"]) == float(rows["alice"]["max_score"]) == 100
    assert float(rows["bob"]["raw_score"]) == 0
    for student in STUDENTS:
        submitted = (course["course"] / "submitted" / student / ID / "timestamp.txt").read_text().strip()
        assert rows[student]["timestamp"] == submitted.removesuffix(" UTC"), "collect's time reaches the gradebook"


def test_formgrader_lists_both_submissions_as_autograded_with_our_scores(course):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course["course"])
    config.CourseDirectory.course_id = "seqmodels"
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = "assignments"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    listed = {s["student"]: s for s in api.get_submissions(ID)}
    assert {s: (listed[s]["autograded"], listed[s]["score"]) for s in STUDENTS} == {"alice": (True, 100.0),
                                                                                   "bob": (True, 0.0)}
    by_student = {n["student"]: n for n in api.get_notebook_submissions(ID, ID)}
    assert by_student["bob"]["failed_tests"] and not by_student["alice"]["failed_tests"]
    assert not any(n["needs_manual_grade"] for n in by_student.values())


def test_formgrader_shows_the_students_code_with_our_score_and_messages_in_each_grade_cell(course):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    notebooks = {s: course["course"] / "autograded" / s / ID / f"{ID}.ipynb" for s in STUDENTS}
    for student, path in notebooks.items():
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(tests) == 8 and all(len(c.outputs) == 1 for c in tests), student
    alice = nbformat.read(notebooks["alice"], as_version=4)
    answer = next(c for c in alice.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_forward")
    assert "def rnn_forward" in answer.source and "NotImplementedError" not in answer.source
    assert "HIDDEN TESTS" not in json.dumps(alice), "the grade cells are the released ones"

    config = Config()  # formgrader's own exporter settings (nbgrader.server_extensions.formgrader.formgrader)
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": ID, "notebook_id": ID, "submission_id": "bob", "index": 0, "total": 2,
                 "base_url": "", "student": "bob", "last_name": None, "first_name": None, "notebook_path": ""}
    html, _ = HTMLExporter(config=config).from_filename(str(notebooks["bob"]), resources=resources)
    assert 'id="test_rnn_forward"' in html, "formgrader's score box of the grade cell"
    assert "<strong>autograder: 0 / 10</strong>" in html
    assert "not implemented yet (it raises NotImplementedError)" in html


def test_a_gradebook_without_the_assignment_is_refused_before_anything_is_graded(course, tmp_path, capsys):
    from autograder import cli

    code = cli.main(["batch", str(course["course"] / "submitted"), "--assignment", "dinosaurus_island", "--out",
                     str(tmp_path / "out"), "--nbgrader-db", str(course["course"] / "gradebook.db")])
    assert code == 2
    assert capsys.readouterr().err.strip().endswith(
        "does not hold the notebook dinosaurus_island.ipynb of assignment dinosaurus_island: run `nbgrader "
        "generate_assignment dinosaurus_island --force` in the course folder")
    assert not (tmp_path / "out" / "students").exists()


def test_regrading_keeps_a_manual_score_and_marks_it_for_review(course):
    """Last in this file: it gives bob a manual score in the course's gradebook, as a grader would in formgrader."""
    from nbgrader.api import Gradebook

    db = course["course"] / "gradebook.db"
    with Gradebook(f"sqlite:///{db}", course_id="seqmodels") as gradebook:
        gradebook.find_grade("test_rnn_forward", ID, ID, "bob").manual_score = 4.0
        gradebook.db.commit()
    again = subprocess.run([sys.executable, "-m", "autograder", "batch", str(course["course"] / "submitted"),
                            "--assignment", ID, "--out", str(course["grades"]), "--nbgrader-db", str(db), "--force"],
                           cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "regraded all 2 already graded (--force)" in again.stdout
    with Gradebook(f"sqlite:///{db}", course_id="seqmodels") as gradebook:
        grade = gradebook.find_grade("test_rnn_forward", ID, ID, "bob")
        assert (grade.auto_score, grade.manual_score, grade.score, grade.needs_manual_grade) == (0.0, 4.0, 4.0, True)
        assert gradebook.find_submission(ID, "bob").score == 4.0
