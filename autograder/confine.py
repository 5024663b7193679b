"""Kernel-enforced confinement of the process that runs a learner's code.

Threat model
------------
The graded code is hostile. It may have read this package's source and may try to reach the
reference (the solution notebooks, or the reference code in memory), other submissions, the
grader's result files, the grader's own source (to change later gradings), the network, or other
processes (a D-Bus bus that starts programs outside the sandbox, shared memory, keyrings).
Anything done in Python inside that process (audit hooks, a patched ``open``) can be undone by the
same process, so nothing here relies on it. What the kernel enforces:

* **Landlock** (Linux 5.13+; no privileges needed), applied in the child right after ``fork``
  (see :mod:`autograder.forkserver`), while it is still single-threaded and before any student code
  runs, so that every thread and descendant it starts inherits it:

  - files: read (and execute) only the Python installation, its site-packages, the system
    libraries, and the course packages the child imports; read and write only its own working
    folder, where it may create regular files and folders but no symlinks, FIFOs, sockets or
    device nodes. Everything else, the repository's ``solutions/`` and the submission's own
    folder included, cannot be opened at all (``PermissionError``).
  - TCP (ABI 4+): no ``bind`` and no ``connect``, on any address.
  - scopes (ABI 6+): no signals to processes outside the sandbox, and no connection to abstract
    UNIX sockets created outside it.
  - Landlock also forbids ``ptrace`` (and so ``/proc/PID/mem``) of processes outside the sandbox.

  Landlock does not see what is reached without opening a file: a ``connect`` to a *pathname*
  UNIX socket (the D-Bus system or session bus), UDP, System V IPC, keyrings, the creation of a
  POSIX message queue.

* **A seccomp filter** (:mod:`autograder.seccomp`; x86_64 and aarch64, Linux 4.14+, no privileges
  needed once ``no_new_privs`` is set), installed right after ``no_new_privs``, refuses with
  ``EPERM``: ``socket()`` for every address family (so UNIX, UDP, TCP, netlink and vsock sockets
  alike), every ``socketpair()`` but a connected ``AF_UNIX`` stream or seqpacket pair, System V
  shared memory, queues and semaphores, POSIX message queues, the keyrings, io_uring, ``ptrace``
  and the other calls that read another process, ``perf_event_open``, ``bpf``, and inotify and
  fanotify watches. Syscalls through another architecture's table (x32, i386) are refused too.
  POSIX shared memory (files in ``/dev/shm``) and message queues are files that Landlock keeps
  out of reach as well, but a queue is created before Landlock refuses to open it.

* **As root** (Gradescope runs its autograder as root) Landlock alone would leave what a
  capability grants beyond file access: loading a kernel module from the working folder, raising
  hard resource limits, raw sockets, rebooting. So the child also

  - enters a new, empty network namespace (no interface but a down loopback), which removes UDP,
    raw sockets and every other protocol that Landlock does not cover, and a new IPC namespace
    (System V and POSIX IPC of its own): a second wall behind the seccomp filter;
  - drops every capability, from its bounding set too, so that ``exec`` cannot give any back.

  With Landlock, it keeps uid 0 for opening files: an unprivileged uid would add nothing that Landlock's
  scopes do not already give (signals, ptrace, abstract sockets), and it would fail wherever the Python
  installation lives under a private home folder, as it does on pyenv installs. (Where no pids cgroup
  bounds its processes, its real, effective and saved uids do become a uid of its own job, for
  ``RLIMIT_NPROC``, which root escapes, with uid 0 kept as its fs uid: see :mod:`autograder.job`.)

What stays open, by design: the child can read the course packages (``autograder``, ``seqmodels``:
public code, no answers) and the fork server's own folder (links to those packages, the server's log
and what the public modules it imported cached there). No reference code is ever in its process: a
function graded with reference helpers calls them in a helper process of its own job
(:mod:`autograder.remote`), which it reaches only through a socketpair, and which answers calls with
results (the helpers' outputs on inputs of the graded code's choosing, and the plain attributes of
their objects, such as a reference model's sizes). What the graded code can send back is bounded:
the feedback quotes a few hundred characters of its errors per function (``grade.ERROR_CHARS_PER_*``,
``MESSAGE_CHARS_PER_*``). It can use CPU time, memory and processes up to the limits of its job,
counted over its whole process tree where the kernel allows it (see :mod:`autograder.job`, which
says what applies where), and write up to ``RLIMIT_FSIZE`` into its own folder. A socket it inherits (the helper's socketpair, a connected
stream) must be a connected stream or seqpacket one: a datagram socket could be pointed at any
pathname socket with ``sendmsg``, which no filter on its arguments can see into. Below Landlock ABI 6,
signals to processes of the same user are not confined.

Without the seccomp filter (another architecture, or a kernel without it), :func:`status` says so:
pathname UNIX sockets, System V IPC, the keyrings and the creation of POSIX message queues stay
open (as root, the IPC namespace still keeps System V and POSIX IPC apart), and so does UDP unless
there is a network namespace (root with ``CAP_SYS_ADMIN``).

Without Landlock, as root (Gradescope's container)
------------------------------------------------
Docker's default seccomp profile, or an older kernel, may leave a root grader with neither Landlock
nor namespaces (no ``CAP_SYS_ADMIN``). There the child is confined the classic Unix way, plus the
seccomp filter, if the image was set up for it: the account ``autograder-sandbox``
(:data:`SANDBOX_ACCOUNT`; the bundle's ``setup.sh`` creates it) exists. Just before its capabilities
go, the child gives up root for good: no supplementary groups, the account's group as its real,
effective, saved and file-system gid, and as its uids (file-system uid included) a uid of its job's
own (:func:`autograder.job.job_uid`, far above any account's), so that two jobs running at once
never share one and neither can open the other's working folder or signal the other's processes.
What that gives, layer by layer:

* **files**: the kernel's permission bits. The child reads what every user may read (the Python
  installation, the course packages, the system) and writes only its working folder (made its own
  just before) and the world-writable folders (``/tmp``, ``/dev/shm``; a file at most
  ``RLIMIT_FSIZE``). What must stay secret, the solutions, the submission's folder and the
  results, is mode 0700 (the bundle's scripts set it), and the grader asks the kernel before grading,
  from a process with the child's identity, that none of it can be read or written
  (:func:`exposed_to`): strict grading refuses otherwise.
* **network and local IPC**: the seccomp filter, as everywhere (every ``socket()`` refused).
* **signals, ptrace**: another uid's processes cannot be signalled or traced (the filter refuses
  ``ptrace`` too).
* **root's powers**: every capability dropped, as above, and no uid 0 to take back.

Strict grading (``--strict``, ``batch``, Gradescope) accepts either Landlock with the seccomp filter
(and, as root, the namespaces where there are any), or this: the account, the filter, and secrets
that the kernel says the child cannot reach. Anything less is refused.

Where Landlock is missing otherwise (macOS, Windows, Linux before 5.13, an ordinary user in a
container whose seccomp profile blocks it, root without the account), :func:`status` says so and
grading runs with the reduced sandbox: its own process, time and memory limits, and the seccomp
filter where there is one, but no file confinement.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder import seccomp
from autograder.job import Support as JobSupport
from autograder.job import job_uid
from autograder.job import support as job_support

# The unprivileged account whose group the child takes where there is no Landlock (see the module docstring);
# AUTOGRADER_SANDBOX_ACCOUNT names another (an existing one such as nobody, in a test).
SANDBOX_ACCOUNT = "autograder-sandbox"

# Syscall numbers are the same on every architecture (they were added after the tables were unified).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

# Filesystem rights, by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE
WRITE = READ | FS_WRITE_FILE | FS_TRUNCATE | FS_MAKE_REG | FS_MAKE_DIR | FS_REMOVE_FILE | FS_REMOVE_DIR
_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV  # rights a file rule may carry

_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4
_CLONE_NEWIPC, _CLONE_NEWNET = 0x08000000, 0x40000000
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


class ConfinementError(OSError):
    """The kernel refused to set up the confinement."""


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise ConfinementError(err, f"{what}: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, or 0 where there is none."""
    if _libc is None:
        return 0
    abi = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(abi, 0)


@dataclass(frozen=True)
class Policy:
    """What the confined process may touch. Paths that do not exist are skipped."""

    read: tuple[Path, ...]  # folders (or files) to read and execute from
    write: tuple[Path, ...]  # folders to read, write, create and delete in
    devices: tuple[Path, ...] = (Path("/dev/null"), Path("/dev/zero"), Path("/dev/urandom"), Path("/dev/random"))


@dataclass(frozen=True)
class Status:
    """Which layers of confinement this machine gives the grader's children."""

    landlock_abi: int
    root: bool  # drop every capability
    netns: bool  # enter new network and IPC namespaces
    job: JobSupport = JobSupport()  # how a graded function's process tree is bounded and ended as one
    layers: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())
    sandbox_gid: int | None = None  # without Landlock, as root: the account's group; the child leaves root for it

    @property
    def full(self) -> bool:
        """Files, the network and local IPC are all confined by the kernel: by Landlock, or without it by an
        unprivileged uid (whose secrets :func:`exposed_to` must still find out of reach), with the seccomp filter."""
        files = self.landlock_abi >= 1 or self.sandbox_gid is not None
        return files and not any(m.startswith(("files", "TCP", "local IPC")) for m in self.missing)

    def describe(self) -> str:
        text = "sandbox: " + (", ".join(self.layers) or "own process, time and memory limits only")
        return text + ("" if not self.missing else "; not confined: " + ", ".join(self.missing))


def status() -> Status:
    """What :func:`confine_self` will be able to do on this machine (cheap: no process is started)."""
    abi, root = landlock_abi(), _is_root()
    no_filter = seccomp.unavailable()  # the filter refuses every socket(), TCP and UDP included
    # Without Landlock, as root, with the filter: the account's group and a uid of the job's own.
    gid = sandbox_gid() if abi == 0 and root and not no_filter else None
    layers, missing = [], []
    if abi >= 1:
        layers.append(f"Landlock ABI {abi} (files)")
    elif gid is not None:
        layers.append(f"files: an unprivileged uid per job, group {_account_name()} (what every user may read; "
                      "the secrets checked out of its reach)")
    else:
        missing.append("files (no Landlock: " + ("kernel before 5.13, or blocked" if _libc else sys.platform)
                       + (f"; and no account {_account_name()} to run as" if root and not no_filter else "") + ")")
    netns = root and _can_unshare_network()
    if abi >= 4:
        layers.append("TCP bind/connect denied")
    elif not netns and no_filter:
        missing.append("TCP (Landlock ABI 4 or seccomp needed)")
    if abi >= 6:
        layers.append("signals and abstract sockets scoped")
    elif gid is not None:
        layers.append("signals only within its own job (its own uid)")
    else:
        missing.append("signals to other processes (Landlock ABI 6 needed)")
    if netns:
        layers.append("empty network namespace")
    elif abi >= 1 and no_filter:
        missing.append("UDP (needs seccomp, or root for a network namespace)")
    if no_filter:
        missing.append(f"local IPC: UNIX sockets, System V and POSIX IPC, keyrings ({no_filter})")
    else:
        layers.append("sockets and local IPC refused (seccomp)")
    if root:
        layers.append("all capabilities dropped")
    bounds = job_support()
    job_layers, job_missing = bounds.describe()
    return Status(abi, root, netns, bounds, tuple(layers + job_layers), tuple(missing + job_missing), gid)


def _account_name() -> str:
    return os.environ.get("AUTOGRADER_SANDBOX_ACCOUNT", SANDBOX_ACCOUNT)


def sandbox_gid() -> int | None:
    """The group of the sandbox's account (see the module docstring), or None where there is no such account, or
    it is no unprivileged one."""
    try:
        entry = pwd.getpwnam(_account_name())
    except KeyError:
        return None
    return entry.pw_gid if entry.pw_uid != 0 and entry.pw_gid != 0 else None


def exposed_to(paths: list[Path], gid: int) -> list[str]:
    """What of ``paths`` (and everything below them) a child without Landlock could read or write: asked of the
    kernel by a process that takes the child's identity (a job's uid, the group ``gid``, no capabilities)."""
    targets: list[Path] = []
    for path in (Path(p) for p in paths):
        if path.is_dir():
            targets += [path, *sorted(path.rglob("*"))[:10_000]]
        elif path.exists():
            targets.append(path)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            uid = job_uid(os.getpid())
            os.setresuid(uid, uid, uid)  # access() asks with these real ids, as the child opens with them
            found = [f"{t} can be {'read' if os.access(t, os.R_OK) else 'written'} by the graded code "
                     "(no Landlock here: make it mode 0700, owned by root)"
                     for t in targets if os.access(t, os.R_OK) or os.access(t, os.W_OK)]
            os.write(write, "\n".join(found[:20]).encode())
        except BaseException as exc:  # noqa: BLE001 - reported below as a problem, not raised in a fork
            os.write(write, f"the sandbox's identity could not be checked ({exc})".encode()[:1000])
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer.splitlines()


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _can_unshare_network() -> bool:
    """Root may still lack CAP_SYS_ADMIN (a container); ask the kernel in a throwaway child."""
    if _libc is None:
        return False
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _libc.unshare(_CLONE_NEWNET) == 0 else 1)
    _, code = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(code) == 0


def build_ruleset(policy: Policy, abi: int) -> int:
    """A Landlock ruleset fd that allows only ``policy`` (built in the trusted parent, before fork)."""
    handled_fs = _FS_BY_ABI[min(abi, 5)]
    attr = _RulesetAttr(handled_fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # older kernels reject fields they do not know
    fd = _check(_libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)),
                "landlock_create_ruleset")
    try:
        for paths, access in ((policy.read, READ), (policy.write, WRITE),
                              (policy.devices, FS_READ_FILE | FS_WRITE_FILE)):
            for path in paths:
                _add_path_rule(fd, path, access & handled_fs)
    except BaseException:
        os.close(fd)
        raise
    return fd  # no net-port rule is added: every TCP bind and connect is denied


def _add_path_rule(ruleset_fd: int, path: Path, access: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        rule = _PathBeneathAttr(access, target)
        _check(_libc.syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)),
               f"landlock_add_rule({path})")
    finally:
        os.close(target)


def confine_self(ruleset_fd: int | None, new_namespaces: bool, drop_capabilities: bool,
                 refuse_ipc: bool = True, ids: tuple[int, int] | None = None) -> None:
    """Enter the sandbox: call in the child after fork, while it is single-threaded, before any untrusted code.

    The order matters: the namespaces need CAP_SYS_ADMIN, so they come before the capabilities
    are dropped; no_new_privs comes before Landlock and the seccomp filter, which require it
    (unless CAP_SYS_ADMIN). ``refuse_ipc=False`` leaves the filter out (tests of the other layers alone).
    ``ids`` (uid, gid), as root: leave root for them, as the capabilities go (see the module docstring).
    """
    if _libc is None:
        return  # not Linux: none of these layers exists (status() reports the sandbox as reduced)
    if new_namespaces:
        _check(_libc.unshare(_CLONE_NEWNET | _CLONE_NEWIPC), "unshare")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    if refuse_ipc and not seccomp.unavailable():
        seccomp.install()
    if ruleset_fd is not None:
        _check(_libc.syscall(_SYS_RESTRICT_SELF, ruleset_fd, ctypes.c_uint32(0)), "landlock_restrict_self")
    if drop_capabilities:
        _drop_capabilities(ids)
    elif ids is not None:
        raise ConfinementError(0, "a uid can only be given up along with the capabilities")


def _last_capability() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 63  # dropping a capability the kernel does not know fails, so this is only a fallback


_LAST_CAP = _last_capability()  # read now: the confined child can no longer read /proc


def _drop_capabilities(ids: tuple[int, int] | None) -> None:
    for cap in range(_LAST_CAP + 1):
        _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), "prctl(CAPBSET_DROP)")  # needs CAP_SETPCAP: first
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # fails harmlessly before Linux 4.3
    if ids is not None:  # CAP_SETGID and CAP_SETUID are still there; the fs ids follow the effective ones
        uid, gid = ids
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if _libc.setfsuid(-1) != uid or _libc.setfsgid(-1) != gid:  # -1 changes nothing and answers the current
            raise ConfinementError(0, "the file-system ids did not follow the uid and gid")
    header, data = _CapHeader(_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
