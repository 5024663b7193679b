"""A Gradescope autograder bundle for one assignment, and what it runs for each submission.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once, as root, to build its
image (Ubuntu 22.04 or 24.04), and then ``run_autograder`` once per submission, as root in a Docker
container of its own, with the student's files in ``/autograder/submission``; it reads the grade from
``/autograder/results/results.json``. The bundle holds the course packages, the pinned requirements,
and the solution notebook the reference answers come from.

``setup.sh`` gets the interpreter at build time, never while grading: Ubuntu 22.04's ``python3`` is
3.10, which the pins do not support, and its only ``python3.11`` package is a 3.11.0 release
candidate (jammy-updates, universe) without security updates, so the bundle installs a standalone
CPython (:data:`PYTHON_VERSION`, the minor version CI tests) with ``uv`` (:data:`UV_VERSION`, from
PyPI, into a venv of the distribution's ``python3``; ``uv`` checks the download against the checksum it
ships with) on both images, so that both grade with the same interpreter. torch comes from PyTorch's
CPU index (the same pin, without CUDA). It then makes the image ready for the confinement without
Landlock (:mod:`autograder.confine`): the account ``autograder-sandbox``, and the solutions mode 0700.
Last, it grades the solution and a cheat that reads the solution notebook (:func:`self_test`): a
bundle that cannot confine, or grades wrongly, fails its build, visibly.

Each submission is graded in the strict sandbox, exactly as ``batch`` grades one student
(:func:`autograder.batch.grade_submission`), so a notebook gets the same result here, from ``batch``
and from ``grade``. Where the graded code cannot be confined (no Landlock, and not the account, the
seccomp filter and secrets out of its reach), or a job's sandbox could not be set up, ``run`` writes
no results.json and exits non-zero with one line: Gradescope shows the instructor a failed autograder
run and records no zero for the student. results.json follows Gradescope's specification (see
:func:`for_gradescope`).

``AUTOGRADER_ROOT`` (default ``/autograder``) and ``AUTOGRADER_PYTHON`` let a test run the bundle in a
temporary folder with the course's own interpreter.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from autograder.confine import SANDBOX_ACCOUNT
from autograder.runtime import REPO, solution_path

PACKAGES = ("autograder", "seqmodels", "data")
FILES = ("requirements.txt", "pyproject.toml", "LICENSE", "LICENSE-CONTENT.md", "DATA-LICENSES.md")
PYTHON_VERSION = "3.11.18"  # CPython from python-build-standalone, through uv
UV_VERSION = "0.13.9"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REFUSED = 3  # run_autograder's exit status when it cannot grade safely

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu 22.04 or 24.04). Every
# download happens here, none while grading. See autograder/gradescope.py for the choices.
set -euo pipefail
cd "$(dirname "$0")"  # /autograder/source
PYTHON_VERSION={python_version}
UV_VERSION={uv_version}
TOOLS=/opt/autograder  # world-readable: without Landlock the graded code runs as an unprivileged uid
export DEBIAN_FRONTEND=noninteractive
umask 022
apt-get update
apt-get install -y --no-install-recommends ca-certificates python3 python3-venv
if [ -n "${{AUTOGRADER_BASE_PYTHON:-}}" ]; then  # an image that has a Python >= 3.11 of its own
  base="$AUTOGRADER_BASE_PYTHON"
else  # 22.04's python3 is 3.10: a standalone CPython, the same on both images
  python3 -m venv "$TOOLS/uv"
  "$TOOLS/uv/bin/pip" install --no-cache-dir "uv==$UV_VERSION"
  export UV_PYTHON_INSTALL_DIR="$TOOLS/python"
  "$TOOLS/uv/bin/uv" python install --no-bin "$PYTHON_VERSION"
  base="$("$TOOLS/uv/bin/uv" python find --managed-python --no-project "$PYTHON_VERSION")"
fi
"$base" -c 'import sys; sys.exit(f"Python {{sys.version.split()[0]}}: the pins need 3.11 or later"
                       if sys.version_info < (3, 11) else 0)'
"$base" -m venv /autograder/venv
# The CPU build of the pinned torch first (PyPI's Linux wheel is the CUDA one), then the pins, which it satisfies.
/autograder/venv/bin/pip install --no-cache-dir --index-url {cpu_index} \
  "$(grep -oE '^torch==[^ #]+' requirements.txt)"
/autograder/venv/bin/pip install --no-cache-dir -r requirements.txt
/autograder/venv/bin/python -c 'import sys, torch
sys.exit(f"torch {{torch.__version__}} is a CUDA build" if torch.version.cuda else 0)'
# Without Landlock the graded code runs in this account's group, as a uid of its job's own, and must not reach
# the solutions (run_autograder protects the submission, the results and the metadata the same way).
id -u {account} >/dev/null 2>&1 || \
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin {account}
chmod -R go-rwx solutions
# Grade the solution and a cheat that reads it: the build fails here if the sandbox cannot confine or grades wrongly.
/autograder/venv/bin/python -m autograder.gradescope selftest {assignment}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root: grade the notebook in submission/ into results/results.json,
# always in the strict sandbox. If the graded code cannot be confined it writes no results.json and exits non-zero
# with one line, so that Gradescope reports a failed autograder run rather than recording a zero.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
# Out of the graded code's reach where it runs as an unprivileged uid (no Landlock): the submission, the
# results, the solutions, and Gradescope's metadata (names and emails).
chmod 0700 "$ROOT/submission" "$ROOT/results"
chmod -R go-rwx "$ROOT/source/solutions"
if [ -e "$ROOT/submission_metadata.json" ]; then chmod 0600 "$ROOT/submission_metadata.json"; fi
cd "$ROOT/source"
exec "$PYTHON" -m autograder.gradescope run {assignment} "$ROOT/submission" "$ROOT/results/results.json"
"""


def build(assignment_id: str, output: Path) -> list[str]:
    """Write the bundle for ``assignment_id`` to ``output`` (a zip); returns the names it holds."""
    setup = SETUP.format(python_version=PYTHON_VERSION, uv_version=UV_VERSION, cpu_index=CPU_INDEX,
                         account=SANDBOX_ACCOUNT, assignment=assignment_id)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_script(zf, "setup.sh", setup)
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


# Each function's result is shown to the student at once: the score and the messages are the feedback the course
# is built around, they name mistakes without quoting the reference, and what the graded code can send out through
# them is bounded (see autograder.grade). Nothing is held back until after the due date ("after_due_date" would).
VISIBILITY = "visible"
OWN_KEYS = ("assignment", "student", "notebook", "problem")  # ours, not Gradescope's: under extra_data


def for_gradescope(result: dict, seconds: float) -> dict:
    """``result`` (the shape ``batch`` writes) as Gradescope's results.json specification has it: our own keys
    under ``extra_data``, the run's ``execution_time`` in whole seconds (rounded up), each test's ``status`` and
    ``visibility``; the messages stay markdown (``output_format`` "md"), escaped where they came from the
    submission."""
    shaped = {key: value for key, value in result.items() if key not in OWN_KEYS}
    shaped["execution_time"] = math.ceil(seconds)  # whole seconds (Gradescope's integer), a fast run 1 not 0
    shaped["stdout_visibility"] = "hidden"  # the log names the sandbox's layers: for the instructor
    shaped["extra_data"] = {key: result[key] for key in OWN_KEYS if key in result}
    shaped["tests"] = [{**test, "status": "passed" if test["score"] >= test["max_score"] else "failed",
                        "visibility": VISIBILITY} for test in result["tests"]]
    return shaped


def run(assignment_id: str, submission_dir: str, results_path: str) -> int:
    """Grade the one notebook in ``submission_dir`` into ``results_path``, as ``batch`` grades one student (the
    same checks, the same zero with a reason for whatever cannot be graded): 0 once a result is written.

    :data:`REFUSED`, with one line on stderr and no result written, where the graded code could not be confined."""
    from autograder import sandbox
    from autograder.batch import grade_submission, problem_result, write_atomically
    from autograder.grade import sandbox_problems
    from autograder.submissions import pick

    start = time.monotonic()
    print(sandbox.status().describe())  # in Gradescope's log, for the instructor
    results, submission = Path(results_path), Path(submission_dir)
    protected = [results.parent, *[p for p in (submission.parent / "submission_metadata.json",) if p.exists()]]
    # Checked first, whatever was submitted: the folder of any notebook in it is what must be out of reach.
    if problems := sandbox_problems(submission / "submission.ipynb", protected):
        return _refuse(results, "the graded code cannot be confined here, so nothing was graded: "
                       + "; ".join(problems))
    found = pick("submission", submission, assignment_id)
    if found.notebook is None:
        result = problem_result(assignment_id, found.problem)
    else:
        result = grade_submission(found.notebook, assignment_id, protected=protected)
        result["notebook"] = found.notebook.name  # data in extra_data, never shown: not escaped
    if sandbox.setup_errors:
        return _refuse(results, f"the sandbox could not be set up for {len(sandbox.setup_errors)} graded "
                       f"function(s), so nothing was recorded: {sandbox.setup_errors[0]}")
    write_atomically(results, json.dumps(for_gradescope(result, time.monotonic() - start), indent=2) + "\n")
    return 0


def _refuse(results: Path, reason: str) -> int:
    """No results.json (not even one left from before): Gradescope then reports a failed run, and no score."""
    results.unlink(missing_ok=True)
    print("run_autograder: " + " ".join(reason.split()), file=sys.stderr)
    return REFUSED


# A submission whose first graded function reads the solution notebook from where the bundle keeps it (beside the
# course packages, which the graded code imports) and runs the solution's own code.
CHEAT = '''
def {name}(*args, **kwargs):
    import json, pathlib
    import autograder
    for place in (pathlib.Path(autograder.__file__).resolve().parents[1], pathlib.Path("/autograder/source")):
        try:
            cells = json.loads((place / "solutions" / "{id}" / "{id}.ipynb").read_text())["cells"]
        except OSError:
            continue
        source = next("".join(c["source"]) for c in cells
                      if c["metadata"].get("nbgrader", {{}}).get("grade_id") == "{name}")
        scope = {{}}
        exec(source, globals(), scope)
        return scope["{name}"](*args, **kwargs)
    raise RuntimeError("no solution found")
'''


def self_test(assignment_id: str) -> int:
    """Grade the solution and :data:`CHEAT` as ``run_autograder`` grades a submission; 0 if the solution gets full
    marks and the cheat gets none for the function it cheats on (the solution out of its reach) and full marks
    for the rest. Prints one line per submission, and what was wrong."""
    from autograder.assignments import get_assignment
    from autograder.notebook import read_notebook

    honest = read_notebook(solution_path(assignment_id))
    name = get_assignment(assignment_id).functions[0].name
    cheat = json.loads(json.dumps(honest))
    cells = [c for c in cheat["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == name]
    cells[0]["source"] = CHEAT.format(name=name, id=assignment_id)
    wrong = []
    with tempfile.TemporaryDirectory(prefix="gradescope-selftest-") as folder:  # mode 0700: out of reach
        for label, notebook in (("solution", honest), ("cheat", cheat)):
            submission, results = Path(folder, label, "submission"), Path(folder, label, "results")
            submission.mkdir(parents=True)
            (submission / f"{assignment_id}.ipynb").write_text(json.dumps(notebook))
            code = run(assignment_id, str(submission), str(results / "results.json"))
            if code != 0:
                return code  # run() said why
            tests = {t["name"]: t for t in json.loads((results / "results.json").read_text())["tests"]}
            print(f"self-test, {label}: "
                  + ", ".join(f"{n} {t['score']:g}/{t['max_score']:g}" for n, t in tests.items()))
            for test_name, test in tests.items():
                if label == "cheat" and test_name == name:
                    if test["score"] != 0 or "no solution found" not in test["output"]:
                        wrong.append(f"the cheat on {name} was not stopped by the sandbox: {test['output'][:300]}")
                elif test["score"] != test["max_score"]:
                    wrong.append(f"the solution's {test_name} ({label}) lost points: {test['output'][:300]}")
    for line in wrong:
        print("self-test failed: " + line, file=sys.stderr)
    return 1 if wrong else 0


def main(argv: list[str]) -> int:
    """``run ID SUBMISSION RESULTS`` (what run_autograder calls) or ``selftest ID`` (what setup.sh calls)."""
    if argv[:1] == ["run"] and len(argv) == 4:
        return run(*argv[1:])
    if argv[:1] == ["selftest"] and len(argv) == 2:
        return self_test(argv[1])
    print("usage: python -m autograder.gradescope run ID SUBMISSION RESULTS | selftest ID", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
