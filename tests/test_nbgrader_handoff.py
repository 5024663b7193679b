"""The pieces of the nbgrader hand-off (autograder/nbgrader_db.py) on submissions that nbgrader's own workflow
does not produce: a notebook whose cells were deleted, copied, retyped or tampered with, one that could not be
read, a timestamp.txt that is not a time, and gradebooks that cannot take our scores. The whole workflow, with
nbgrader's commands, is in test_nbgrader_roundtrip.py."""

from __future__ import annotations

import json
from datetime import datetime

import nbformat
import pytest

from autograder import nbgrader_db, notebook
from autograder.batch import problem_result
from tests.grading_helpers import cell_of, solution_notebook

ID = "rnn_step_by_step"
GRADED = ["rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward", "rnn_cell_backward",
          "rnn_backward", "lstm_cell_backward", "lstm_backward"]


def release() -> dict:
    return json.loads(nbgrader_db.release_path(ID).read_text())


def result(scores: dict[str, float]) -> dict:
    return {"tests": [{"name": name, "score": scores.get(name, 0.0), "max_score": 10.0,
                       "output": f"message for {name}"} for name in GRADED]}


def grade_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]


def test_a_tampered_notebook_gets_the_released_grade_cells_and_its_own_answers():
    submitted = solution_notebook(ID)
    answer = "".join(cell_of(submitted, "rnn_forward")["source"])
    cell_of(submitted, "test_rnn_forward")["source"] = "score = 100  # the student's version of a locked cell"
    submitted["cells"] = [c for c in submitted["cells"]
                          if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_lstm_backward"]
    submitted["cells"].append(json.loads(json.dumps(cell_of(submitted, "rnn_forward"))))  # a copy, edited below
    submitted["cells"][-1]["source"] = "def rnn_forward(x, a0, parameters):\n    return 'a second try'\n"
    submitted["cells"].append({"cell_type": "widget", "metadata": {}, "source": "<b>a cell type of its own</b>"})
    submitted["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes",
                               "attachments": {"a.png": {"image/png": "AAAA"}}})

    built = nbgrader_db.autograded(release(), notebook.checked(submitted), result({"rnn_forward": 10.0}))
    nbformat.validate(nbformat.from_dict(built))
    assert len({c["id"] for c in built["cells"]}) == len(built["cells"])
    assert cell_of(built, "rnn_forward")["source"] == answer, "the student's answer is shown as they wrote it"
    assert cell_of(built, "test_rnn_forward")["source"] == "".join(cell_of(release(), "test_rnn_forward")["source"])
    assert built["cells"][-1]["metadata"]["nbgrader"]["grade_id"] == "test_lstm_backward", "a deleted grade cell "\
        "is added at the end"
    copy = [c for c in built["cells"] if "a second try" in c["source"]]
    assert len(copy) == 1 and copy[0]["metadata"] == {}, "a copied cell is not graded twice"
    assert any(c["cell_type"] == "raw" and "a cell type of its own" in c["source"] for c in built["cells"])
    assert "attachments" not in json.dumps(built) and "image/png" not in json.dumps(built)
    tests = grade_cells(built)
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in tests] == [f"test_{n}" for n in GRADED]
    shown = {c["metadata"]["nbgrader"]["grade_id"]: c["outputs"][0]["data"]["text/markdown"] for c in tests}
    assert shown["test_rnn_forward"] == "**autograder: 10 / 10**\n\nmessage for rnn_forward"
    assert shown["test_lstm_backward"] == "**autograder: 0 / 10**\n\nmessage for lstm_backward"


def test_an_unreadable_submission_shows_its_reason_in_every_grade_cell():
    built = nbgrader_db.autograded(release(), None, problem_result(ID, "broken.ipynb: not valid JSON"))
    nbformat.validate(nbformat.from_dict(built))
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in built["cells"]] == [f"test_{n}" for n in GRADED]
    assert all("not valid JSON" in c["outputs"][0]["data"]["text/markdown"] for c in built["cells"])


def test_an_unread_cell_says_why_it_is_not_shown():
    submitted = solution_notebook(ID)
    cell_of(submitted, "rnn_forward")["source"] = "x = 1\n" * (notebook.MAX_CELL_CHARS // 6 + 1)
    built = nbgrader_db.autograded(release(), notebook.checked(submitted), result({}))
    assert cell_of(built, "rnn_forward")["source"].startswith("(not read by the grader: it holds ")


def test_the_submission_time_is_read_as_nbgrader_reads_it_and_only_from_a_small_regular_file(tmp_path):
    notebook_path = tmp_path / "submitted" / "ada" / ID / f"{ID}.ipynb"
    notebook_path.parent.mkdir(parents=True)
    stamp = notebook_path.parent / "timestamp.txt"
    stamp.write_text("2026-01-02 03:04:05.678901 UTC\n")
    assert nbgrader_db.submitted_at(notebook_path) == datetime(2026, 1, 2, 3, 4, 5, 678901)
    for text in ("not a time", "\xff\xfe", ""):
        stamp.write_text(text, encoding="latin-1")
        assert nbgrader_db.submitted_at(notebook_path) is None, text
    stamp.unlink()
    (tmp_path / "elsewhere.txt").write_text("2026-01-02 03:04:05 UTC")
    stamp.symlink_to(tmp_path / "elsewhere.txt")
    assert nbgrader_db.submitted_at(notebook_path) is None
    assert nbgrader_db.submitted_at(None) is None


def test_a_missing_or_foreign_gradebook_is_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match=f"no gradebook at .*`nbgrader generate_assignment {ID}`"):
        nbgrader_db.check(tmp_path / "gradebook.db", ID)
    (tmp_path / "gradebook.db").write_bytes(b"not sqlite at all, " * 100)
    with pytest.raises(ValueError, match="is not an nbgrader gradebook"):
        nbgrader_db.check(tmp_path / "gradebook.db", ID)
