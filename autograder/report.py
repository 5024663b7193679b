"""Presenting a grade: a terminal table, and Gradescope's results.json."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import escape
from autograder.grade import Report

# Gradescope renders every output as markdown, for which the messages are escaped (its default format lets
# some HTML through).
FORMAT = {"output_format": "md"}


def table(report: Report) -> str:
    width = max([len("item")] + [len(r.name) for r in report.results])
    lines = [f"Assignment {report.assignment}", "",
             f"{'item':<{width}}  {'points':>6}  {'max':>5}  message", "-" * (width + 60)]
    for r in report.results:
        first, *rest = r.messages or ["ok"]
        lines.append(f"{r.name:<{width}}  {r.score:>6g}  {r.max_score:>5g}  {first}")
        lines += [f"{'':<{width}}  {'':>6}  {'':>5}  {m}" for m in rest]
    lines += ["-" * (width + 60), f"{'total':<{width}}  {report.score:>6g}  {report.max_score:>5g}"]
    return "\n".join(lines)


def gradescope(report: Report) -> dict:
    """The results.json shape Gradescope reads: one test per graded function, its messages escaped, one paragraph each."""
    return {
        "assignment": report.assignment,
        "score": report.score,
        "max_score": report.max_score,
        **FORMAT,
        "tests": [
            {"name": r.name, "score": r.score, "max_score": r.max_score,
             "output": "\n\n".join(escape.markdown(m) for m in r.messages) or "All checks passed.",
             "visibility": "visible", **FORMAT}
            for r in report.results
        ],
    }


def write_json(report: Report, path: Path) -> None:
    Path(path).write_text(json.dumps(gradescope(report), indent=2) + "\n")
