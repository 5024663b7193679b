"""A seccomp-BPF filter that closes the confined child's ways out through local IPC.

Landlock confines files, TCP, signals and abstract UNIX sockets (see :mod:`autograder.confine`),
and as root a new network namespace cuts the network. Neither covers the channels below, which
the kernel offers to any process without a path Landlock could check. The child installs this
filter (see :func:`install`) after ``no_new_privs`` and before any graded code runs; it is kept
across ``fork`` and ``exec`` and cannot be removed. Each refused call fails with ``EPERM``, so
Python raises ``PermissionError`` and the graded function scores 0 with that message; nothing is
killed.

Refused, and why:

* ``socket()``, for every address family. The graded code computes on arrays; its only channel to
  the grader is files in its own folder. ``AF_UNIX`` pathname sockets reach any listener whose
  file the process can write (the D-Bus system or session bus, systemd's notify socket, an X
  server), even from another network namespace. Without a network namespace (an ordinary user)
  UDP and ``AF_NETLINK`` (the kernel's own interfaces) are open too, and ``AF_VSOCK`` reaches a
  virtual machine's host. No family is needed: the libraries that open a socket on their own
  (glibc's lookup of nscd, libuuid's uuidd) fall back when it fails.
* ``socketpair()``, except ``AF_UNIX`` with ``SOCK_STREAM`` or ``SOCK_SEQPACKET``. A stream pair is
  connected for life (its ends refuse ``connect`` and any address to send to), so it leads only to
  its other end; ``multiprocessing.Pipe`` and ``asyncio`` use one. A datagram pair could be pointed
  with ``connect``/``sendto``/``sendmsg`` at any pathname socket, so it is refused. The same holds for a
  socket created before the filter and inherited: it must be a stream or seqpacket one.
* System V IPC (``shmget shmat shmctl msgget msgsnd msgrcv msgctl semget semop semtimedop
  semctl``): objects found by a number, not a path, shared by every process of the IPC namespace
  (all of them, for an ordinary user) that the permission bits let in.
* POSIX message queues (``mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr``):
  found by name in the IPC namespace's mqueue filesystem, not through a path. Landlock refuses to
  open a queue, but only after ``mq_open`` has created it: without the filter a child can leave
  queues, named as it likes, for a process outside to find.
* Kernel keyrings (``add_key request_key keyctl``): the user keyring is shared by every process
  of the same uid (an instructor's credentials, or any process that also runs as ``nobody``).
* io_uring (``io_uring_setup io_uring_enter io_uring_register``): its operations (socket,
  connect, open) run in kernel workers that this filter never sees.
* Reading or steering another process (``ptrace process_vm_readv process_vm_writev pidfd_getfd
  kcmp``): Landlock already refuses these towards processes outside the sandbox; refusing them
  outright also covers machines without Landlock, and the graded code needs none of them.
* ``perf_event_open`` and ``bpf``: counters on other processes or CPUs (where
  ``perf_event_paranoid`` allows it), and BPF maps shared with other processes through pinned
  objects; both are large kernel attack surfaces the graded code never needs.
* ``inotify_init inotify_init1 fanotify_init``: Landlock does not check watches, so a child could
  watch folders it cannot read (the class's submissions, the grader's output) and learn the names
  and timing of their files.

The architecture is checked first: only the syscall table this filter was written for passes
(x86_64 or aarch64, little-endian, 64-bit). A call through another table (i386 ``int 0x80`` on
x86_64, the x32 ABI, arm32 compat on aarch64) is refused whatever it is, since its numbers mean
other calls. Elsewhere (other architectures, kernels before 4.14 or without seccomp, macOS,
Windows) :func:`unavailable` says why and :func:`autograder.confine.status` reports the layer as missing.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys

# Classic BPF opcodes (linux/bpf_common.h): load a word of seccomp_data, compare, mask, return.
_LD_W_ABS, _JEQ_K, _JGE_K, _AND_K, _RET_K = 0x20, 0x15, 0x35, 0x54, 0x06
# Offsets in struct seccomp_data: the syscall number, the architecture, then the 64-bit arguments.
# Both architectures are little-endian, so an argument's low 32 bits (all the kernel reads of an
# int argument) come first.
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24

_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_DENY = _RET_ERRNO | errno.EPERM
_SET_MODE_FILTER, _GET_ACTION_AVAIL, _FLAG_SPEC_ALLOW = 1, 2, 1 << 2  # seccomp(2) operations and flag
_AF_UNIX, _SOCK_TYPE_MASK, _SOCK_STREAM, _SOCK_SEQPACKET = 1, 0xF, 1, 5
_X32_SYSCALL_BIT = 0x40000000

_REFUSED = ("socket",
            "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
            "semctl",
            "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
            "add_key", "request_key", "keyctl",
            "io_uring_setup", "io_uring_enter", "io_uring_register",
            "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
            "perf_event_open", "bpf",
            "inotify_init", "inotify_init1", "fanotify_init")

# Numbers from the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h);
# tests/test_sandbox_ipc.py checks them against the system's headers where they are installed.
_X86_64 = {"socket": 41, "socketpair": 53, "shmget": 29, "shmat": 30, "shmctl": 31, "semget": 64, "semop": 65,
           "semctl": 66, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "ptrace": 101, "semtimedop": 220,
           "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244,
           "mq_getsetattr": 245, "add_key": 248, "request_key": 249, "keyctl": 250, "inotify_init": 253,
           "inotify_init1": 294, "perf_event_open": 298, "fanotify_init": 300, "process_vm_readv": 310,
           "process_vm_writev": 311, "kcmp": 312, "seccomp": 317, "bpf": 321, "io_uring_setup": 425,
           "io_uring_enter": 426, "io_uring_register": 427, "pidfd_getfd": 438}
_GENERIC = {"socket": 198, "socketpair": 199, "shmget": 194, "shmat": 196, "shmctl": 195, "semget": 190,
            "semop": 193, "semctl": 191, "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187, "ptrace": 117,
            "semtimedop": 192, "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
            "mq_notify": 184, "mq_getsetattr": 185, "add_key": 217, "request_key": 218, "keyctl": 219,
            "inotify_init1": 26, "perf_event_open": 241, "fanotify_init": 262, "process_vm_readv": 270,
            "process_vm_writev": 271, "kcmp": 272, "seccomp": 277, "bpf": 280, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "pidfd_getfd": 438}  # no inotify_init here
# uname's machine -> (AUDIT_ARCH_* as the kernel reports it in seccomp_data, the syscall table).
TABLES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _GENERIC)}


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for ``machine`` (a key of :data:`TABLES`), as (code, jt, jf, k) instructions."""
    audit_arch, numbers = TABLES[machine]
    # Jumps are written to labels and resolved below; a BPF jump counts the instructions it skips.
    code: list[tuple[int, str | int, str | int, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH), (_JEQ_K, 0, "deny", audit_arch),
        (_LD_W_ABS, 0, 0, _NR)]
    if machine == "x86_64":  # the x32 ABI shares the architecture value and sets this bit in the number
        code.append((_JGE_K, "deny", 0, _X32_SYSCALL_BIT))
    code += [(_JEQ_K, "deny", 0, numbers[name]) for name in _REFUSED if name in numbers]
    code += [(_JEQ_K, 0, "allow", numbers["socketpair"]),
             (_LD_W_ABS, 0, 0, _ARG0), (_JEQ_K, 0, "deny", _AF_UNIX),
             (_LD_W_ABS, 0, 0, _ARG1), (_AND_K, 0, 0, _SOCK_TYPE_MASK),  # without SOCK_CLOEXEC, SOCK_NONBLOCK
             (_JEQ_K, "allow", 0, _SOCK_STREAM), (_JEQ_K, "allow", "deny", _SOCK_SEQPACKET)]
    labels = {"allow": len(code), "deny": len(code) + 1}
    code += [(_RET_K, 0, 0, _RET_ALLOW), (_RET_K, 0, 0, _DENY)]
    return [(op, *(labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf)), k)
            for i, (op, jt, jf, k) in enumerate(code)]


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _unavailable(machine: str) -> str:
    if _libc is None:
        return f"no seccomp on {sys.platform}"
    if machine not in TABLES or ctypes.sizeof(ctypes.c_void_p) != 8:
        return f"no filter written for {machine} ({8 * ctypes.sizeof(ctypes.c_void_p)}-bit)"
    action = ctypes.c_uint32(_RET_ERRNO)
    if _libc.syscall(TABLES[machine][1]["seccomp"], _GET_ACTION_AVAIL, 0, ctypes.byref(action)) != 0:
        return f"the kernel refuses seccomp filters ({os.strerror(ctypes.get_errno())})"
    return ""


def _compiled(machine: str) -> _Program:
    code = program(machine)
    instructions = (_Instruction * len(code))(*code)
    return _Program(len(code), ctypes.cast(instructions, ctypes.POINTER(_Instruction)))  # cast keeps the array alive


# Asked and built once, in the trusted process that imports this module before any child is confined,
# so that a child only hands the program to the kernel.
_MACHINE = os.uname().machine if hasattr(os, "uname") else ""
_UNAVAILABLE = _unavailable(_MACHINE)
_PROGRAM = None if _UNAVAILABLE else _compiled(_MACHINE)
_SECCOMP = TABLES[_MACHINE][1]["seccomp"] if _PROGRAM else 0


def unavailable() -> str:
    """Why the filter cannot be installed on this machine; empty when it can."""
    return _UNAVAILABLE


def install() -> None:
    """Install the filter in this process (and all it will start). Needs ``no_new_privs`` or CAP_SYS_ADMIN."""
    if _PROGRAM is None:
        raise OSError(errno.ENOSYS, f"seccomp filter: {_UNAVAILABLE}")
    # SPEC_ALLOW (Linux 4.17+): kernels before 5.16 otherwise force the speculative store bypass and STIBP
    # mitigations on a filtered process, which slows its numerical code. They guard a process's own memory
    # from code it runs, and the graded code reads its process's memory outright anyway. An older kernel
    # refuses the flag: then the filter goes without.
    for flags in (_FLAG_SPEC_ALLOW, 0):
        if _libc.syscall(_SECCOMP, _SET_MODE_FILTER, flags, ctypes.byref(_PROGRAM)) == 0:
            return
        err = ctypes.get_errno()
        if err != errno.EINVAL:
            break
    raise OSError(err, f"seccomp(SET_MODE_FILTER): {os.strerror(err)}")
