"""A stand-in for Colab: a notebook alone in a folder, a Python without the course, and the launch cell.

Colab opens one notebook from the repository, with no checkout beside it, in a Python that has numpy and torch
but not this course. The launch cell (seqmodels/bootstrap.py) then pip-installs the repository's archive. Here:

- the archive is a zip of the repository's files, laid out as GitHub serves one, and SEQMODELS_PACKAGE (the
  cell's documented test seam) points the cell at it instead of the remote address; pip builds it, with the
  ``colab`` extra, as it does on Colab, but offline (no index; the build uses the installed setuptools);
- the Python is a fresh venv that sees the shared venv's packages (numpy, torch, jupyter: Colab's image)
  through a path line in a .pth file. Such a line does not run the .pth files of that folder, so the editable
  install of this checkout stays invisible, which the fixture checks: ``import seqmodels`` fails there first;
- one chapter runs top to bottom, and one student assignment up to its first unfinished function, each from a
  folder holding only that notebook, each in its own fresh venv, through its launch cell. (The assignment's
  check cells need the assignment's reference, which is not in that folder: the check packs of issue 23's
  released assignments, not this test, are what make them work there.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from seqmodels import bootstrap
from tests.grading_helpers import cell_of, solution_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "08_embedding_properties.ipynb"  # GloVe (from the extra) and data/analogies.txt
ASSIGNMENT = ROOT / "assignments" / "dinosaurus_island" / "dinosaurus_island.ipynb"  # data/dinos.txt

# Runs in the stand-in's Python: executes the notebook's cells, up to the one numbered argv[3] (all of them if it
# is absent), in a kernel of that same Python, as Colab does. The first failing cell raises.
DRIVER = """
import json, sys
import nbformat
from nbclient import NotebookClient

path, folder = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
stop = int(sys.argv[3]) if len(sys.argv) > 3 else len(nb.cells)
client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}})
with client.setup_kernel():
    for index, cell in enumerate(nb.cells[:stop]):
        client.execute_cell(cell, index)
ran = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
print(json.dumps({"ran": [c.get("id") for c in ran]}))
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The repository as a zip under one top folder, like GitHub's archive of a branch: every file git tracks
    or would add (so uncommitted work is tested too), nothing it ignores."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    url, branch = bootstrap.repository()
    top = f"{url.rsplit('/', 1)[1]}-{branch}"  # GitHub's name for the archive's folder
    path = tmp_path_factory.mktemp("archive") / f"{branch}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(set(listed.split("\0"))):
            if name and (ROOT / name).is_file():
                zf.write(ROOT / name, f"{top}/{name}")
    return path


def fresh_python(folder: Path) -> Path:
    """A venv in ``folder`` that sees the shared venv's packages but not this checkout; returns its python."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "colab_image.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # The python3 kernel of this stand-in runs its own Python (JUPYTER_PATH comes first in Jupyter's search).
    kernel = folder / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (stand-in for Colab)", "language": "python"}))
    return python


def stand_in_env(folder: Path, archive: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env.update({
        bootstrap.SEAM: archive.as_uri(),    # instead of the repository's archive on the web
        "PIP_NO_INDEX": "1",                 # offline: whatever the extra needs is already there
        "PIP_NO_BUILD_ISOLATION": "0",       # (pip reads this one inverted) build with the installed setuptools
        "PIP_NO_CACHE_DIR": "1",
        "JUPYTER_PATH": str(folder / "jupyter"),
    })
    return env


def run_alone(notebook: Path, tmp_path: Path, archive: Path, stop: int | None = None) -> tuple[list[str], Path]:
    """Run a copy of ``notebook`` (its cells before number ``stop``, or all), alone in a folder, in a fresh
    stand-in; (the ids of the code cells that ran, the stand-in's python)."""
    python = fresh_python(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    env = stand_in_env(tmp_path, archive)
    before = subprocess.run([str(python), "-c", "import seqmodels"], cwd=work, env=env, capture_output=True, text=True)
    assert before.returncode != 0 and "No module named 'seqmodels'" in before.stderr, \
        "the stand-in sees the course before the launch cell ran"
    command = [str(python), "-c", DRIVER, str(work / notebook.name), str(work)] + ([str(stop)] if stop else [])
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    assert sorted(p.name for p in work.iterdir() if p.suffix == ".ipynb") == [notebook.name]
    return json.loads(result.stdout.strip().splitlines()[-1])["ran"], python


def installed_course(python: Path, env_folder: Path) -> dict:
    """Where the stand-in imports the course from, and what its wheel holds."""
    probe = ("import json, pathlib, seqmodels, seqmodels.datafiles as d;"
             "root = pathlib.Path(seqmodels.__file__).parent.parent;"
             "print(json.dumps({'file': seqmodels.__file__, 'data': str(d.DATA_DIR),"
             " 'packages': sorted(str(p.parent.relative_to(root)) for p in root.glob('*/**/__init__.py')"
             " if p.parts[len(root.parts)] in ('seqmodels', 'autograder'))}))")
    out = subprocess.run([str(python), "-c", probe], cwd=env_folder, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def code_cell_ids(notebook: Path, stop: int | None = None) -> list[str]:
    return [c["id"] for c in json.loads(notebook.read_text())["cells"][:stop] if c["cell_type"] == "code"]


def test_a_chapter_runs_in_colab_through_its_launch_cell(tmp_path, archive):
    ran, python = run_alone(CHAPTER, tmp_path, archive)
    assert ran == code_cell_ids(CHAPTER) and ran[0] == bootstrap.CELL_ID
    course = installed_course(python, tmp_path)
    venv = (tmp_path / "venv").resolve()
    assert Path(course["file"]).resolve().is_relative_to(venv), f"seqmodels came from {course['file']}"
    assert Path(course["data"]).resolve().is_relative_to(venv), "the data files are not the wheel's"
    checkout = sorted(str(p.parent.relative_to(ROOT)) for name in ("seqmodels", "autograder")
                      for p in (ROOT / name).glob("**/__init__.py"))
    assert set(checkout) <= set(course["packages"]), f"the wheel lacks {set(checkout) - set(course['packages'])}"


def test_an_assignment_runs_in_colab_up_to_its_first_unfinished_function(tmp_path, archive):
    """Every cell up to the definition of the first function the learner has to write; then that function,
    written as the solution does and with one slip, meets its check from the pack the installed course carries
    (the notebook's folder holds no check_pack/, and there are no solutions)."""
    cells = json.loads(ASSIGNMENT.read_text())["cells"]
    stub = next(i for i, c in enumerate(cells) if c["cell_type"] == "code"
                and "raise NotImplementedError()" in "".join(c["source"]))
    ran, python = run_alone(ASSIGNMENT, tmp_path, archive, stop=stub + 1)
    assert ran == code_cell_ids(ASSIGNMENT, stub + 1) and ran[0] == bootstrap.CELL_ID
    assert len(ran) >= 4, "it stopped before the data were loaded"
    assert Path(installed_course(python, tmp_path)["file"]).resolve().is_relative_to((tmp_path / "venv").resolve())
    grade_id = cells[stub]["metadata"]["nbgrader"]["grade_id"]
    solution = "".join(cell_of(solution_notebook(ASSIGNMENT.stem), grade_id)["source"])
    driver = ("import sys, numpy as np\nfrom autograder.feedback import check\n"
              "exec(sys.argv[1])\ncheck(sys.argv[2], globals()[sys.argv[3]])\n")
    work = tmp_path / "alone"
    work.mkdir()
    env = stand_in_env(tmp_path, archive)
    for source, passes in ((solution, True), (solution.replace("-max_value, max_value", "-max_value, None"), False)):
        result = subprocess.run([str(python), "-c", driver, source, ASSIGNMENT.stem, grade_id], cwd=work, env=env,
                                capture_output=True, text=True, timeout=300)
        assert (result.returncode == 0) == passes, result.stderr[-2000:]
        assert f"{grade_id}: passed" in result.stdout if passes else "AssertionError" in result.stderr
