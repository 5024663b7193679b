"""Running a graded function's child (:mod:`autograder._child`) confined, with limits on its whole job.

The children are forked by a fork server (:mod:`autograder.forkserver`), one per assignment and
grader process, which has imported what the assignment's code needs once. Its supervisor per job
limits the CPU time, memory and processes of the job's whole process tree and ends all of it (see
:mod:`autograder.job` for what the kernel offers where), and the grader only waits for one line from
the server per job, reading no pipe a child could hold, so a stray process cannot stall it.

The child is confined by the kernel (see :mod:`autograder.confine` for the threat model). Its
folder ``box/work`` is the only place it can write; the supervisor keeps its own files (the
outcome, the child's stdout and stderr) one level up in ``box``, out of the child's reach. The
server's environment is built from scratch, so no variable of the grader's (a token, a path to the
submissions) reaches a child.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder import childpolicy, confine
from autograder.childpolicy import BACKSTOP_SECONDS, CHILD_ENV, PACKAGES, child_policy, package_dir, wall_seconds

# The few variables of the grader's own that the child needs to run the same interpreter the same way.
_PASSED_ON = ("PATH", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Outcome:
    """How the child ended."""

    returncode: int | None
    limit: str = ""  # the limit of the job that stopped it: "cpu", "wall", "memory", "processes", or ""
    setup_error: str = ""  # the sandbox could not be set up, so the child never ran


def exposed(protected: list[Path]) -> list[str]:
    """The protected paths that a child could read because they lie inside an allowed folder, or, without
    Landlock, because the kernel lets the child's uid read or write them."""
    found = []
    for secret in (Path(p).resolve() for p in protected):
        for allowed in child_policy().read:
            if secret == allowed or allowed in secret.parents:
                found.append(f"{secret} lies inside {allowed}, which the sandbox must read")
    if status().sandbox_gid is not None:
        found += confine.exposed_to([Path(p).resolve() for p in protected], status().sandbox_gid)
    return found


def _matplotlib_cache() -> Path:
    """The grader's own matplotlib cache: its font list, which matplotlib would otherwise rebuild in every new
    server (0.2 s). The children cannot read it; they inherit the list already loaded."""
    if "MPLCONFIGDIR" in os.environ:
        return Path(os.environ["MPLCONFIGDIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"


# Every job whose sandbox could not be set up, in this process (its graded code never ran): a grader that must not
# turn them into zeros (Gradescope's) reads them here.
setup_errors: list[str] = []


@functools.cache
def status() -> confine.Status:
    return confine.status()


def run(*, box: Path, seconds: float, memory_mb: int, modules: tuple[str, ...] = ()) -> Outcome:
    """Run the child for the job in ``box/work`` under the limits and the confinement, and say how it ended.

    ``seconds`` is the CPU time of the job (its whole process tree, where the kernel counts it) and
    ``memory_mb`` its memory; its wall clock is :func:`autograder.childpolicy.wall_seconds`.
    ``modules`` are imported once by the fork server that runs it (public modules only: the children
    inherit them), so jobs that name the same modules share a server.
    """
    level = status()
    request = {"box": str(box), "seconds": seconds, "memory_mb": memory_mb, "tasks": childpolicy.MAX_TASKS,
               "landlock_abi": level.landlock_abi, "netns": level.netns, "root": level.root,
               "bounds": dataclasses.asdict(level.job), "sandbox_gid": level.sandbox_gid}
    outcome = _server(tuple(modules)).run(request)
    if outcome is None:  # the server had ended before it took the job: the next call starts a new one
        outcome = _server(tuple(modules)).run(request)
    outcome = outcome or Outcome(None, "", "the sandbox's fork server could not be started")
    if outcome.setup_error:
        setup_errors.append(outcome.setup_error)
    return outcome


class _Server:
    """The grader's end of one fork server: a request line per job, an answer line when its supervisor ends."""

    def __init__(self, modules: tuple[str, ...]):
        # Removed by close() alone (no finalizer): a forked batch worker drops its copy of this object.
        self._folder = folder = Path(tempfile.mkdtemp(prefix="sandbox-server-"))
        if status().sandbox_gid is not None:  # a child without Landlock, of another uid, imports through its links
            folder.chmod(0o711)
        # Links to the course packages, so the server imports them without listing the folder that holds them.
        (folder / "lib").mkdir()
        for name in PACKAGES:
            (folder / "lib" / name).symlink_to(package_dir(name), target_is_directory=True)
        env = {**{k: os.environ[k] for k in _PASSED_ON if k in os.environ}, **CHILD_ENV,
               "HOME": str(folder), "TMPDIR": str(folder), "PYTHONPATH": str(folder / "lib"),
               "MPLCONFIGDIR": str(_matplotlib_cache())}
        with open(folder / "server.log", "wb") as log:
            self._proc = subprocess.Popen([sys.executable, "-m", "autograder.forkserver", json.dumps(list(modules))],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                          cwd=folder, start_new_session=True)
        self._lock = threading.Lock()
        self._waiting: dict[int, threading.Event] = {}
        self._jobs = itertools.count()
        self.ended = False
        threading.Thread(target=self._read_answers, daemon=True).start()

    def run(self, request: dict) -> Outcome | None:
        """How the job ended; None if the server had ended before it could take the job."""
        done = threading.Event()
        with self._lock:
            job = next(self._jobs)
            try:
                self._proc.stdin.write(json.dumps({**request, "job": job}).encode() + b"\n")
                self._proc.stdin.flush()
            except (OSError, ValueError):  # a closed pipe, or one closed by close()
                self.ended = True
                return None
            self._waiting[job] = done
        # The server kills a supervisor that outlives its wall clock by BACKSTOP_SECONDS; this is the last resort.
        done.wait(wall_seconds(request["seconds"]) + 2 * BACKSTOP_SECONDS)
        with self._lock:
            self._waiting.pop(job, None)
        try:  # written by the supervisor, out of the child's reach
            data = json.loads((Path(request["box"]) / "outcome.json").read_text())
            return Outcome(data["returncode"], data["limit"], data.get("setup_error", ""))
        except (OSError, ValueError, KeyError):
            if self.ended:
                return Outcome(None, "", "the sandbox's fork server stopped")
            return Outcome(None, "wall")  # the supervisor itself was killed by the backstop

    def _read_answers(self) -> None:
        for line in self._proc.stdout:
            with self._lock:
                done = self._waiting.pop(json.loads(line)["job"], None)
            if done is not None:
                done.set()
        with self._lock:  # the server has gone: nobody waits for an answer that cannot come
            self.ended = True
            for done in self._waiting.values():
                done.set()

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._waiting)

    def close(self) -> None:
        """Close the server's stdin, so that it exits (jobs still running finish on their own)."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


_servers: dict[tuple[str, ...], _Server] = {}
_servers_lock = threading.Lock()


def _server(modules: tuple[str, ...]) -> _Server:
    """The fork server for ``modules``, started on first use; idle servers for other modules are closed
    (each holds its imports in memory, and a grader process rarely grades two assignments at once)."""
    with _servers_lock:
        server = _servers.get(modules)
        if server is None or server.ended:
            if server is not None:
                server.close()
            for other in [k for k, s in _servers.items() if k != modules and not s.busy]:
                _servers.pop(other).close()
            server = _servers[modules] = _Server(modules)
        return server


def start_server(modules: tuple[str, ...]) -> None:
    """Start the fork server for ``modules`` now, so that its imports overlap the grader's own work."""
    _server(tuple(modules))


@atexit.register
def close_servers() -> None:
    """Close every fork server of this process (also done at exit)."""
    with _servers_lock:
        while _servers:
            _servers.popitem()[1].close()


def _forget_servers_in_child() -> None:
    """A forked copy of the grader (a multiprocessing worker, say) must not write into its parent's servers,
    whose answers only the parent reads: it starts its own."""
    for server in _servers.values():
        for pipe in (server._proc.stdin, server._proc.stdout):
            try:
                os.close(pipe.fileno())
            except OSError:
                pass
    _servers.clear()


os.register_at_fork(after_in_child=_forget_servers_in_child)
