"""Dishonest submissions, written by a student who has read the grader's source.

Each attack replaces one function of the solution notebook. Where the attack works, the function
returns the right answer (taken from the reference, the solutions, a classmate) and would score
full marks; where the sandbox stops it, the function raises and scores 0. Every other function
keeps its full marks. Each test names the protection it depends on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

import pytest

from autograder import childpolicy, cli, sandbox
from autograder.grade import grade
from autograder.runtime import REPO, solution_path
from tests.grading_helpers import by_name, cell_of, solution_notebook, with_cell_source, write

ID = "rnn_step_by_step"
FULL = sandbox.status().full
pytestmark = pytest.mark.skipif(not FULL, reason=f"the kernel cannot confine here ({sandbox.status().describe()})")


def solution_source(name: str) -> str:
    return "".join(cell_of(solution_notebook(ID), name)["source"])


def honest(name: str) -> str:
    """The right code for ``name`` under the name ``_honest``: what the attack returns once it has cheated."""
    return solution_source(name).replace(f"def {name}(", "def _honest(", 1)


def graded_with(tmp_path: Path, name: str, attack: str) -> dict:
    """Grade the solution notebook with ``name`` replaced by ``attack``; results by function."""
    path = write(with_cell_source(solution_notebook(ID), name, attack), tmp_path, ID)
    results = by_name(grade(path))
    for other, result in results.items():
        if other != name:
            assert result.score == result.max_score > 0, (other, result.messages)
    return results


def assert_stopped(result, blocked_by: str) -> None:
    assert result.score == 0, f"the attack worked: {result.messages}"
    assert any(blocked_by in m for m in result.messages), result.messages


def test_loading_the_reference_through_the_grader_package(tmp_path):
    """Landlock: the solution notebooks are not readable, so the grader's own loader fails."""
    attack = ("def rnn_cell_forward(xt, a_prev, parameters):\n"
              "    from autograder.assignments import get_assignment\n"
              "    from autograder.runtime import load_reference\n"
              "    reference = load_reference(get_assignment('rnn_step_by_step'))\n"
              "    return reference['rnn_cell_forward'](xt, a_prev, parameters)\n")
    assert_stopped(graded_with(tmp_path, "rnn_cell_forward", attack)["rnn_cell_forward"], "Permission denied")


def test_finding_the_solution_notebook_on_disk(tmp_path):
    """Landlock: every place the child can learn of (package paths, sys.path, cwd, env) leads to a denied open."""
    attack = ("def lstm_cell_forward(xt, a_prev, c_prev, parameters):\n"
              "    import json, os, sys\n"
              "    from pathlib import Path\n"
              "    import autograder\n"
              "    bases = [Path(autograder.__file__).resolve().parents[1], Path.cwd(),\n"
              "             *[Path(p) for p in sys.path if p], *[Path(v) for v in os.environ.values() if v.startswith('/')]]\n"
              f"    bases.append(Path({str(REPO)!r}))  # or simply known from the course's README\n"
              "    tried = []\n"
              "    for base in bases:\n"
              "        for folder in [base, *base.parents]:\n"
              "            nb = folder / 'solutions' / 'rnn_step_by_step' / 'rnn_step_by_step.ipynb'\n"
              "            if nb.exists():\n"
              "                cells = json.loads(nb.read_text())['cells']\n"
              "                (cell,) = [c for c in cells if c['metadata'].get('nbgrader', {}).get('grade_id') == 'lstm_cell_forward']\n"
              "                scope = {'np': __import__('numpy'), 'sigmoid': sigmoid, 'softmax': softmax}\n"
              "                exec(''.join(cell['source']), scope)\n"
              "                return scope['lstm_cell_forward'](xt, a_prev, c_prev, parameters)\n"
              "            tried.append(str(nb))\n"
              "    raise FileNotFoundError(f'no solutions in {len(tried)} places')\n")
    assert solution_path(ID).exists()
    assert_stopped(graded_with(tmp_path, "lstm_cell_forward", attack)["lstm_cell_forward"], "Permission denied")


def test_finding_its_own_reference_in_process_memory(tmp_path):
    """No reference code enters the learner's process: rnn_forward's own reference is nowhere in it, and its helper
    rnn_cell_forward is a proxy to another process (see tests/test_reference_helpers.py for the helpers' code)."""
    attack = ("def rnn_forward(x, a0, parameters):\n"
              "    import gc, linecache, sys, types\n"
              "    found = [getattr(rnn_cell_forward, '__globals__', {}).get('rnn_forward')]\n"
              "    found += [f for f in gc.get_objects() if isinstance(f, types.FunctionType)\n"
              "              and f.__name__ == 'rnn_forward' and 'student' not in f.__code__.co_filename]\n"
              "    found += [getattr(m, 'rnn_forward', None) for m in list(sys.modules.values())]\n"
              "    for f in found:\n"
              "        if callable(f) and f is not rnn_forward:\n"
              "            return f(x, a0, parameters)\n"
              "    for name, entry in list(linecache.cache.items()):\n"
              "        source = ''.join(entry[2]) if len(entry) > 2 else ''\n"
              "        if 'def rnn_forward' in source and 'student' not in name:\n"
              "            scope = dict(getattr(rnn_cell_forward, '__globals__', {}))\n"
              "            exec(source, scope)\n"
              "            return scope['rnn_forward'](x, a0, parameters)\n"
              "    raise LookupError('no reference rnn_forward in memory')\n")
    assert_stopped(graded_with(tmp_path, "rnn_forward", attack)["rnn_forward"], "LookupError")


def tree_digest(root: Path) -> str:
    """A hash of every file's bytes and every link's target under ``root``."""
    digest = hashlib.blake2b()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            digest.update(str(path.relative_to(root)).encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            else:
                with open(path, "rb") as f:
                    digest.update(hashlib.file_digest(f, "blake2b").digest())
    return digest.hexdigest()


def test_changing_the_graders_files(tmp_path):
    """Landlock: nothing outside the child's folder is writable, so later gradings are unaffected."""
    targets = [REPO / "autograder" / "verdict.py", Path(childpolicy.package_dir("numpy")) / "version.py",
               *sorted((REPO / "solutions").glob("*/*.ipynb"))]
    attack = ("def lstm_forward(x, a0, parameters):\n"
              "    import glob\n"
              f"    targets = {[str(t) for t in targets]!r}\n"
              "    payload = '\\n\\ndef judge(*args, **kwargs):  # every submission passes\\n    return []\\n'\n"
              "    done = []\n"
              "    for target in targets:\n"
              "        try:\n"
              "            with open(target, 'a') as f:\n"
              "                f.write(payload)\n"
              "            done.append(target)\n"
              "        except OSError:\n"
              f"            pass\n"
              f"    for cache in glob.glob({str(REPO / 'autograder' / '__pycache__' / 'verdict*.pyc')!r}):\n"
              "        try:\n"
              "            open(cache, 'wb').write(b'')\n"
              "            done.append(cache)\n"
              "        except OSError:\n"
              "            pass\n"
              "    raise RuntimeError(f'changed {len(done)} files')\n")
    watched = [REPO / "autograder", REPO / "solutions", Path(sys.prefix)]
    grade(solution_path(ID))  # any cache the trusted grader writes for itself exists before the snapshot
    before = [tree_digest(p) for p in watched]
    backup = {p: p.read_bytes() for p in targets}
    try:
        results = graded_with(tmp_path, "lstm_forward", attack)
        assert_stopped(results["lstm_forward"], "changed 0 files")
        assert [tree_digest(p) for p in watched] == before, "grading changed the grader, the solutions or the venv"
        stub = grade(REPO / "assignments" / ID / f"{ID}.ipynb")
        assert stub.score == 0
    finally:
        for path, data in backup.items():  # if the sandbox failed, leave the checkout as it was
            if path.read_bytes() != data:
                path.write_bytes(data)


@pytest.fixture
def listeners():
    """A TCP and a UDP socket on 127.0.0.1 that record whatever reaches them."""
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp.bind(("127.0.0.1", 0))
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        tcp.settimeout(0.1)
        udp.settimeout(0.1)
        while not stop.is_set():
            for sock in (tcp, udp):
                try:
                    if sock is tcp:
                        conn, _ = tcp.accept()
                        received.append(b"connection:" + conn.recv(100))
                        conn.close()
                    else:
                        received.append(b"datagram:" + udp.recv(100))
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield tcp.getsockname()[1], udp.getsockname()[1], received
    stop.set()
    thread.join()
    tcp.close()
    udp.close()


def test_talking_to_another_process_over_the_network(tmp_path, listeners):
    """The seccomp filter refuses every socket; behind it Landlock denies TCP connect, and as root the empty
    network namespace stops UDP (each shown alone in tests/test_confine.py)."""
    tcp_port, udp_port, received = listeners
    attack = (honest("rnn_cell_backward") +
              "\n\ndef rnn_cell_backward(da_next, cache):\n"
              "    import socket\n"
              "    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "    try:\n"
              f"        udp.sendto(b'shapes of my cache', ('127.0.0.1', {udp_port}))\n"
              "    except OSError:\n"
              "        pass\n"
              f"    with socket.create_connection(('127.0.0.1', {tcp_port}), timeout=2) as s:\n"
              "        s.sendall(b'send me the answers')\n"
              "    return _honest(da_next, cache)\n")
    assert_stopped(graded_with(tmp_path, "rnn_cell_backward", attack)["rnn_cell_backward"], "PermissionError")
    assert received == []  # the filter refuses the UDP socket too, root or not


def test_reading_a_classmates_notebook_next_to_the_submission(tmp_path):
    """Landlock: the submission's folder is unreadable; the secret appears in no output."""
    secret = "CLASSMATE-SECRET-7f3a9c"
    classmate = solution_notebook(ID)
    classmate["cells"].append({"cell_type": "markdown", "metadata": {}, "source": secret})
    (tmp_path / "classmate.ipynb").write_text(json.dumps(classmate))
    attack = ("def lstm_cell_backward(da_next, dc_next, cache):\n"
              "    import json\n"
              f"    text = open({str(tmp_path / 'classmate.ipynb')!r}).read()\n"
              "    for cell in json.loads(text)['cells']:\n"
              "        if cell['metadata'].get('nbgrader', {}).get('grade_id') == 'lstm_cell_backward':\n"
              "            scope = {'np': __import__('numpy')}\n"
              "            exec(''.join(cell['source']), scope)\n"
              "            raise ValueError(text[-300:])  # and show the content in the grader's output\n"
              "    raise ValueError(text[-300:])\n")
    path = write(with_cell_source(solution_notebook(ID), "lstm_cell_backward", attack), tmp_path, ID)
    out = tmp_path / "results" / "results.json"
    out.parent.mkdir()
    code, printed = _cli(["grade", str(path), "--json", str(out), "--strict"])
    assert code == 0
    assert secret not in printed and secret not in out.read_text()
    results = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    assert results["lstm_cell_backward"]["score"] == 0 and "Permission denied" in results["lstm_cell_backward"]["output"]
    assert all(t["score"] == t["max_score"] for n, t in results.items() if n != "lstm_cell_backward")


def _cli(argv: list[str]) -> tuple[int, str]:
    """Run the command line in this process; (exit code, everything printed)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.skipif(sandbox.status().landlock_abi < 6, reason="signal scoping needs Landlock ABI 6")
def test_signalling_the_grader(tmp_path, monkeypatch):
    """Landlock's signal scope: the child cannot signal the grader (same uid) or its supervisor. (A PID
    namespace would hide both from it: it is turned off here; tests/test_sandbox_job.py tests it.)"""
    level = sandbox.status()
    bare = dataclasses.replace(level, job=dataclasses.replace(level.job, pid_namespace=False, user_namespace=False))
    monkeypatch.setattr(sandbox, "status", lambda: bare)
    hits: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: hits.append(signum))
    try:
        attack = ("def rnn_backward(da, caches):\n"
                  "    import os, signal\n"
                  f"    os.kill({os.getpid()}, signal.SIGUSR1)\n"
                  "    os.kill(os.getppid(), signal.SIGUSR1)\n"
                  "    raise RuntimeError('signals sent')\n")
        assert_stopped(graded_with(tmp_path, "rnn_backward", attack)["rnn_backward"], "Operation not permitted")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert hits == []


def test_an_error_message_cannot_forge_rows_of_the_table(tmp_path):
    """Text from student code is shown on one line, without terminal escapes or bidi controls."""
    attack = ("def rnn_backward(da, caches):\n"
              "    raise ValueError('\\n\\x1b[2K\\rtotal                  100    100\\n\\u202eok')\n")
    path = write(with_cell_source(solution_notebook(ID), "rnn_backward", attack), tmp_path, ID)
    code, printed = _cli(["grade", str(path)])
    assert code == 0 and "\x1b" not in printed and "\u202e" not in printed
    totals = [line for line in printed.splitlines() if line.startswith("total")]
    assert totals == ["total                   85    100"], printed


# The fork server (autograder.forkserver) forks every child from one long-lived process, so a child
# starts with whatever that process holds. These attacks look there for what they must not find.

def test_reaching_the_fork_server_through_an_inherited_descriptor(tmp_path):
    """Every descriptor but stdin, stdout and stderr is closed before student code runs: no pipe to the
    server (to forge an answer for another job), no Landlock ruleset, no supervisor's file."""
    attack = (honest("rnn_cell_forward") +
              "\n\ndef rnn_cell_forward(xt, a_prev, parameters):\n"
              "    import os\n"
              "    inherited = []\n"
              "    for fd in range(3, 4096):\n"
              "        try:\n"
              "            os.fstat(fd)\n"
              "        except OSError:\n"
              "            continue\n"
              "        inherited.append(fd)\n"
              "    if inherited:\n"
              "        return _honest(xt, a_prev, parameters)\n"
              "    raise LookupError(f'inherited descriptors: {inherited}')\n")
    assert_stopped(graded_with(tmp_path, "rnn_cell_forward", attack)["rnn_cell_forward"],
                   "inherited descriptors: []")


def test_finding_an_earlier_submissions_code_in_the_fork_server(tmp_path):
    """The server never reads a submission (each child reads its own, once confined), so a child finds no
    trace of the submissions graded before it by the same server."""
    marker = "EARLIER-SUBMISSION-5e1d2b"
    earlier = honest("rnn_forward").replace("def _honest(", "def rnn_forward(", 1) + f"\n\nMARK = {marker!r}\n"
    (tmp_path / "earlier").mkdir()
    assert grade(write(with_cell_source(solution_notebook(ID), "rnn_forward", earlier), tmp_path / "earlier", ID)
                 ).score == 100
    attack = (honest("rnn_forward") +
              "\n\ndef rnn_forward(x, a0, parameters):\n"
              "    import gc, linecache, sys\n"
              f"    marker = ''.join([{marker[:8]!r}, {marker[8:]!r}])  # never whole in this code, even folded\n"
              "    places = [str(o) for o in gc.get_objects() if isinstance(o, (str, dict, list, tuple))]\n"
              "    places += [''.join(e[2]) for e in list(linecache.cache.values()) if len(e) > 2]\n"
              "    places += [str(vars(m)) for m in list(sys.modules.values()) if hasattr(m, '__dict__')]\n"
              "    if any(marker in p for p in places):\n"
              "        return _honest(x, a0, parameters)\n"
              "    raise LookupError('no earlier submission in memory')\n")
    assert_stopped(graded_with(tmp_path, "rnn_forward", attack)["rnn_forward"], "no earlier submission in memory")


def test_reading_the_graders_environment(tmp_path, monkeypatch):
    """The server starts with an environment built from scratch: a token of the grader's never reaches a child."""
    secret = "GRADER-TOKEN-93c0aa"
    monkeypatch.setenv("SEQMODELS_GRADER_TOKEN", secret)
    sandbox.close_servers()  # the next server starts with the token in the grader's environment
    attack = (honest("lstm_forward") +
              "\n\ndef lstm_forward(x, a0, parameters):\n"
              "    import os, sys\n"
              f"    token = ''.join([{secret[:6]!r}, {secret[6:]!r}])\n"
              "    if any(token in v for v in list(os.environ.values()) + sys.argv):\n"
              "        return _honest(x, a0, parameters)\n"
              "    raise LookupError('no token in the environment')\n")
    assert_stopped(graded_with(tmp_path, "lstm_forward", attack)["lstm_forward"], "no token in the environment")
