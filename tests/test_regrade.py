"""Regrading on change: each results.json records the fingerprint of what graded it (the grader's code, the
course library and data, the assignment's spec and solution) and a digest of the notebook it graded; ``batch``
grades again the results whose fingerprint or notebook differs, says how many, and ``--force`` grades everyone
again.

The instructor's edit is made for real, in a copy of the project (the packages, the data and the solution) from
which ``python -m autograder batch`` runs, as an instructor runs it from their checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import batch, runtime
from autograder.runtime import REPO, solution_path

ID = "rnn_step_by_step"
COPIED = ("autograder", "seqmodels", "data", f"solutions/{ID}")


def project_copy(root: Path) -> Path:
    """The parts of the project that grading reads, at another path."""
    for part in COPIED:
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def edit_points(project: Path, grade_id: str, points: int) -> None:
    """What an instructor does in the solution notebook: give a grade cell other points."""
    path = project / "solutions" / ID / f"{ID}.ipynb"
    nb = json.loads(path.read_text())
    [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id]
    cell["metadata"]["nbgrader"]["points"] = points
    path.write_text(json.dumps(nb, indent=1))


def batch_in(project: Path, source: Path, out: Path, *extra: str) -> str:
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(source), "--assignment", ID,
                           "--out", str(out), *extra], cwd=project, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def results(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("students/*/results.json")}


def written(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("students/*/results.json")}


def test_a_new_notebook_or_a_changed_solution_is_graded_again_and_force_grades_all(tmp_path):
    project = project_copy(tmp_path / "project")
    source = tmp_path / "class"
    source.mkdir()
    shutil.copy(solution_path(ID), source / "honest.ipynb")
    shutil.copy(REPO / "assignments" / ID / f"{ID}.ipynb", source / "stub.ipynb")
    (source / "broken.ipynb").write_text("{ not json")
    out = tmp_path / "out"

    first = batch_in(project, source, out)
    assert "3 graded now (1 could not be graded), 0 already done" in first
    graded = results(out)
    assert {r["fingerprint"] for r in graded.values()} == {batch.fingerprint(ID)}, "the project copy is the project"
    assert graded["honest"]["score"] == graded["honest"]["max_score"] == 100 and graded["stub"]["score"] == 0

    before = written(out)
    again = batch_in(project, source, out)
    assert "0 graded now (0 could not be graded), 3 already done" in again and "regraded" not in again
    assert written(out) == before

    shutil.copy(solution_path(ID), source / "stub.ipynb")  # the student hands in a new notebook
    resubmitted = batch_in(project, source, out)
    assert "1 graded now (0 could not be graded; regraded 1 whose submission changed), 2 already done" in resubmitted
    assert results(out)["stub"]["score"] == 100
    assert {s: t for s, t in written(out).items() if s != "stub"} == {s: t for s, t in before.items() if s != "stub"}

    edit_points(project, "test_rnn_forward", 20)
    time.sleep(0.01)  # results written again get a later time
    changed = batch_in(project, source, out)
    assert "3 graded now (1 could not be graded; regraded 3 whose grader or solution changed), 0 already done" \
        in changed
    regraded = results(out)
    assert regraded["honest"]["score"] == regraded["honest"]["max_score"] == 110, "graded with the edited solution"
    assert regraded["broken"]["max_score"] == 110 and regraded["stub"]["score"] == 110
    assert len({r["fingerprint"] for r in regraded.values()}) == 1 and regraded["honest"]["fingerprint"] != \
        graded["honest"]["fingerprint"]
    assert "honest,110,110," in (out / "grades.csv").read_text()

    before = written(out)
    forced = batch_in(project, source, out, "--force")
    assert "3 graded now (1 could not be graded; regraded all 3 already graded (--force)), 0 already done" in forced
    assert all(written(out)[s] > before[s] for s in before), "--force writes every result again"


def test_a_result_without_a_fingerprint_is_graded_again(tmp_path):
    """Results made before results recorded a fingerprint count as made by another grader."""
    source = tmp_path / "class"
    source.mkdir()
    for student in ("ann", "ben"):  # zeros with their reason, given without the sandbox: no notebook to grade
        (source / student).mkdir()
        (source / student / "notes.txt").write_text("no notebook here")
    out = tmp_path / "out"
    batch.run(source, ID, out)
    path = batch.result_path(out, "ann")
    old = json.loads(path.read_text())
    del old["fingerprint"]
    path.write_text(json.dumps(old))
    again = batch.run(source, ID, out)
    assert "1 graded now (1 could not be graded; regraded 1 whose grader or solution changed), 1 already done" in again
    assert json.loads(path.read_text())["fingerprint"] == batch.fingerprint(ID)


@pytest.fixture
def fingerprint_of(tmp_path, monkeypatch):
    """The fingerprint of a copy of the project, computed afresh after each edit."""
    project = project_copy(tmp_path / "project")
    monkeypatch.setattr(batch, "REPO", project)
    monkeypatch.setattr(runtime, "REPO", project)
    return project, lambda: batch.fingerprint.__wrapped__(ID)


def test_the_fingerprint_follows_what_grades_the_assignment_and_nothing_else(fingerprint_of):
    project, fingerprint = fingerprint_of
    original = fingerprint()
    assert original == batch.fingerprint(ID), "the same files at another path give the same fingerprint"
    other_spec = project / "autograder" / "assignments" / "jazz_improvisation.py"
    other_spec.write_text(other_spec.read_text() + "\n# another assignment's spec\n")
    assert fingerprint() == original
    for edited in (f"autograder/assignments/{ID}.py", "autograder/verdict.py", "seqmodels/activations.py",
                   "data/dinos.txt", f"solutions/{ID}/{ID}.ipynb"):
        path = project / edited
        text = path.read_bytes()
        path.write_bytes(text + b"\n")
        assert fingerprint() != original, edited
        path.write_bytes(text)
        assert fingerprint() == original, edited


def test_the_fingerprint_is_the_same_in_every_process_and_cheap():
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    code = f"from autograder.batch import fingerprint; print(fingerprint({ID!r}))"
    other = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other == batch.fingerprint(ID) and len(other) == 64
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        batch.fingerprint.__wrapped__(ID)
        runs.append(time.perf_counter() - start)
    assert sorted(runs)[2] < 0.05, f"median {sorted(runs)[2] * 1000:.1f} ms (about 3 ms when measured)"


def test_the_submission_digest_reads_only_a_regular_file_and_never_waits(tmp_path):
    notebook = tmp_path / "a.ipynb"
    notebook.write_text("{}")
    same = tmp_path / "b.ipynb"
    same.write_text("{}")
    assert batch.submission_digest(notebook) == batch.submission_digest(same) != batch.submission_digest(
        solution_path(ID))
    (tmp_path / "link.ipynb").symlink_to(notebook)
    os.mkfifo(tmp_path / "fifo.ipynb")  # opened for reading, a FIFO with no writer would block
    for path in (tmp_path / "link.ipynb", tmp_path / "fifo.ipynb", tmp_path / "missing.ipynb", None):
        assert batch.submission_digest(path) is None, path
