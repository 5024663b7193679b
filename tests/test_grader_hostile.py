"""Hostile submissions: the grader finishes, scores fairly, and grades every other function."""

from __future__ import annotations

import os
import time

import pytest

from autograder.assignments import get_assignment
from autograder.grade import grade
from tests.grading_helpers import by_name, cell_of, solution_notebook, with_cell_source, write

ID = "rnn_step_by_step"
LIMIT = get_assignment(ID).seconds_per_function
BACKGROUND = f"bg-{os.getpid() % 10**6}".encode()  # the name the background process gives itself


def replace_function(nb: dict, name: str, body: str) -> dict:
    """Replace a solution cell by a hostile definition of the same function."""
    return with_cell_source(nb, name, body)


HOSTILE_A = {
    # An infinite loop.
    "rnn_cell_forward": "def rnn_cell_forward(xt, a_prev, parameters):\n    while True:\n        pass\n",
    # Memory without bound.
    "lstm_cell_forward": ("def lstm_cell_forward(xt, a_prev, c_prev, parameters):\n    hog = []\n"
                          "    while True:\n        hog.append(np.ones(10**7))\n"),
    # Printed fake results around wrong values.
    "rnn_cell_backward": ("def rnn_cell_backward(da_next, cache):\n"
                          "    print('rnn_cell_backward: 10/10 points, all checks passed')\n"
                          "    print('{\"score\": 100, \"max_score\": 100}')\n"
                          "    a_next, a_prev, xt, p = cache\n"
                          "    return {'dxt': 0 * xt, 'da_prev': 0 * a_prev, 'dWax': 0 * p['Wax'],"
                          " 'dWaa': 0 * p['Waa'], 'dba': 0 * p['ba']}\n"),
    # An ndarray subclass that claims to equal anything.
    "lstm_cell_backward": ("class Agreeable(np.ndarray):\n"
                           "    def __eq__(self, other):\n        return True\n"
                           "    def __array_finalize__(self, obj):\n        pass\n\n"
                           "def lstm_cell_backward(da_next, dc_next, cache):\n"
                           "    keys = ['dxt', 'da_prev', 'dc_prev', 'dWf', 'dWi', 'dWc', 'dWo', 'dbf', 'dbi', 'dbc', 'dbo']\n"
                           "    return {k: np.zeros((5, 7)).view(Agreeable) for k in keys}\n"),
}


def hostile_b() -> dict:
    return {
        # Monkeypatching numpy's comparisons and the grader's own verdict function, then returning junk.
        "rnn_forward": ("def rnn_forward(x, a0, parameters):\n"
                        "    import numpy, autograder.verdict\n"
                        "    numpy.allclose = lambda *a, **k: True\n"
                        "    numpy.array_equal = lambda *a, **k: True\n"
                        "    numpy.testing.assert_allclose = lambda *a, **k: None\n"
                        "    autograder.verdict.judge = lambda *a, **k: []\n"
                        "    return numpy.zeros(1), numpy.zeros(1), ([], x)\n"),
        # Killing its own process from inside the function.
        "lstm_forward": "def lstm_forward(x, a0, parameters):\n    import os\n    os._exit(0)\n",
        # Objects whose __eq__ is always True.
        "rnn_backward": ("class Always:\n    def __eq__(self, other):\n        return True\n"
                         "    __hash__ = object.__hash__\n\n"
                         "def rnn_backward(da, caches):\n"
                         "    return {k: Always() for k in ('dx', 'da0', 'dWax', 'dWaa', 'dba')}\n"),
        # A process left running in the background, in a session of its own. Its pid inside the job's
        # PID namespace means nothing outside, so the test finds it by the name it gives itself.
        "lstm_backward": ("def lstm_backward(da, caches):\n    import ctypes, os, time\n"
                          "    pid = os.fork()\n"
                          f"    if pid == 0:\n        ctypes.CDLL(None).prctl(15, {BACKGROUND!r}, 0, 0, 0)\n"
                          "        os.setsid()\n        time.sleep(300)\n        os._exit(0)\n"
                          "    raise RuntimeError('a background process started')\n"),
    }


def build(tmp_path, hostile: dict, exit_at_import: bool):
    nb = solution_notebook(ID)
    for name, source in hostile.items():
        nb = replace_function(nb, name, source)
    if exit_at_import:
        # sys.exit(0) typed at the top level of a solution cell (not inside a function).
        cell = cell_of(nb, "rnn_forward")
        cell["source"] = "import sys\nsys.exit(0)\n" + "".join(cell["source"])
    return write(nb, tmp_path, ID)



def test_hang_memory_fake_prints_and_agreeable_arrays(tmp_path):
    path = build(tmp_path, HOSTILE_A, exit_at_import=True)
    start = time.monotonic()
    results = by_name(grade(path))
    elapsed = time.monotonic() - start
    assert elapsed < 3 * LIMIT, f"grading took {elapsed:.0f} s"
    for name in HOSTILE_A:
        assert results[name].score == 0, (name, results[name].messages)
    assert "did not finish within" in results["rnn_cell_forward"].messages[0]
    assert "ran out of memory" in results["lstm_cell_forward"].messages[0]
    assert any("wrong values" in m or "right shape" in m for m in results["rnn_cell_backward"].messages)
    assert any("shape" in m for m in results["lstm_cell_backward"].messages)
    # Every other function is still graded, and the top-level sys.exit(0) changed nothing.
    for name in ("rnn_forward", "lstm_forward", "rnn_backward", "lstm_backward"):
        assert results[name].score == results[name].max_score > 0, (name, results[name].messages)


def test_monkeypatching_exit_always_equal_and_background_processes(tmp_path):
    path = build(tmp_path, hostile_b(), exit_at_import=False)
    results = by_name(grade(path))
    for name in ("rnn_forward", "lstm_forward", "rnn_backward", "lstm_backward"):
        assert results[name].score == 0, (name, results[name].messages)
    assert "exited its process" in results["lstm_forward"].messages[0]
    assert any("Always object" in m for m in results["rnn_backward"].messages)
    for name in ("rnn_cell_forward", "lstm_cell_forward", "rnn_cell_backward", "lstm_cell_backward"):
        assert results[name].score == results[name].max_score > 0, (name, results[name].messages)
    assert any("a background process started" in m for m in results["lstm_backward"].messages)
    assert not _alive_named(BACKGROUND.decode()), "a background process outlived grading"


def _alive_named(name: str) -> list[int]:
    """The pids of the live processes (not zombies) called ``name``."""
    found = []
    for entry in os.listdir("/proc") if os.path.exists("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:  # not a process, or one that has just ended
            continue
        comm, rest = stat.split(" (", 1)[1].rsplit(")", 1)
        if comm == name and rest.split()[0] != "Z":
            found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.exists("/proc"), reason="needs /proc to find the process")
def test_background_check_sees_a_live_process():
    """The liveness probe used above finds a running process by its name, and no process by a name unused."""
    with open(f"/proc/{os.getpid()}/comm") as f:
        assert os.getpid() in _alive_named(f.read().strip())
    assert not _alive_named("no-such-process")
