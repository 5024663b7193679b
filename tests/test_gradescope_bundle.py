"""The Gradescope bundle, unpacked into a temporary /autograder and run as Gradescope runs it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.runtime import REPO, solution_path
from tests.grading_helpers import solution_notebook, unpacked_bundle, with_cell_source

ID = "rnn_step_by_step"

# Looks for the solution notebook wherever it may be, and answers with the solution's own code.
CHEAT = '''
def rnn_cell_forward(xt, a_prev, parameters):
    import glob, json
    for path in glob.glob("/**/solutions/rnn_step_by_step/*.ipynb", recursive=True) + \\
            glob.glob("../../**/solutions/rnn_step_by_step/*.ipynb", recursive=True):
        cells = json.load(open(path))["cells"]
        source = next("".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id")
                      == "rnn_cell_forward")
        scope = {}
        exec(source, globals(), scope)
        return scope["rnn_cell_forward"](xt, a_prev, parameters)
    raise RuntimeError("no solution found")
'''


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A temporary /autograder holding the unpacked bundle, built with the command instructors use."""
    root = tmp_path_factory.mktemp("autograder")
    unpacked_bundle(ID, root)
    return root


def run_autograder(root: Path, notebook_text: str, name: str = f"{ID}.ipynb") -> dict:
    """Hand Gradescope's submission folder one file, ``name``, run run_autograder, read results.json."""
    submission, results = root / "submission", root / "results"
    for folder in (submission, results):
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    (submission / name).write_text(notebook_text)
    done = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    return json.loads((results / "results.json").read_text())


def test_the_bundle_has_gradescopes_two_scripts_and_only_this_assignments_solution(root):
    source = root / "source"
    for script in ("setup.sh", "run_autograder"):
        assert (source / script).stat().st_mode & stat.S_IXUSR, script
        checked = subprocess.run(["bash", "-n", str(source / script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    assert [p.parent.name for p in (source / "solutions").glob("*/*.ipynb")] == [ID]
    assert (source / "requirements.txt").read_text() == (REPO / "requirements.txt").read_text()


def test_setup_installs_the_pinned_cpu_torch_then_the_pins_then_tests_itself(root):
    setup = (root / "source" / "setup.sh").read_text()
    # The torch pin setup.sh takes from requirements.txt, with its own expression, is the one pinned there.
    extract = setup.split('"$(grep ', 1)[1].split(')"', 1)[0]
    found = subprocess.run(f"grep {extract}", shell=True, cwd=root / "source", capture_output=True, text=True)
    assert found.stdout.split() == [line.split()[0] for line in (REPO / "requirements.txt").read_text().splitlines()
                                    if line.startswith("torch==")]
    steps = ['python install --no-bin "$PYTHON_VERSION"', "--index-url https://download.pytorch.org/whl/cpu",
             "-r requirements.txt", "torch.version.cuda", "useradd --system", "chmod -R go-rwx solutions",
             f"selftest {ID}"]
    assert [setup.index(step) for step in steps] == sorted(setup.index(step) for step in steps)  # in this order


def test_the_solution_gets_full_marks_and_the_stub_zero(root):
    full = run_autograder(root, solution_path(ID).read_text())
    assert full["score"] == full["max_score"] == 100, full
    stub = run_autograder(root, (REPO / "assignments" / ID / f"{ID}.ipynb").read_text())
    assert stub["score"] == 0 and len(stub["tests"]) == len(full["tests"])
    assert all("not implemented yet" in t["output"] for t in stub["tests"])


def test_a_notebook_that_reaches_for_the_solution_is_contained(root):
    assert (root / "source" / "solutions" / ID / f"{ID}.ipynb").exists()  # it is there, but out of reach
    cheat = with_cell_source(solution_notebook(ID), "rnn_cell_forward", CHEAT)
    result = run_autograder(root, json.dumps(cheat))
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["rnn_cell_forward"]["score"] == 0, tests["rnn_cell_forward"]
    assert "no solution found" in tests["rnn_cell_forward"]["output"]  # the sandbox hid every copy
    assert tests["rnn_forward"]["score"] == tests["rnn_forward"]["max_score"] > 0  # the rest is still graded


def test_a_submission_without_a_notebook_gets_a_reason(root):
    result = run_autograder(root, "I did it on paper", name="answers.txt")
    assert result["score"] == 0 and "no notebook" in result["output"]
    assert "no notebook" in result["extra_data"]["problem"] and "problem" not in result


def test_a_notebook_without_nbgrader_metadata_gets_what_grade_and_batch_give(root):
    """One answer everywhere: graded by scanning its code cells, as `grade` and `batch` do."""
    bare = solution_notebook(ID)
    bare["cells"] = [cell for cell in bare["cells"] if "matplotlib" not in "".join(cell["source"])]  # quicker children
    for cell in bare["cells"]:
        cell["metadata"].pop("nbgrader", None)
    result = run_autograder(root, json.dumps(bare))
    assert result["score"] == result["max_score"] == 100, result
    assert result["output_format"] == "md" and all(t["output_format"] == "md" for t in result["tests"])
    assert result["extra_data"] == {"assignment": ID, "notebook": f"{ID}.ipynb"}
