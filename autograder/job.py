"""The job as the unit: a graded function's whole process tree is bounded, and ended, as one.

A job is one graded function: its child (:mod:`autograder._child`), the reference-helper process the
child starts, and whatever the student's code starts (forked, double-forked, in sessions of its own).
Its supervisor (:mod:`autograder.forkserver`) sets the bounds up before it forks the child, watches the
job's CPU time, and ends the whole tree once the result is in or a limit is hit. Each bound comes from
the kernel, from the best it offers here (decided once by :func:`support`, reported by
:func:`autograder.confine.status`):

* **Nothing survives the job.**
  - A PID namespace (as root with CAP_SYS_ADMIN; as an ordinary user inside a user namespace, where
    the kernel allows unprivileged ones): the child is its PID 1, and when it ends the kernel kills
    every process in the namespace before the supervisor can even reap the child.
  - Else a cgroup v2 group per job, if the grader's cgroup is writable: ``cgroup.kill``.
  - Else, as root (a container without CAP_SYS_ADMIN, such as Gradescope's), a uid of the job's own
    (see :func:`job_uid`): a process with that uid runs ``kill(-1, SIGKILL)``, which the kernel
    applies to every process of that uid at once, a fork in progress included. The child keeps uid 0
    for file access only (its fs uid), so it reads what it read before; it can never take uid 0 back
    once its capabilities are dropped. (Where Landlock is missing too, its fs uid becomes the job's uid
    as well, so that file permissions keep it from the secrets: see :mod:`autograder.confine`.)
  - Else (an ordinary user without user namespaces, or not Linux) rounds of a walk over the tree, each
    process killed before its children are read, so none can fork unseen.
  In every case the supervisor is a child subreaper, and it kills and reaps until it has no child left
  (every process of the job descends from it), with a deadline (``END_SECONDS``), not a number of rounds.
* **A bounded number of tasks** (processes and threads): the pids cgroup's ``pids.max``; else
  ``RLIMIT_NPROC``, which the kernel counts per uid and user namespace, so it bounds the job alone in
  its user namespace, or under its own uid (root is exempt from it: hence the job's uid). An ordinary
  user without user namespaces shares the count with all their processes: no bound there.
* **One memory limit in total**: the memory cgroup (v2 ``memory.max`` with ``memory.oom.group``, or v1
  ``memory.limit_in_bytes`` with the supervisor stopping the job at the first out-of-memory event).
  Without one, ``RLIMIT_AS`` per process (set by the supervisor, everywhere) bounds the tree's memory
  by the number of tasks times the limit.
* **CPU time of the whole tree**: the cgroup's (v2 ``cpu.stat``, or v1 ``cpuacct.usage``). The supervisor
  reads it when the tree could first have used its allowance (what is left over the number of CPUs),
  so a job that finishes early is never polled. Without a cgroup, ``RLIMIT_CPU`` per process.

A cgroup is used only where the grader's own cgroup is writable (see :mod:`autograder.cgroups`): the
job's groups are made inside it, and its own settings are never changed. In the v2 hierarchy that
gives ``cgroup.kill`` and CPU time (no controller is needed), and memory and pids where those
controllers are already enabled for its children (so not where the grader's cgroup holds processes
and is not the root, as under systemd); a hybrid hierarchy adds the v1 memory, pids and cpuacct
hierarchies. A container without CAP_SYS_ADMIN has its cgroup filesystem mounted read-only: none there.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import resource
import select
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import cgroups

JOB_UIDS = (2_000_000_000, 2**27)  # the first uid a job may get, and how many: far above any account's
# Drawn once per fork server (its supervisors inherit it): jobs of other servers, in other containers of the
# same host too, which share the kernel's count of processes per uid, get other uids.
_UID_OFFSET = int.from_bytes(os.urandom(8), "little") % JOB_UIDS[1]  # (secrets would import hashlib: 4 ms)
END_SECONDS = 5.0  # how long the supervisor keeps killing a tree that will not empty
_MIN_CHECK = 0.01  # the shortest sleep between two readings of a job's CPU time

_CLONE_NEWUSER, _CLONE_NEWPID = 0x10000000, 0x20000000
_PR_SET_PDEATHSIG, _PR_SET_SECUREBITS, _PR_SET_CHILD_SUBREAPER = 1, 28, 36
_SECBIT_NO_SETUID_FIXUP = 1 << 2  # changing uids keeps the capabilities (until they are all dropped)

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@dataclass(frozen=True)
class Support:
    """What this machine offers to bound and end a job's process tree (see the module docstring)."""

    pid_namespace: bool = False
    user_namespace: bool = False  # the PID namespace needs one (not root); RLIMIT_NPROC then counts the job alone
    job_uid: bool = False  # root without a pids cgroup: the job runs as a uid of its own
    cgroups: tuple[tuple[str, str], ...] = ()  # (what, folder its groups are made in); what: kill, cpu, memory, pids

    @classmethod
    def from_dict(cls, data: dict) -> Support:
        """The inverse of ``dataclasses.asdict`` once through JSON (which turned the tuples into lists)."""
        return cls(**{**data, "cgroups": tuple((what, folder) for what, folder in data["cgroups"])})

    def cgroup(self, what: str) -> str | None:
        return dict(self.cgroups).get(what)

    def describe(self) -> tuple[list[str], list[str]]:
        """The job's layers (present, missing), in the words of :meth:`autograder.confine.Status.describe`."""
        layers, missing = [], []
        if self.pid_namespace:
            layers.append("a PID namespace per job" + (" (in a user namespace)" if self.user_namespace else ""))
        elif self.cgroup("kill"):
            layers.append("cgroup.kill per job")
        elif self.job_uid:
            layers.append("a uid per job (killed at once)")
        else:
            missing.append("killing all of a job's processes at once (its tree is walked instead)")
        if self.cgroup("pids"):
            layers.append("pids cgroup")
        elif self.user_namespace or self.job_uid:
            layers.append("RLIMIT_NPROC per job")
        else:
            missing.append("the number of processes")
        if self.cgroup("memory"):
            layers.append("memory cgroup")
        else:
            missing.append("memory of the whole job (RLIMIT_AS per process only)")
        if self.cgroup("cpu"):
            layers.append("CPU time of the whole job")
        else:
            missing.append("CPU time of the whole job (RLIMIT_CPU per process only)")
        return layers, missing


def support() -> Support:
    """What :class:`Job` can use on this machine (a child process tries it: cache the answer)."""
    if _libc is None:
        return Support()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.write(write, json.dumps(dataclasses.asdict(_try_support())).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return Support.from_dict(json.loads(data)) if data else Support()


def _try_support() -> Support:
    """In a child process that may be changed for good: try what the kernel offers."""
    root = os.geteuid() == 0
    groups = cgroups.folders()
    pid_namespace = own_uid = False
    try:
        _enter_pid_namespace(user=not root)
        pid_namespace = True
    except OSError:
        pass
    if root and not any(what == "pids" for what, _ in groups):  # the last: the process is never root again
        try:
            _become(job_uid(os.getpid()))
            own_uid = True
        except OSError:
            pass
    return Support(pid_namespace, pid_namespace and not root, own_uid, groups)


class Job:
    """One job's bounds. Its supervisor makes them before it forks the child, which joins them first thing
    (:meth:`join`); the supervisor sets the kernel's limits (:meth:`limit_to`), and once the job's request
    has come the child takes its own (:meth:`enter`) before the confinement, and the supervisor watches
    it (:meth:`watch`). Joining a cgroup waits for the kernel (an RCU grace period, some 10 ms when nothing
    else did it just before), and a v1 memory limit takes a few writes: the fork server has both done by a
    spare supervisor before the request comes (see :mod:`autograder.forkserver`)."""

    def __init__(self, support: Support):
        self.support = support
        self.cpu_seconds = 0.0  # set by watch
        self.limits: tuple[int, int] | None = None  # (memory_mb, tasks) once set by limit_to
        self.uid = job_uid(os.getpid()) if support.job_uid else None
        self.groups = {what: Path(parent) / cgroups.group_name(os.getpid()) for what, parent in support.cgroups}
        self._oom_event: int | None = None  # v1: an eventfd the kernel signals at the job's first out-of-memory
        _become_subreaper()
        try:
            for folder in set(self.groups.values()):
                cgroups.remove_group(folder)  # left by a supervisor of the same pid that was killed
                folder.mkdir()
            if support.pid_namespace:  # the next child of the supervisor is PID 1 of a new namespace
                _enter_pid_namespace(user=support.user_namespace)
        except BaseException:
            self.close()
            raise

    def join(self) -> None:
        """In the child, first thing after fork: a session of its own, and the job's groups."""
        # A session of its own: a signal to its process group cannot reach the supervisor, which the PID
        # namespace otherwise hides (the child's parent is pid 0 there).
        os.setsid()
        for folder in set(self.groups.values()):
            (folder / "cgroup.procs").write_text("0")

    def limit_to(self, memory_mb: int, tasks: int) -> None:
        """In the supervisor, before the child goes on: the job's memory and tasks (written only if changed)."""
        if self.limits == (memory_mb, tasks):
            return
        if "memory" in self.groups:
            self._limit_memory(self.groups["memory"], memory_mb * 2**20)
        if "pids" in self.groups:
            (self.groups["pids"] / "pids.max").write_text(str(tasks))
        self.limits = (memory_mb, tasks)

    def _limit_memory(self, group: Path, limit: int) -> None:
        if (group / "memory.max").exists():  # v2: the whole group is killed at the first out-of-memory
            (group / "memory.max").write_text(str(limit))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (group / name).exists():
                    (group / name).write_text(value)
            return
        memsw = group / "memory.memsw.limit_in_bytes"  # memory and swap: no swapping out of the limit
        ordered = [group / "memory.limit_in_bytes", memsw] if memsw.exists() else [group / "memory.limit_in_bytes"]
        if self.limits is not None and self.limits[0] * 2**20 < limit:
            ordered.reverse()  # raised: memory and swap first, as it may never be below memory alone
        for path in ordered:
            path.write_text(str(limit))
        if self._oom_event is not None:
            return
        # v1 kills one process at a time: its OOM killer is turned off, the tasks wait at the limit, and the
        # supervisor, woken by the eventfd, kills the whole job.
        (group / "memory.oom_control").write_text("1")
        self._oom_event = os.eventfd(0, os.EFD_CLOEXEC)
        control = os.open(group / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        try:
            (group / "cgroup.event_control").write_text(f"{self._oom_event} {control}")
        finally:
            os.close(control)

    def enter(self, tasks: int) -> None:
        """In the child, once the request has come and before the confinement: its limit on processes, its uid."""
        if self.support.user_namespace and "pids" not in self.groups:
            # Counted in the user namespace, where the supervisor is the only other process.
            resource.setrlimit(resource.RLIMIT_NPROC, (tasks + 1, tasks + 1))
        if self.uid is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
            _become(self.uid)

    def watch(self, pid: int, cpu_seconds: float, wall_seconds: float) -> tuple[int, float, str]:
        """Wait for the child ``pid`` to end, or stop the job at its first limit (CPU time of the whole job where
        a cgroup counts it, wall clock, memory); reap the child.

        Returns its wait status, its own CPU seconds (with those of the children it reaped) and the
        limit that stopped it: "cpu", "wall", "memory" or "" (it ended on its own).
        """
        self.cpu_seconds = cpu_seconds
        deadline = time.monotonic() + wall_seconds
        cpus = os.cpu_count() or 1
        events = [self._oom_event] if self._oom_event is not None else []
        stopped = ""
        while not stopped:
            wait = deadline - time.monotonic()
            used = self.cpu_used()
            if used is not None:  # the tree cannot use more than all the CPUs until then
                wait = min(wait, max((self.cpu_seconds - used) / cpus, _MIN_CHECK))
            if used is not None and used >= self.cpu_seconds:
                stopped = "cpu"
            elif wait <= 0:
                stopped = "wall"
            else:
                ended, ready = _wait(pid, events, wait)
                if ended is not None:
                    return ended[0], ended[1], ""
                if ready:
                    stopped = "memory"
        os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        return status, usage.ru_utime + usage.ru_stime, stopped

    def cpu_used(self) -> float | None:
        """The CPU seconds used by every process that has been in the job, or None where no cgroup counts them."""
        group = self.groups.get("cpu")
        if group is None:
            return None
        if (group / "cpu.stat").exists():
            return cgroups.field(group / "cpu.stat", "usage_usec") / 1e6
        return int((group / "cpuacct.usage").read_text()) / 1e9

    def limit(self, stopped: str, status: int, cpu_seconds: float) -> str:
        """Which limit ended the job, from the supervisor's own verdict (``stopped``) and the kernel's counters."""
        if stopped == "memory" or ("memory" in self.groups and self._out_of_memory()):
            return "memory"
        killed = stopped or os.WIFSIGNALED(status)
        if killed and "pids" in self.groups and cgroups.field(self.groups["pids"] / "pids.events", "max") > 0:
            return "processes"
        if stopped:
            return stopped
        if os.WIFSIGNALED(status) and (os.WTERMSIG(status) == signal.SIGXCPU or cpu_seconds >= self.cpu_seconds):
            return "cpu"  # RLIMIT_CPU: SIGXCPU, or SIGKILL at the hard limit (a PID 1 ignores SIGXCPU)
        return ""

    def _out_of_memory(self) -> bool:
        if self._oom_event is not None:  # v1: the event stays readable, as nobody reads it
            return bool(select.select([self._oom_event], [], [], 0)[0])
        return cgroups.field(self.groups["memory"] / "memory.events", "oom_kill") > 0

    def end(self) -> bool:
        """Once the child is reaped: kill every process of the job and reap them all. True once none is left,
        False if ``END_SECONDS`` passed (the supervisor has no child left exactly when the job is empty)."""
        deadline = time.monotonic() + END_SECONDS
        while not _reap_ended():
            if time.monotonic() > deadline:
                return False
            if self.support.pid_namespace:
                pass  # the kernel emptied the namespace before the child could be reaped: nothing can be left
            elif "kill" in self.groups:
                (self.groups["kill"] / "cgroup.kill").write_text("1")
            elif self.uid is not None:
                _kill_as(self.uid)
            else:
                _kill_tree()
            time.sleep(0.001)
        return True

    def close(self) -> None:
        """Remove the job's groups (once it has ended)."""
        if self._oom_event is not None:
            os.close(self._oom_event)
        for folder in set(self.groups.values()):
            cgroups.remove_group(folder)


def discard(support: Support, supervisor: int) -> None:
    """In the fork server, once ``supervisor`` died before it had ended its job: end what can still be found of
    it. The child dies with its supervisor (and with it a PID namespace); the rest is found by its cgroup or
    its uid (a tree walk cannot find processes re-parented to init)."""
    if kill := support.cgroup("kill"):
        try:
            (Path(kill) / cgroups.group_name(supervisor) / "cgroup.kill").write_text("1")
        except OSError:
            pass
    if support.job_uid:
        _kill_as(job_uid(supervisor))
    for _, parent in support.cgroups:
        cgroups.remove_group(Path(parent) / cgroups.group_name(supervisor))


# ----------------------------------------------------------------------------- kernel pieces

def job_uid(supervisor: int) -> int:
    """The uid of the job of ``supervisor``: distinct for the jobs of one fork server (their supervisors' pids
    differ), and most unlikely to be another server's."""
    first, count = JOB_UIDS
    return first + (_UID_OFFSET + supervisor) % count


def _check(result: int, what: str) -> None:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _become_subreaper() -> None:
    """Anything the job leaves running is re-parented to the supervisor rather than to init (Linux)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _enter_pid_namespace(user: bool) -> None:
    """Make the caller's next child PID 1 of a new PID namespace (in a new user namespace if ``user``)."""
    if not user:
        _check(_libc.unshare(_CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        return
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID), "unshare(CLONE_NEWUSER | CLONE_NEWPID)")
    # The same ids inside as outside: only the namespace's capabilities are new, and the child drops them.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _become(uid: int) -> None:
    """As root: real, effective and saved uid ``uid``, fs uid 0 (files are opened as before); the capabilities
    stay until :func:`autograder.confine.confine_self` drops them, after which uid 0 cannot be taken back."""
    _check(_libc.prctl(_PR_SET_SECUREBITS, _SECBIT_NO_SETUID_FIXUP, 0, 0, 0), "prctl(PR_SET_SECUREBITS)")
    os.setresuid(uid, uid, uid)
    _libc.setfsuid(0)
    if _libc.setfsuid(-1) != 0:  # -1 changes nothing and answers the current fs uid
        raise OSError("setfsuid(0) was refused")


def die_with_supervisor() -> None:
    """In the child, after the confinement (which would reset it): SIGKILL when the supervisor dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kill_as(uid: int) -> None:
    """``kill(-1, SIGKILL)`` from a process of ``uid``: every process of that uid, at once (forks included)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            _libc.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _reap_ended() -> bool:
    """Reap every child that has ended: True when the supervisor has no child left (so the job is empty)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def _kill_tree() -> None:
    """One round: kill every descendant, each before its children are read, so that none forks unseen."""
    mine = os.getpid()
    stack = [(child, mine) for child in _children_of(mine)]
    while stack:
        pid, parent = stack.pop()
        if _kill_child_of(pid, (parent, mine)):
            stack.extend((child, pid) for child in _children_of(pid))


def _kill_child_of(pid: int, parents: tuple[int, int]) -> bool:
    """SIGKILL ``pid`` if it is still a child of one of ``parents`` (its pid may have been reused since)."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # gone, or a kernel before 5.3: plain kill
        handle = None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if int(stat.rsplit(")", 1)[1].split()[1]) not in parents:
            return False
        if handle is None:
            os.kill(pid, signal.SIGKILL)
        else:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
        return True
    except (OSError, ValueError, IndexError):
        return False
    finally:
        if handle is not None:
            os.close(handle)


def _children_of(pid: int) -> list[int]:
    """The children of ``pid``, forked by any of its threads: from the kernel's lists where it keeps them
    (Linux 3.5+), else by reading every process's parent from /proc, else none (not Linux)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:  # gone, or no /proc
        return []
    found = []
    for task in tasks:
        try:
            found += [int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except FileNotFoundError:
            if Path(f"/proc/{pid}/task/{task}").exists():  # the task is there, its list is not
                return _children_by_scan(pid)
        except OSError:
            pass
    return found


def _children_by_scan(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 is the parent pid; the command name in field 2 may contain spaces, so split after ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait(pid: int, fds: list[int], seconds: float) -> tuple[tuple[int, float] | None, list[int]]:
    """Wait up to ``seconds`` for child ``pid`` to end, then reap it (its status and CPU seconds), or for ``fds``."""
    deadline = time.monotonic() + seconds
    # A pidfd (Linux 5.3+) wakes us the moment the child ends; elsewhere we poll, as Popen.wait does.
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    try:
        while True:
            ended, status, usage = os.wait4(pid, os.WNOHANG)
            if ended:
                return (status, usage.ru_utime + usage.ru_stime), []
            left = deadline - time.monotonic()
            if left <= 0:
                return None, []
            if pidfd is None:
                ready = select.select(fds, [], [], min(left, 0.005))[0]
            else:
                ready = select.select([pidfd, *fds], [], [], left)[0]
            if fired := [fd for fd in ready if fd in fds]:
                return None, fired
    finally:
        if pidfd is not None:
            os.close(pidfd)
