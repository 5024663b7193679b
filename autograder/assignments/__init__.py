"""The registry of graded assignments: one module per assignment id, each defining ASSIGNMENT."""

from __future__ import annotations

import importlib
import pkgutil

from autograder.spec import Assignment


def known_ids() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_assignment(assignment_id: str) -> Assignment:
    """The spec of ``assignment_id``; KeyError if there is no such assignment."""
    if assignment_id not in known_ids():
        raise KeyError(assignment_id)
    return importlib.import_module(f"{__name__}.{assignment_id}").ASSIGNMENT
