"""The sandbox's fork server: imports what the graded code needs once, then forks one confined child per job.

Layout: grader -> fork server -> supervisor (one per job) -> child. Starting a Python process and
importing numpy (and torch, matplotlib, music21 for some assignments) costs from 0.3 s to 3 s, far
more than grading a function; forking a process that has already done so costs milliseconds. The
server keeps ``SPARES`` supervisors ready, each with its child forked and waiting in its job's
cgroups, since joining a cgroup waits for the kernel; a request goes to one of them.

What the server holds is what every child inherits, so it holds nothing a child must not see. The
grader starts it with ``python -m autograder.forkserver MODULES``, in an environment built from
scratch, so none of the grader's variables is in its memory. It imports public modules only (the
course packages and what the assignment's notebook imports), and it never reads a submission, a
solution or the reference: each child reads its own job from its folder after it is confined. A
request names the folder and the limits, nothing else.

Protocol: one JSON request per line on stdin, ``{"job", "box", "seconds", "memory_mb", "tasks",
"landlock_abi", "netns", "root", "bounds", "sandbox_gid"}`` (``seconds`` is the job's CPU time, ``bounds``
an :class:`autograder.job.Support`, ``sandbox_gid`` the group the child takes without Landlock, or null);
once that job's supervisor has ended, and so has written ``box/outcome.json``, the line ``{"job": N}`` on
stdout. The server removes its folder and exits when stdin closes (the grader closed it, or was killed);
supervisors still running finish their jobs on their own, and the spares end.

The supervisor treats the job, the child and every process it starts, as one unit (see
:mod:`autograder.job`): one limit on their CPU time, their memory and their number, a wall clock as a
backstop, and nothing of it left running once the result is in. It keeps its own files (the outcome,
the child's stdout and stderr) in ``box``, one level above the child's folder ``box/work``, out of the
child's reach.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import NoReturn

from autograder import confine, job
from autograder.childpolicy import BACKSTOP_SECONDS, child_policy, wall_seconds

MAX_FILE_MB = 256  # RLIMIT_FSIZE: the child cannot fill the disk
SPARES = 2  # supervisors kept ready, each with its child waiting in its job's groups: grade runs 2 jobs at a time


# ----------------------------------------------------------------------------- server

def serve(modules: list[str]) -> NoReturn:
    """Import ``modules``, then hand each request to a supervisor made ready for it, until stdin closes."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the child meets the same error, where it is reported
            pass
    # What every child may read; its own folder is added per job. The server's folder (its working
    # directory, made for it by the grader) holds links to the course packages and the caches written at import.
    read_only = Path.cwd()
    readable = (*child_policy().read, read_only)
    # A supervisor's end wakes select() through this pipe (portable, unlike pidfds).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    running: dict[int, tuple[int, float, dict]] = {}  # supervisor pid -> (job, deadline, request)
    spares: dict[int, int] = {}  # supervisor pid -> the pipe its request goes into; made for ``bounds``, ``limits``
    # Those of the last request (the grader decides them, from confine.status), likely those of the next.
    bounds: job.Support | None = None
    limits: tuple[int, int] | None = None  # (memory_mb, tasks)
    pending = b""
    while True:
        deadlines = [d for _, d, _ in running.values() if d != float("inf")]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        if bounds is not None and len(spares) < SPARES:  # requests waiting go first (a new spare is no faster)
            timeout = 0.0
        try:
            ready, _, _ = select.select([0, wake_r], [], [], timeout)
        except InterruptedError:
            ready = []
        if wake_r in ready:
            os.read(wake_r, 1 << 12)
        while ended := _reap():
            pid, status = ended
            if (entry := running.pop(pid, None)) is not None:
                number, _, request = entry
                if status != 0:  # killed (by the backstop, say) before it had ended its job: what is left of it
                    job.discard(job.Support.from_dict(request["bounds"]), pid)
                os.write(1, json.dumps({"job": number}).encode() + b"\n")
            elif pid in spares:  # a spare that died waiting: its groups
                os.close(spares.pop(pid))
                job.discard(bounds, pid)
        if 0 in ready:
            data = os.read(0, 1 << 16)
            if not data:  # the grader closed the pipe, or was killed: the folder it made for us goes too
                shutil.rmtree(read_only, ignore_errors=True)
                os._exit(0)  # nothing to flush (finalising torch would take a while); the spares see EOF and end
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                request = json.loads(line)
                if job.Support.from_dict(request["bounds"]) != bounds:  # the first, or forced (tests)
                    bounds = job.Support.from_dict(request["bounds"])
                    for pipe in spares.values():  # a spare whose pipe closes ends, its job's groups removed
                        os.close(pipe)
                    spares.clear()
                limits = (request["memory_mb"], request["tasks"])
                pid = _hand(line, spares, bounds, limits, readable)
                deadline = time.monotonic() + wall_seconds(request["seconds"]) + BACKSTOP_SECONDS
                running[pid] = (request["job"], deadline, request)
        for pid, (number, deadline, request) in list(running.items()):
            if time.monotonic() > deadline:  # not yet reaped, so the pid cannot have been reused
                _kill_group(pid)
                running[pid] = (number, float("inf"), request)
        while bounds is not None and len(spares) < SPARES:
            pid, pipe = _start_supervisor(bounds, limits, readable)
            spares[pid] = pipe


def _hand(line: bytes, spares: dict[int, int], bounds: job.Support, limits: tuple[int, int],
          readable: tuple[Path, ...]) -> int:
    """Give the request ``line`` to a spare supervisor (a new one if none is left alive): its pid."""
    while True:
        if spares:  # the oldest, most likely ready
            pid = next(iter(spares))
            pipe = spares.pop(pid)
        else:
            pid, pipe = _start_supervisor(bounds, limits, readable)
        try:
            os.write(pipe, line + b"\n")
            return pid
        except BrokenPipeError:  # that spare had died (it is reaped with the others): its groups
            job.discard(bounds, pid)
        finally:
            os.close(pipe)


def _reap() -> tuple[int, int] | None:
    """(pid, wait status) of a supervisor that has ended, or None."""
    try:
        ended = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return None
    return ended if ended[0] else None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _start_supervisor(bounds: job.Support, limits: tuple[int, int] | None,
                      readable: tuple[Path, ...]) -> tuple[int, int]:
    """A supervisor that gets a job ready (with ``limits`` if known), and runs it once its request comes:
    (its pid, the request's pipe)."""
    request_r, request_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setsid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            # Its request comes on stdin; the server's other pipes (requests, answers, wake-ups) are not its business.
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(request_r, 0)
            os.dup2(null, 1)
            os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
            supervise(bounds, limits, readable)
            code = 0
        except BaseException:  # noqa: BLE001 - reported in the server's log; the outcome file is missing
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(request_r)
    return pid, request_w


# ----------------------------------------------------------------------------- supervisor

def supervise(bounds: job.Support, limits: tuple[int, int] | None, readable: tuple[Path, ...]) -> None:
    """Get a job ready (its groups, with ``limits`` if known, and its child waiting in them), then, once its
    request comes on stdin, run it under its limits and the confinement, end all of it, write how it ended."""
    go_r, go_w = os.pipe()  # the request, passed on to the child
    entered_r, entered_w = os.pipe()  # empty once the child has entered the sandbox, else why it could not
    supervisor = os.getpid()
    try:
        unit = job.Job(bounds)
        if limits is not None:
            unit.limit_to(*limits)
    except OSError as exc:  # told to the request, if one comes
        unit, problem = None, f"the sandbox could not be set up ({exc})"
    else:
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            os.close(entered_r)
            _run_child(unit, readable, go_r, entered_w, supervisor)  # never returns
    os.close(go_r)
    os.close(entered_w)
    try:
        line = _read_all(0)  # empty if the server ended, or wants spares for other bounds
        if unit is not None and not line:
            os.close(go_w)  # the child, waiting for its request, ends
            os.waitpid(pid, 0)
            return
        if not line:
            return
        request = json.loads(line)
        if unit is None:
            outcome = {"returncode": None, "limit": "", "setup_error": problem}
        else:
            outcome = _run(unit, pid, request, line, go_w, entered_r)
        (Path(request["box"]) / "outcome.json").write_text(json.dumps(outcome))
    finally:
        if unit is not None:
            unit.close()


def _run(unit: job.Job, pid: int, request: dict, line: bytes, go: int, entered: int) -> dict:
    """Let the waiting child ``pid`` run the job ``request`` (``line``) under its limits; end all of it; how it ended."""
    problem = ""
    try:
        unit.limit_to(request["memory_mb"], request["tasks"])
        os.write(go, line)
    except BrokenPipeError:  # the child has ended already: it says why below
        pass
    except OSError as exc:
        problem = str(exc)
    os.close(go)  # without its request (the limits could not be set), the child ends
    problem = problem or _read_all(entered).decode(errors="replace")
    status, cpu_seconds, stopped = unit.watch(pid, request["seconds"], wall_seconds(request["seconds"]))
    if not unit.end():  # reported in the server's log
        print(f"job in {request['box']}: processes still running {job.END_SECONDS:g} s after its end", file=sys.stderr)
    outcome = {"returncode": os.waitstatus_to_exitcode(status), "limit": unit.limit(stopped, status, cpu_seconds)}
    if problem:
        outcome["setup_error"] = f"the sandbox could not be set up ({problem})"
    return outcome


def _run_child(unit: job.Job, readable: tuple[Path, ...], go: int, entered: int, supervisor: int) -> None:
    """In the forked child: join the job, wait for its request, then limits, confinement and the graded code
    (:mod:`autograder._child`). Never returns."""
    try:
        unit.join()  # first: all it does from here on counts toward the job
        line = _read_all(go)
        if not line:  # no job came
            os._exit(0)
        request = json.loads(line)
        box = Path(request["box"])
        work = box / "work"
        out, err = (os.open(box / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    for name in ("child.out", "child.err"))
        abi = request["landlock_abi"]
        ruleset = confine.build_ruleset(confine.Policy(read=readable, write=(work,)), abi) if abi >= 1 else None
        ids = None
        if request.get("sandbox_gid") is not None:  # no Landlock: it leaves root for its job's uid, in its folder
            ids = (job.job_uid(supervisor), request["sandbox_gid"])
            os.chown(work, *ids)
            os.chmod(work, 0o700)
            os.chmod(box, 0o711)  # the supervisor's files in it stay root's, mode 0600
        unit.enter(request["tasks"])
        null = os.open(os.devnull, os.O_RDONLY)
        for fd, target in ((null, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
        os.chdir(work)
        os.environ.update({"HOME": str(work), "TMPDIR": str(work)})
        tempfile.tempdir = str(work)
        # RLIMIT_CPU: the CPU limit of each process (the supervisor counts the whole tree where a cgroup does).
        limit, cpu, file_size = request["memory_mb"] * 2**20, math.ceil(request["seconds"]), MAX_FILE_MB * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        # A user namespace gave the child capabilities there: they go, as root's do.
        confine.confine_self(ruleset, request["netns"], request["root"] or unit.support.user_namespace, ids=ids)
        job.die_with_supervisor()
    except BaseException as exc:  # noqa: BLE001 - the supervisor reports it; no student code has run
        os.write(entered, f"{type(exc).__name__}: {exc}".encode()[:1000])
        os._exit(1)
    # Before any student code: every descriptor but stdin, stdout and stderr goes (the ruleset, the
    # supervisor's pipes), so the child cannot reach the server or another job.
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    code = 0
    try:
        from autograder import _child

        _child.main()
    except BaseException:  # noqa: BLE001 - a fault of the grader's side: its traceback goes to child.err
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student's code may have replaced or closed it
                pass
        os._exit(code)


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 1024):
        data += chunk
    os.close(fd)
    return data


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
