"""Variants of a reference function that make one slip a learner is likely to make.

A wrong output often equals what the reference returns after one small change: one name used in
place of another (``a_prev`` for ``a_next``, ``da_prev`` for ``a_prev``), zeros in place of a
carried state, a factor of a product left out, two items of a list in the other order, a mean in
place of a sum or a sum over the wrong axis, ``=`` in place of ``+=`` in a loop that accumulates.
Only the lines the learner writes (nbgrader's solution regions) are changed.
Each :class:`Variant` is the reference function's source with exactly one such change, and a
message that names the change with the names the learner sees in the student version (the
signature, the docstring and the given lines), never with the reference's own code.

Variants are built and run in the grader's own process, from the trusted reference. Only names of
the same kind are swapped (arrays of the same shape, values of the same type, as seen on one run of
the reference), and loop bounds are never touched, so every variant ends as quickly as the
reference does.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from autograder import syntax
from autograder.dataflow import bound_names
from autograder.notebook import region_lines

ZEROS = "__zeros_like__"
_REDUCTIONS = {"sum": ("a mean", "a sum (np.sum)"), "mean": ("a sum", "a mean (np.mean)")}


@dataclass(frozen=True)
class Variant:
    message: str  # names the slip; may contain {output}
    source: str  # the module source with the one change


def variants(module_source: str, name: str, public: set[str], kinds: dict[str, Any],
             labels: dict[str, str]) -> Iterator[Variant]:
    """Every one-change variant of the function ``name`` defined in ``module_source``.

    ``public``: names the learner sees; ``kinds``: the kind of each local variable (see :func:`kind_of`);
    ``labels``: how messages name the reference's own intermediate values (``dft`` -> "dΓ_f").
    """
    tree = syntax.parse(module_source)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if fn is None or any(isinstance(n, ast.While) for n in ast.walk(fn)):
        return  # a changed name inside a while loop could keep it from ever ending, in the grader's process
    lines = module_source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(node: ast.AST, end: bool = False) -> int:
        return offsets[(node.end_lineno if end else node.lineno) - 1] + (node.end_col_offset if end else node.col_offset)

    def replaced(start: int, stop: int, text: str) -> str:
        return module_source[:start] + text + module_source[stop:]

    swappable = {v for v in kinds if v in public and v != name}  # what a learner may have used instead
    nameable = {v for v in kinds if v in public or v in labels} - {name}  # what a message can say was needed
    first_bound = _first_bindings(fn)
    written = region_lines(module_source, "SOLUTION")  # the lines the learner writes
    for stmt, site in _sites(fn):
        if written and stmt.lineno not in written:
            continue  # a given line of the template: the learner did not write it
        where = _where(stmt, site, public, labels)
        if isinstance(site, ast.Name) and site.id in nameable:
            needed = labels.get(site.id, site.id)
            for other in sorted(swappable - {site.id}):
                if kinds[other] == kinds[site.id] and first_bound.get(other, 0) <= stmt.lineno:
                    yield Variant(f"{where} {other} where it needs {needed}",
                                  replaced(at(site), at(site, end=True), other))
            zeros = "zeros" if isinstance(kinds[site.id], tuple) else "0"  # an array, or a number such as t
            yield Variant(f"{where} {zeros} where it needs {needed}",
                          replaced(at(site), at(site, end=True), f"{ZEROS}({site.id})"))
        elif isinstance(site, (ast.List, ast.Tuple)):
            items = site.elts
            for a, b in zip(items, items[1:]):
                if isinstance(a, ast.Name) and isinstance(b, ast.Name) and {a.id, b.id} <= public:
                    yield Variant(f"{where} {b.id} before {a.id}, where it needs {a.id} first",
                                  replaced(at(a), at(b, end=True), f"{b.id}, {a.id}"))
        elif isinstance(site, ast.BinOp) and isinstance(site.op, ast.Mult):
            whose = where.removesuffix(" is computed with").removesuffix(" gets")
            for dropped, kept in ((site.right, site.left), (site.left, site.right)):
                used = sorted(n.id for n in ast.walk(dropped) if isinstance(n, ast.Name))
                if used and all(n in public or n in labels for n in used):
                    factor = (f"the factor {labels.get(used[0], used[0])}" if isinstance(dropped, ast.Name)
                              else f"a factor that involves {', '.join(labels.get(n, n) for n in used)}")
                    yield Variant(f"{whose} is missing {factor}", replaced(
                        at(site), at(site, end=True), f"({ast.get_source_segment(module_source, kept)})"))
        elif isinstance(site, ast.Call) and isinstance(site.func, ast.Attribute) and site.func.attr in _REDUCTIONS:
            other = "mean" if site.func.attr == "sum" else "sum"
            took, needs = _REDUCTIONS[site.func.attr]
            stop = at(site.func, end=True)
            yield Variant(f"{where} {took} where it needs {needs}", replaced(stop - len(site.func.attr), stop, other))
            for keyword in site.keywords:
                value = keyword.value
                if keyword.arg == "axis" and isinstance(value, ast.Constant) and isinstance(value.value, int):
                    for axis in {0, 1, 2} - {value.value}:
                        yield Variant(f"{where} a {site.func.attr} over axis {axis} where it needs axis {value.value}",
                                      replaced(at(value), at(value, end=True), str(axis)))
                if keyword.arg == "keepdims" and isinstance(value, ast.Constant) and value.value is True:
                    yield Variant(f"{where} a {site.func.attr} without keepdims=True, which it needs",
                                  replaced(at(value), at(value, end=True), "False"))
    for stmt in ast.walk(fn):
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and _inside_loop(fn, stmt) \
                and (not written or stmt.lineno in written):
            (total,) = bound_names(stmt.target) or [""]
            who = total if total in public else labels.get(total, "{output}")
            start, stop = at(stmt.target, end=True), at(stmt.value)
            between = module_source[start:stop]
            yield Variant(f"{who} keeps only one step's term (it is assigned with = where it needs +=)",
                          replaced(start, stop, between.replace("+=", "=", 1)))


def run_variant(variant: Variant, name: str, namespace: dict[str, Any]) -> Callable:
    """The variant's function, defined in a copy of the reference namespace (so helpers stay the reference's)."""
    scope = {**namespace, ZEROS: np.zeros_like}
    exec(compile(variant.source, f"<variant of {name}>", "exec"), scope)  # noqa: S102 - trusted reference code
    return scope[name]


def kind_of(value: Any) -> Any:
    """What a variable must share with another to be swapped for it: number of axes and dtype kind, or type.

    Shapes may differ: using a_prev where xt is needed gives a wrong shape, and is still worth naming.
    """
    if isinstance(value, np.ndarray):
        return ("array", value.ndim, value.dtype.kind)
    return type(value).__name__


def final_locals(fn: Callable, call: Callable[[], Any]) -> dict[str, Any]:
    """The local variables of ``fn`` when it last returned during ``call()`` (empty if it never ran)."""
    code, seen = getattr(fn, "__code__", None), {}

    def tracer(frame, event, arg):
        if frame.f_code is code:
            return local_tracer
        return None

    def local_tracer(frame, event, arg):
        if event == "return":
            seen.clear()
            seen.update(frame.f_locals)
        return local_tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    except Exception:  # noqa: BLE001 - the reference on a probe always runs; this is only a guard
        return {}
    finally:
        sys.settrace(previous)
    return seen


def _sites(fn: ast.FunctionDef) -> Iterator[tuple[ast.stmt, ast.AST]]:
    """(statement, node) for every place a slip may sit: names read and reductions called in values.

    Loop headers, ``range`` arguments and assignment targets are left alone: changing them could
    make a loop run long, or write into the wrong array.
    """
    for stmt in ast.walk(fn):
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)) and stmt.value is not None:
            for node in ast.walk(stmt.value):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
                    continue
                if isinstance(node, (ast.Name, ast.Call, ast.BinOp, ast.List, ast.Tuple)) and \
                        not _under_range(stmt.value, node):
                    yield stmt, node


def _under_range(root: ast.AST, target: ast.AST) -> bool:
    for node in ast.walk(root):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            if any(n is target for n in ast.walk(node)):
                return True
    return False


def _where(stmt: ast.stmt, site: ast.AST, public: set[str], labels: dict[str, str]) -> str:
    """How a message names the place of a slip: the value assigned, the call it is passed to, or the output."""
    if isinstance(site, ast.Name):
        call = _call_with_argument(stmt, site)
        if call is not None:
            return f"the call to {call} gets"
    target = _target_of(stmt, site)
    if target in labels:
        return f"{labels[target]} is computed with"
    return f"{target} is computed with" if target in public else "{output} is computed with"


def _call_with_argument(stmt: ast.stmt, site: ast.Name) -> str | None:
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id != ZEROS:
            if any(arg is site for arg in node.args) or any(kw.value is site for kw in node.keywords):
                return node.func.id
    return None


def _target_of(stmt: ast.stmt, site: ast.AST) -> str | None:
    """The name the statement assigns the part holding ``site`` to, if that is one name."""
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return None
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        for t, v in zip(target.elts, value.elts):
            if isinstance(t, ast.Name) and any(n is site for n in ast.walk(v)):
                return t.id
    return None


def _first_bindings(fn: ast.FunctionDef) -> dict[str, int]:
    """The line on which each local variable is first bound (parameters: the def line)."""
    first = {a.arg: fn.lineno for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            first[node.id] = min(first.get(node.id, node.lineno), node.lineno)
    return first


def _inside_loop(fn: ast.FunctionDef, stmt: ast.stmt) -> bool:
    return any(isinstance(loop, (ast.For, ast.While)) and any(n is stmt for n in ast.walk(loop))
               for loop in ast.walk(fn))
