"""Reading notebooks: the graded code of a submission, and the points of a solution.

The grader never runs a notebook top to bottom. It keeps the setup cells and the solution
cells (found by their nbgrader ``grade_id``), and from those only the statements that define
things: imports and function or class definitions (plus assignments in setup cells). Training
loops, plots and stray test calls are left out, so importing a submission is quick and a
``sys.exit()`` typed at the top level of a cell does nothing.

A notebook file is read once, by :func:`read_notebook`, in a separate process with its own memory
and CPU limits (:mod:`autograder.isolated`): a hostile file (JSON nested thousands deep, millions of
tiny values, a cell holding one enormous expression) costs that process, never the grader. The
reader checks the structure (cells are objects, sources are text, nbgrader metadata is well formed),
drops what the grader never uses (outputs, attachments, other metadata), keeps at most
MAX_CELL_CHARS of a cell and MAX_TEXT_CHARS of a notebook, and splits each code cell it keeps
into its top-level statements (:func:`split_statements`). Everything after works on that checked
form, a plain dict, and parses no code of the submission again.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import isolated, syntax
from autograder.dataflow import bound_names


class NotebookError(Exception):
    """The file is not a notebook the grader can read; the message says why in one line, without naming the file."""


@dataclass(frozen=True)
class Statement:
    """One top-level statement kept from a notebook cell."""

    source: str
    cell: str  # the cell's grade_id, for messages


MAX_NOTEBOOK_BYTES = 50 * 2**20  # a larger file is not read
MAX_CELLS = 2_000
MAX_CELL_CHARS = 100_000  # 30 times the longest cell of the course's notebooks
MAX_TEXT_CHARS = 1_000_000  # kept per notebook: code cells with a grade_id first, then other code, then the rest
READER_MEMORY = 2**30  # what reading one notebook may add to the grader's address space
READER_CPU_SECONDS = 10
READER_WALL_SECONDS = 60.0  # a generous backstop, for a loaded machine
_MAX_REPLY = 13 * MAX_TEXT_CHARS + 2**24  # the kept text, JSON-escaped, and the statements


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` in its checked form (see the module's docstring); NotebookError otherwise."""
    try:
        return isolated.run_in_host(read_checked, [str(Path(path).absolute())], READER_MEMORY, READER_CPU_SECONDS,
                                    READER_WALL_SECONDS, _MAX_REPLY)
    except isolated.Failed as exc:
        raise NotebookError(str(exc)) from None


@isolated.task
def read_checked(path: str) -> dict:
    """In the reader's limited child: the notebook at ``path``, parsed and checked."""
    return checked(_parse(Path(path)))


def _parse(path: Path) -> Any:
    """The JSON in ``path``: a regular file (a link is not followed) of at most MAX_NOTEBOOK_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise NotebookError("cannot read it: it is a symbolic link" if os.path.islink(path)
                            else f"cannot read it: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError("cannot read it: it is not a regular file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"the file is over {MAX_NOTEBOOK_BYTES // 2**20} MB")
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    if not data:
        raise NotebookError("the file is empty")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None


def checked(nb: Any) -> dict:
    """``nb`` (parsed JSON) in the checked form: ``{"cells": [...]}``, each cell with its ``cell_type``, its
    ``source`` as one string, the ``metadata`` ``nbgrader`` fields the grader uses, and for a code cell its
    ``statements`` (see :func:`split_statements`). A cell not kept has an empty source and ``unread`` (why).
    NotebookError names the first thing that is not as nbformat has it."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("JSON but not a Jupyter notebook (no list of cells)")
    if len(nb["cells"]) > MAX_CELLS:
        raise NotebookError(f"{len(nb['cells']):,} cells, more than the grader reads ({MAX_CELLS:,})")
    cells = [_checked_cell(cell, number) for number, cell in enumerate(nb["cells"], start=1)]
    budget = MAX_TEXT_CHARS
    for cell in sorted(cells, key=lambda c: (c["cell_type"] != "code", not _grade_id(c))):  # sorted() is stable
        size = len(cell["source"])
        unread = (f"it holds {size:,} characters, more than the grader reads in a cell ({MAX_CELL_CHARS:,})"
                  if size > MAX_CELL_CHARS else
                  f"the notebook holds more text than the grader reads ({MAX_TEXT_CHARS:,} characters)"
                  if size > budget else "")
        if unread:
            cell.update(source="", unread=unread)
        budget -= len(cell["source"])
        if cell["cell_type"] == "code":
            cell["statements"] = None if unread else split_statements(cell["source"])
    return {"cells": cells}


def _checked_cell(cell: Any, number: int) -> dict:
    if not isinstance(cell, dict):
        raise NotebookError(f"cell {number} is {_json_kind(cell)}, not an object")
    kind = cell.get("cell_type")
    if not isinstance(kind, str):
        raise NotebookError(f"cell {number}: its cell_type is {_json_kind(kind)}, not text")
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    elif not isinstance(source, str):
        raise NotebookError(f"cell {number}: its source is {_json_kind(source)}, not text or a list of text")
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        raise NotebookError(f"cell {number}: its metadata is {_json_kind(metadata)}, not an object")
    nbgrader = metadata.get("nbgrader", {})
    if not isinstance(nbgrader, dict):
        raise NotebookError(f"cell {number}: its nbgrader metadata is {_json_kind(nbgrader)}, not an object")
    kept = {}
    for key, kinds, what in (("grade_id", (str,), "text"), ("grade", (bool,), "true or false"),
                             ("solution", (bool,), "true or false"), ("points", (int, float), "a number")):
        value = nbgrader.get(key)
        if value is None:
            continue
        if not isinstance(value, kinds) or (key == "points" and (isinstance(value, bool) or not math.isfinite(value))):
            raise NotebookError(f"cell {number}: its nbgrader {key} is {_json_kind(value)}, not {what}")
        kept[key] = value
    if len(kept.get("grade_id", "")) > 200:
        raise NotebookError(f"cell {number}: its nbgrader grade_id is longer than 200 characters")
    return {"cell_type": kind, "source": source, "metadata": {"nbgrader": kept} if kept else {}}


def _json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (the value itself is never quoted: it may be anything)."""
    return {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def split_statements(source: str) -> list[list] | None:
    """The top-level statements of a code cell (IPython magics ignored) that bind a name, as
    ``[first line, last line, kind, names bound, modules imported]``; kind is ``def`` (import, def, class, with
    their decorators), ``assign`` (``=`` or annotated) or ``other``. None when the cell is not Python."""
    try:
        tree = syntax.parse(_strip_magics(source))
        found = []
        for node in tree.body:
            kind = "def" if isinstance(node, _DEFINITIONS) else "assign" if isinstance(node, _SETUP_EXTRA) else "other"
            names, modules = _bound_names(node), _imported(node)
            if kind != "other" or names:
                start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                found.append([start, node.end_lineno, kind, names, modules])
        return found
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: a null byte, before Python 3.11.4
        return None


def _imported(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module]
    return []


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _nbgrader(cell: dict) -> dict:
    """The cell's nbgrader metadata (empty if it has none, or if it is malformed)."""
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _grade_id(cell: dict) -> str | None:
    return _nbgrader(cell).get("grade_id")


def grade_ids(nb: dict) -> set[str]:
    """All nbgrader grade_ids in a notebook."""
    return {gid for cell in nb["cells"] if (gid := _grade_id(cell))}


def points(solution_nb: dict) -> dict[str, float]:
    """Points per graded function: the ``points`` of each ``test_<name>`` grading cell."""
    result: dict[str, float] = {}
    for cell in solution_nb["cells"]:
        nbg = _nbgrader(cell)
        gid = nbg.get("grade_id", "")
        if nbg.get("grade") and gid.startswith("test_"):
            name = gid.removeprefix("test_")
            result[name] = result.get(name, 0.0) + float(nbg.get("points", 0))
    return result


_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SETUP_EXTRA = (ast.Assign, ast.AnnAssign)


def definitions(nb: dict, solution_ids: set[str]) -> list[Statement]:
    """The statements that make up the importable module of ``nb``.

    ``solution_ids`` are the grade_ids of the solution cells in the reference notebook. Cells
    are matched by grade_id; if a learner's notebook has lost its nbgrader metadata, every code
    cell is scanned instead, still keeping definitions only. NotebookError if one of those cells
    was too large to be read.
    """
    code_cells = [(n, c) for n, c in enumerate(nb["cells"], start=1) if c.get("cell_type") == "code"]
    has_ids = any(_grade_id(c) in solution_ids for _, c in code_cells)
    kept: list[Statement] = []
    for number, cell in code_cells:
        gid = _grade_id(cell) or ""
        is_setup = gid.startswith("setup")
        if has_ids and not (is_setup or gid in solution_ids):
            continue
        if "unread" in cell:
            raise NotebookError(f"cell {gid or number} was not read: {cell['unread']}")
        source = _strip_magics(_source(cell))
        statements = _statements(cell)
        if statements is None:
            # Keep the broken cell as one statement so its functions fail with the syntax error.
            kept.append(Statement(source, gid or "cell"))
            continue
        lines = source.splitlines()
        kept += [Statement("\n".join(lines[start - 1 : end]), gid or "cell") for start, end, kind, _, _ in statements
                 if kind == "def" or (is_setup and kind == "assign")]
    return kept


def _statements(cell: dict) -> list[list] | None:
    """The cell's statements as the reader split them; split here for a notebook that was built in memory
    rather than read (the course's own, in tests)."""
    return cell["statements"] if "statements" in cell else split_statements(_source(cell))


def imported_modules(nb: dict) -> list[str]:
    """The modules that the setup and solution cells import at their top level (the imports that
    :func:`definitions` keeps), in order, each once."""
    def run_by_child(cell: dict) -> bool:
        return (_grade_id(cell) or "").startswith("setup") or bool(_nbgrader(cell).get("solution"))

    found: dict[str, None] = {}
    for _, statement in _top_level(nb, run_by_child):
        found.update(dict.fromkeys(statement[4]))
    return list(found)


def _top_level(nb: dict, keep: Callable[[dict], bool]) -> Iterator[tuple[int, list]]:
    """(cell number from 1, statement) for each top-level statement of the code cells that ``keep`` accepts;
    a cell that does not parse, or was not read, is skipped."""
    for number, cell in enumerate(nb["cells"], start=1):
        if cell.get("cell_type") == "code" and keep(cell):
            yield from ((number, statement) for statement in _statements(cell) or ())


def _strip_magics(source: str) -> str:
    """Drop IPython magics and shell escapes, which are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def helper_code(statements: list[Statement], helpers: tuple[str, ...], graded: set[str], exclude: str) -> list[Statement]:
    """The reference code a function needs for its graded ``helpers``, and nothing more.

    ``statements`` are the solution notebook's (setup and solution cells). The result keeps the
    setup statements, the helpers' own cells, and the cells of graded functions those helpers call
    in turn, but never the cell of ``exclude`` (the function being graded) nor any other.
    """
    cells: dict[str, list[Statement]] = {}
    for stmt in statements:
        cells.setdefault(stmt.cell, []).append(stmt)
    needed: set[str] = set()
    todo = [h for h in helpers if h != exclude]
    while todo:
        name = todo.pop()
        if name in needed or name == exclude or name not in cells:
            continue
        needed.add(name)
        todo += sorted(_names_used(cells[name]) & graded)
    return [s for s in statements if s.cell.startswith("setup") or s.cell in needed]


def _names_used(statements: list[Statement]) -> set[str]:
    return {node.id for stmt in statements for node in ast.walk(syntax.parse(stmt.source)) if isinstance(node, ast.Name)}


def public_names(solution_nb: dict) -> set[str]:
    """The identifiers a learner sees in the student version: every cell, solution regions and hidden tests removed.

    Messages may use these names (signatures, docstrings, given lines, text) without showing
    anything of the reference solution.
    """
    kept = []
    for cell in solution_nb["cells"]:
        source = _source(cell)
        hidden = region_lines(source, "SOLUTION", "HIDDEN TESTS")
        kept += [line for number, line in enumerate(source.splitlines(), start=1)
                 if number not in hidden and not _MARKER.search(line)]
    return set(re.findall(r"[A-Za-z_]\w*", "\n".join(kept)))


_MARKER = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")


def region_lines(source: str, *kinds: str) -> set[int]:
    """The line numbers (from 1) strictly inside nbgrader's ``### BEGIN KIND`` ... ``### END KIND`` regions."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if any(f"### BEGIN {kind}" in line for kind in kinds):
            inside = True
        elif any(f"### END {kind}" in line for kind in kinds):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def names_outside(nb: dict, graded: set[str]) -> dict[str, int]:
    """Top-level names bound in code cells that the grader does not run: name -> cell number (from 1).

    A graded function that uses one works in the learner's kernel but not in the grader.
    """
    found: dict[str, int] = {}
    def skipped_by_grader(cell: dict) -> bool:
        gid = _grade_id(cell) or ""
        return not (gid.startswith("setup") or gid in graded)

    for number, statement in _top_level(nb, skipped_by_grader):
        for name in statement[3]:
            found.setdefault(name, number)
    return found


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets = {ast.Assign: lambda n: n.targets, ast.AnnAssign: lambda n: [n.target], ast.AugAssign: lambda n: [n.target],
               ast.For: lambda n: [n.target]}.get(type(node))
    if targets is None:
        return []
    return [name for target in targets(node) for name in bound_names(target)]
