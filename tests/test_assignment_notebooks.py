"""Solution notebooks execute clean; student notebooks run up to the first NotImplementedError."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.runtime import REPO

ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


def execute(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    # Run in a scratch directory so files a notebook writes (MIDI, plots) stay out of the repo.
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_solution_notebook_executes_clean(assignment_id, tmp_path, monkeypatch):
    # A notebook that trains for minutes reads this and runs its one documented shorter setting; its bench/
    # script measures the full run (README, "For instructors").
    monkeypatch.setenv("SEQMODELS_QUICK", "1")
    nb = execute(REPO / "solutions" / assignment_id / f"{assignment_id}.ipynb", tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_student_notebook_stops_at_the_first_not_implemented_error(assignment_id, tmp_path):
    path = REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb"
    with pytest.raises(CellExecutionError) as excinfo:
        execute(path, tmp_path)
    assert excinfo.value.ename == "NotImplementedError", excinfo.value.evalue
