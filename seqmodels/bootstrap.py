"""The launch cell: how a chapter or an assignment gets the course library where there is no checkout (Colab).

Every chapter (``book/``) and every assignment (``solutions/``, hence ``assignments/``) has the same first code
cell, with the id ``colab-setup``. Where ``seqmodels`` can be imported (a checkout, Binder, the grader) it does
nothing. Elsewhere it pip-installs this project, with its ``colab`` extra (pyproject.toml), from the repository's
archive at the branch set in ``_config.yml``. That is the branch the launch buttons open, so the library a
learner gets matches the notebook they opened.

The cell runs before the library exists, so it has to spell out the archive's address. :func:`cell_source`
derives it from ``_config.yml``, the one place that names the repository. ``python -m seqmodels.bootstrap``
writes the cell into every chapter and solution notebook and regenerates the student versions of the solutions
it changed (``nbgrader generate_assignment``), then their check packs (which nbgrader removes);
tests/test_colab_sources.py checks every notebook against :func:`cell_source`. This module serves a checkout only: it reads and writes the repository's files.

The environment variable ``SEQMODELS_PACKAGE``, when set, replaces the archive's address with another source
pip accepts in ``name @ URL`` (an archive or a wheel, ``file://`` for a local one). It is the test seam:
tests/test_colab.py points it at a zip of this checkout and runs notebooks through the cell, offline. It also
lets a maintainer try a fork's branch on Colab.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "colab-setup"
CELL_METADATA = {"tags": ["remove-cell"]}  # the book hides it: its pages run where the library is installed
SEAM = "SEQMODELS_PACKAGE"
EXTRA = "colab"

_TEMPLATE = '''\
# Colab has no copy of this course: install its library from the repository, at the branch these notebooks
# come from. In a checkout or on Binder, where the library is installed, this does nothing.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("seqmodels") is None:
    source = os.environ.get("{seam}", "{archive}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"{requirement} @ {{source}}"], check=True)
    importlib.invalidate_caches()'''


def repository(root: Path = ROOT) -> tuple[str, str]:
    """(url, branch) of the repository, as ``_config.yml`` sets them."""
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return config["url"].rstrip("/"), config["branch"]


def archive_url(url: str, branch: str) -> str:
    """The zip of the repository at ``branch`` (a branch, a tag or a commit), which pip builds and installs."""
    return f"{url}/archive/{branch}.zip"


def cell_source(root: Path = ROOT) -> str:
    """The launch cell's code, for the repository and the project that ``root`` holds."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    if EXTRA not in project.get("optional-dependencies", {}):
        raise ValueError(f"pyproject.toml has no [project.optional-dependencies] {EXTRA}")
    return _TEMPLATE.format(seam=SEAM, archive=archive_url(*repository(root)),
                            requirement=f"{project['name']}[{EXTRA}]")


def notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks that carry the cell by hand: the chapters and the assignments' sources."""
    return sorted((root / "book").glob("*.ipynb")) + sorted((root / "solutions").glob("*/*.ipynb"))


def write_cell(path: Path, source: str) -> bool:
    """Make the notebook's cell ``colab-setup`` hold ``source``, adding it before the first code cell if it has
    none. True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    cells = [cell for cell in nb.cells if cell.get("id") == CELL_ID]
    if cells:
        cell = cells[0]
        if cell.source == source and cell.metadata == CELL_METADATA:
            return False
        cell.source, cell.metadata = source, nbformat.from_dict(CELL_METADATA)
    else:
        cell = nbformat.v4.new_code_cell(source, id=CELL_ID, metadata=CELL_METADATA)
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        nb.cells.insert(first_code, cell)
    nbformat.write(nb, path)
    return True


def main() -> int:
    """Write the launch cell into every notebook that lacks it or holds another, and regenerate the student
    version of each assignment whose source changed, and its check pack, with the commands the README gives
    instructors."""
    source = cell_source()
    changed = [path for path in notebooks() if write_cell(path, source)]
    for path in changed:
        print(f"wrote the launch cell into {path.relative_to(ROOT)}")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    for path in changed:
        if path.parent.parent == ROOT / "solutions":
            subprocess.run([str(nbgrader), "generate_assignment", path.stem, "--force"], cwd=ROOT, check=True)
            # nbgrader empties assignments/<id>/ first: the check pack beside the notebook is written again.
            subprocess.run([sys.executable, "-m", "autograder.packbuild", path.stem], cwd=ROOT, check=True)
    if not changed:
        print("every notebook already has the launch cell of _config.yml's repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
