"""The job is the unit: a graded function's whole process tree ends with it, and shares one limit on its
CPU time, its memory and its number of processes (see autograder.job for what applies where).

The attacks replace one function of the solution notebook and are graded alone, with small limits. Each
mechanism is tested where this machine has it, and the fallbacks by forcing the better ones off; the
kernel pieces are also tested as an ordinary user (uid 65534, in a forked process).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import childpolicy, confine, job, runtime, sandbox
from autograder.grade import _ended_early, grade
from tests.grading_helpers import by_name, in_child, solution_notebook, with_cell_source, write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the job's bounds need Linux")

ID = "rnn_step_by_step"
NAME = "rnn_cell_forward"
ROOT = os.geteuid() == 0
HERE = sandbox.status().job  # what this machine offers
# The attacks act on the first probe only (a file in the child's folder remembers it), to stay quick.
HEADER = (f"def {NAME}(xt, a_prev, parameters):\n    import ctypes, os, time\n    import numpy as np\n"
          "    if os.path.exists('tried'):\n        raise RuntimeError('tried on the first input only')\n"
          "    open('tried', 'w').close()\n")
# The fallbacks, each with the better mechanisms forced off.
KILLED_BY = {
    "a PID namespace": job.Support(pid_namespace=True, user_namespace=HERE.user_namespace),
    "cgroup.kill": job.Support(cgroups=tuple((w, f) for w, f in HERE.cgroups if w == "kill")),
    "the job's uid": job.Support(job_uid=True),
    "walking the tree": job.Support(),
}
AVAILABLE = {"a PID namespace": HERE.pid_namespace, "cgroup.kill": bool(HERE.cgroup("kill")),
             "the job's uid": ROOT, "walking the tree": True}


def with_bounds(monkeypatch, bounds: job.Support) -> None:
    """Grade with ``bounds`` instead of what this machine offers."""
    level = dataclasses.replace(sandbox.status(), job=bounds)
    monkeypatch.setattr(sandbox, "status", lambda: level)


def with_limits(monkeypatch, seconds: float, memory_mb: int | None = None, tasks: int | None = None) -> None:
    module = importlib.import_module(f"autograder.assignments.{ID}")
    spec = module.ASSIGNMENT
    monkeypatch.setattr(module, "ASSIGNMENT", dataclasses.replace(
        spec, seconds_per_function=seconds, memory_mb=memory_mb or spec.memory_mb))
    if tasks is not None:
        monkeypatch.setattr(childpolicy, "MAX_TASKS", tasks)


def graded(tmp_path: Path, source: str, only: str = NAME):
    path = write(with_cell_source(solution_notebook(ID), only, source), tmp_path, ID)
    return by_name(grade(path, only={only}))[only]


def marked(marker: str) -> list[tuple[int, int]]:
    """(pid, resident anonymous kB) of every process named ``marker``, zombies included (with 0 kB)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == marker:
                rss = [line.split()[1] for line in (entry / "status").read_text().splitlines()
                       if line.startswith("RssAnon:")]
                found.append((int(entry.name), int(rss[0]) if rss else 0))
        except OSError:
            continue
    return found


class Watcher:
    """Samples the processes named ``marker`` while the job runs: the most at once, and their most memory."""

    def __init__(self, marker: str):
        self.marker, self.most, self.most_kb = marker, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            found = marked(self.marker)
            self.most = max(self.most, len(found))
            self.most_kb = max(self.most_kb, sum(kb for _, kb in found))
            time.sleep(0.002)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def name_as(marker: str) -> str:
    """Code that names the current process ``marker`` (PR_SET_NAME), as the watcher looks for it."""
    return f"ctypes.CDLL(None).prctl(15, {marker.encode()!r}, 0, 0, 0)"


# ----------------------------------------------------------------------------- nothing survives

def chain(marker: str, depth: int) -> str:
    """A chain of ``depth`` processes, each the parent of the next, every third in a session of its own."""
    return HEADER + (
        "    if os.fork() == 0:\n"
        "        prctl = ctypes.CDLL(None).prctl\n"
        f"        for n in range(1, {depth} + 1):\n"
        f"            prctl(15, {marker.encode()!r}, 0, 0, 0)\n"
        "            if n % 3 == 0:\n"
        "                os.setsid()\n"
        f"            if n == {depth}:\n"
        "                open('chain_done', 'w').close()\n"
        "            elif os.fork() != 0:  # the parent stays, as one link of the chain\n"
        "                break\n"
        "        time.sleep(120)\n"
        "        os._exit(0)\n"
        "    for _ in range(6000):  # a few seconds on a quiet machine, many more when it is loaded\n"
        "        if os.path.exists('chain_done'):\n"
        f"            raise RuntimeError('a chain of {depth} processes is running')\n"
        "        time.sleep(0.005)\n"
        "    raise RuntimeError('the chain was not built in time')\n")


@pytest.mark.parametrize("mechanism", KILLED_BY)
def test_a_deep_chain_of_processes_ends_with_the_job(tmp_path, monkeypatch, mechanism):
    """Whichever mechanism ends the job, none of a deep chain (some links in new sessions) survives it.

    300 deep where the depth matters, for the walk (it killed one level per round, and stopped after 200);
    the kernel's mechanisms kill a tree at once, whatever its depth: 50 there. (A chain costs the kernel
    time that grows with the square of its depth, as each fork copies its ancestors' anon_vma links:
    about 5 s of CPU time for 300.)"""
    if not AVAILABLE[mechanism]:
        pytest.skip(f"{mechanism} is not available here")
    depth = 300 if mechanism == "walking the tree" else 50
    with_bounds(monkeypatch, KILLED_BY[mechanism])
    with_limits(monkeypatch, seconds=15, tasks=400)
    marker = f"chain-{os.getpid() % 10**6}"
    result = graded(tmp_path, chain(marker, depth))
    assert any(f"a chain of {depth} processes is running" in m for m in result.messages), result.messages
    assert marked(marker) == [], f"processes of the job outlived it ({mechanism})"


# ----------------------------------------------------------------------------- the number of processes

def bomb(marker: str, depth: int) -> str:
    """Every process forks two more, down to ``depth`` levels (2 ** (depth + 1) - 1 at most); the first spins."""
    return HEADER + (
        "    level = 0\n"
        f"    while level < {depth}:\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                level += 1\n"
        f"                {name_as(marker)}\n"
        "                continue\n"
        "            if os.fork() == 0:\n"
        "                level += 1\n"
        f"                {name_as(marker)}\n"
        "                continue\n"
        "        except OSError:  # refused: the job holds as many processes as it may\n"
        "            pass\n"
        "        break\n"
        "    if level:\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "    while True:\n"
        "        pass\n")


def bounded_processes() -> list[str]:
    names = []
    if HERE.cgroup("pids"):
        names.append("pids cgroup")
    if ROOT:
        names.append("the job's uid")
    return names


@pytest.mark.parametrize("mechanism", bounded_processes() or ["none here"])
def test_a_fork_bomb_is_bounded_and_the_grader_finishes(tmp_path, monkeypatch, mechanism):
    """A tree of up to 511 processes holds no more than the job's tasks at once (MAX_TASKS), and is stopped."""
    if mechanism == "none here":
        pytest.skip("no bound on a job's processes here (an ordinary user without user namespaces)")
    if mechanism == "the job's uid":
        with_bounds(monkeypatch, job.Support(job_uid=True))
    tasks = childpolicy.MAX_TASKS
    with_limits(monkeypatch, seconds=1)
    marker = f"bomb-{os.getpid() % 10**6}"
    start = time.monotonic()
    with Watcher(marker) as watcher:
        result = graded(tmp_path, bomb(marker, 8))
    assert time.monotonic() - start < 15
    assert 0 < watcher.most <= tasks, f"{watcher.most} processes at once"
    assert result.score == 0
    # A pids cgroup counts the refused forks, so the message names the limit; RLIMIT_NPROC does not: CPU time.
    expected = "processes or threads at once" if mechanism == "pids cgroup" else "of CPU time"
    assert any(expected in m for m in result.messages), result.messages
    assert marked(marker) == []


# ----------------------------------------------------------------------------- one memory limit

def children(marker: str, count: int, body: str, ending: str) -> str:
    """A graded function that forks ``count`` children running ``body`` (lines indented for its place), waits for
    them and raises ``ending`` followed by their exit codes."""
    return HEADER + (
        "    children = []\n"
        f"    for _ in range({count}):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        f"            {name_as(marker)}\n"
        + body +
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]\n"
        f"    raise RuntimeError(f'{ending} {{codes}}')\n")


def hogs(marker: str, megabytes: int, count: int) -> str:
    """``count`` children that each fill ``megabytes`` of memory and hold it, at the same time."""
    return children(marker, count, "            try:\n"
                                   f"                hog = np.ones({megabytes} * 2**20 // 8)\n"
                                   "            except MemoryError:\n"
                                   "                os._exit(3)\n"
                                   "            time.sleep(1.5)\n", "children ended with")


@pytest.mark.skipif(not HERE.cgroup("memory"), reason="no memory cgroup here")
def test_three_children_share_one_memory_limit(tmp_path, monkeypatch):
    """Three children of one function each fill 0.6 x the limit: together they never hold more than the
    limit, and the function is stopped for memory (each alone stays within its RLIMIT_AS)."""
    limit = 1024  # the child needs 512 MB of address space to read its inputs (wire.read_regular)
    with_limits(monkeypatch, seconds=10, memory_mb=limit)
    marker = f"hog-{os.getpid() % 10**6}"
    with Watcher(marker) as watcher:
        result = graded(tmp_path, hogs(marker, int(0.6 * limit), 3))
    assert result.score == 0
    assert any(f"together used more than {limit} MB" in m for m in result.messages), result.messages
    # RssAnon also counts, in each child, the pages it shares with the fork server (copy-on-write), which
    # the job's cgroup does not: 64 MB for those. Without the cgroup the children held 3 x 614 MB.
    assert watcher.most_kb <= (limit + 64) * 1024, f"the children held {watcher.most_kb // 1024} MB at once"
    assert marked(marker) == []


def test_without_a_memory_cgroup_each_process_is_bounded(tmp_path, monkeypatch):
    """Without a memory cgroup, what bounds the job's memory is RLIMIT_AS on each of its processes (so at
    most MAX_TASKS x the limit): a child cannot fill more than the limit, while three can each fill 0.6 x it."""
    with_bounds(monkeypatch, dataclasses.replace(HERE, cgroups=tuple(c for c in HERE.cgroups if c[0] != "memory")))
    limit = 1024
    with_limits(monkeypatch, seconds=10, memory_mb=limit)
    marker = f"hog-{os.getpid() % 10**6}"
    result = graded(tmp_path, hogs(marker, int(1.1 * limit), 1))
    assert any("children ended with [3]" in m for m in result.messages), result.messages  # MemoryError
    result = graded(tmp_path, hogs(marker, int(0.6 * limit), 3))
    assert any("children ended with [0, 0, 0]" in m for m in result.messages), result.messages


# ----------------------------------------------------------------------------- CPU time, not wall time

def spinners(marker: str, seconds: float, count: int) -> str:
    """``count`` children that each spin for ``seconds`` of their own CPU time, in sessions of their own."""
    return children(marker, count, "            os.setsid()\n"
                                   f"            while time.process_time() < {seconds}:\n"
                                   "                pass\n", "the children spun to their end:")


@pytest.mark.skipif(not HERE.cgroup("cpu"), reason="no cgroup counts a job's CPU time here")
def test_the_cpu_limit_is_on_the_whole_tree(tmp_path, monkeypatch):
    """Three children each spin 0.6 x the limit (each within its own RLIMIT_CPU): the job is stopped when
    their sum reaches the limit."""
    with_limits(monkeypatch, seconds=1)
    marker = f"spin-{os.getpid() % 10**6}"
    result = graded(tmp_path, spinners(marker, 0.6, 3))
    assert result.score == 0
    assert any("did not finish within 1 s of CPU time" in m for m in result.messages), result.messages
    assert marked(marker) == []


@pytest.mark.parametrize("child", ["a PID 1", "an ordinary process"])
def test_without_a_cgroup_a_function_that_spins_is_stopped_for_cpu_time(tmp_path, monkeypatch, child):
    """Without a cgroup, RLIMIT_CPU stops an endless loop, and the learner is told so: by SIGXCPU, which a
    PID 1 (the child in a PID namespace) ignores, so that it dies at the hard limit, by SIGKILL."""
    bounds = job.Support(pid_namespace=child == "a PID 1", user_namespace=HERE.user_namespace)
    if bounds.pid_namespace and not HERE.pid_namespace:
        pytest.skip("no PID namespace here")
    with_bounds(monkeypatch, bounds)
    with_limits(monkeypatch, seconds=1)
    result = graded(tmp_path, HEADER + "    while True:\n        pass\n")
    assert result.score == 0
    assert any("did not finish within 1 s of CPU time" in m for m in result.messages), result.messages


def test_an_honest_notebook_keeps_full_marks_while_others_hog_the_cores(tmp_path, monkeypatch):
    """Processes in sessions of their own spin on every core while an honest notebook is graded with a
    CPU limit a few times what its functions need: it keeps full marks (a wall-clock limit as small took
    points from it), and takes longer. (Its CPU time is counted by its cgroup, or else by RLIMIT_CPU.)"""
    with_limits(monkeypatch, seconds=0.25)
    path = write(solution_notebook(ID), tmp_path, ID)
    assert grade(path).score == 100  # the fork server is started, unloaded
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                for _ in range(16 * (os.cpu_count() or 1))]
    try:
        start = time.monotonic()
        report = grade(path)
        elapsed = time.monotonic() - start
    finally:
        for process in spinning:
            process.kill()
            process.wait()
    assert report.score == 100, [(r.name, r.messages) for r in report.results if r.messages]
    assert elapsed > 0.25


def test_the_learner_is_told_which_limit_stopped_the_function():
    spec = importlib.import_module(f"autograder.assignments.{ID}").ASSIGNMENT
    said = {limit: _ended_early(sandbox.Outcome(-9, limit), spec) for limit in ("cpu", "wall", "memory", "processes")}
    assert f"{spec.seconds_per_function:g} s of CPU time" in said["cpu"]
    assert f"{childpolicy.wall_seconds(spec.seconds_per_function):g} s of waiting" in said["wall"]
    assert f"more than {spec.memory_mb} MB" in said["memory"]
    assert f"more than {childpolicy.MAX_TASKS} processes" in said["processes"]
    assert "crashed" in _ended_early(sandbox.Outcome(-9, ""), spec)


# ----------------------------------------------------------------------------- the kernel pieces, as an ordinary user

def as_nobody(test) -> None:
    """Run ``test()`` in a forked process as uid and gid 65534 (modules it needs already imported); raise
    what it raised."""
    if not ROOT:
        test()
        return

    def as_started_by_nobody() -> None:
        job._libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: as a process started by that user would be
        test()

    in_child(as_started_by_nobody, as_nobody=True)


def run_job(bounds: job.Support, body, tasks: int = 32) -> tuple[int, float, str, bool]:
    """In a forked supervisor: a Job with ``bounds`` whose child runs ``body()``; (child's exit code, its CPU
    seconds, the limit that stopped it, whether the tree was empty at the end)."""
    read, write_end = os.pipe()
    supervisor = os.fork()
    if supervisor == 0:
        os.close(read)
        unit = job.Job(bounds)
        unit.limit_to(memory_mb=1024, tasks=tasks)
        drop = os.geteuid() == 0 or bounds.user_namespace  # the capabilities (root's, or the user namespace's)
        child = os.fork()
        if child == 0:  # as autograder.forkserver._run_child does, without Landlock
            unit.join()
            unit.enter(tasks)
            confine.confine_self(None, False, drop)
            job.die_with_supervisor()
            body()
            os._exit(0)
        status, cpu, stopped = unit.watch(child, cpu_seconds=2, wall_seconds=10)
        empty = unit.end()
        limit = unit.limit(stopped, status, cpu)
        unit.close()
        os.write(write_end, json.dumps([os.waitstatus_to_exitcode(status), cpu, limit, empty]).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(supervisor, 0)
    return tuple(json.loads(answer))


def build_chain(marker: str, depth: int):
    def body() -> None:
        for n in range(1, depth + 1):
            job._libc.prctl(15, marker.encode(), 0, 0, 0)
            if n % 3 == 0:
                os.setsid()
            if n == depth or os.fork() != 0:
                break
        time.sleep(0.5 if n == 1 else 120)  # the first link, the child itself, ends the job
    return body


def fork_many(marker: str, count: int):
    def body() -> None:
        made = 0
        for _ in range(count):
            try:
                if os.fork() == 0:
                    job._libc.prctl(15, marker.encode(), 0, 0, 0)
                    time.sleep(120)
                    os._exit(0)
                made += 1
            except OSError:
                break
        os._exit(made)
    return body


@pytest.mark.parametrize("user_namespace", [True, False], ids=["PID namespace in a user namespace", "tree walk"])
def test_an_ordinary_users_job_ends_whole(user_namespace):
    """As an ordinary user: a PID namespace inside a user namespace where the kernel allows one, else the
    walk over the tree; either way a chain of 100 processes (some in new sessions) ends with the job."""
    marker = f"uchain-{os.getpid() % 10**5}"

    def test() -> None:
        here = job.support()
        assert not here.job_uid and not here.cgroup("memory")  # nothing of root's
        if user_namespace and not here.user_namespace:
            return  # this kernel refuses unprivileged user namespaces: the walk below is what applies
        bounds = here if user_namespace else job.Support()
        code, _, limit, empty = run_job(bounds, build_chain(marker, 100), tasks=200)
        assert (code, limit, empty) == (0, "", True)
        assert marked(marker) == []

    as_nobody(test)


def test_an_ordinary_users_job_holds_a_bounded_number_of_processes():
    """In its user namespace, RLIMIT_NPROC counts the job's processes alone (and the supervisor's)."""
    marker = f"ubomb-{os.getpid() % 10**5}"

    def test() -> None:
        here = job.support()
        if not here.user_namespace:
            return  # no bound as an ordinary user without user namespaces (said by status())
        code, _, _, empty = run_job(here, fork_many(marker, 100), tasks=10)
        assert code == 10 - 1 and empty  # the child itself is one of the 10
        assert marked(marker) == []

    as_nobody(test)


@pytest.mark.skipif(not ROOT, reason="the job's uid is root's mechanism")
def test_the_jobs_uid_bounds_its_processes_and_cannot_be_left():
    """As root without a pids cgroup: RLIMIT_NPROC on the job's own uid, which its code cannot leave once
    its capabilities are dropped; it still opens the files it opened as uid 0."""
    marker = f"rbomb-{os.getpid() % 10**5}"
    code, _, _, empty = run_job(job.Support(job_uid=True), fork_many(marker, 100), tasks=10)
    assert code == 10 - 1 and empty
    assert marked(marker) == []

    def stays() -> None:
        for uids in ((0, 0, 0), (-1, 0, -1)):
            try:
                os.setresuid(*uids)
                os._exit(1)
            except PermissionError:
                pass
        with open(sys.executable, "rb"):  # under /root (mode 700) on a pyenv install, as here
            os._exit(0 if os.getuid() == job.job_uid(os.getppid()) else 2)

    assert run_job(job.Support(job_uid=True), stays)[0] == 0


def test_status_says_how_the_job_is_bounded():
    level = sandbox.status()
    text = level.describe()
    assert level.job == HERE
    if HERE.pid_namespace:
        assert "a PID namespace per job" in text
    if HERE.cgroup("memory"):
        assert "memory cgroup" in text and "RLIMIT_AS per process" not in text
    bare = dataclasses.replace(level, job=job.Support())
    layers, missing = bare.job.describe()
    assert "the number of processes" in missing and any("RLIMIT_AS per process" in m for m in missing)
    assert any("RLIMIT_CPU per process" in m for m in missing)


@pytest.mark.skipif(not HERE.pid_namespace, reason="no PID namespace here")
def test_a_pid_namespace_hides_the_grader_and_the_supervisor(tmp_path, monkeypatch):
    """Landlock aside (turned off here), the job sees no process but its own: the grader's pid names
    nothing, and its own process group (kill(0)) and every process it may signal (kill(-1)) are its own."""
    level = dataclasses.replace(sandbox.status(), landlock_abi=0)
    monkeypatch.setattr(sandbox, "status", lambda: level)
    with_limits(monkeypatch, seconds=2)
    hits: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: hits.append(signum))
    try:
        attack = HEADER + (
            "    import signal\n"
            "    said = []\n"
            f"    for target in ({os.getpid()}, os.getppid(), 0, -1):\n"
            "        try:\n"
            "            os.kill(target, signal.SIGUSR1)\n"
            "            said.append('sent')\n"
            "        except OSError as exc:\n"
            "            said.append(type(exc).__name__)\n"
            "    raise RuntimeError(f'signals: {said}')\n")
        start = time.monotonic()
        result = graded(tmp_path, attack)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert hits == []
    assert time.monotonic() - start < 10, "the supervisor was signalled"
    # The grader's pid is not in the namespace; the parent's is 0 there, the child's own process group, as
    # is kill(0) (a PID 1 ignores signals it has no handler for); kill(-1) finds no other process.
    assert any("signals: ['ProcessLookupError', 'sent', 'sent', 'ProcessLookupError']" in m
               for m in result.messages), result.messages


@pytest.mark.parametrize("mechanism", ["a PID namespace", "cgroup.kill", "the job's uid"])
def test_a_supervisor_killed_in_the_middle_of_a_job_leaves_nothing(tmp_path, monkeypatch, mechanism):
    """If a supervisor dies before it has ended its job (the fork server's backstop kills it, say), the child
    dies with it (and so its PID namespace), and the fork server ends the rest through its cgroup or its uid."""
    if not AVAILABLE[mechanism]:
        pytest.skip(f"{mechanism} is not available here")
    with_bounds(monkeypatch, KILLED_BY[mechanism])
    with_limits(monkeypatch, seconds=10)
    marker = f"orphan-{os.getpid() % 10**5}"
    attack = chain(marker, 20).replace("raise RuntimeError('a chain of 20 processes is running')", "time.sleep(60)")
    server = sandbox._server(runtime.child_modules(ID))
    done: list = []
    grading = threading.Thread(target=lambda: done.append(graded(tmp_path, attack)))
    grading.start()
    for _ in range(1000):
        if len(marked(marker)) >= 20:
            break
        time.sleep(0.01)
    for supervisor in job._children_of(server._proc.pid):
        os.kill(supervisor, signal.SIGKILL)
    grading.join(timeout=30)
    assert done and done[0].score == 0
    for _ in range(200):  # the child's death signal, the namespace's end: a moment
        if not marked(marker):
            break
        time.sleep(0.01)
    assert marked(marker) == [], "processes of the job outlived its supervisor"
