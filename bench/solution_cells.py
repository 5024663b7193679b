"""The code a benchmark runs: a solution notebook's setup cell, its solution cells and its cells tagged ``bench``.

Benchmarks take their code from the notebook itself, so their figures are the notebook's.
"""

import json
import time
from pathlib import Path


def solution_namespace(notebook: Path) -> dict:
    """Run those cells of ``notebook`` in order, in one fresh namespace, and return it."""
    namespace: dict = {}
    for cell in json.loads(notebook.read_text())["cells"]:
        nbgrader = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and (nbgrader.get("grade_id") == "setup" or nbgrader.get("solution")
                                            or "bench" in cell["metadata"].get("tags", [])):
            exec(compile("".join(cell["source"]), f"<{notebook.name}>", "exec"), namespace)
    return namespace


def print_grading_latency(notebook: Path) -> None:
    """Grade ``notebook`` as a learner would and print its score and the wall time it took."""
    from autograder.grade import grade

    start = time.perf_counter()
    report = grade(notebook)
    print(f"grading the solution notebook: {report.score:g}/{report.max_score:g} in {time.perf_counter() - start:.1f} s")
