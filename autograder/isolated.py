"""Running a parser on hostile input in a forked copy of this process, under kernel limits.

A submitted notebook is hostile input to the JSON and Python parsers: nested deep, made of millions of
tiny values, or one huge expression, it can make a parse take gigabytes and seconds, and raise
MemoryError or RecursionError in whichever of the grader's threads allocates next. In a forked child
the parse runs under its own address-space and CPU-time limits (rlimits, enforced by the kernel), and
whatever goes wrong ends that child alone. What comes back is plain JSON data, read by the parent with
a size cap and a wall-clock deadline, so the grader's memory and time stay bounded whatever the input.

The child runs only code that is already imported (the parsers, the caller's task); it closes every
inherited file descriptor but its reply pipe, so it cannot hold another process's pipe open, and it
leaves with ``os._exit``, so no exit handler of the grader (closing the fork servers) runs in it.

A batch does not fork itself for this: :func:`run_in_host` sends a registered task (:func:`task`) to
a small host process (``python -m autograder.isolated MODULE``: the parsers and the checks only), which
forks the limited child. Forking the grader, large and multi-threaded, cost a batch 15 ms a notebook,
most of it copy-on-write faults in the grader afterwards; forking the host costs well under one.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Callable


class Failed(Exception):
    """The task raised (the message is its own), ran out of memory or time, or its process crashed."""


def run(task: Callable[[], Any], memory: int, cpu_seconds: int, wall_seconds: float, max_reply: int) -> Any:
    """``task()``'s result (JSON data), computed in a forked child that may add at most ``memory`` bytes to this
    process's address space and use ``cpu_seconds`` of CPU; Failed with a one-line reason otherwise."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(task, write_end, memory, cpu_seconds)
    os.close(write_end)
    reply = None
    try:
        reply = _read(read_end, time.monotonic() + wall_seconds, max_reply)
    finally:
        os.close(read_end)
        if reply is None:  # past its deadline, too long a reply, or this thread was interrupted
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if reply is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise Failed(_ended(status, cpu_seconds, wall_seconds))
    answer = json.loads(reply)
    if "error" in answer:
        raise Failed(answer["error"])
    return answer["value"]


def _child(task: Callable[[], Any], write_end: int, memory: int, cpu_seconds: int) -> None:
    code = 1
    try:
        os.closerange(0, write_end)
        os.closerange(write_end + 1, 1 << 16)
        try:
            _limit(memory, cpu_seconds)
            answer = {"value": task()}
        except MemoryError:
            answer = {"error": f"reading it takes more than {memory // 2**20} MB of memory"}
        except RecursionError:
            answer = {"error": "it is nested too deeply to read"}
        except Exception as exc:  # noqa: BLE001 - the task's own one-line reason
            answer = {"error": str(exc) or type(exc).__name__}
        data = memoryview(json.dumps(answer).encode())
        while data:
            data = data[os.write(write_end, data):]
        code = 0
    finally:
        os._exit(code)


def _limit(memory: int, cpu_seconds: int) -> None:
    """At most ``cpu_seconds`` of CPU (SIGXCPU, then SIGKILL), and ``memory`` bytes more address space than is
    mapped now; never more than the limits already set. Where /proc cannot be read (inside the sandbox, whose own
    limits apply) the address space keeps the limit it has."""
    _lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    _lower(resource.RLIMIT_AS, mapped + memory, mapped + memory)


def _lower(which: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def _read(fd: int, deadline: float, limit: int, exactly: bool = False) -> bytes | None:
    """Everything the writer sends until it closes the pipe, or with ``exactly`` the next ``limit`` bytes; None past
    the deadline, past ``limit`` bytes, or (with ``exactly``) when the pipe closes first."""
    chunks, size = [], 0
    while not (exactly and size == limit):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, min(limit - size, 1 << 20) if exactly else 1 << 20)
        if not chunk:
            return None if exactly else b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _ended(status: int, cpu_seconds: int, wall_seconds: float) -> str:
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return f"reading it takes more than {cpu_seconds} s"
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return f"reading it takes more than {wall_seconds:g} s, or its reply is too large"
    return f"the process reading it ended with status {status}"


# ---------------------------------------------------------------------- the host

_TASKS: dict[str, Callable[..., Any]] = {}
_LENGTH = struct.Struct("!Q")


def task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn`` (a module-level function of JSON arguments, returning JSON data) to run in the host."""
    _TASKS[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


class _Host:
    """The grader's end of the host: a request line per task, a length-prefixed JSON reply."""

    def __init__(self, module: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.isolated", module], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, start_new_session=True)

    def ask(self, request: dict, deadline: float, limit: int) -> bytes | None:
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        fd = self.proc.stdout.fileno()
        head = _read(fd, deadline, _LENGTH.size, exactly=True)
        if head is None or _LENGTH.unpack(head)[0] > limit:
            return None
        return _read(fd, deadline, _LENGTH.unpack(head)[0], exactly=True)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


_hosts: dict[str, _Host] = {}
_hosts_lock = threading.Lock()


def start_host(module: str) -> None:
    """Start the host for the tasks of ``module`` now, so that its start overlaps the grader's own work."""
    with _hosts_lock:
        if module not in _hosts:
            _hosts[module] = _Host(module)


def run_in_host(fn: Callable[..., Any], args: list, memory: int, cpu_seconds: int, wall_seconds: float,
                max_reply: int) -> Any:
    """``fn(*args)`` (``fn`` registered with :func:`task`) as :func:`run` computes it: forked from the host of its
    module if one was started (:func:`start_host`: a batch reads many notebooks), else from this process."""
    request = {"task": f"{fn.__module__}.{fn.__qualname__}", "args": args, "memory": memory, "cpu": cpu_seconds,
               "wall": wall_seconds, "max_reply": max_reply}
    with _hosts_lock:  # one task at a time: a notebook takes milliseconds to read
        host = _hosts.get(fn.__module__)
        if host is None:  # no host was started (one notebook to read): forking this process once costs less
            return run(lambda: fn(*args), memory, cpu_seconds, wall_seconds, max_reply)
        if host.proc.poll() is not None:
            host = _hosts[fn.__module__] = _Host(fn.__module__)
        reply = host.ask(request, time.monotonic() + wall_seconds + 10, max_reply + 1024)
        if reply is None:  # the host is stuck or gone: the next task gets a new one
            _hosts.pop(fn.__module__).close()
            raise Failed(f"reading it takes more than {wall_seconds:g} s, or its reply is too large")
    answer = json.loads(reply)
    if "error" in answer:
        raise Failed(answer["error"])
    return answer["value"]


def _serve() -> None:
    """The host: import the module that registers the tasks, then run each request in a forked, limited child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the grader's to handle
    importlib.import_module(sys.argv[1])
    registry = importlib.import_module("autograder.isolated")  # where the tasks registered (this is __main__)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            fn = registry._TASKS[request["task"]]
            answer = {"value": registry.run(lambda: fn(*request["args"]), request["memory"], request["cpu"],
                                            request["wall"], request["max_reply"])}
        except Exception as exc:  # noqa: BLE001 - Failed, or a request this host cannot serve
            answer = {"error": str(exc) or type(exc).__name__}
        data = json.dumps(answer).encode()
        sys.stdout.buffer.write(_LENGTH.pack(len(data)) + data)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
