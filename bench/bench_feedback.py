"""How often the grader names the mistake in realistic wrong solutions (tests/learner_mistakes.py).

Usage: python bench/bench_feedback.py [--show]
Each case is graded alone. A message that starts with "likely mistake:" names the mistake; one that
says which value is wrong first in dependency order localises it; anything else (a shape, a list of
wrong outputs, a traceback line) does neither. Prints the counts by kind and the overall fractions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.grade import grade  # noqa: E402
from tests.grading_helpers import write  # noqa: E402
from tests.learner_mistakes import ASSIGNMENT, CASES, KINDS, notebook_for  # noqa: E402


def verdict(messages: list[str]) -> str:
    if any(m.startswith("likely mistake:") for m in messages):
        return "named"
    if any(m.startswith("the first wrong outputs in dependency order") for m in messages):
        return "localised"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every case's messages")
    args = parser.parse_args()
    counts: dict[str, Counter] = {kind: Counter() for kind in KINDS}
    lost, start = 0, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path = write(notebook_for(case), Path(tmp), ASSIGNMENT)
            (result,) = grade(path, only={case.function}).results
            lost += result.score == 0
            counts[case.kind][verdict(result.messages)] += 1
            if args.show:
                print(f"{case.id} [{case.kind}] {result.score:g}/{result.max_score:g}")
                for message in result.messages:
                    print(f"    {message}")
    print(f"{'kind':<14}{'cases':>6}{'named':>7}{'localised':>11}{'other':>7}")
    for kind, c in counts.items():
        print(f"{kind:<14}{sum(c.values()):>6}{c['named']:>7}{c['localised']:>11}{c['other']:>7}")
    total = Counter()
    for c in counts.values():
        total.update(c)
    n = sum(total.values())
    print(f"{'all':<14}{n:>6}{total['named']:>7}{total['localised']:>11}{total['other']:>7}")
    print(f"named: {total['named'] / n:.0%}; named or localised: {(total['named'] + total['localised']) / n:.0%}; "
          f"cases that lost all their points: {lost}/{n}; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
