"""Execution time of each chapter, one at a time in a fresh kernel, against the 60 s budget.

    python bench/bench_chapters.py                     # every chapter in book/
    python bench/bench_chapters.py 12 14 16            # chapters whose file names start with these numbers

Each notebook runs in a scratch directory, as nbval runs it, and the time includes starting the kernel.
"""

import argparse
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="chapter numbers, e.g. 12 14")
    args = parser.parse_args()
    chapters = sorted(p for p in (ROOT / "book").glob("*.ipynb")
                      if not args.prefixes or p.name.split("_")[0] in args.prefixes)
    total = 0.0
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": scratch}}).execute()
            seconds = time.perf_counter() - start
        total += seconds
        print(f"{path.name:40s} {seconds:6.1f} s  {'ok' if seconds <= BUDGET else 'OVER the 60 s budget'}", flush=True)
    print(f"{len(chapters)} chapters, {total:.0f} s in all")


if __name__ == "__main__":
    main()
