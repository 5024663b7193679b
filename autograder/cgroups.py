"""Where a job's cgroups can be made, and the few operations on a cgroup's files that a job needs.

The job's groups are made inside the grader's own cgroup in each mounted hierarchy (cgroup v2, and the
v1 memory, pids and cpuacct hierarchies of a hybrid one), never changing that cgroup's settings: a group
is usable only where the grader may write there, which :func:`folders` finds out by making one. See
:mod:`autograder.job` for what each gives a job.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def group_name(supervisor: int) -> str:
    return f"autograder-job-{supervisor}"


def field(path: Path, key: str) -> int:
    """The number after ``key`` in a cgroup file of "key value" lines (0 if missing)."""
    for line in path.read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def remove_group(folder: Path) -> None:
    """Remove a job's group; a group whose last task has just been reaped may need a moment."""
    for _ in range(100):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.001)


_V1 = {"memory": "memory", "pids": "pids", "cpu": "cpuacct"}  # what a job's group gives -> the v1 controller


def folders() -> tuple[tuple[str, str], ...]:
    """(what, folder) for what a job's group can give here, made in the grader's own cgroups: v2 first, then v1."""
    found: dict[str, str] = {}
    for kind, folder in sorted(_own_cgroup_folders(), key=lambda k: bool(k[0])):
        if kind and not kind & set(_V1.values()):
            continue
        probe = folder / f"autograder-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:  # not ours to write (an ordinary user, a read-only mount in a container)
            continue
        try:
            offers = _offers(kind, folder, probe)
        finally:
            remove_group(probe)
        for what in offers:
            found.setdefault(what, str(folder))
    return tuple(sorted(found.items()))


def _offers(kind: frozenset[str], folder: Path, probe: Path) -> list[str]:
    """What a group made in ``folder`` (of a hierarchy with v1 controllers ``kind``, or v2 if empty) can do."""
    if kind:
        return [what for what, controller in _V1.items() if controller in kind]
    offers = [what for what, name in (("kill", "cgroup.kill"), ("cpu", "cpu.stat")) if (probe / name).exists()]
    enabled = (folder / "cgroup.subtree_control").read_text().split()  # never changed here: only what is delegated
    return offers + [what for what in ("memory", "pids") if what in enabled]


def _own_cgroup_folders() -> list[tuple[frozenset[str], Path]]:
    """The grader's own cgroup in each mounted hierarchy: (v1 controllers, or empty for v2; its folder)."""
    try:
        own = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
        mounts = [line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    except OSError:
        return []
    found = []
    for _, controllers, path in own:
        kind = frozenset(controllers.split(",")) if controllers else frozenset()
        for fields in mounts:
            fstype, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
            if fstype not in ("cgroup", "cgroup2") or (fstype == "cgroup2") != (not kind):
                continue
            if kind and not kind <= set(options):
                continue
            root, point = fields[3], fields[4]
            relative = os.path.relpath(path, root)
            if not relative.startswith(".."):
                found.append((kind, Path(point) / relative))
    return found
