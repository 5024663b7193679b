"""Grading a class: finding submissions in every layout, bad files, kill -9 and resume, shards and merge."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder import batch, escape, submissions
from autograder.runtime import REPO, solution_path

ID = "rnn_step_by_step"  # the quickest assignment to grade
CLI = [sys.executable, "-m", "autograder", "batch"]


def notebook_text(kind: str) -> str:
    return (solution_path(ID) if kind == "solution" else REPO / "assignments" / ID / f"{ID}.ipynb").read_text()


def class_folder(root: Path, n: int) -> Path:
    """n students: every third hands in the unfinished student version, one file is corrupt."""
    root.mkdir(parents=True)
    for i in range(n):
        (root / f"s{i:02d}.ipynb").write_text(notebook_text("student" if i % 3 == 2 else "solution"))
    (root / "s01.ipynb").write_text("{ not json")
    return root


def run_batch(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, str(source), "--assignment", ID, "--out", str(out), *extra], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def outputs(out: Path) -> tuple[str, str]:
    return (out / "grades.csv").read_text(), (out / "summary.md").read_text()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, Path]:
    """A class of 7 graded in one go: (submissions, out)."""
    root = tmp_path_factory.mktemp("class")
    source = class_folder(root / "submissions", 7)
    done = run_batch(source, root / "out")
    assert done.returncode == 0, done.stderr
    return source, root / "out"


def test_a_class_gets_results_a_csv_and_a_summary(uninterrupted):
    _, out = uninterrupted
    table, summary = outputs(out)
    rows = {row[0]: row for row in list(csv.reader(table.splitlines()))[1:]}
    assert sorted(rows) == [f"s{i:02d}" for i in range(7)]
    assert rows["s00"][1:3] == ["100", "100"] and rows["s02"][1] == "0"
    assert "s01.ipynb: not valid JSON" in rows["s01"][-1]
    result = json.loads((out / "students" / "s00" / "results.json").read_text())
    assert result["score"] == result["max_score"] == 100 and {t["name"] for t in result["tests"]} >= {"rnn_forward"}
    assert "graded: 6; could not be graded: 1" in summary
    assert "| rnn_forward | 4/6 (67%) | not implemented yet (it raises NotImplementedError) (2) |" in summary
    assert (out / "totals.png").stat().st_size > 1000


def test_kill_9_then_the_same_command_finishes_without_grading_anything_twice(uninterrupted, tmp_path):
    source, reference_out = uninterrupted
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, str(source), "--assignment", ID, "--out", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list(out.glob("students/*/results.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch, its pool and everything they started
    proc.wait()
    before = {p: p.stat().st_mtime_ns for p in out.glob("students/*/results.json")}
    assert 2 <= len(before) < 7, "the kill must land in the middle of the batch"
    resumed = run_batch(source, out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{7 - len(before)} graded now" in resumed.stdout and f"{len(before)} already done" in resumed.stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before  # no result was written again
    assert outputs(out) == outputs(reference_out)


def test_shards_merge_into_the_unsharded_result(uninterrupted, tmp_path):
    source, reference_out = uninterrupted
    shards = [tmp_path / "shard1", tmp_path / "shard2"]
    for k, shard in enumerate(shards, start=1):
        assert run_batch(source, shard, "--shard", f"{k}/2").returncode == 0
    assert all(list(s.glob("students/*/results.json")) for s in shards), "both shards must hold students"
    merged = subprocess.run([sys.executable, "-m", "autograder", "merge", *map(str, shards), "--assignment", ID,
                             "--out", str(tmp_path / "merged")], cwd=REPO, capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    assert outputs(tmp_path / "merged") == outputs(reference_out)


def layouts(root: Path) -> dict[str, Path]:
    """The same two students in each accepted layout."""
    text = notebook_text("student")
    flat = root / "flat"
    folders = root / "folders"
    exchange = root / "course" / "submitted"
    for student in ("ada", "bo"):
        (flat / f"{student}.ipynb").parent.mkdir(parents=True, exist_ok=True)
        (flat / f"{student}.ipynb").write_text(text)
        (folders / student / "work").mkdir(parents=True)
        (folders / student / "work" / "my_attempt.ipynb").write_text(text)
        (exchange / student / ID).mkdir(parents=True)
        (exchange / student / ID / f"{ID}.ipynb").write_text(text)
        (exchange / student / ID / ".ipynb_checkpoints").mkdir()
        (exchange / student / ID / ".ipynb_checkpoints" / f"{ID}-checkpoint.ipynb").write_text(text)
    found = {"flat": flat, "folders": folders, "nbgrader": root / "course"}
    for name, folder in list(found.items()):
        archive = root / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in folder.rglob("*"):
                zf.write(path, Path("export") / path.relative_to(folder))
        found[f"{name} zipped"] = archive
    return found


def test_every_layout_and_its_zip_give_one_notebook_per_student(tmp_path):
    for name, source in layouts(tmp_path).items():
        found = submissions.find(source, ID, tmp_path / "scratch" / name)
        assert [s.student for s in found] == ["ada", "bo"], name
        assert all(s.notebook is not None and s.notebook.suffix == ".ipynb" and not s.problem for s in found), name
        assert all(".ipynb_checkpoints" not in s.notebook.parts for s in found), name


def test_unclear_folders_are_reported_not_guessed(tmp_path):
    (tmp_path / "cy" / "a.ipynb").parent.mkdir(parents=True)
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / "cy" / name).write_text("{}")
    (tmp_path / "di").mkdir()
    (tmp_path / "di" / "notes.txt").write_text("no notebook here")
    found = {s.student: s for s in submissions.find(tmp_path, ID, tmp_path / "scratch")}
    assert found["cy"].notebook is None and f"2 notebooks and none of them named {ID}.ipynb" in found["cy"].problem
    assert found["di"].notebook is None and "no notebook" in found["di"].problem


def test_a_zip_cannot_write_outside_its_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escaped.ipynb", "{}")
        zf.writestr("ok/x.ipynb", "{}")
    submissions.unpack(archive, tmp_path / "into")
    assert not (tmp_path / "escaped.ipynb").exists() and (tmp_path / "into" / "ok" / "x.ipynb").exists()


def test_bad_files_get_a_zero_with_a_reason(tmp_path):
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as f:
        f.truncate(submissions.MAX_NOTEBOOK_BYTES + 1)  # sparse: no 50 MB written
    empty = tmp_path / "empty.ipynb"
    empty.write_text("")
    other = tmp_path / "other.ipynb"
    shutil.copy(solution_path("dinosaurus_island"), other)
    for path, reason in [(huge, "over 50 MB"), (empty, "empty"), (other, "this is the dinosaurus_island notebook")]:
        result = batch.grade_submission(path, ID, [tmp_path])
        reason = escape.markdown(reason)  # as results.json holds every text from a submission
        assert result["score"] == 0 and reason in result["problem"], result["problem"]
        assert all(t["score"] == 0 and reason in t["output"] for t in result["tests"])


def test_shards_split_the_students_between_them():
    students = [f"student{i}" for i in range(200)]
    shards = [{s for s in students if batch.in_shard(s, (k, 3))} for k in (1, 2, 3)]
    assert set().union(*shards) == set(students) and sum(map(len, shards)) == 200
    assert all(40 < len(s) < 95 for s in shards)
