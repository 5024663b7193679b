"""``ast.parse`` for the grader's threads.

CPython 3.11 before 3.11.8 keeps the depth counter of its AST converter in state that all threads
share, so two threads parsing at once can fail with ``SystemError: AST constructor recursion depth
mismatch`` (CPython issue gh-106905). The grader grades two functions at a time, each reading the
notebook's code, so every parse goes through one lock. (Reentrant: a finalizer that the garbage collector
runs in the middle of a parse may parse too, in the same thread, which the counter survives.)
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.RLock()


def parse(source: str) -> ast.Module:
    """The syntax tree of ``source`` (SyntaxError as ``ast.parse`` raises it)."""
    with _LOCK:
        return ast.parse(source)
