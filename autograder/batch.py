"""Grading a whole class: every submission into ``OUT/students/<student>/results.json``, then ``grades.csv``,
``summary.md`` and ``totals.png`` for the class, beside ``students/``, where no student id can land.

Each result is written atomically (a temporary file, then a rename) by this process alone, so a batch
killed at any moment leaves only whole results, and the same command run again grades only the
students that have none, or whose result came from another grader or another notebook: each result
records the :func:`fingerprint` of what graded it (the grader's code, the assignment's spec and
solution) and the :func:`submission_digest` of the notebook, and a result with another one is graded
again (``force`` grades everyone again). The CSV and the summary are rebuilt from the result files,
so they come out the same whether or not the batch was interrupted. ``--shard K/N`` grades the
students whose id hashes to K of N, for job arrays; ``merge`` builds one CSV and summary from the
shards' folders.

No submission can stop the batch: whatever goes wrong while one is read, graded or cleaned up
becomes that student's zero, with the reason (see :func:`grade_submission`). Every text taken from a
submission (its file name, the messages its code raised) is escaped (:func:`autograder.escape.markdown`)
before it goes into results.json, and so into summary.md; grades.csv holds no formulas.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import stat
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder import escape, runtime, submissions
from autograder.assignments import get_assignment
from autograder.runtime import REPO
from autograder.submissions import Submission

RESULTS = "results.json"
STUDENTS = "students"  # OUT/students/<student>/results.json
SCRATCH = ".unpacked"  # where a zip of submissions is unpacked, inside OUT


def result_path(out: Path, student: str) -> Path:
    """Where the result of ``student`` goes in the folder ``out``."""
    return out / STUDENTS / student / RESULTS


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader (or a crash) sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def grader_files(assignment_id: str) -> list[Path]:
    """Everything besides the submission that decides its grade: the grader's code (the autograder package, with
    this assignment's spec module and no other's), the course library that the reference and the probes use
    (seqmodels/), the course's data files, and the solution notebook (the reference answers and the points)."""
    package = REPO / "autograder"
    specs = package / "assignments"
    code = [p for p in package.rglob("*.py") if p.parent != specs or p.stem in ("__init__", assignment_id)]
    data = [p for p in (REPO / "data").rglob("*") if p.is_file()]
    return sorted([*code, *(REPO / "seqmodels").rglob("*.py"), *data, runtime.solution_path(assignment_id)])


@functools.cache
def fingerprint(assignment_id: str) -> str:
    """A hash of :func:`grader_files` (their paths in the repository and their bytes), the same on every machine
    for the same files. It takes about 3 ms (half a megabyte to read and hash), once per process."""
    digest = hashlib.sha256()
    for path in grader_files(assignment_id):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(REPO).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def submission_digest(notebook: Path | None) -> str | None:
    """A SHA-256 of the submitted notebook's bytes (of its first MAX_NOTEBOOK_BYTES + 1: a larger file gets a zero
    whatever it holds); None when there is no notebook, or no regular file to read (its result says why)."""
    from autograder.notebook import MAX_NOTEBOOK_BYTES

    if notebook is None:
        return None
    try:  # the student's file: a link is not followed, a FIFO not waited on
        fd = os.open(notebook, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        digest = hashlib.sha256()
        left = MAX_NOTEBOOK_BYTES + 1
        while left > 0 and (chunk := f.read(min(left, 1 << 20))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def graded_from(path: Path) -> tuple[str, str | None] | None:
    """What made the result at ``path``: (the grader's fingerprint, the submission's digest); None if there is no
    result. A result from before results recorded them gives an empty fingerprint."""
    if not path.exists():
        return None
    try:
        result = json.loads(path.read_text())
        return str(result.get("fingerprint", "")), result.get("submission_sha256")
    except (OSError, ValueError, AttributeError):  # written atomically by this module: not expected, graded again
        return "", None


def in_shard(student: str, shard: tuple[int, int]) -> bool:
    """Whether ``student`` belongs to shard K of N (K from 1): by a hash of the id, so it does not depend on
    which other students there are."""
    k, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % n == k - 1


def problem_result(assignment_id: str, problem: str) -> dict:
    """A results.json for a submission that could not be graded: zero, with the reason (escaped here)."""
    from autograder.notebook import points as points_in
    from autograder.report import FORMAT

    functions = get_assignment(assignment_id).functions
    points = points_in(runtime.solution_notebook(assignment_id))
    problem = escape.markdown(" ".join(problem.split()))
    return {"assignment": assignment_id, "score": 0.0, "max_score": sum(points.values()), "problem": problem,
            "output": problem, **FORMAT,  # the output is what Gradescope shows above the tests
            "tests": [{"name": f.name, "score": 0.0, "max_score": points.get(f.name, 0.0), "output": problem,
                       "visibility": "visible", **FORMAT} for f in functions]}


def grade_submission(path: Path, assignment_id: str, protected: list[Path]) -> dict:
    """The results.json of one submission, always strictly sandboxed. Anything that goes wrong with this one
    submission, from a file that is not a notebook to an error in the grader itself, gives a zero with the reason."""
    from autograder.grade import SandboxUnavailable, grade
    from autograder.notebook import NotebookError, read_notebook
    from autograder.report import gradescope

    try:
        nb = read_notebook(path)  # read and checked once, here: grading uses this form
        return gradescope(grade(path, assignment_id, strict=True, protected=protected, nb=nb))
    except NotebookError as exc:  # the message does not name the file: the instructor's folders stay out of it
        return problem_result(assignment_id, f"{path.name}: {exc}")
    except SandboxUnavailable as exc:
        return problem_result(assignment_id, f"the grader cannot confine code on this machine: {exc}")
    except Exception as exc:  # noqa: BLE001 - one submission's trouble must not stop the class's grading
        return problem_result(assignment_id, f"{path.name}: the grader failed on this notebook "
                                             f"({type(exc).__name__}: {str(exc)[:200]})")


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def run(source: Path, assignment_id: str, out: Path, workers: int = 2, shard: tuple[int, int] = (1, 1),
        nbgrader_db: Path | None = None, force: bool = False) -> str:
    """Grade every submission of ``source`` that has no result in ``out`` yet, or one made by another grader
    (:func:`fingerprint`) or from another notebook (every submission, with ``force``), ``workers`` at once;
    rebuild the CSV and summary; with ``nbgrader_db``, also write every score into that nbgrader gradebook and
    formgrader's notebooks beside it (see :mod:`autograder.nbgrader_db`).

    The workers are threads of this process: the graded code runs in the sandbox's children, so they share
    one fork server and one copy of each reference result, built before they start.

    Returns the final line: counts and wall time."""
    from autograder import isolated
    from autograder.grade import SandboxUnavailable, prepare, sandbox_problems

    isolated.start_host("autograder.notebook")  # reads the class's notebooks (see isolated: cheaper than forking here)
    start = time.perf_counter()
    out = Path(out).resolve()
    found = [s for s in submissions.find(source, assignment_id, out / SCRATCH) if in_shard(s.student, shard)]
    protected = [Path(source).resolve(), out]
    if nbgrader_db is not None:
        from autograder import nbgrader_db as gradebook

        gradebook.check(nbgrader_db, assignment_id)  # before grading: a wrong gradebook costs no grading time
    current = fingerprint(assignment_id)
    now = {s.student: (current, submission_digest(s.notebook)) for s in found}  # what a result now comes from
    before = {s.student: made for s in found if (made := graded_from(result_path(out, s.student))) is not None}
    todo = [s for s in found if force or before.get(s.student) != now[s.student]]
    if any(s.notebook for s in todo) and (problems := sandbox_problems(out / "_", protected)):
        raise SandboxUnavailable("; ".join(problems))  # a class's work is only graded fully confined
    if any(s.notebook for s in todo):
        prepare(assignment_id)
        # Loaded while the graded code runs in the sandbox's children, rather than after them.
        threading.Thread(target=_pyplot, daemon=True).start()
    bad = 0
    with _progress(len(todo)) as bar, ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = {}
        for s in todo:
            if s.notebook is None:
                _record(out, s, problem_result(assignment_id, s.problem), now[s.student])
                bad += 1
                bar.update()
            else:
                jobs[pool.submit(grade_submission, s.notebook, assignment_id, protected)] = s
        for job in as_completed(jobs):
            result = job.result()
            bad += "problem" in result
            _record(out, jobs[job], result, now[jobs[job].student])
            bar.update()
    results = load_results([result_path(out, s.student) for s in found])
    write_reports(out, results, assignment_id)
    if nbgrader_db is not None:
        gradebook.record(nbgrader_db, assignment_id, results, {s.student: s.notebook for s in found},
                         {s.student for s in todo})
    if force:
        again = f"; regraded all {len(before)} already graded (--force)"
    else:
        grader = sum(made[0] != current for made in before.values())
        submission = sum(made[0] == current and made != now[student] for student, made in before.items())
        again = "".join(f"; regraded {n} whose {what} changed" for n, what in
                        ((grader, "grader or solution"), (submission, "submission")) if n)
    return (f"{len(todo)} graded now ({bad} could not be graded{again}), {len(found) - len(todo)} already done, "
            f"{len(found)} in all, in {time.perf_counter() - start:.1f} s: {out / 'grades.csv'}")


def _record(out: Path, submission: Submission, result: dict, made: tuple[str, str | None]) -> None:
    """Write the result, with the student (an id of [A-Za-z0-9._@+%~-], see submissions.student_id) and what it
    was ``made`` from (see :func:`graded_from`)."""
    result = {**result, "student": submission.student, "fingerprint": made[0], "submission_sha256": made[1]}
    if submission.notebook is not None:
        result["notebook"] = escape.markdown(submission.notebook.name)
    write_atomically(result_path(out, submission.student), json.dumps(result, indent=2) + "\n")


def merge(shards: list[Path], out: Path, assignment_id: str) -> str:
    """One CSV and summary (and result folders) in ``out`` from the result folders of several shards."""
    out = Path(out)
    paths = []
    for shard in shards:
        for result in sorted(Path(shard).glob(f"{STUDENTS}/*/{RESULTS}")):
            target = result_path(out, result.parent.name)
            if target.resolve() != result.resolve():
                write_atomically(target, result.read_text())
            paths.append(target)
    write_reports(out, load_results(paths), assignment_id)
    return f"merged {len(paths)} results from {len(shards)} shards: {out / 'grades.csv'}"


def load_results(paths: list[Path]) -> list[dict]:
    """The results.json files, parsed, in student order."""
    return sorted((json.loads(p.read_text()) for p in paths), key=lambda r: r["student"])


def write_reports(out: Path, results: list[dict], assignment_id: str) -> None:
    """grades.csv, summary.md and the histogram of totals, from the results alone (see load_results)."""
    names = [f.name for f in get_assignment(assignment_id).functions]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["student", "total", "max", *names, "problem"])
    for r in results:
        scores = {t["name"]: t["score"] for t in r["tests"]}
        writer.writerow([escape.spreadsheet(cell) for cell in
                         [r["student"], f"{r['score']:g}", f"{r['max_score']:g}",
                          *(f"{scores.get(n, 0):g}" for n in names), r.get("problem", "")]])
    write_atomically(out / "grades.csv", table.getvalue())
    _histogram(out / "totals.png", [r["score"] for r in results], results[0]["max_score"] if results else 0)
    write_atomically(out / "summary.md", summary(results, names, assignment_id))


def summary(results: list[dict], names: list[str], assignment_id: str) -> str:
    """What the class got wrong: pass rate per function and its most frequent messages. The texts that came
    from submissions were escaped when they went into the results; the rest is the course's own."""
    graded = [r for r in results if "problem" not in r]
    lines = [f"# {assignment_id}: {len(results)} submissions", "",
             f"- graded: {len(graded)}; could not be graded: {len(results) - len(graded)}"]
    if graded:
        totals = sorted(r["score"] for r in graded)
        lines.append(f"- total: mean {sum(totals) / len(totals):.1f}, median {totals[len(totals) // 2]:g}, "
                     f"out of {graded[0]['max_score']:g}")
    lines += ["", "![Histogram of totals](totals.png)", "", "## By function", "",
              "| function | full marks | most frequent messages (count) |", "|---|---|---|"]
    for name in names:
        tests = [t for r in graded for t in r["tests"] if t["name"] == name]
        passed = sum(t["score"] == t["max_score"] for t in tests)
        counts = Counter(m for t in tests if t["score"] < t["max_score"] for m in t["output"].splitlines() if m)
        common = "; ".join(f"{m} ({c})" for m, c in
                           sorted(counts.items(), key=lambda mc: (-mc[1], mc[0]))[:3])
        rate = f"{passed}/{len(tests)} ({passed / len(tests):.0%})" if tests else "-"
        lines.append(f"| {name} | {rate} | {common or '-'} |")
    problems = Counter(r["problem"] for r in results if "problem" in r)
    if problems:
        lines += ["", "## Submissions that could not be graded", ""]
        lines += [f"- {p} ({c})" for p, c in sorted(problems.items(), key=lambda pc: (-pc[1], pc[0]))]
    return "\n".join(lines) + "\n"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _histogram(path: Path, totals: list[float], max_score: float) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(totals, bins=20, range=(0, max(max_score, 1)), color="tab:blue")
    ax.set_xlabel("total")
    ax.set_ylabel("students")
    fig.tight_layout()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.savefig(temporary, metadata={"Software": None})  # no version stamp: equal runs give equal files
    plt.close(fig)
    os.replace(temporary, path)
