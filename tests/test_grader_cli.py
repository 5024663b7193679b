"""The command line: exit codes, the table, and Gradescope's results.json shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli, confine, sandbox
from autograder.grade import SandboxUnavailable, grade
from autograder.runtime import REPO

ID = "rnn_step_by_step"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=REPO)


def test_grading_the_stub_exits_0_and_writes_gradescope_json(tmp_path):
    out = tmp_path / "results.json"
    result = run("grade", str(REPO / "assignments" / ID / f"{ID}.ipynb"), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "total" in result.stdout and "rnn_cell_forward" in result.stdout
    data = json.loads(out.read_text())
    assert set(data) == {"assignment", "score", "max_score", "output_format", "tests"}
    assert data["output_format"] == "md"  # Gradescope renders the (escaped) messages as markdown
    assert data["assignment"] == ID and data["score"] == 0 and data["max_score"] == 100
    names = [t["name"] for t in data["tests"]]
    assert names == ["rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward",
                     "rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward"]
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility", "output_format"}
        assert test["output"]


def test_points_in_json_come_from_the_solution_notebook(tmp_path):
    out = tmp_path / "results.json"
    run("grade", str(REPO / "solutions" / ID / f"{ID}.ipynb"), "--json", str(out))
    data = json.loads(out.read_text())
    solution = json.loads((REPO / "solutions" / ID / f"{ID}.ipynb").read_text())
    points = {c["metadata"]["nbgrader"]["grade_id"].removeprefix("test_"): c["metadata"]["nbgrader"]["points"]
              for c in solution["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    assert {t["name"]: t["max_score"] for t in data["tests"]} == points
    assert data["score"] == sum(points.values())


def test_assignment_is_inferred_from_grade_ids_when_the_file_is_renamed(tmp_path):
    renamed = tmp_path / "my attempt (1).ipynb"
    renamed.write_text((REPO / "assignments" / ID / f"{ID}.ipynb").read_text())
    result = run("grade", str(renamed))
    assert result.returncode == 0 and f"Assignment {ID}" in result.stdout


def test_unusable_input_exits_2_with_one_line(tmp_path):
    not_json = tmp_path / "rnn_step_by_step.ipynb"
    not_json.write_text("{ this is not json")
    no_cells = tmp_path / "notebook.ipynb"
    no_cells.write_text(json.dumps({"hello": "world"}))
    unknown = tmp_path / "mystery.ipynb"
    unknown.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    cases = [(not_json, [], "not valid JSON"), (no_cells, [], "not a Jupyter notebook"),
             (unknown, [], "unknown assignment"), (tmp_path / "missing.ipynb", [], "cannot read"),
             (REPO / "assignments" / ID / f"{ID}.ipynb", ["--assignment", "nope"], "unknown assignment")]
    for path, extra, message in cases:
        result = run("grade", str(path), *extra)
        assert result.returncode == 2, (path, result.stdout, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_json_into_a_folder_that_does_not_exist_creates_it(tmp_path):
    out = tmp_path / "not" / "yet" / "results.json"
    result = run("grade", str(REPO / "solutions" / ID / f"{ID}.ipynb"), "--json", str(out))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert json.loads(out.read_text())["score"] == 100


def test_json_that_cannot_be_written_is_refused_before_grading_with_one_line(tmp_path):
    (tmp_path / "a file").write_text("")
    for target, message in [(tmp_path, "is a folder"), (tmp_path / "a file" / "results.json", "cannot create its folder")]:
        result = run("grade", str(REPO / "solutions" / ID / f"{ID}.ipynb"), "--json", str(target))
        assert result.returncode == 2 and result.stdout == "", result.stdout  # nothing graded
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


REDUCED = confine.Status(landlock_abi=0, root=False, netns=False, missing=("files (no Landlock: test)",))


def in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_without_landlock_a_learner_still_gets_a_grade_and_one_warning(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "status", lambda: REDUCED)
    code, out, err = in_process(["grade", str(REPO / "solutions" / ID / f"{ID}.ipynb")], capsys)
    assert code == 0 and "total                  100    100" in out
    assert len(err.splitlines()) == 1 and err.startswith("warning: reduced sandbox") and "--strict" in err


def test_strict_refuses_without_landlock(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(sandbox, "status", lambda: REDUCED)
    out = tmp_path / "results.json"
    code, printed, err = in_process(["grade", str(REPO / "solutions" / ID / f"{ID}.ipynb"), "--strict",
                                     "--json", str(out)], capsys)
    assert code == 2 and printed == "" and not out.exists()
    assert len(err.splitlines()) == 1 and "--strict" in err and "no Landlock" in err


def test_strict_refuses_when_the_sandbox_could_read_a_protected_folder():
    """Results written inside the Python installation would be readable by the graded code."""
    with pytest.raises(SandboxUnavailable, match="lies inside"):
        grade(REPO / "solutions" / ID / f"{ID}.ipynb", strict=True, protected=[Path(sys.prefix) / "results"])
