"""Running untrusted code in a confined child process with a wall clock and resource limits.

Layout: grader -> supervisor -> child. The supervisor makes itself a *child subreaper* (Linux), so
anything the student's code leaves running in the background, even a process that started its
own session, is re-parented to the supervisor, which kills it before it exits. The grader only
waits for the supervisor, reading no pipes, so a stray process holding stdout cannot stall it.

The child is confined by the kernel (see :mod:`autograder.confine` for the threat model). Its
folder ``box/work`` is the only place it can write; the supervisor keeps its own files (the
outcome, the child's stdout and stderr) one level up in ``box``, out of the child's reach. The
child's environment is built from scratch, so no variable of the grader's (a token, a path to the
submissions) reaches it.
"""

from __future__ import annotations

import functools
import json
import os
import select
import signal
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from autograder import confine

# Single-threaded BLAS: predictable memory under RLIMIT_AS and no oversubscription of 2 cores.
_CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
              "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
# The few variables of the grader's own that the child needs to run the same interpreter the same way.
_PASSED_ON = ("PATH", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# The course packages the child imports (public code, no answers): they are linked into its folder.
_PACKAGES = ("autograder", "seqmodels")
MAX_FILE_MB = 256  # RLIMIT_FSIZE: the child cannot fill the disk


@dataclass(frozen=True)
class Outcome:
    """How the child ended."""

    returncode: int | None
    timed_out: bool
    setup_error: str = ""  # the sandbox could not be set up, so the child never ran


@functools.cache
def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))).resolve()


@functools.cache
def child_policy() -> confine.Policy:
    """What every child may read: the interpreter, its libraries, and the course packages.

    ``work`` is added per child, at run time.
    """
    python = {Path(p).resolve() for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)}
    python |= {Path(sysconfig.get_path(k)).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    python.add(Path(sys.executable).resolve().parent)
    system = [Path(p) for p in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache",
                                "/proc/cpuinfo", "/sys/devices/system/cpu", "/usr/share/zoneinfo")]
    return confine.Policy(read=tuple(sorted(python)) + tuple(system) + tuple(_package_dir(p) for p in _PACKAGES),
                          write=())


def exposed(protected: list[Path]) -> list[str]:
    """The protected paths that a child could read because they lie inside an allowed folder."""
    found = []
    for secret in (Path(p).resolve() for p in protected):
        for allowed in child_policy().read:
            if secret == allowed or allowed in secret.parents:
                found.append(f"{secret} lies inside {allowed}, which the sandbox must read")
    return found


@functools.cache
def status() -> confine.Status:
    return confine.status()


def run(argv: list[str], *, seconds: float, memory_mb: int, box: Path) -> Outcome:
    """Run ``argv`` in ``box/work`` under the limits and the confinement, kill all it started, say how it ended."""
    work = box / "work"
    _link_packages(work)
    level = status()
    policy = child_policy()
    config = {"argv": argv, "seconds": seconds, "memory_mb": memory_mb, "box": str(box),
              "read": [str(p) for p in policy.read],
              "landlock_abi": level.landlock_abi, "netns": level.netns, "root": level.root}
    env = {**{k: os.environ[k] for k in _PASSED_ON if k in os.environ}, **_CHILD_ENV,
           "HOME": str(work), "TMPDIR": str(work), "PYTHONPATH": str(work / "lib")}
    supervisor_env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(_package_dir("autograder").parent), os.environ.get("PYTHONPATH", "")]))}
    with open(box / "supervisor.log", "wb") as log:
        # -S: the supervisor needs only the standard library and this package (on PYTHONPATH), not site-packages.
        proc = subprocess.Popen([sys.executable, "-S", "-m", "autograder.sandbox", json.dumps(config), json.dumps(env)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=supervisor_env,
                                cwd=box, start_new_session=True)
        if not _wait(proc, seconds + 15):  # backstop; the supervisor enforces `seconds` itself
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        data = json.loads((box / "outcome.json").read_text())
        return Outcome(data["returncode"], data["timed_out"], data.get("setup_error", ""))
    except (OSError, ValueError, KeyError):
        return Outcome(None, True)  # the supervisor itself was killed by the backstop


def _link_packages(work: Path) -> None:
    """``work/lib`` holds links to the course packages, so the child imports them without reading their parent."""
    lib = work / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    for name in _PACKAGES:
        (lib / name).symlink_to(_package_dir(name), target_is_directory=True)


def _wait(proc: subprocess.Popen, seconds: float) -> bool:
    """Wait for ``proc`` to end; False if it is still running after ``seconds``.

    Popen.wait(timeout) polls with sleeps of up to 50 ms, which would add a noticeable share of
    every function's grading time; a pidfd wakes us the moment the process ends.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: poll
        try:
            proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([pidfd], [], [], seconds)
    finally:
        os.close(pidfd)
    if ready:
        proc.wait()
    return bool(ready)


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


def _supervise(config: dict, env: dict) -> None:
    import resource

    _become_subreaper()
    box = Path(config["box"])
    work = box / "work"
    limit = config["memory_mb"] * 2**20
    cpu = int(config["seconds"]) + 1
    file_size = MAX_FILE_MB * 2**20
    abi = config["landlock_abi"]
    outcome = {"returncode": None, "timed_out": False}
    try:
        ruleset = None
        if abi >= 1:
            policy = confine.Policy(read=tuple(Path(p) for p in config["read"]), write=(work,))
            ruleset = confine.build_ruleset(policy, abi)
    except OSError as exc:
        outcome["setup_error"] = f"the sandbox could not be set up ({exc})"
        (box / "outcome.json").write_text(json.dumps(outcome))
        return

    def enter() -> None:  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        confine.confine_self(ruleset, config["netns"], config["root"])

    with open(box / "child.out", "wb") as out, open(box / "child.err", "wb") as err:
        try:
            child = subprocess.Popen(config["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                     cwd=work, env=env, preexec_fn=enter)
        except (OSError, subprocess.SubprocessError) as exc:
            outcome["setup_error"] = f"the sandbox could not be set up ({exc})"
        else:
            if not _wait(child, config["seconds"]):
                outcome["timed_out"] = True
                child.kill()
            outcome["returncode"] = child.wait()
    _kill_descendants()
    (box / "outcome.json").write_text(json.dumps(outcome))


if __name__ == "__main__":
    _supervise(json.loads(sys.argv[1]), json.loads(sys.argv[2]))
