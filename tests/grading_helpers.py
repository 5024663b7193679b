"""Helpers for the grader's tests: notebooks with one cell changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
import zipfile
from pathlib import Path
from typing import Any, Callable

from autograder.grade import grade
from autograder.runtime import REPO, solution_path


def solution_notebook(assignment_id: str) -> dict:
    return json.loads(solution_path(assignment_id).read_text())


def cell_of(nb: dict, grade_id: str) -> dict:
    (cell,) = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def with_cell_edit(nb: dict, grade_id: str, old: str, new: str) -> dict:
    """A copy of ``nb`` in which ``old`` (which must occur once) becomes ``new`` in one cell."""
    nb = json.loads(json.dumps(nb))
    cell = cell_of(nb, grade_id)
    source = "".join(cell["source"])
    assert source.count(old) == 1, f"{old!r} must occur exactly once in {grade_id}"
    cell["source"] = source.replace(old, new)
    return nb


def with_cell_source(nb: dict, grade_id: str, source: str) -> dict:
    nb = json.loads(json.dumps(nb))
    cell_of(nb, grade_id)["source"] = source
    return nb


def scores(report) -> dict[str, tuple[float, float]]:
    """{function: (score, max_score)} of a grading report."""
    return {r.name: (r.score, r.max_score) for r in report.results}


def by_name(report) -> dict:
    """The results of a grading report, by function name."""
    return {r.name: r for r in report.results}


def write(nb: dict, directory: Path, assignment_id: str) -> Path:
    path = directory / f"{assignment_id}.ipynb"
    path.write_text(json.dumps(nb))
    return path


def assert_mutant_caught(tmp_path: Path, assignment_id: str, function: str, old: str, new: str, message: str,
                         first: bool = False) -> None:
    """The solution with one bug loses the function's points, and a message (with ``first``, the first one)
    contains ``message``."""
    path = write(with_cell_edit(solution_notebook(assignment_id), function, old, new), tmp_path, assignment_id)
    (result,) = grade(path, only={function}).results
    assert result.score == 0, f"the mutant kept its points: {result.messages}"
    shown = result.messages[:1] if first else result.messages
    assert any(message in m for m in shown), result.messages


def graded_with_sources(tmp_path: Path, assignment_id: str, sources: dict[str, str],
                        only: set[str] | None = None) -> dict:
    """Grade the solution notebook with some graded cells replaced ({grade_id: source}); results by name.

    ``only`` limits grading to those functions, for assignments whose full grading is slow."""
    nb = solution_notebook(assignment_id)
    for grade_id, source in sources.items():
        nb = with_cell_source(nb, grade_id, source)
    return by_name(grade(write(nb, tmp_path, assignment_id), only=only))


def unpacked_bundle(assignment_id: str, root: Path) -> Path:
    """``root``/source: the Gradescope bundle of ``assignment_id``, built with the instructors' command and
    unpacked with its files' modes (zipfile does not restore them; Gradescope's unzip does)."""
    bundle = root / "bundle.zip"
    built = subprocess.run([sys.executable, "-m", "autograder", "gradescope", assignment_id, "-o", str(bundle)],
                           cwd=REPO, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) or 0o644)
    return root / "source"


NOBODY = 65534  # the uid and gid of the ordinary user the tests become, when they run as root


def in_child(work: Callable[[], Any], as_nobody: bool = False) -> Any:
    """What ``work()`` returns (through JSON), run in a forked child: as uid and gid ``NOBODY`` with no groups if
    ``as_nobody``. A child that raised fails the test with its traceback."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            if as_nobody:
                os.setgroups([])
                os.setresgid(NOBODY, NOBODY, NOBODY)
                os.setresuid(NOBODY, NOBODY, NOBODY)
            os.write(write_end, json.dumps(work()).encode())
            code = 0
        except BaseException:  # noqa: BLE001 - reported by the test
            os.write(write_end, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with open(read_end, "rb") as pipe:
        data = pipe.read().decode()
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, data
    return json.loads(data)
