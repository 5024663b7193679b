"""Throughput of grading a class: our batch command against ``nbgrader autograde``, same 20 submissions, one run.

    python bench/bench_batch.py [--students 20]

Builds a temporary nbgrader course for the first assignment (Building an RNN step by step) with N
students (solutions, unfinished student versions and one-bug variants, in turn), grades it with
``nbgrader autograde`` (the gradebook set up as nbgrader wants it) and with ``python -m autograder batch``,
and prints both throughputs and their ratio (target: ours at least 10 times nbgrader's). Before that, on
the idle machine, the single-notebook latency of ``python -m autograder grade`` for that assignment and for
the Jazz one: the median of 5 runs, with the fastest and slowest, since a shared machine's import times
vary by a third (and, on this machine, run slower for a while after a minute of full load).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ID = "rnn_step_by_step"
BIN = Path(sys.executable).parent


def submissions(n: int) -> list[tuple[str, str]]:
    """(student, notebook text): a solution, an unfinished version and a one-bug variant, in turn."""
    solution = (ROOT / "solutions" / ID / f"{ID}.ipynb").read_text()
    student = (ROOT / "assignments" / ID / f"{ID}.ipynb").read_text()
    buggy = json.loads(solution)
    for cell in buggy["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "rnn_cell_forward":
            cell["source"] = "".join(cell["source"]).replace("np.tanh(", "(")
    return [(f"student{i:02d}", [solution, student, json.dumps(buggy)][i % 3]) for i in range(n)]


def timed(command: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    n = parser.parse_args().students
    for assignment, limit in ((ID, 1.2), ("jazz_improvisation", 3.0)):
        runs = sorted(timed([sys.executable, "-m", "autograder", "grade",
                             str(ROOT / "solutions" / assignment / f"{assignment}.ipynb")], ROOT) for _ in range(5))
        median = runs[len(runs) // 2]
        print(f"single notebook, {assignment}: median {median:.2f} s of 5 runs ({runs[0]:.2f} to {runs[-1]:.2f}) "
              f"(target <= {limit} s: {'met' if median <= limit else 'NOT met'})")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        (course / "source" / ID).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / ID / f"{ID}.ipynb", course / "source" / ID)
        (course / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
            f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n")
        for student, text in submissions(n):
            timed([str(BIN / "nbgrader"), "db", "student", "add", student], course)
            folder = course / "submitted" / student / ID
            folder.mkdir(parents=True)
            (folder / f"{ID}.ipynb").write_text(text)
        timed([str(BIN / "nbgrader"), "generate_assignment", ID], course)
        theirs = timed([str(BIN / "nbgrader"), "autograde", ID], course)
        ours = timed([sys.executable, "-m", "autograder", "batch", str(course / "submitted"), "--assignment", ID,
                      "--out", str(Path(tmp) / "out")], ROOT)
    print(f"{n} submissions of {ID}:")
    print(f"  nbgrader autograde:        {theirs:6.1f} s, {n / theirs:5.2f} notebooks/s")
    print(f"  python -m autograder batch: {ours:6.1f} s, {n / ours:5.2f} notebooks/s")
    ratio = theirs / ours
    print(f"  ratio: {ratio:.1f}x (target >= 10x: {'met' if ratio >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
