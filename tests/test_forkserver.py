"""The fork server's life cycle, seen from the grader: started once, replaced if it dies, gone when closed."""

from __future__ import annotations

from autograder import runtime, sandbox
from autograder.grade import grade
from autograder.runtime import solution_path

ID = "rnn_step_by_step"


def _server():
    return sandbox._server(runtime.child_modules(ID))


def test_one_server_grades_notebook_after_notebook():
    assert grade(solution_path(ID)).score == 100
    first = _server()
    assert grade(solution_path(ID)).score == 100
    assert _server() is first and first._proc.poll() is None


def test_a_server_that_dies_is_replaced_and_grading_goes_on():
    assert grade(solution_path(ID)).score == 100
    dead = _server()
    dead._proc.kill()
    dead._proc.wait()
    assert grade(solution_path(ID)).score == 100
    assert _server() is not dead


def test_closing_ends_the_server_and_removes_its_folder():
    grade(solution_path(ID))
    server = _server()
    sandbox.close_servers()
    assert server._proc.poll() is not None
    assert not server._folder.exists()


def _imports(module) -> set[str]:
    """The modules that ``module``'s source imports, anywhere in it (``from autograder import x`` counts as x)."""
    import ast
    import inspect

    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_server_and_the_grader_side_share_one_home_and_import_neither_other():
    """What both need (the child's policy, environment and clocks) lives in autograder.childpolicy."""
    from autograder import childpolicy, forkserver

    assert "autograder.sandbox" not in _imports(forkserver)
    assert "autograder.forkserver" not in _imports(sandbox)
    assert "autograder.childpolicy" in _imports(forkserver) & _imports(sandbox)
    assert not {"autograder.sandbox", "autograder.forkserver"} & _imports(childpolicy)


def test_closing_the_server_ends_its_spare_supervisors_and_their_jobs_groups():
    """The supervisors kept ready for the next jobs (with their children, in their jobs' groups) end with
    the server, and leave no group behind."""
    import time
    from pathlib import Path

    from autograder import job

    grade(solution_path(ID))
    server = _server()
    spares = job._children_of(server._proc.pid)
    assert spares
    groups = [Path(parent) / f"autograder-job-{pid}" for pid in spares for _, parent in sandbox.status().job.cgroups]
    assert all(group.exists() for group in groups)
    sandbox.close_servers()
    for _ in range(300):
        if not any(_running(pid) for pid in spares) and not any(group.exists() for group in groups):
            break
        time.sleep(0.01)
    assert not any(_running(pid) for pid in spares)
    assert not any(group.exists() for group in groups)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
