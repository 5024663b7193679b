"""The kernel confinement on its own: each layer, in a child process, without the grader."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import confine, sandbox, seccomp

ABI = confine.landlock_abi()
ROOT = os.geteuid() == 0
needs_landlock = pytest.mark.skipif(ABI < 1, reason="no Landlock on this kernel")


def confined(code: str, work: Path, *, landlock: bool = True, netns: bool = False, drop: bool = False,
             refuse_ipc: bool = False, read: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``python -c code`` in ``work`` with the chosen layers; Python itself stays readable.

    The seccomp filter is left out unless asked for (tests/test_sandbox_ipc.py tests it), so that each
    test here shows what its own layer does."""
    ruleset = None
    if landlock:
        policy = confine.Policy(read=sandbox.child_policy().read + read, write=(work,))
        ruleset = confine.build_ruleset(policy, ABI)
    try:
        return subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=60,
                              preexec_fn=lambda: confine.confine_self(ruleset, netns, drop, refuse_ipc))
    finally:
        if ruleset is not None:
            os.close(ruleset)


def outcome(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


TRY = ("def attempt(action):\n"
       "    try:\n"
       "        action()\n"
       "        return 'allowed'\n"
       "    except OSError as exc:\n"
       "        return type(exc).__name__\n")


@needs_landlock
def test_files_outside_the_policy_cannot_be_read_or_written(tmp_path):
    work, readable, secret = tmp_path / "work", tmp_path / "readable", tmp_path / "secret.txt"
    work.mkdir()
    readable.mkdir()
    (readable / "notes.txt").write_text("public")
    secret.write_text("private")
    code = TRY + (f"print(open({str(readable / 'notes.txt')!r}).read())\n"
                  f"print(attempt(lambda: open({str(secret)!r}).read()))\n"
                  f"print(attempt(lambda: open({str(readable / 'new.txt')!r}, 'w')))\n"
                  "open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())\n")
    assert outcome(confined(code, work, read=(readable,))).split() == ["public", "PermissionError",
                                                                       "PermissionError", "ok"]


@needs_landlock
def test_no_links_fifos_or_sockets_in_the_working_folder(tmp_path):
    """The grader reads the child's files afterwards: none of them may lead elsewhere or block."""
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere.txt"
    work.mkdir()
    elsewhere.write_text("grader's")
    code = TRY + ("import os, socket\n"
                  f"print(attempt(lambda: os.symlink({str(elsewhere)!r}, 'out_0.json')))\n"
                  "print(attempt(lambda: os.mkfifo('out_0.npz')))\n"
                  f"print(attempt(lambda: os.link({str(elsewhere)!r}, 'status_0.json')))\n"
                  "print(attempt(lambda: socket.socket(socket.AF_UNIX).bind('load.json')))\n")
    # A hard link from another folder needs Landlock's "refer" right, which it answers with EXDEV.
    assert outcome(confined(code, work)).split() == ["PermissionError", "PermissionError", "OSError",
                                                     "PermissionError"]


@needs_landlock
@pytest.mark.skipif(ABI < 4, reason="TCP rules need Landlock ABI 4")
def test_landlock_alone_denies_tcp_connect_and_bind(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        code = TRY + ("import socket\n"
                      f"print(attempt(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2)))\n"
                      "print(attempt(lambda: socket.socket().bind(('127.0.0.1', 0))))\n")
        assert outcome(confined(code, tmp_path)).split() == ["PermissionError", "PermissionError"]
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()


@pytest.mark.skipif(not sandbox.status().netns, reason="a network namespace needs root with CAP_SYS_ADMIN")
def test_network_namespace_alone_cuts_off_tcp_and_udp(tmp_path):
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        code = TRY + ("import socket\n"
                      f"print(attempt(lambda: socket.create_connection(('127.0.0.1', {tcp.getsockname()[1]}), timeout=2)))\n"
                      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      f"print(attempt(lambda: u.sendto(b'x', ('127.0.0.1', {udp.getsockname()[1]}))))\n")
        assert "allowed" not in outcome(confined(code, tmp_path, landlock=False, netns=True))
        udp.settimeout(0.2)
        with pytest.raises(TimeoutError):
            udp.recv(10)


@pytest.mark.skipif(not ROOT, reason="only root has capabilities to drop")
def test_root_child_keeps_no_capability(tmp_path):
    code = TRY + ("import resource\n"
                  "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
                  "print(int(status['CapEff'], 16), int(status['CapBnd'], 16), int(status['NoNewPrivs']))\n"
                  "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
                  "def raise_hard(): resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard + 1))\n"
                  "try:\n    raise_hard(); print('raised')\nexcept ValueError:\n    print('refused')\n")
    assert outcome(confined(code, tmp_path, landlock=False, drop=True)).split() == ["0", "0", "1", "refused"]


@needs_landlock
@pytest.mark.skipif(ABI < 6, reason="signal scoping needs Landlock ABI 6")
def test_signals_to_processes_outside_the_sandbox_are_refused(tmp_path):
    code = TRY + f"import os\nprint(attempt(lambda: os.kill({os.getpid()}, 0)))\nprint(attempt(lambda: os.kill(os.getpid(), 0)))\n"
    assert outcome(confined(code, tmp_path)).split() == ["PermissionError", "allowed"]


def test_status_says_what_is_confined():
    level = confine.status()
    assert level.landlock_abi == ABI and level.root == ROOT
    text = level.describe()
    assert text.startswith("sandbox: ")
    if ABI >= 4:
        assert level.full and f"Landlock ABI {ABI}" in text and "not confined: files" not in text
    if ABI == 0:
        assert not level.full and "files" in text
    if not seccomp.unavailable():
        assert "sockets and local IPC refused (seccomp)" in text and "local IPC:" not in text


def test_a_status_without_the_seccomp_filter_says_local_ipc_is_open(monkeypatch):
    monkeypatch.setattr(seccomp, "unavailable", lambda: "no filter written for riscv64 (64-bit)")
    level = confine.status()
    text = level.describe()
    assert not level.full and "not confined:" in text and "local IPC: UNIX sockets" in text and "riscv64" in text
    assert ("UDP" in text) == (ABI >= 1 and not level.netns)


@pytest.mark.skipif(bool(seccomp.unavailable()), reason="no seccomp filter here")
def test_the_seccomp_filter_confines_tcp_where_landlock_cannot(monkeypatch):
    """Every socket() is refused, so a Landlock without TCP rules (ABI 1 to 3) still makes a full sandbox."""
    monkeypatch.setattr(confine, "landlock_abi", lambda: 3)
    level = confine.status()
    assert level.full and "TCP" not in level.describe() and "UDP" not in level.describe()


@pytest.mark.skipif(bool(seccomp.unavailable()), reason="no seccomp filter here")
def test_the_seccomp_filter_alone_refuses_a_unix_socket_after_exec(tmp_path):
    code = TRY + "import socket\nprint(attempt(lambda: socket.socket(socket.AF_UNIX)))\n"
    assert outcome(confined(code, tmp_path, landlock=False, refuse_ipc=True)) == "PermissionError"


def test_a_status_without_landlock_is_reduced():
    level = confine.Status(landlock_abi=0, root=False, netns=False, missing=("files (no Landlock: darwin)",))
    assert not level.full and "not confined: files" in level.describe()


@needs_landlock
def test_rules_skip_missing_paths_and_accept_files(tmp_path):
    single = tmp_path / "one.txt"
    single.write_text("x")
    fd = confine.build_ruleset(confine.Policy(read=(tmp_path / "missing", single), write=()), ABI)
    os.close(fd)
