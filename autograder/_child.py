"""The sandboxed side of grading one function: build the student's module, call it on each probe.

Called in a child forked by the fork server (:mod:`autograder.forkserver`) once it is confined to
its working folder (the current directory), which the grader filled with ``config.json``, ``code.json`` (the student's
graded code), ``helpers.json`` (the reference code of the helpers this function may use, never of the function
itself: read and deleted by the helper process of :mod:`autograder.remote`, never by this one) and the probe
inputs. It never sees the notebook, the solutions, the reference code or the reference outputs.
Everything it writes is plain data (see ``wire``); the grader decides the verdicts. Trusted
modules are imported, and the functions this file needs are bound, before any student code runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder import remote, runtime, wire
from autograder.assignments import get_assignment
from autograder.notebook import Statement
from autograder.verdict import shared_arrays


def main() -> None:
    work = Path.cwd()
    save, load, dumps, describe = wire.save, wire.load, json.dumps, runtime.describe_exception
    write_text = Path.write_text

    config = json.loads((work / "config.json").read_text())
    spec = get_assignment(config["assignment"]).function(config["function"])
    # First, before any student code: the helper process takes the reference helpers' code (and deletes its
    # file), so that this process never holds it; here they are proxies that return results only.
    helpers, helper_problems = remote.start_helpers(work / "helpers.json", spec.uses, _reference) if spec.uses \
        else ({}, [])
    student = json.loads((work / "code.json").read_text())
    namespace, problems = runtime.build_namespace([Statement(**s) for s in student], "student")
    write_text(work / "load.json", dumps(problems + [f"(grader) {p}" for p in helper_problems]))
    namespace.update(helpers)  # grade this function alone: its graded helpers are the reference's

    for i in range(config["probes"]):
        kwargs = load(work / f"in_{i}")
        try:
            result = spec.driver(namespace, spec.name, kwargs)
            status = {"ok": True}
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            result, status = None, {"ok": False, "error": describe(exc, "student")}
        try:  # which returned arrays share memory: lost on the way through `wire`, so recorded here
            status["shared"] = shared_arrays(result, spec.outputs) if status["ok"] else []
        except BaseException:  # noqa: BLE001 - a strange result is judged by its values alone
            status["shared"] = []
        try:
            save(work / f"out_{i}", result)
        except BaseException as exc:  # noqa: BLE001
            status = {"ok": False, "error": f"its result could not be read ({type(exc).__name__})"}
        write_text(work / f"status_{i}.json", dumps(status))
        sys.stdout.flush()


def _reference(statements: list[dict]) -> tuple[dict, list[str]]:
    """In the helper process: the reference helpers' namespace."""
    return runtime.build_namespace([Statement(**s) for s in statements], "reference")
