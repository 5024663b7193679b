"""How much memory a Gradescope container needs: run_autograder on an assignment's solution, as Gradescope runs it,
with the memory of its whole process tree sampled every 20 ms (the sum of each process's PSS, so that pages the
forked processes share are counted once). Prints the peak and the wall time.

Usage: .venv/bin/python bench/bench_gradescope_memory.py [ASSIGNMENT ...]   (default: every assignment)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.assignments import known_ids  # noqa: E402
from autograder.runtime import solution_path  # noqa: E402


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                stack += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return found


def pss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def measure(assignment_id: str) -> tuple[float, float]:
    """(peak MB, seconds) of run_autograder grading the solution of ``assignment_id``."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        subprocess.run([sys.executable, "-m", "autograder", "gradescope", assignment_id, "-o", str(root / "b.zip")],
                       cwd=REPO, check=True, capture_output=True)
        with zipfile.ZipFile(root / "b.zip") as zf:
            zf.extractall(root / "source")
            for info in zf.infolist():
                os.chmod(root / "source" / info.filename, (info.external_attr >> 16) or 0o644)
        (root / "submission").mkdir()
        (root / "submission" / f"{assignment_id}.ipynb").write_text(solution_path(assignment_id).read_text())
        start = time.perf_counter()
        proc = subprocess.Popen([str(root / "source" / "run_autograder")], stdout=subprocess.DEVNULL,
                                env={**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable})
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, pss_mb(tree(proc.pid)))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        assert proc.returncode == 0, f"run_autograder exited {proc.returncode}"
        return peak, seconds


if __name__ == "__main__":
    for name in sys.argv[1:] or known_ids():
        peak, seconds = measure(name)
        print(f"{name:22s} peak {peak:7.0f} MB (PSS of the whole tree), {seconds:5.1f} s")
