"""Command line: ``python -m autograder grade NOTEBOOK [--assignment ID] [--json OUT] [--strict]``,
``python -m autograder batch SUBMISSIONS --assignment ID --out DIR [--workers N] [--shard K/N] [--nbgrader-db DB]
[--force]`` and
``python -m autograder merge SHARD_DIR ... --assignment ID --out DIR`` and
``python -m autograder gradescope ID -o autograder_ID.zip``.

Exit status: 0 when grading completed (whatever the score), 2 for unusable input, or with
``--strict`` (always, for ``batch``) when the graded code cannot be fully confined on this machine.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
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
    batch_cmd = sub.add_parser("batch", help="grade a class: a folder or zip of submissions, resumable")
    batch_cmd.add_argument("submissions", type=Path, help="folder or zip: notebooks, student folders, or nbgrader's "
                           "submitted/<student>/<assignment>/ layout")
    batch_cmd.add_argument("--assignment", required=True, choices=known_ids())
    batch_cmd.add_argument("--out", type=Path, required=True,
                           help="grades.csv and summary.md go here, each student's results.json in students/<id>/")
    batch_cmd.add_argument("--workers", type=int, default=2,
                           help="notebooks graded at once, by this process (default 2); --shard splits a class "
                           "over several processes or machines")
    batch_cmd.add_argument("--shard", type=_shard, default=(1, 1), metavar="K/N",
                           help="grade only shard K of N (for a job array); combine the shards with merge")
    batch_cmd.add_argument("--nbgrader-db", type=Path, metavar="GRADEBOOK",
                           help="also write each score into this nbgrader gradebook (e.g. gradebook.db), and "
                           "formgrader's notebooks into autograded/ beside it")
    batch_cmd.add_argument("--force", action="store_true",
                           help="grade every submission again; without it, a student who has a result is graded "
                           "again only if their notebook, the grader, the assignment's spec or its solution changed")
    merge_cmd = sub.add_parser("merge", help="one grades.csv and summary.md from the folders of several shards")
    merge_cmd.add_argument("shards", type=Path, nargs="+")
    merge_cmd.add_argument("--assignment", required=True, choices=known_ids())
    merge_cmd.add_argument("--out", type=Path, required=True)
    bundle_cmd = sub.add_parser("gradescope", help="build a Gradescope autograder bundle (zip) for an assignment")
    bundle_cmd.add_argument("assignment", choices=known_ids())
    bundle_cmd.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "gradescope":
        from autograder.gradescope import build

        print(f"{args.output}: {len(build(args.assignment, args.output))} files; upload it as the autograder")
        return 0
    if args.command == "batch":
        return _batch(args)
    if args.command == "merge":
        from autograder.batch import merge

        print(merge(args.shards, args.out, args.assignment))
        return 0

    if (assignment := args.assignment or args.notebook.stem) in known_ids():
        from autograder import runtime, sandbox

        sandbox.start_server(runtime.child_modules(assignment))  # before the grader's own imports: they overlap
    from autograder.grade import SandboxUnavailable, grade, sandbox_problems
    from autograder.report import table, write_json

    if args.json and (problem := _json_target(args.json)):
        print(f"error: --json {args.json}: {problem}", file=sys.stderr)
        return 2
    protected = [args.json.resolve().parent] if args.json else []
    try:
        report = grade(args.notebook, args.assignment, strict=args.strict, protected=protected)
    except SandboxUnavailable as exc:
        print(f"error: --strict: the graded code cannot be fully confined here: {exc}", file=sys.stderr)
        return 2
    except NotebookError as exc:
        print(f"error: {args.notebook}: {exc}", file=sys.stderr)
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
        try:
            write_json(report, args.json)
        except OSError as exc:
            print(f"error: --json {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0


def _json_target(path: Path) -> str:
    """Why results cannot be written to ``path`` (empty when they can): checked, and its folder made, before grading."""
    if path.is_dir():
        return "is a folder; give the name of the file to write"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create its folder: {exc.strerror}"
    return ""


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"shard {text}: K must be between 1 and N")
    return k, n


def _batch(args: argparse.Namespace) -> int:
    from autograder.batch import run
    from autograder.grade import SandboxUnavailable

    try:
        print(run(args.submissions, args.assignment, args.out, workers=args.workers, shard=args.shard,
                  nbgrader_db=args.nbgrader_db, force=args.force))
    except SandboxUnavailable as exc:
        print(f"error: the graded code cannot be fully confined here, and a class is only graded confined: {exc}",
              file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
