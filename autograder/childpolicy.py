"""What every sandboxed child is given: the files it may read, its environment, its process count and its clocks.

The grader's side (:mod:`autograder.sandbox`) and the fork server (:mod:`autograder.forkserver`) both
need these terms; they live here so that neither module imports the other.
"""

from __future__ import annotations

import functools
import sys
import sysconfig
from pathlib import Path

from autograder import confine

# The course packages the child imports (public code, no answers): the server imports them through links.
PACKAGES = ("autograder", "seqmodels")

# Single-threaded BLAS: predictable memory under RLIMIT_AS and no oversubscription of 2 cores.
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
             "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}

# Tasks (processes and threads) a job may hold at once: the child, its reference-helper process, the few
# threads that torch or numpy start, and room to spare; a fork bomb stops there (see autograder.job).
MAX_TASKS = 32

BACKSTOP_SECONDS = 10.0  # beyond a job's wall clock, after which its supervisor is killed (it never should be)


def wall_seconds(cpu_seconds: float) -> float:
    """The wall clock of a job whose CPU time is limited to ``cpu_seconds``: a backstop for a job that waits.

    A job's own limit is CPU time, summed over its processes where the kernel can count it, so that
    neighbours that hog the cores cost an honest job time but never points. The wall clock only stops
    a job that sleeps or blocks. 3 x the CPU limit: an honest job that needs its whole CPU allowance
    still finishes on a third of a core (two jobs of a batch and the grader sharing one core, or a
    neighbour's many processes taking their share). 5 s more: the start of a child on a loaded
    machine (page faults on the imports it inherits), which small limits would otherwise not cover.
    """
    return 3 * cpu_seconds + 5.0


@functools.cache
def package_dir(name: str) -> Path:
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
    return confine.Policy(read=tuple(sorted(python)) + tuple(system) + tuple(package_dir(p) for p in PACKAGES),
                          write=())
