"""Reading notebooks: the graded code of a submission, and the points of a solution.

The grader never runs a notebook top to bottom. It keeps the setup cells and the solution
cells (found by their nbgrader ``grade_id``), and from those only the statements that define
things: imports and function or class definitions (plus assignments in setup cells). Training
loops, plots and stray test calls are left out, so importing a submission is quick and a
``sys.exit()`` typed at the top level of a cell does nothing.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.dataflow import bound_names


class NotebookError(Exception):
    """The file is not a notebook the grader can read."""


@dataclass(frozen=True)
class Statement:
    """One top-level statement kept from a notebook cell."""

    source: str
    cell: str  # the cell's grade_id, for messages


def read_notebook(path: Path) -> dict:
    """Parse an .ipynb file, raising :class:`NotebookError` with a one-line reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"cannot read {path}: {exc}") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (no list of cells)")
    return nb


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
    cell is scanned instead, still keeping definitions only.
    """
    code_cells = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    has_ids = any(_grade_id(c) in solution_ids for c in code_cells)
    kept: list[Statement] = []
    for cell in code_cells:
        gid = _grade_id(cell) or ""
        is_setup = gid.startswith("setup")
        if has_ids and not (is_setup or gid in solution_ids):
            continue
        allowed = _DEFINITIONS + _SETUP_EXTRA if is_setup else _DEFINITIONS
        source = _strip_magics(_source(cell))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            # Keep the broken cell as one statement so its functions fail with the syntax error.
            kept.append(Statement(source, gid or "cell"))
            continue
        lines = source.splitlines()
        for node in tree.body:
            if isinstance(node, allowed):
                # Decorators sit above ``def``; include them, they are part of the definition.
                start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                kept.append(Statement("\n".join(lines[start - 1 : node.end_lineno]), gid or "cell"))
    return kept


def imported_modules(nb: dict) -> list[str]:
    """The modules that the setup and solution cells import at their top level (the imports that
    :func:`definitions` keeps), in order, each once."""
    def run_by_child(cell: dict) -> bool:
        return (_grade_id(cell) or "").startswith("setup") or bool(_nbgrader(cell).get("solution"))

    found: dict[str, None] = {}
    for _, node in _top_level(nb, run_by_child):
        if isinstance(node, ast.Import):
            found.update(dict.fromkeys(alias.name for alias in node.names))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found[node.module] = None
    return list(found)


def _top_level(nb: dict, keep: Callable[[dict], bool]) -> Iterator[tuple[int, ast.stmt]]:
    """(cell number from 1, statement) for each top-level statement of the code cells that ``keep`` accepts;
    a cell that does not parse is skipped."""
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or not keep(cell):
            continue
        try:
            tree = ast.parse(_strip_magics(_source(cell)))
        except SyntaxError:
            continue
        for node in tree.body:
            yield number, node


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
    return {node.id for stmt in statements for node in ast.walk(ast.parse(stmt.source)) if isinstance(node, ast.Name)}


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

    for number, node in _top_level(nb, skipped_by_grader):
        for name in _bound_names(node):
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
