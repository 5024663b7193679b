"""A Gradescope autograder bundle for one assignment, and what it runs for each submission.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once to build its image, and
then ``run_autograder`` once per submission, with the student's files in ``/autograder/submission``;
it reads the grade from ``/autograder/results/results.json``. Each submission gets a container of its
own, which is how a large class scales out. The bundle holds the course packages, the pinned
requirements, and the solution notebook the reference answers come from. The solution is as safe
there as in a checkout: the grader always runs in strict mode, where the graded code can read only
the interpreter, its libraries and the course packages, never ``source/solutions``. A submission is
read, checked and graded exactly as ``batch`` grades one student (:func:`autograder.batch.grade_submission`),
so a notebook gets the same result here, from ``batch`` and from ``grade``; its messages are escaped
for Gradescope's markdown (:mod:`autograder.escape`).

``AUTOGRADER_ROOT`` (default ``/autograder``) and ``AUTOGRADER_PYTHON`` let a test run the bundle in a
temporary folder with the course's own interpreter.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from autograder.runtime import REPO, solution_path

PACKAGES = ("autograder", "seqmodels", "data")
FILES = ("requirements.txt", "pyproject.toml", "LICENSE", "LICENSE-CONTENT.md", "DATA-LICENSES.md")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image: a venv with the course's
# pinned requirements.
set -euo pipefail
cd "$(dirname "$0")"
apt-get update
apt-get install -y python3 python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -r requirements.txt
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the notebook in submission/ into results/results.json,
# always in the strict sandbox.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
cd "$ROOT/source"
exec "$PYTHON" -c 'import sys; from autograder.gradescope import run; sys.exit(run(*sys.argv[1:]))' \\
    {assignment} "$ROOT/submission" "$ROOT/results/results.json"
"""


def build(assignment_id: str, output: Path) -> list[str]:
    """Write the bundle for ``assignment_id`` to ``output`` (a zip); returns the names it holds."""
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_script(zf, "setup.sh", SETUP)
        _add_script(zf, "run_autograder", RUN.format(assignment=assignment_id))
        for name in FILES:
            zf.write(REPO / name, name)
        for package in PACKAGES:
            for path in sorted((REPO / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(REPO).as_posix())
        solution = solution_path(assignment_id)
        zf.write(solution, solution.relative_to(REPO).as_posix())
        return zf.namelist()


def _add_script(zf: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o100755 << 16  # executable, as Gradescope needs
    zf.writestr(info, text)


def run(assignment_id: str, submission_dir: str, results_path: str) -> int:
    """Grade the one notebook in ``submission_dir`` into ``results_path``, as ``batch`` grades one student (the
    same checks, the same zero with a reason for whatever cannot be graded); 0 once a result is written."""
    from autograder.batch import grade_submission, problem_result, write_atomically
    from autograder.submissions import pick

    results = Path(results_path)
    found = pick("submission", Path(submission_dir), assignment_id)
    if found.notebook is None:
        result = problem_result(assignment_id, found.problem)
    else:
        result = grade_submission(found.notebook, assignment_id, protected=[results.parent])
    write_atomically(results, json.dumps(result, indent=2) + "\n")
    return 0
