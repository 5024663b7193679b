"""Command line: ``python -m autograder grade NOTEBOOK [--assignment ID] [--json OUT] [--strict]``.

Exit status: 0 when grading completed (whatever the score), 2 for unusable input, or with
``--strict`` when the graded code cannot be fully confined on this machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.assignments import known_ids
from autograder.notebook import NotebookError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grade_cmd = sub.add_parser("grade", help="grade one notebook")
    grade_cmd.add_argument("notebook", type=Path)
    grade_cmd.add_argument("--assignment", help=f"assignment id (default: from the file name); one of {known_ids()}")
    grade_cmd.add_argument("--json", type=Path, help="also write Gradescope's results.json here")
    grade_cmd.add_argument("--strict", action="store_true",
                           help="refuse to grade unless the kernel confines the graded code (for grading others' work)")
    args = parser.parse_args(argv)

    from autograder.grade import SandboxUnavailable, grade, sandbox_problems
    from autograder.report import table, write_json

    protected = [args.json.resolve().parent] if args.json else []
    try:
        report = grade(args.notebook, args.assignment, strict=args.strict, protected=protected)
    except SandboxUnavailable as exc:
        print(f"error: --strict: the graded code cannot be fully confined here: {exc}", file=sys.stderr)
        return 2
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        name = exc.args[0] if exc.args else "?"
        print(f"error: unknown assignment {name!r}; use --assignment with one of: {', '.join(known_ids())}",
              file=sys.stderr)
        return 2
    if problems := sandbox_problems(args.notebook, protected):  # only reached without --strict
        print(f"warning: reduced sandbox ({'; '.join(problems)}); fine for your own notebook, "
              "use --strict to refuse", file=sys.stderr)
    print(table(report))
    if args.json:
        write_json(report, args.json)
    return 0
