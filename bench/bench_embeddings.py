"""Loading GloVe 6B 50d: wall time of the first load in a fresh process, and its memory.

Usage: python bench/bench_embeddings.py [--runs N]
Each run is a new Python process that imports seqmodels.embeddings and calls load_glove().
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, resource, time
start = time.perf_counter()
from seqmodels.embeddings import load_glove
glove = load_glove()
first = time.perf_counter() - start
again = time.perf_counter(); load_glove(); again = time.perf_counter() - again
print(json.dumps({"first": first, "again": again, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "words": len(glove)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                                      text=True).stdout) for _ in range(args.runs)]
    print(f"words: {runs[0]['words']}")
    print(f"first load (import included), median of {args.runs}: {statistics.median(r['first'] for r in runs):.2f} s")
    print(f"second call in the same process: {max(r['again'] for r in runs) * 1e6:.0f} µs")
    print(f"peak memory of the process: {max(r['rss_mib'] for r in runs):.0f} MiB")


if __name__ == "__main__":
    main()
