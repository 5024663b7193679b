"""Wall time and peak memory of a cold and of a warm Jupyter Book build.

    python bench/bench_book.py            # cold build, then a warm rebuild of the same output
    python bench/bench_book.py --cold     # only the build from an empty cache
    python bench/bench_book.py --warm     # build once unmeasured, then measure the rebuild

Every build writes into a temporary ``--path-output`` directory, so the repository's own
``_build`` (and its notebook cache) is never read or touched. "Cold" means that directory is
empty: every notebook is executed. "Warm" is a second build into the same directory: the
notebooks come from the jupyter-cache and Sphinx only rewrites what changed.

Peak memory is ``ru_maxrss`` of ``getrusage(RUSAGE_CHILDREN)``: the largest resident set of
any single process of the build (Sphinx or a notebook kernel), not the sum over processes.
That figure only ever grows within one process, so each build is run from a freshly forked
worker whose child accounting starts at zero.
"""

import argparse
import multiprocessing
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_command(out_dir: Path, toc: Path | None) -> list[str]:
    """The book's own warning-free build, redirected into out_dir."""
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    cmd = [jb, "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out_dir)]
    return cmd + (["--toc", str(toc)] if toc else [])


def _run_and_report(cmd: list[str], queue: multiprocessing.Queue) -> None:
    # Runs in a forked worker: its RUSAGE_CHILDREN covers this one build and nothing else.
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    queue.put((wall, peak_kib, result.returncode, result.stdout[-3000:] + result.stderr[-3000:]))


def measure_build(out_dir: Path, toc: Path | None = None) -> tuple[float, float, int, str]:
    """Build the book into out_dir; return (wall seconds, peak RSS in MiB, exit code, log tail)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=_run_and_report, args=(build_command(out_dir, toc), queue))
    worker.start()
    wall, peak_kib, returncode, log = queue.get()
    worker.join()
    return wall, peak_kib / 1024, returncode, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cold", action="store_true", help="only the build from an empty cache")
    which.add_argument("--warm", action="store_true", help="only the rebuild with a full cache")
    parser.add_argument("--toc", type=Path, help="table of contents to build instead of _toc.yml")
    args = parser.parse_args()

    kinds = ["cold"] if args.cold else ["warm"] if args.warm else ["cold", "warm"]
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_book_") as tmp:
        out_dir = Path(tmp)
        if kinds == ["warm"]:
            measure_build(out_dir, args.toc)  # fills the cache; not reported
        for kind in kinds:
            wall, peak_mib, returncode, log = measure_build(out_dir, args.toc)
            status = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
            print(f"{kind} build: {wall:7.1f} s wall, {peak_mib:7.1f} MiB peak RSS, {status}",
                  flush=True)
            if returncode != 0:
                failed = True
                print(log, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
