"""Settings for the whole test session: tests/ and the chapters under nbval, run by two workers (pytest-xdist)."""

import os
import sys

# Two workers run at once. Neither may write bytecode into the checkout or the venv while the other
# compares their contents before and after grading an attack (test_sandbox_attacks). Set here, the
# controller's environment passes it on to the workers, to notebook kernels and to the grader's processes.
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True

BOOK_BUILD = "tests/test_book.py::test_book_builds_without_warnings"


def pytest_collection_modifyitems(items: list) -> None:
    """Hand out the slowest single test, the book build, first, so that the rest of the suite runs beside it."""
    items.sort(key=lambda item: item.nodeid != BOOK_BUILD)
