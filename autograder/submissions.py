"""Finding a class's submissions: one notebook (or a reason why not) per student.

Accepted layouts, also inside a zip (an LMS export), where one enclosing folder is looked through:

* a folder of notebooks, one per student: the file name is the student id;
* a folder of student folders, each holding the student's notebook somewhere inside;
* nbgrader's exchange layout, ``submitted/<student>/<assignment>/<assignment>.ipynb``.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
UNPACKED_MARKER = ".complete"  # written last, so a half-unpacked zip is unpacked again


@dataclass(frozen=True)
class Submission:
    student: str
    notebook: Path | None  # None when there is nothing to grade
    problem: str = ""  # why it cannot be graded, in one line; empty when it can


def student_id(name: str) -> str:
    """A folder-safe student id from a file or folder name."""
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name).strip(".") or "_"


def unpack(archive: Path, into: Path) -> Path:
    """Unpack a zip into ``into`` once (a finished unpacking is reused), refusing paths that climb out of it.

    A member larger than MAX_NOTEBOOK_BYTES is cut just past that size: it is reported as too large
    without being written out whole (a zip bomb stays small on disk)."""
    if (into / UNPACKED_MARKER).exists():
        return into
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            target = (into / member.filename).resolve()
            if member.is_dir() or into.resolve() not in target.parents:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as source, open(target, "wb") as sink:
                sink.write(source.read(MAX_NOTEBOOK_BYTES + 1))
    (into / UNPACKED_MARKER).write_text("")
    return into


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())


def pick(student: str, folder: Path, assignment_id: str) -> Submission:
    """The student's notebook in their folder: the only one, or the one named after the assignment."""
    found = _notebooks(folder)
    named = [p for p in found if p.name == f"{assignment_id}.ipynb"]
    if len(found) == 1 or len(named) == 1:
        return Submission(student, (named or found)[0])
    if not found:
        return Submission(student, None, "no notebook (.ipynb) in the submission")
    return Submission(student, None, f"{len(found)} notebooks and none of them named {assignment_id}.ipynb")


def _root(folder: Path) -> Path:
    """Look through a single enclosing folder, as zips of a folder have."""
    entries = [p for p in folder.iterdir() if p.name != UNPACKED_MARKER and not p.name.startswith("__MACOSX")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder


def find(source: Path, assignment_id: str, scratch: Path) -> list[Submission]:
    """Every student's submission in ``source`` (a folder or a zip), sorted by student id.

    ``scratch`` is where a zip is unpacked. Two entries that map to the same student id are both
    reported as a problem rather than one silently replacing the other."""
    source = Path(source)
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"{source} is neither a folder nor a zip file")
        source = unpack(source, scratch)
    root = _root(source)
    if (root / "submitted").is_dir():  # nbgrader's exchange layout
        root = root / "submitted"
    found: dict[str, list[Submission]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):  # hidden files, and our own UNPACKED_MARKER
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            student = student_id(entry.stem)
            found.setdefault(student, []).append(Submission(student, entry))
        elif entry.is_dir():
            student = student_id(entry.name)
            folder = entry / assignment_id if (entry / assignment_id).is_dir() else entry
            found.setdefault(student, []).append(pick(student, folder, assignment_id))
    return [subs[0] if len(subs) == 1 else Submission(student, None, "two submissions under the same student id")
            for student, subs in sorted(found.items())]


def problem_with(notebook: Path) -> str:
    """A reason not to grade this file at all (empty if it may be graded)."""
    size = notebook.stat().st_size
    if size == 0:
        return "the notebook file is empty"
    if size > MAX_NOTEBOOK_BYTES:
        return f"the notebook is over {MAX_NOTEBOOK_BYTES // 2**20} MB"
    return ""
