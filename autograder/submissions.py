"""Finding a class's submissions: one notebook (or a reason why not) per student.

Accepted layouts, also inside a zip (an LMS export), where one enclosing folder is looked through:

* a folder of notebooks, one per student: the file name is the student id;
* a folder of student folders, each holding the student's notebook somewhere inside;
* nbgrader's exchange layout, ``submitted/<student>/<assignment>/<assignment>.ipynb``.

Only a regular file inside the student's own folder is a student's work: a symbolic link (to a
classmate's notebook, into the solutions) or anything that resolves outside that folder gives the
student a zero with the reason, and links to folders are not followed. Student ids are injective:
a plain name (letters, digits, ``_ @ + -``, dots inside) is kept as it is, any other character is
written as ``%XX`` (its UTF-8 bytes), so ``alice`` and ``alice.`` stay two students; an id is never
a path (no ``/``, ``.`` or ``..``). Nothing here reads a notebook: that is done once, when it is
graded (:func:`autograder.notebook.read_notebook`).

From a zip only the notebooks (``*.ipynb``) are unpacked, each cut just past MAX_NOTEBOOK_BYTES
(so that it is reported as too large without a bomb being written out whole), and a zip whose
notebooks unpack to more than :func:`unpacked_limit` is refused.
"""

from __future__ import annotations

import hashlib
import os
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.notebook import MAX_NOTEBOOK_BYTES
from autograder.removal import remove_tree

UNPACKED_MARKER = ".complete"  # written last, so a half-unpacked zip is unpacked again
MAX_UNPACKED_BYTES = 4 * 2**30
MAX_DEPTH = 8  # folder levels searched for notebooks below a student's folder
MAX_ID = 120  # characters; a longer id is cut and ends with a hash of the whole name
_PLAIN = frozenset(string.ascii_letters + string.digits + "_@+-")


@dataclass(frozen=True)
class Submission:
    student: str
    notebook: Path | None  # None when there is nothing to grade
    problem: str = ""  # why it cannot be graded, in one line; empty when it can


def student_id(name: str) -> str:
    """The student id of a file or folder name (see the module's docstring): different names, different ids."""
    last = len(name) - 1
    encoded = "".join(ch if ch in _PLAIN or (ch == "." and 0 < i < last)
                      else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
                      for i, ch in enumerate(name))
    if len(encoded) <= MAX_ID:
        return encoded
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"{encoded[:MAX_ID - 25]}~{digest}"  # "~" is never kept as it is, so no plain id ends this way


def unpacked_limit(archive_bytes: int) -> int:
    """How much a zip of ``archive_bytes`` may unpack to: room for any one notebook however well it compresses,
    then 50 times the zip (a class's notebooks compress less than 10 times), and never more than MAX_UNPACKED_BYTES."""
    return min(MAX_UNPACKED_BYTES, 5 * MAX_NOTEBOOK_BYTES + 50 * archive_bytes)


def unpack(archive: Path, into: Path) -> Path:
    """Unpack the notebooks of a zip into ``into`` once (a finished unpacking is reused), refusing paths that climb
    out of it; ValueError if they unpack to more than :func:`unpacked_limit` (by the sizes the zip declares, then
    by the bytes actually written, since a declared size may lie)."""
    if (into / UNPACKED_MARKER).exists():
        return into
    remove_tree(into)
    into.mkdir(parents=True)
    base = into.resolve()
    limit = unpacked_limit(archive.stat().st_size)
    too_large = ValueError(f"{archive.name} unpacks to more than {limit // 2**20} MB of notebooks (a zip bomb?); "
                           "unpack it yourself and grade the folder")
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir() and m.filename.endswith(".ipynb")]
        total = sum(min(m.file_size, MAX_NOTEBOOK_BYTES + 1) for m in members)
        if total > limit:
            raise too_large
        total = 0
        for member in members:
            target = (into / member.filename).resolve()
            if base in target.parents:
                total += _unpack_one(zf, member, target, min(MAX_NOTEBOOK_BYTES + 1, limit - total + 1))
            if total > limit:
                raise too_large
    (into / UNPACKED_MARKER).write_text("")
    return into


def _unpack_one(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, most: int) -> int:
    """Write at most ``most`` bytes of ``member`` to ``target``; how many were written. A member that cannot be
    read to its end (damaged, encrypted) is written as far as it could be read: it will not be valid JSON."""
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as sink:
            try:
                with zf.open(member) as source:
                    while written < most and (chunk := source.read(min(1 << 20, most - written))):
                        sink.write(chunk)
                        written += len(chunk)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError):
                pass
    except OSError:  # a name too long for this file system, say: that notebook is not unpacked
        pass
    return written


def _notebooks(folder: Path) -> list[Path]:
    """The files named *.ipynb in ``folder``, at most MAX_DEPTH levels down, checkpoints left out. Links named so are
    listed too (to be refused if chosen); links to folders are not followed."""
    found, todo = [], [(folder, 0)]
    while todo:
        current, depth = todo.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if depth < MAX_DEPTH and entry.name != ".ipynb_checkpoints":
                            todo.append((Path(entry.path), depth + 1))
                    elif entry.name.endswith(".ipynb") and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
                        found.append(Path(entry.path))
        except OSError:  # unreadable: nothing to grade in there
            continue
    return sorted(found)


def pick(student: str, folder: Path, assignment_id: str) -> Submission:
    """The student's notebook in their folder: the only one, or the one named after the assignment."""
    found = _notebooks(folder)
    named = [p for p in found if p.name == f"{assignment_id}.ipynb"]
    if len(found) == 1 or len(named) == 1:
        return _own(student, (named or found)[0], folder)
    if not found:
        return Submission(student, None, "no notebook (.ipynb) in the submission")
    return Submission(student, None, f"{len(found)} notebooks and none of them named {assignment_id}.ipynb")


def _own(student: str, notebook: Path, folder: Path) -> Submission:
    """The submission of ``notebook``, if it is a regular file that lies in ``folder``; a zero with the reason if not."""
    if notebook.is_symlink():
        return Submission(student, None, f"{notebook.name} is a symbolic link; only the notebook itself is graded")
    if Path(folder).resolve() not in notebook.resolve().parents:
        return Submission(student, None, f"{notebook.name} lies outside the student's folder")
    return Submission(student, notebook)


def _root(folder: Path) -> Path:
    """Look through a single enclosing folder, as zips of a folder have."""
    entries = [p for p in folder.iterdir() if p.name != UNPACKED_MARKER and not p.name.startswith("__MACOSX")]
    only = entries[0] if len(entries) == 1 else None
    return only if only is not None and only.is_dir() and not only.is_symlink() else folder


def find(source: Path, assignment_id: str, scratch: Path) -> list[Submission]:
    """Every student's submission in ``source`` (a folder or a zip), sorted by student id.

    ``scratch`` is where a zip is unpacked. A notebook file and a folder with the same name are the
    same student id: both are reported, by name, rather than one silently replacing the other."""
    source = Path(source)
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"{source} is neither a folder nor a zip file")
        source = unpack(source, scratch)
    root = _root(source.resolve())
    if (root / "submitted").is_dir() and not (root / "submitted").is_symlink():  # nbgrader's exchange layout
        root = root / "submitted"
    found: dict[str, list[tuple[str, Submission]]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):  # hidden files, and our own UNPACKED_MARKER
            continue
        if entry.is_symlink() and (entry.suffix == ".ipynb" or entry.is_dir()):
            student = student_id(entry.stem if entry.suffix == ".ipynb" else entry.name)
            found.setdefault(student, []).append((entry.name, Submission(
                student, None, f"{entry.name} is a symbolic link; only the notebook itself is graded")))
        elif entry.is_file() and entry.suffix == ".ipynb":
            student = student_id(entry.stem)
            found.setdefault(student, []).append((entry.name, _own(student, entry, root)))
        elif entry.is_dir():
            student = student_id(entry.name)
            folder = entry / assignment_id
            folder = folder if folder.is_dir() and not folder.is_symlink() else entry
            found.setdefault(student, []).append((entry.name + "/", pick(student, folder, assignment_id)))
    return [subs[0][1] if len(subs) == 1 else
            Submission(student, None, f"two submissions for one student id: {' and '.join(n for n, _ in subs)}")
            for student, subs in sorted(found.items())]
