"""The Gradescope bundle in a simulated Gradescope container: root, Docker's default capabilities (no
CAP_SYS_ADMIN, so no namespaces), the cgroup filesystem read-only, and Landlock blocked by a seccomp filter
that answers its calls with ENOSYS, as Docker's default seccomp profile does on older engines.

The grader must then confine the graded code the classic Unix way (see autograder/confine.py): an unprivileged
uid per job in the group of an account (``nobody`` stands in for the ``autograder-sandbox`` account that
setup.sh creates), the secrets mode 0700, and the seccomp filter. Where that is impossible too (no such
account), run_autograder must refuse, with one line and no results.json, rather than record a zero.

Run as a module (``python -m tests.test_gradescope_container CMD...``, inside ``unshare --mount``), this file
is the container: it sets the simulation up, then executes CMD in it.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import confine
from autograder.gradescope import CHEAT
from autograder.runtime import REPO, solution_path
from tests.grading_helpers import solution_notebook, unpacked_bundle, with_cell_source

ID = "rnn_step_by_step"

# Docker's default capability set: root in a container keeps these and no others (no CAP_SYS_ADMIN).
DOCKER_CAPABILITIES = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
                       "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")
STANDIN_ACCOUNT = "nobody"  # an unprivileged account every Debian and Ubuntu system has
# A new mount namespace of its own (the simulation's mounts stay in it), then this module as the container.
CONTAINER = ("unshare", "--mount", "--propagation", "private", sys.executable, "-m", "tests.test_gradescope_container")


# ----------------------------------------------------------------------------- the container (run as a script)

def _block_landlock() -> None:
    """A seccomp filter on this process and all it starts: landlock_* fail with ENOSYS, as if the kernel had none."""
    from autograder import seccomp

    audit_arch, numbers = seccomp.TABLES[os.uname().machine]
    allow, enosys = 0x7FFF0000, 0x00050000 | errno.ENOSYS
    # load arch; not ours -> allow; load nr; nr < 444 -> allow; nr > 446 -> allow; else ENOSYS
    code = [(0x20, 0, 0, 4), (0x15, 0, 4, audit_arch), (0x20, 0, 0, 0), (0x35, 0, 2, 444), (0x25, 1, 0, 446),
            (0x06, 0, 0, enosys), (0x06, 0, 0, allow)]

    class Instruction(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Instruction))]

    instructions = (Instruction * len(code))(*code)
    program = Program(len(code), ctypes.cast(instructions, ctypes.POINTER(Instruction)))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(numbers["seccomp"], 1, 0, ctypes.byref(program)) != 0:  # SECCOMP_SET_MODE_FILTER
        raise OSError(ctypes.get_errno(), "seccomp filter for landlock_*")


def _make_python_reachable() -> None:
    """The interpreter and the venv must be readable by every user, as they are in Gradescope's image (/opt,
    /autograder/venv). Where one lives under a private folder (pyenv's /root/.pyenv, a checkout under /root), a
    tmpfs replaces that folder in this mount namespace, holding only what must be reachable."""
    needed = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix)}
    needed = {n for n in needed if not any(other in n.parents for other in needed)}
    hidden: dict[Path, list[Path]] = {}  # private folder -> the needed paths below it
    for path in needed:
        private = next((a for a in reversed(path.parents) if not a.stat().st_mode & stat.S_IXOTH), None)
        if private is not None:
            hidden.setdefault(private, []).append(path)
    for private, paths in hidden.items():
        kept = []
        for path in paths:
            keep = Path(tempfile.mkdtemp(prefix="reachable-"))
            subprocess.run(["mount", "--bind", str(path), str(keep)], check=True)
            kept.append((keep, path))
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", str(private)], check=True)
        for keep, path in kept:
            path.mkdir(parents=True)
            subprocess.run(["mount", "--move", str(keep), str(path)], check=True)
            keep.rmdir()


def contain(command: list[str]) -> None:
    """Set the simulated container up in this (new, private) mount namespace, then become ``command``."""
    _make_python_reachable()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():  # Docker mounts the cgroups read-only
        mount_point = line.split()[4]
        if mount_point == "/sys/fs/cgroup" or mount_point.startswith("/sys/fs/cgroup/"):
            subprocess.run(["mount", "-o", "remount,bind,ro", mount_point], check=True)
    _block_landlock()
    bounding = "-all," + ",".join(f"+{cap}" for cap in DOCKER_CAPABILITIES)
    os.execvp("setpriv", ["setpriv", "--inh-caps=-all", f"--bounding-set={bounding}", *command])


# ----------------------------------------------------------------------------- the tests

@pytest.fixture(scope="module")
def root() -> Path:
    """A /autograder with the unpacked bundle, in a folder every user may traverse (as / is on Gradescope)."""
    root = Path(tempfile.mkdtemp(prefix="gradescope-container-"))
    root.chmod(0o755)
    unpacked_bundle(ID, root)
    yield root
    shutil.rmtree(root)


def in_container(root: Path, notebook_text: str, account: str = STANDIN_ACCOUNT, stale: str = "",
                 ) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Run run_autograder in the simulated container on a submission of one notebook: (the run, results.json).
    ``stale``: a results.json already there."""
    submission, results = root / "submission", root / "results"
    for folder in (submission, results):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o755)  # as readable as Gradescope may leave them: run_autograder protects them
    if stale:
        (results / "results.json").write_text(stale)
    (submission / f"{ID}.ipynb").write_text(notebook_text)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "learner@example.org"}]}))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "AUTOGRADER_SANDBOX_ACCOUNT": account}
    done = subprocess.run([*CONTAINER, str(root / "source" / "run_autograder")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    written = results / "results.json"
    return done, json.loads(written.read_text()) if written.exists() else None


def test_the_simulated_container_is_what_gradescope_gives(root):
    """No Landlock, no namespaces, Docker's capabilities: checked from inside, with the grader's own probes."""
    probe = ("import json; from autograder import confine, job\n"
             "caps = int(dict(l.split(':', 1) for l in open('/proc/self/status'))['CapEff'], 16)\n"
             "s = confine.status()\n"
             "print(json.dumps([confine.landlock_abi(), s.netns, job.support().job_uid, caps, s.full]))\n")
    done = subprocess.run([*CONTAINER, sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, "AUTOGRADER_SANDBOX_ACCOUNT": STANDIN_ACCOUNT})
    assert done.returncode == 0, done.stderr
    abi, netns, job_uid, caps, full = json.loads(done.stdout)
    assert (abi, netns, job_uid, full) == (0, False, True, True)
    assert caps.bit_count() == len(DOCKER_CAPABILITIES) and not caps & (1 << 21)  # CAP_SYS_ADMIN is bit 21


def test_honest_gets_full_marks_the_stub_zero_and_the_cheat_zero_for_its_function(root):
    honest, result = in_container(root, solution_path(ID).read_text())
    assert honest.returncode == 0, honest.stderr
    assert "files: an unprivileged uid per job, group nobody" in honest.stdout  # the fallback, not Landlock
    assert result["score"] == result["max_score"] == 100, result
    stub, stubbed = in_container(root, (REPO / "assignments" / ID / f"{ID}.ipynb").read_text())
    assert stub.returncode == 0 and stubbed["score"] == 0, stub.stderr
    assert all("not implemented yet" in t["output"] for t in stubbed["tests"])
    # It opens the solution where the bundle keeps it, beside the course packages it imports, and runs its code.
    cheat = with_cell_source(solution_notebook(ID), "rnn_cell_forward", CHEAT.format(name="rnn_cell_forward", id=ID))
    done, cheated = in_container(root, json.dumps(cheat))
    assert done.returncode == 0, done.stderr
    tests = {t["name"]: t for t in cheated["tests"]}
    assert tests["rnn_cell_forward"]["score"] == 0
    assert "no solution found" in tests["rnn_cell_forward"]["output"]  # every copy was out of its reach
    assert all(t["score"] == t["max_score"] > 0 for name, t in tests.items() if name != "rnn_cell_forward")
    # results.json as Gradescope's specification has it
    assert isinstance(result["execution_time"], int) and 0 < result["execution_time"] < 600
    assert result["extra_data"] == {"assignment": ID, "notebook": f"{ID}.ipynb"}
    assert not {"assignment", "notebook", "student", "problem"} & set(result)
    assert result["output_format"] == "md" and result["stdout_visibility"] == "hidden"
    assert {(t["status"], t["visibility"], t["output_format"]) for t in result["tests"]} == {
        ("passed", "visible", "md")}
    assert {t["status"] for t in stubbed["tests"]} == {"failed"}
    assert sum(t["max_score"] for t in result["tests"]) == result["max_score"]


def test_the_graded_code_reads_no_secret_and_runs_as_no_one_else(root):
    """What the graded code sees from inside: its ids, the course packages, and each secret the bundle keeps."""
    paths = [root / "source" / "autograder" / "__init__.py", root / "source" / "solutions" / ID / f"{ID}.ipynb",
             root / "submission" / f"{ID}.ipynb", root / "results", root / "submission_metadata.json",
             Path("/proc/1/environ")]
    spy = f"""
def rnn_cell_forward(xt, a_prev, parameters):
    import os
    def opens(path):  # open() checks the file-system ids, which access() does not
        try:
            os.close(os.open(path, os.O_RDONLY))
            return True
        except OSError:
            return False
    seen = [min(os.getresuid()) >= 2_000_000_000, *set(os.getresgid()), len(os.getgroups())]
    seen += [opens(path) for path in {[str(p) for p in paths]!r}]
    raise RuntimeError(" ".join(map(str, seen)))
"""
    done, result = in_container(root, json.dumps(with_cell_source(solution_notebook(ID), "rnn_cell_forward", spy)))
    assert done.returncode == 0, done.stderr
    output = {t["name"]: t for t in result["tests"]}["rnn_cell_forward"]["output"]
    # A uid of the job's own, the account's group and no other; the course packages can be read, and nothing else
    # of the bundle's: not the solution, the submission, the results, the metadata, nor init's environment.
    gid = pwd.getpwnam(STANDIN_ACCOUNT).pw_gid
    assert f"RuntimeError: True {gid} 0 True False False False False False" in output, output


def test_without_landlock_or_the_account_it_refuses_with_one_line_and_no_results(root):
    stale = json.dumps({"score": 0, "tests": []})  # a zero from an earlier run must not stand either
    done, result = in_container(root, solution_path(ID).read_text(), account="no-such-account", stale=stale)
    assert done.returncode == 3 and result is None
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run_autograder: the graded code cannot be confined here"), lines
    assert "no account no-such-account to run as" in lines[0]


def test_a_secret_the_child_could_read_is_found_before_grading():
    """The check strict grading relies on without Landlock: the kernel, asked with the child's identity (which
    must also be able to reach a folder through its parents: pytest's own tmp_path is in a 0700 folder)."""
    gid = pwd.getpwnam(STANDIN_ACCOUNT).pw_gid
    with tempfile.TemporaryDirectory(prefix="exposed-") as folder:
        Path(folder).chmod(0o755)
        shared, private = Path(folder, "shared"), Path(folder, "private")
        for place in (shared, private):
            place.mkdir()
            (place / "answers.ipynb").write_text("{}")
        shared.chmod(0o755)
        private.chmod(0o700)
        found = confine.exposed_to([shared, private], gid)
        assert [line.split(" can be ")[0] for line in found] == [str(shared), str(shared / "answers.ipynb")]
        (private / "answers.ipynb").chmod(0o666)  # writable by anyone, but in a folder no one else may enter
        assert confine.exposed_to([private], gid) == []
        private.chmod(0o703)  # others may enter and create: the folder is reported as writable
        assert confine.exposed_to([private], gid) == [f"{private} can be written by the graded code (no Landlock "
                                                      "here: make it mode 0700, owned by root)",
                                                      f"{private / 'answers.ipynb'} can be read by the graded "
                                                      "code (no Landlock here: make it mode 0700, owned by root)"]


if __name__ == "__main__":
    contain(sys.argv[1:])
