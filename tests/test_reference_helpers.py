"""The reference helpers of a graded function live in a process of their own (autograder.remote).

Two kinds of test. Attacks through the grader: a submission graded with reference helpers (rnn_forward calls the
reference rnn_cell_forward) looks for the helpers' code in its process, traces the helper process, or pours
its findings into error messages; none of it reaches the results. And the link itself, tested against the same
reference code run in one process (the oracle): results, arguments changed in place, generators, torch's global
random state and grad mode come out the same, and the helper answers nothing but calls and plain attributes.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch

from autograder import grade as grading, remote, sandbox
from tests.grading_helpers import by_name, cell_of, solution_notebook, with_cell_source, write

ID = "rnn_step_by_step"
FULL = sandbox.status().full


def reference_lines(name: str) -> list[str]:
    """The lines of ``name``'s solution (inside BEGIN/END SOLUTION), long enough to be telling."""
    source = "".join(cell_of(solution_notebook(ID), name)["source"])
    inside = source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
    return [line.strip() for line in inside.splitlines() if len(line.strip()) > 12]


def graded(tmp_path, sources: dict[str, str]) -> dict:
    nb = solution_notebook(ID)
    for name, source in sources.items():
        nb = with_cell_source(nb, name, source)
    return by_name(grading.grade(write(nb, tmp_path, ID)))


@pytest.mark.skipif(not FULL, reason="needs the full sandbox")
def test_the_helpers_code_is_nowhere_in_the_learners_process(tmp_path):
    """The attack that scored 50 on main: find the reference rnn_cell_forward's code and echo it in errors.
    It looks in linecache, in every function object and code object, in the files of its folder, and through
    the helper's proxy; it finds nothing, and no line of the reference reaches any message."""
    attack = textwrap.dedent('''
        def rnn_forward(x, a0, parameters):
            import gc, linecache, os, types
            found = []
            for name, entry in list(linecache.cache.items()):
                if "reference" in str(name):
                    found.append("".join(entry[2]))
            for obj in gc.get_objects():
                code = getattr(obj, "__code__", obj)
                if isinstance(code, types.CodeType) and "reference" in code.co_filename:
                    found.append(repr(code.co_code) + repr(code.co_consts))
            for name in os.listdir("."):
                if name.startswith("helpers"):
                    found.append(open(name).read())
            for attribute in ("__code__", "__globals__", "__wrapped__", "__dict__", "gi_frame", "f_code", "co_code"):
                try:
                    found.append(repr(getattr(rnn_cell_forward, attribute)))
                except Exception:
                    pass
            if found:
                raise ValueError(" ".join(found)[:5000])
            raise LookupError("no reference code in this process")
    ''')
    results = graded(tmp_path, {"rnn_forward": attack})
    assert results["rnn_forward"].score == 0
    assert any("LookupError" in m for m in results["rnn_forward"].messages), results["rnn_forward"].messages
    text = "\n".join(m for r in results.values() for m in r.messages)
    assert not [line for line in reference_lines("rnn_cell_forward") if line in text]
    for name, result in results.items():
        if name != "rnn_forward":
            assert result.score == result.max_score, (name, result.messages)


@pytest.mark.skipif(not FULL, reason="needs the full sandbox")
def test_the_helper_process_cannot_be_traced(tmp_path):
    """The helper is not dumpable: neither ptrace nor process_vm_readv reaches its memory, root or not."""
    attack = textwrap.dedent('''
        def rnn_forward(x, a0, parameters):
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            PTRACE_ATTACH, PTRACE_DETACH, SYS_PROCESS_VM_READV = 16, 17, 310
            buffer = ctypes.create_string_buffer(4096)
            local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 4096)
            remote = (ctypes.c_void_p * 2)(id(parameters), 4096)  # the same address space, forked
            me = os.getpid()
            for pid in [p for p in range(max(me - 5, 2), me + 60) if p != me]:
                if libc.ptrace(PTRACE_ATTACH, pid, 0, 0) == 0:
                    libc.ptrace(PTRACE_DETACH, pid, 0, 0)
                    raise RuntimeError(f"traced process {pid}")
                if libc.syscall(SYS_PROCESS_VM_READV, pid, local, 1, remote, 1, 0) > 0:
                    raise RuntimeError(f"read the memory of process {pid}")
            raise LookupError("no process could be traced")
    ''')
    results = graded(tmp_path, {"rnn_forward": attack})
    assert any("LookupError" in m for m in results["rnn_forward"].messages), results["rnn_forward"].messages


def test_feedback_quotes_little_of_what_the_learners_code_says(tmp_path):
    """Error messages and load notes are no bulk channel: a notebook whose every function raises 5 kB (a different
    text on each call) and whose loading raises 5 kB gets back at most ERROR_CHARS_PER_NOTEBOOK characters of
    them; each function still shows its exception's type and the learner's own failing line."""
    nb = solution_notebook(ID)
    names = [f.name for f in __import__("autograder.assignments", fromlist=["get_assignment"]).get_assignment(ID).functions]
    loud = "def _loud(f):\n    raise ValueError('Q' * 5000)\n"
    for name in names:
        source = "".join(cell_of(nb, name)["source"])
        signature = source[source.index(f"def {name}("):].split("\n", 1)[0]
        body = "    raise ValueError(str(id(object())) + 'Q' * 5000)\n"  # a different text on every call
        nb = with_cell_source(nb, name, (loud if name == names[0] else "") + "@_loud\ndef _x(): pass\n"
                              + signature + "\n" + body)
    results = grading.grade(write(nb, tmp_path, ID)).results
    quoted = sum(m.count("Q") for r in results for m in r.messages)
    assert 0 < quoted <= grading.ERROR_CHARS_PER_NOTEBOOK
    for result in results:
        assert result.score == 0
        assert "raised ValueError" in result.messages[0] and "`raise ValueError(" in result.messages[0], result.messages


def test_message_totals_are_bounded_per_function_and_per_notebook():
    many = [grading.FunctionResult(f"f{i}", 0, 10, ["x" * 450] * 5) for i in range(8)]
    kept = grading.bounded(many)
    sizes = [sum(len(m) for m in r.messages[:-1]) for r in kept]
    assert all(size <= grading.MESSAGE_CHARS_PER_FUNCTION for size in sizes)
    assert sum(sizes) <= grading.MESSAGE_CHARS_PER_NOTEBOOK
    assert "a notebook" in kept[-1].messages[-1] and "a function" in kept[0].messages[-1]
    assert all(r.messages for r in kept)  # a wrong function keeps a message, if only the notice


# ---------------------------------------------------------------------- the link, against one process

REFERENCE = '''
import numpy as np
import torch

def update(parameters, learning_rate, rng):
    """Changes its arguments in place and draws from a Generator and torch's global one, as optimize, sample
    and a model's initialisation do."""
    for key in parameters:
        parameters[key] -= learning_rate * rng.standard_normal(parameters[key].shape)
    parameters["steps"] = parameters.get("steps", 0) + 1
    return float(sum(np.sum(v) for v in parameters.values())), torch.rand(2)

def grad_on(x):
    return torch.is_grad_enabled(), x * 2

def averaged(words, table):
    """Calls back into the caller's objects: `in`, indexing and attributes."""
    known = [table[w] for w in words if w in table]
    return np.mean(known, axis=0), table.size

class Model:
    def __init__(self, n):
        self.n = n
        self.layers = [torch.nn.Linear(1, 1)]  # an attribute that is neither plain data nor a reference method

    def step(self, x):
        return x + self.n

    def generate(self, T, generator):
        return [int(self.step(torch.multinomial(torch.ones(5), 1, generator=generator))[0]) for _ in range(T)]

def counting():
    yield 1

def cached(a_prev, c_prev):
    """Returns its arguments as they are, as lstm_cell_forward's cache does."""
    return (a_prev, c_prev), a_prev * 2
'''


class Table:
    """A caller's object that the helper can only reach through callbacks."""

    def __init__(self):
        self.vectors = {"a": np.ones(3), "b": np.arange(3.0)}
        self.size = 2

    def __contains__(self, word):
        return word in self.vectors

    def __getitem__(self, word):
        return self.vectors[word]


@pytest.fixture()
def helper(tmp_path):
    def build(statements):
        namespace: dict = {}
        exec(compile(statements[0]["source"], "<reference cell x #0>", "exec"), namespace)
        return namespace, []

    code = tmp_path / "helpers.json"
    code.write_text(json.dumps([{"source": REFERENCE, "cell": "x"}]))
    names = ("update", "grad_on", "averaged", "Model", "counting", "cached")
    proxies, problems = remote.start_helpers(code, names, build)
    assert not problems and not code.exists()  # read and deleted by the helper alone
    local: dict = {}
    exec(compile(REFERENCE, "<reference cell x #0>", "exec"), local)
    return proxies, local


def test_calls_match_one_process(helper):
    proxies, local = helper
    outcomes = []
    for namespace in (proxies, local):
        torch.manual_seed(5)
        parameters = {"W": np.ones((2, 3)), "b": np.zeros(2)}
        W, rng = parameters["W"], np.random.default_rng(1)
        total, torch_draw = namespace["update"](parameters, 0.5, rng)
        outcomes.append((total, torch_draw.numpy(), W.copy(), parameters["b"].copy(), parameters["steps"],
                         rng.random(), float(torch.rand(1)), parameters["W"] is W))
        with torch.no_grad():
            outcomes.append(namespace["grad_on"](torch.ones(1))[0])
        outcomes.append(namespace["grad_on"](torch.ones(1))[0])
        average, size = namespace["averaged"](["a", "c", "b"], Table())
        outcomes.append((average, size))
        a_prev, c_prev = np.ones(2), torch.zeros(2)
        (a_back, c_back), doubled = namespace["cached"](a_prev, c_prev)
        outcomes.append((a_back is a_prev, c_back is c_prev, doubled is a_prev))
        model = namespace["Model"](3)
        outcomes.append((model.n, model.step(torch.zeros(1)).numpy(), model.generate(4, torch.Generator().manual_seed(2))))
    half = len(outcomes) // 2
    for remote_outcome, local_outcome in zip(outcomes[:half], outcomes[half:]):
        np.testing.assert_equal(remote_outcome, local_outcome)


def test_the_helper_answers_calls_and_plain_attributes_only(helper):
    proxies, _ = helper
    model = proxies["Model"](1)
    assert type(model) is remote.Proxy and model.__class__ is remote.Proxy
    for name in ("__dict__", "layers", "_private"):
        with pytest.raises(AttributeError):
            getattr(model, name)
    with pytest.raises(AttributeError):
        proxies["update"].__code__
    generator = proxies["counting"]()
    for name in ("gi_frame", "gi_code"):
        with pytest.raises(AttributeError):
            getattr(generator, name)
    with pytest.raises(TypeError):
        next(generator)  # no protocol but calls on the reference's objects
    with pytest.raises(PermissionError):
        model._link.request("apply", None, "builtins.exec", ("import os",), {})
    with pytest.raises(AttributeError):
        model._link.request("setattr", model._id, "__class__", (int,), {})
    assert model.step(torch.zeros(1)).tolist() == [1.0]


@pytest.mark.skipif(not FULL, reason="needs the full sandbox")
def test_a_function_that_breaks_its_link_to_the_helper_loses_only_its_own_points(tmp_path):
    """A request for a handle the helper never gave out, a message nested too deep for it to parse, garbage on
    the socketpair: each is the graded function's own error (the helper closes the link), and grading goes on."""
    attack = textwrap.dedent('''
        def rnn_forward(x, a0, parameters):
            from autograder.remote import _HEADER as remote_header
            link = rnn_cell_forward._link
            problems = []
            try:
                link.request("call", 10**6, None, (), {})  # a handle it was never given
            except Exception as exc:
                problems.append(type(exc).__name__)
            deep = b'{"op": "call", "target": 0, "args": ' + b"[" * 200000 + b"]" * 200000 + b', "kwargs": {}}'
            for garbage in (remote_header.pack(len(deep), 0) + deep, bytes([255]) * 64):
                try:
                    link._sock.sendall(garbage)
                    rnn_cell_forward(x[:, :, 0], a0, parameters)
                except Exception as exc:
                    problems.append(type(exc).__name__)
            raise LookupError(" ".join(problems))
    ''')
    results = graded(tmp_path, {"rnn_forward": attack})
    message = results["rnn_forward"].messages[0]
    assert "raised LookupError: LookupError HelperGone BrokenPipeError " in message, message
    for name, result in results.items():
        if name != "rnn_forward":
            assert result.score == result.max_score, (name, result.messages)
