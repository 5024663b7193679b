"""A released assignment checks itself without the solutions (issue 23).

A folder holds only what a student receives, ``assignments/rnn_step_by_step/`` (the student notebook and its
check pack), and beside it the installed course packages (``seqmodels``, ``autograder``), copied without the
repository around them: no ``solutions/``. The notebook, its solution cells filled in as a learner would, runs
top to bottom in a kernel whose working folder and PYTHONPATH are that folder alone, and every check passes.
Then one slip (``a_next`` ignoring ``b_a``) gets its named message, and the function graded with the slipping
one as its helper still passes, from the recorded answers of the reference helper.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.runtime import REPO

ID = "rnn_step_by_step"
SLIP = ("a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)", "a_next = np.tanh(Waa @ a_prev + Wax @ xt)")


def _released(tmp: Path) -> tuple[Path, Path]:
    """(the student's assignment folder, the folder the course packages are installed in), both under ``tmp``."""
    site = tmp / "site"
    for package in ("seqmodels", "autograder"):
        shutil.copytree(REPO / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp / "student" / ID
    shutil.copytree(REPO / "assignments" / ID, work)
    return work, site


def _with_solutions(work: Path, slip: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The student notebook with every solution cell taken from the solution notebook (by grade_id)."""
    solutions = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                 for c in nbformat.read(REPO / "solutions" / ID / f"{ID}.ipynb", as_version=4).cells}
    nb = nbformat.read(work / f"{ID}.ipynb", as_version=4)
    filled = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in solutions:
            cell.source = solutions[meta["grade_id"]]
            filled += 1
    assert filled == 8
    if slip:
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_cell_forward"]
        assert cell.source.count(slip[0]) == 1
        cell.source = cell.source.replace(*slip)
    # Before the first check, in the student's kernel (after any setup or bootstrap cell): the course comes from
    # the copied packages, and no solutions are in reach.
    probe = nbformat.v4.new_code_cell(
        "import sys\nfrom pathlib import Path\nimport autograder, seqmodels\nfrom autograder import runtime\n"
        f"site = Path({str(work.parents[1] / 'site')!r})\n"
        "assert Path(autograder.__file__).parent == site / 'autograder', autograder.__file__\n"
        "assert Path(seqmodels.__file__).parent == site / 'seqmodels', seqmodels.__file__\n"
        f"assert not runtime.solution_path({ID!r}).exists()\n"
        "assert not [p for p in sys.path if p and (Path(p) / 'solutions').exists()]\n"
        "assert not (Path.cwd() / 'solutions').exists() and (Path.cwd() / 'check_pack').is_dir()")
    first_check = next(i for i, c in enumerate(nb.cells)
                       if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_"))
    nb.cells.insert(first_check, probe)
    return nb


def _run(nb: nbformat.NotebookNode, work: Path, site: Path, allow_errors: bool = False) -> nbformat.NotebookNode:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PYTHONPATH"] = str(site)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(work)}}).execute(env=env, cwd=str(work))
    return nb


def _check_outputs(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The text each check cell printed or raised, by the function it checks."""
    found = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.startswith("test_"):
            found[grade_id.removeprefix("test_")] = "".join(
                o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}" if o.output_type == "error"
                else "" for o in cell.outputs)
    return found


def test_a_released_assignment_passes_its_checks_and_names_a_slip_without_the_solutions(tmp_path):
    work, site = _released(tmp_path)
    assert {p.name for p in work.iterdir()} >= {f"{ID}.ipynb", "check_pack"}  # what a student gets

    checks = _check_outputs(_run(_with_solutions(work), work, site))
    assert len(checks) == 8
    for function, text in checks.items():
        assert text.startswith(f"{function}: passed all "), (function, text)

    # One slip: the first check names it; rnn_forward, graded with the reference's cell, still passes.
    nb = _with_solutions(work, SLIP)
    stop = next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_forward")
    nb.cells = nb.cells[:stop + 1]
    checks = _check_outputs(_run(nb, work, site, allow_errors=True))
    assert checks["rnn_cell_forward"].startswith(
        "AssertionError: rnn_cell_forward:\n  - likely mistake: a_next ignores b_a"), checks["rnn_cell_forward"]
    assert checks["rnn_forward"].startswith("rnn_forward: passed all 1 check"), checks["rnn_forward"]
