"""The sandboxed side of grading one function: load the student's code, call it on each probe.

Run by the supervisor as ``python -m autograder._child CONFIG.json``. Everything this process
writes is plain data (see ``wire``); the grader decides the verdicts. Trusted modules are
imported, and the functions this file needs are bound, before any student code runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(config_path: str) -> None:
    from autograder import notebook, runtime, wire
    from autograder.assignments import get_assignment

    config = json.loads(Path(config_path).read_text())
    work = Path(config["workdir"])
    save, load, dumps, describe = wire.save, wire.load, json.dumps, runtime.describe_exception
    write_text = Path.write_text

    assignment = get_assignment(config["assignment"])
    spec = assignment.function(config["function"])
    reference = runtime.load_reference(assignment) if spec.uses else {}
    probe_names = json.loads((work / "probes.json").read_text())

    solution_nb = runtime.solution_notebook(assignment.id)
    student_nb = notebook.read_notebook(Path(config["notebook"]))
    statements = notebook.definitions(student_nb, runtime.solution_ids(solution_nb, assignment))

    namespace, problems = runtime.build_namespace(statements, "student")
    write_text(work / "load.json", dumps(problems))
    for name in spec.uses:  # grade this function alone: its graded helpers are the reference's
        namespace[name] = reference[name]

    for i, probe in enumerate(probe_names):
        kwargs = load(work / f"in_{i}")
        try:
            result = spec.driver(namespace, spec.name, kwargs)
            status = {"ok": True}
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            result, status = None, {"ok": False, "error": describe(exc, "student")}
        try:
            save(work / f"out_{i}", result)
        except BaseException as exc:  # noqa: BLE001
            status = {"ok": False, "error": f"its result could not be read ({type(exc).__name__})"}
        write_text(work / f"status_{i}.json", dumps(status))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
