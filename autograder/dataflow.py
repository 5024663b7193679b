"""Which values a reference function computes from which, to name the first wrong one.

When one early mistake makes many outputs wrong (a wrong gate gradient spoils dW, db, dx and
da_prev at once), listing every wrong output hides the cause. :class:`Flow` reads the reference
function's source once, records for every variable the variables it is computed from, and maps
each output path (``dWf``, ``cache[4]``) to the variable that holds it. :meth:`Flow.root_cause`
then finds the earliest value whose every dependent output is wrong.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from autograder import syntax


@dataclass(frozen=True)
class Flow:
    order: tuple[str, ...]  # variables in the order they are first assigned (parameters first)
    parameters: frozenset[str]
    depends: dict[str, frozenset[str]]  # variable -> every variable it is computed from, transitively
    direct: dict[str, frozenset[str]]  # variable -> the variables its own assignments read
    outputs: dict[str, str]  # output path -> the variable that holds it ("**": the dict unpacked into the result)
    accumulated: frozenset[str] = frozenset()  # variables updated in place (+=, or a[...] = ...)

    def variable(self, path: str) -> str | None:
        """The variable holding ``path``, or holding the longest prefix of it (``caches[0][1]`` -> ``caches``)."""
        whole = path
        while path:
            if path in self.outputs:
                return self.outputs[path]
            if "[" not in path:
                break
            path = path[: path.rindex("[")]
        return self.outputs.get("**") if whole else None  # {"dx": dx, **totals}: the rest comes from totals

    def root_cause(self, wrong: list[str], right: list[str]) -> tuple[str, list[str]] | None:
        """(variable, the wrong paths computed from it) for the value that is most likely wrong first.

        That is the variable from which at least two outputs are computed, all of them wrong, and
        as many of the wrong ones as possible (of a chain of such variables, the one nearest the
        outputs). None when no such variable exists.
        """
        owner = {p: self.variable(p) for p in wrong + right}
        best: tuple[int, int, str] | None = None
        for rank, v in enumerate(self.order):
            if v in self.parameters:
                continue
            hit = [p for p in wrong + right if owner[p] and (owner[p] == v or v in self.depends.get(owner[p], ()))]
            if len(hit) >= 2 and all(p in wrong for p in hit):
                if best is None or len(hit) >= best[0]:  # on a tie, the later one: nearer the outputs
                    best = (len(hit), rank, v)
        if best is None:
            return None
        v = best[2]
        return v, [p for p in wrong if owner[p] == v or v in self.depends.get(owner[p] or "", ())]

    def directly(self, path: str, source: str) -> bool:
        """Whether the output ``path`` is ``source`` itself or computed straight from it."""
        v = self.variable(path)
        return v == source or source in self.direct.get(v or "", ())


def flow_of(module_source: str, name: str, outputs: tuple[str, ...]) -> Flow | None:
    """The flow of the function ``name`` defined in ``module_source``; None if it is not a plain function."""
    fn = next((n for n in syntax.parse(module_source).body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if fn is None:
        return None
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    direct: dict[str, set[str]] = {p: set() for p in params}
    accumulated: set[str] = set()
    literals: dict[str, ast.expr] = {}  # variable -> the tuple or dict literal last assigned to it
    returned: ast.expr | None = None
    for node in _statements(fn.body):
        if isinstance(node, ast.Return):
            returned = node.value
        for target, value, keeps_old in _assignments(node):
            if keeps_old and not isinstance(node, ast.Expr):
                accumulated.update(bound_names(target))
            for bound in bound_names(target):
                direct.setdefault(bound, set()).update(_names(value) | ({bound} if keeps_old else set()))
                direct[bound].update(_names(target) - {bound})  # the index of a[:, :, t] = ...
            if isinstance(target, ast.Name) and isinstance(value, (ast.Tuple, ast.Dict)):
                literals[target.id] = value
    depends = _closure(direct)
    paths: dict[str, str] = {}
    if returned is not None:
        if len(outputs) > 1 and isinstance(returned, ast.Tuple) and len(returned.elts) == len(outputs):
            for out, element in zip(outputs, returned.elts):
                _map(out, element, literals, paths)
        else:
            _map(outputs[0] if len(outputs) == 1 else "", returned, literals, paths)
    return Flow(tuple(direct), frozenset(params), depends, {v: frozenset(d) for v, d in direct.items()}, paths,
                frozenset(accumulated))


def _statements(body: list[ast.stmt]):
    """Every statement, in source order, entering loops and branches (not nested functions)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)):
                yield from _statements(inner)


def _assignments(node: ast.stmt) -> list[tuple[ast.expr, ast.expr, bool]]:
    """(target, value, whether the old value of the target is kept) for each binding the statement makes."""
    if isinstance(node, ast.Assign):
        pairs = []
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and \
                    len(target.elts) == len(node.value.elts):
                pairs += [(t, v, isinstance(t, ast.Subscript)) for t, v in zip(target.elts, node.value.elts)]
            else:
                pairs.append((target, node.value, isinstance(target, ast.Subscript)))
        return pairs
    if isinstance(node, ast.AugAssign):
        return [(node.target, node.value, True)]
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [(node.target, node.value, False)]
    if isinstance(node, ast.For):
        return [(node.target, node.iter, False)]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        # caches.append(cache): the list now also depends on what was appended
        base = node.value.func.value
        if isinstance(base, ast.Name):
            return [(base, node.value, True)]
    return []


def bound_names(target: ast.expr) -> list[str]:
    """The variables a target binds: ``a`` for ``a``, ``a[:, t]`` and ``a.x``; each name of a tuple."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in bound_names(t)]
    if isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        return bound_names(target.value)
    return []


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _closure(direct: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    full = {v: set(d) for v, d in direct.items()}
    changed = True
    while changed:  # loops make the graph cyclic: iterate to a fixed point
        changed = False
        for v, deps in full.items():
            extra = set().union(*(full.get(u, set()) for u in deps)) - deps - {v}
            if extra:
                deps |= extra
                changed = True
    return {v: frozenset(d - {v}) for v, d in full.items()}


def _map(path: str, node: ast.expr, literals: dict[str, ast.expr], paths: dict[str, str],
         expanded: frozenset[str] = frozenset()) -> None:
    """Record which variable holds each output path, looking through tuple and dict literals.

    A name is looked through once: ``caches = (caches, x)`` rebinds ``caches`` to a literal that
    holds its own earlier value, whose structure is not known.
    """
    if isinstance(node, ast.Name):
        if path:
            paths[path] = node.id
        if node.id in literals and node.id not in expanded:
            _map(path, literals[node.id], literals, paths, expanded | {node.id})
    elif isinstance(node, ast.Tuple):
        for i, element in enumerate(node.elts):
            _map(f"{path}[{i}]", element, literals, paths, expanded)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if key is None and isinstance(value, ast.Name) and not path:
                paths["**"] = value.id
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                _map(f"{path}[{key.value!r}]" if path else key.value, value, literals, paths, expanded)
