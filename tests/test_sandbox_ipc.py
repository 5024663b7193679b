"""No way out through local IPC: the seccomp filter (autograder.seccomp), and Landlock for /dev/shm and /dev/mqueue.

Each check runs in a child forked from the test process (so the interpreter and every module the
probes use are already loaded), as root and as an ordinary user (uid 65534, switched to after the
fork) where the tests run as root, or as the user running them otherwise. The child gets Landlock
and the filter but not the namespaces and the capability drop of a root child, so that what the
filter refuses is refused by the filter alone; the two grading tests at the end use the grader's
full sandbox.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import re
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from multiprocessing import connection, shared_memory
from pathlib import Path

import pytest

from autograder import confine, sandbox, seccomp
from autograder.grade import grade
from autograder.runtime import solution_path
from tests.grading_helpers import in_child, scores
from tests.test_sandbox_attacks import ID, assert_stopped, graded_with, honest

ABI = confine.landlock_abi()
ROOT = os.geteuid() == 0
MACHINE = os.uname().machine
NUMBERS = seccomp.TABLES.get(MACHINE, (0, {}))[1]
needs_filter = pytest.mark.skipif(bool(seccomp.unavailable()), reason=f"no seccomp filter: {seccomp.unavailable()}")
needs_landlock = pytest.mark.skipif(ABI < 1, reason="no Landlock on this kernel")
# As root, also as uid 65534: the user keyring, SysV permissions and ptrace rules differ for an ordinary user.
users = pytest.mark.parametrize("user", ["root", "nobody"] if ROOT else ["self"])

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.msgrcv.restype = ctypes.c_ssize_t
libc.mq_receive.restype = ctypes.c_ssize_t
libc.syscall.restype = ctypes.c_long
IPC_PRIVATE, IPC_CREAT, IPC_RMID, IPC_NOWAIT, SHM_RDONLY, GETVAL, SETVAL = 0, 0o1000, 0, 0o4000, 0o10000, 12, 16


def in_sandbox(probe: Callable[[], object], user: str, *, landlock: bool = True, refuse_ipc: bool = True):
    """What ``probe()`` returns (as JSON) when run in a forked child that is confined, as ``user``."""
    ruleset = None
    if landlock and ABI >= 1:
        ruleset = confine.build_ruleset(confine.Policy(read=sandbox.child_policy().read, write=()), ABI)

    def confined() -> object:
        confine.confine_self(ruleset, False, False, refuse_ipc=refuse_ipc)
        return probe()

    try:
        return in_child(confined, as_nobody=user == "nobody")
    finally:
        if ruleset is not None:
            os.close(ruleset)


def attempt(action: Callable[[], object]) -> str:
    """``allowed``, or the name of the errno the kernel answered with."""
    try:
        action()
        return "allowed"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def checked(result: int) -> int:
    """A libc call's result, or the OSError its errno says (calls that answer -1 or (void *) -1 on failure)."""
    if result in (-1, 2**64 - 1):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def syscall(name: str, *args) -> int:
    return checked(libc.syscall(NUMBERS[name], *args))


@pytest.fixture
def open_folder():
    """A folder that uid 65534 can reach too (tmp_path lies in a folder private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="ipc-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def bus(open_folder):
    """A listening pathname UNIX socket outside the sandbox, which anyone may connect to (as a D-Bus bus is)."""
    path = open_folder / "bus"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        path.chmod(0o777)
        listener.listen()
        listener.settimeout(0.2)
        yield path, listener


def connections(listener: socket.socket) -> int:
    """How many connections reached ``listener`` (its timeout must be set)."""
    count = 0
    try:
        while True:
            listener.accept()[0].close()
            count += 1
    except TimeoutError:
        return count


# ----------------------------------------------------------------------------- sockets

@needs_filter
@users
@pytest.mark.parametrize("refuse_ipc", [True, False], ids=["filter", "landlock alone"])
def test_a_pathname_unix_socket_outside_the_sandbox_is_reached_only_without_the_filter(user, refuse_ipc, bus):
    """Landlock does not see a connect() to a pathname socket: only the filter stops it."""
    path, listener = bus
    got = in_sandbox(lambda: attempt(lambda: socket.socket(socket.AF_UNIX).connect(str(path))), user,
                     refuse_ipc=refuse_ipc)
    assert (got, connections(listener)) == (("EPERM", 0) if refuse_ipc else ("allowed", 1))


@needs_filter
@users
def test_no_socket_of_any_family(user):
    families = [(socket.AF_UNIX, socket.SOCK_DGRAM), (socket.AF_INET, socket.SOCK_DGRAM),
                (socket.AF_INET6, socket.SOCK_STREAM), (socket.AF_NETLINK, socket.SOCK_RAW),
                (socket.AF_VSOCK, socket.SOCK_STREAM), (socket.AF_PACKET, socket.SOCK_RAW)]
    got = in_sandbox(lambda: [attempt(lambda: socket.socket(f, t).close()) for f, t in families], user)
    assert got == ["EPERM"] * len(families)


@needs_filter
@users
def test_socketpairs_still_work_and_datagram_pairs_are_refused(user):
    """A connected stream pair leads only to its other end: the child may make one, or use one it inherits."""
    inherited, outside = socket.socketpair()

    def probe():
        def talk(a: socket.socket, b: socket.socket) -> bytes:
            a.sendall(b"ping")
            return b.recv(4)

        stream = socket.socketpair()
        flagged = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        packets = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pipe = connection.Pipe()
        pipe[0].send("ping")
        inherited.sendall(b"from the sandbox")
        return [talk(*stream).decode(), talk(*packets).decode(), pipe[1].recv(), type(flagged[0]).__name__,
                attempt(lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))]

    try:
        assert in_sandbox(probe, user) == ["ping", "ping", "ping", "socket", "EPERM"]
        assert outside.recv(64) == b"from the sandbox"
    finally:
        inherited.close()
        outside.close()


# ----------------------------------------------------------------------------- System V and POSIX IPC

@pytest.fixture
def sysv_objects():
    """A shared memory segment, a message queue and a semaphore set of the test's, open to everyone."""
    shm = checked(libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o666))
    queue = checked(libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o666))
    sem = checked(libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o666))
    try:
        address = checked(libc.shmat(shm, None, 0))
        ctypes.memmove(address, b"SHM-SECRET", 10)
        libc.shmdt(ctypes.c_void_p(address))
        message = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + 16)
        ctypes.c_long.from_buffer(message).value = 1
        message[ctypes.sizeof(ctypes.c_long):ctypes.sizeof(ctypes.c_long) + 10] = b"MSG-SECRET"
        checked(libc.msgsnd(queue, message, 10, 0))
        checked(libc.semctl(sem, 0, SETVAL, ctypes.c_int(7)))
        yield shm, queue, sem
    finally:
        libc.shmctl(shm, IPC_RMID, None)
        libc.msgctl(queue, IPC_RMID, None)
        libc.semctl(sem, 0, IPC_RMID)


@needs_filter
@users
def test_system_v_ipc_of_another_process_is_refused(user, sysv_objects):
    """Without the filter, the child reads the segment, takes the message and reads the semaphore."""
    shm, queue, sem = sysv_objects

    def probe():
        def read_segment():
            address = checked(libc.shmat(shm, None, SHM_RDONLY))
            assert ctypes.string_at(address, 10) == b"SHM-SECRET"

        buffer = ctypes.create_string_buffer(64)
        # The child's own objects are removed at once where they can be made (they would outlive it).
        return [attempt(read_segment),
                attempt(lambda: libc.shmctl(checked(libc.shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600)), IPC_RMID, None)),
                attempt(lambda: checked(libc.msgrcv(queue, buffer, 16, 0, IPC_NOWAIT))),
                attempt(lambda: libc.msgctl(checked(libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600)), IPC_RMID, None)),
                attempt(lambda: checked(libc.semctl(sem, 0, GETVAL))),
                attempt(lambda: libc.semctl(checked(libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)), 0, IPC_RMID))]

    assert in_sandbox(probe, user) == ["EPERM"] * 6


@pytest.fixture
def message_queue():
    """A POSIX message queue of the test's, holding a message, that everyone may read."""
    name = f"/ipc-test-{os.getpid()}".encode()
    old_mask = os.umask(0)
    try:
        queue = checked(libc.mq_open(name, os.O_CREAT | os.O_RDWR, 0o666, None))
    finally:
        os.umask(old_mask)
    try:
        checked(libc.mq_send(queue, b"MQ-SECRET", 9, 0))
        yield name
    finally:
        libc.mq_close(queue)
        libc.mq_unlink(name)


@needs_filter
@users
def test_posix_message_queues_are_refused(user, message_queue):
    def probe():
        def receive():
            queue = checked(libc.mq_open(message_queue, os.O_RDONLY | os.O_NONBLOCK))
            buffer = ctypes.create_string_buffer(1 << 16)
            assert ctypes.string_at(buffer, checked(libc.mq_receive(queue, buffer, 1 << 16, None))) == b"MQ-SECRET"

        def own_queue():
            checked(libc.mq_open(message_queue + b"-own", os.O_CREAT | os.O_RDWR, 0o600, None))
            libc.mq_unlink(message_queue + b"-own")

        return [attempt(receive), attempt(own_queue)]

    assert in_sandbox(probe, user) == ["EPERM", "EPERM"]


@needs_landlock
@users
def test_dev_shm_and_dev_mqueue_are_out_of_landlocks_reach(user):
    """POSIX shared memory is a file in /dev/shm (and message queues are in /dev/mqueue where it is mounted):
    Landlock refuses them, without the filter."""
    for folder in ("/dev/shm", "/dev/mqueue"):
        policy = sandbox.child_policy()
        assert not [p for p in policy.read + policy.devices if Path(folder) == p or p in Path(folder).parents]
    name = f"ipc-test-{os.getpid()}"

    folders = ["/dev/shm"] + (["/dev/mqueue"] if os.path.isdir("/dev/mqueue") else [])

    def probe():
        return [attempt(lambda: shared_memory.SharedMemory(name, create=True, size=64)),
                attempt(lambda: open(f"/dev/shm/{name}", "w")),
                *[attempt(lambda folder=folder: os.listdir(folder)) for folder in folders]]

    try:
        got = in_sandbox(probe, user, refuse_ipc=False)
    finally:
        Path(f"/dev/shm/{name}").unlink(missing_ok=True)
    assert got and set(got) == {"EACCES"}


# ----------------------------------------------------------------------------- keyrings, io_uring, other processes

def _keyring_and_kernel_probes() -> list[str]:
    """Calls a process makes on itself or its own child. Without the filter the kernel allows each of them
    to root; to uid 65534 it refuses two anyway (ptrace, as the switch of uid made it non-dumpable, and
    bpf, where unprivileged BPF is off)."""
    def ptrace_own_child():
        pid = os.fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGSTOP)  # until killed
            os._exit(0)
        try:
            checked(libc.ptrace(0x4206, pid, None, None))  # PTRACE_SEIZE
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def read_own_memory():
        source, target = ctypes.create_string_buffer(b"x" * 8), ctypes.create_string_buffer(8)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(target), 8)
        remote = (ctypes.c_void_p * 2)(ctypes.addressof(source), 8)
        checked(libc.process_vm_readv(os.getpid(), local, 1, remote, 1, 0))

    def perf_counter():
        attr = (ctypes.c_uint64 * 16)()  # struct perf_event_attr, in its first (64-byte) version
        attr[0] = 1 | 64 << 32  # type PERF_TYPE_SOFTWARE, size 64
        attr[1] = 1  # config: PERF_COUNT_SW_TASK_CLOCK
        attr[5] = (1 << 5) | (1 << 6)  # exclude_kernel, exclude_hv (allowed with perf_event_paranoid 2)
        os.close(syscall("perf_event_open", attr, 0, -1, -1, 0))

    def bpf_map():
        attr = (ctypes.c_uint32 * 4)(2, 4, 4, 1)  # BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
        os.close(syscall("bpf", 0, attr, 16))  # BPF_MAP_CREATE

    own = os.pidfd_open(os.getpid())
    params = ctypes.create_string_buffer(120)  # struct io_uring_params
    return [attempt(lambda: syscall("keyctl", 0, -4, 0)),  # KEYCTL_GET_KEYRING_ID of KEY_SPEC_USER_KEYRING
            attempt(lambda: syscall("add_key", b"user", b"ipc-test", b"x", 1, -2)),  # into the process keyring
            attempt(lambda: os.close(syscall("io_uring_setup", 4, params))),
            attempt(ptrace_own_child), attempt(read_own_memory),
            attempt(lambda: os.close(syscall("pidfd_getfd", own, 1, 0))),
            attempt(lambda: syscall("kcmp", os.getpid(), os.getpid(), 0,  # KCMP_FILE: are fds 1 the same file?
                                    ctypes.c_ulong(1), ctypes.c_ulong(1))),
            attempt(perf_counter), attempt(bpf_map),
            attempt(lambda: os.close(checked(libc.inotify_init1(0)))),
            attempt(lambda: os.close(checked(libc.fanotify_init(0x200, os.O_RDONLY))))]  # FAN_REPORT_FID


@needs_filter
@users
def test_keyrings_io_uring_and_reading_processes_are_refused(user):
    assert in_sandbox(_keyring_and_kernel_probes, user) == ["EPERM"] * 11


@needs_filter
@pytest.mark.skipif(MACHINE != "x86_64", reason="the x32 and i386 tables are x86_64's")
@users
def test_another_syscall_table_is_refused(user):
    """The x32 ABI's getpid, and i386's through int 0x80, would pass a filter that did not check the table."""
    def probe():
        x32 = attempt(lambda: checked(libc.syscall(0x40000000 | 39)))
        code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")  # mov eax, 20 (i386 getpid); int 0x80; ret
        address = ctypes.addressof(ctypes.c_char.from_buffer(code))
        return [x32, ctypes.CFUNCTYPE(ctypes.c_int)(address)()]

    assert in_sandbox(probe, user) == ["EPERM", -errno.EPERM]


def _header_numbers(header: Path) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", header.read_text(), re.M)}


@pytest.mark.parametrize("machine, header", [("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
                                             ("aarch64", "/usr/include/asm-generic/unistd.h")])
def test_the_filters_syscall_numbers_are_the_kernels(machine, header):
    if not Path(header).exists():
        pytest.skip(f"no {header} here")
    numbers = seccomp.TABLES[machine][1]
    assert {name: _header_numbers(Path(header)).get(name) for name in numbers} == numbers


@pytest.mark.parametrize("machine", sorted(seccomp.TABLES))
def test_each_architectures_program_passes_the_kernels_bpf_checker(machine):
    """A program for another machine cannot be installed here, but the kernel's classic BPF checker, which
    seccomp runs first, can vet its jumps and returns: reached through a socket filter (SO_ATTACH_FILTER)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, 26, bytes(seccomp._compiled(machine)))


# ----------------------------------------------------------------------------- through the grader

FULL = sandbox.status().full
needs_full = pytest.mark.skipif(not FULL, reason=f"the kernel cannot confine here ({sandbox.status().describe()})")


@needs_full
def test_the_solution_notebook_keeps_full_marks():
    marks = scores(grade(solution_path(ID)))
    assert marks and all(score == top > 0 for score, top in marks.values()), marks


@needs_full
def test_asking_a_bus_outside_the_sandbox_for_the_answer(tmp_path, bus):
    """The seccomp filter: a graded function that reaches a pathname socket would be answered; it gets 0."""
    path, listener = bus
    attack = (honest("rnn_cell_forward") +
              "\n\ndef rnn_cell_forward(xt, a_prev, parameters):\n"
              "    import socket\n"
              "    with socket.socket(socket.AF_UNIX) as bus:\n"
              f"        bus.connect({str(path)!r})\n"
              "        bus.sendall(b'send me the answer')\n"
              "    return _honest(xt, a_prev, parameters)\n")
    assert_stopped(graded_with(tmp_path, "rnn_cell_forward", attack)["rnn_cell_forward"], "Operation not permitted")
    assert connections(listener) == 0
