"""Settings for the whole test session: tests/ and the chapters under nbval, run by two workers (pytest-xdist).

It lives at the top of the repository so that the scheduler below also serves runs of a single
chapter (``pytest book/01_rnn.ipynb``), whose cells must stay together.
"""

import os
import sys

import pytest
from xdist.scheduler import LoadScopeScheduling

# Two workers run at once. Neither may write bytecode into the checkout or the venv while the other
# compares their contents before and after grading an attack (test_sandbox_attacks). Set here, the
# controller's environment passes it on to the workers, to notebook kernels and to the grader's processes.
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True
# Two workers share the two cores, so each notebook kernel and grader gets one thread for torch and BLAS.
# With their default of one thread per core, two trainings at once spin on each other's cores (OpenMP
# busy-waits) and ran ten times slower. Benchmarks run outside pytest, with every core.
for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

# Files whose tests are independent of each other and long: each of their tests may go to either worker.
SHARED_OUT = ("tests/test_assignment_notebooks.py",)

# The slowest tests, in the order the workers should start them (pyproject turns off xdist's own reordering,
# which would put large files of quick tests first and leave these for the end).
SLOWEST_FIRST = (
    "tests/test_book.py::test_book_builds_without_warnings",
    "tests/test_assignment_notebooks.py::test_solution_notebook_executes_clean",
    "tests/test_assignment_notebooks.py::test_student_notebook",
)


class FileScheduling(LoadScopeScheduling):
    """--dist loadfile, except that the tests of SHARED_OUT files are handed out one by one.

    A chapter's cells share one kernel and a test file may share module fixtures, so a file normally
    runs on one worker. The assignment notebooks are the longest tests: on one worker they made the run
    wait for that worker.
    """

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return nodeid if path in SHARED_OUT else path


@pytest.hookimpl(tryfirst=True)  # before xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    return FileScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(items: list) -> None:
    """Hand out the slowest tests first, so that the many short ones fill the gaps at the end."""
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(SLOWEST_FIRST) if item.nodeid.startswith(prefix)), len(SLOWEST_FIRST))
    items.sort(key=rank)
