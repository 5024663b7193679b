"""Grading latency: wall time (median of several runs) and peak memory of grading a notebook.

Usage: python bench/bench_grading.py [NOTEBOOK] [--runs N]
Defaults to the solution notebook of rnn_step_by_step. Each run is a separate
``python -m autograder grade`` process, as a learner would run it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path,
                        default=REPO / "solutions" / "rnn_step_by_step" / "rnn_step_by_step.ipynb")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(args.notebook)],
                       check=True, capture_output=True, cwd=REPO, env={**os.environ})
        times.append(time.perf_counter() - start)
    # ru_maxrss of the children is the largest single process: the grader or one sandboxed function.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"notebook: {args.notebook.relative_to(REPO) if args.notebook.is_relative_to(REPO) else args.notebook}")
    print(f"runs: {args.runs}  median wall time: {statistics.median(times):.2f} s  "
          f"(min {min(times):.2f}, max {max(times):.2f})")
    print(f"peak memory of one process: {peak_mib:.0f} MiB")
    from autograder.sandbox import status

    print(status().describe())


if __name__ == "__main__":
    main()
