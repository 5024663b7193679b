"""Running untrusted code in a child process with a wall-clock and a memory limit.

Layout: grader -> supervisor -> child. The supervisor makes itself a *child subreaper*
(Linux), so anything the student's code leaves running in the background — even a process
that started its own session — is re-parented to the supervisor, which kills it before it
exits. The grader only waits for the supervisor, reading no pipes, so a stray process holding
stdout cannot stall grading either.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Single-threaded BLAS: predictable memory under RLIMIT_AS and no oversubscription of 2 cores.
_CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Outcome:
    """How the child ended."""

    returncode: int | None
    timed_out: bool


def run(argv: list[str], *, seconds: float, memory_mb: int, workdir: Path) -> Outcome:
    """Run ``argv`` under the limits, kill everything it started, and report how it ended."""
    config = {"argv": argv, "seconds": seconds, "memory_mb": memory_mb, "workdir": str(workdir),
              "outcome": str(workdir / "outcome.json")}
    env = {**os.environ, **_CHILD_ENV,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))}
    with open(workdir / "supervisor.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "autograder.sandbox", json.dumps(config)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                cwd=workdir, start_new_session=True)
        try:
            proc.wait(timeout=seconds + 15)  # backstop; the supervisor enforces `seconds` itself
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        data = json.loads((workdir / "outcome.json").read_text())
        return Outcome(data["returncode"], data["timed_out"])
    except (OSError, ValueError, KeyError):
        return Outcome(None, True)  # the supervisor itself was killed by the backstop


# ----------------------------------------------------------------------------- supervisor side

def _become_subreaper() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else []:
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 is the parent pid; the command name in field 2 may contain spaces, so split after ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _kill_descendants() -> None:
    """Kill and reap everything that is (or becomes, by re-parenting) our child."""
    for _ in range(200):
        children = _children_of(os.getpid())
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _supervise(config: dict) -> None:
    import resource

    _become_subreaper()
    limit = config["memory_mb"] * 2**20
    cpu = int(config["seconds"]) + 1

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    workdir = Path(config["workdir"])
    with open(workdir / "child.out", "wb") as out, open(workdir / "child.err", "wb") as err:
        child = subprocess.Popen(config["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 cwd=workdir, preexec_fn=limits)
        timed_out = False
        try:
            returncode = child.wait(timeout=config["seconds"])
        except subprocess.TimeoutExpired:
            timed_out = True
            child.kill()
            returncode = child.wait()
    _kill_descendants()
    Path(config["outcome"]).write_text(json.dumps({"returncode": returncode, "timed_out": timed_out}))


if __name__ == "__main__":
    _supervise(json.loads(sys.argv[1]))
