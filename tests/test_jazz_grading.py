"""The autograder on the Jazz assignment (torch): solution, stub, one-bug mutants, hostile submissions."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from autograder.assignments import get_assignment
from autograder.assignments.jazz_improvisation import lstm_weights, load_by_shape, parameter_count
from autograder.grade import grade
from tests.grading_helpers import by_name, scores, solution_notebook, with_cell_edit, with_cell_source, write

ID = "jazz_improvisation"
LIMIT = get_assignment(ID).seconds_per_function
GRADED = {f.name for f in get_assignment(ID).functions}


def edited(edits: list[tuple[str, str, str]]) -> dict:
    nb = solution_notebook(ID)
    for grade_id, old, new in edits:
        nb = with_cell_edit(nb, grade_id, old, new)
    return nb


# ---------------------------------------------------------------- the weights are placed by shape

class Reordered(torch.nn.Module):
    """The dense layer created before the cell, under other names: parameters() comes in another order."""

    def __init__(self, n_values: int, n_a: int):
        super().__init__()
        self.out = torch.nn.Linear(n_a, n_values)
        self.lstm = torch.nn.LSTMCell(n_values, n_a)


def test_weights_are_matched_by_shape_whatever_the_names_and_order():
    weights = lstm_weights(np.random.default_rng(0))
    model = Reordered(11, 6)
    assert load_by_shape(model, weights)
    assert np.array_equal(model.lstm.weight_ih.detach().numpy(), weights[0])
    assert np.array_equal(model.out.weight.detach().numpy(), weights[4])
    assert sum(p.numel() for p in model.parameters()) == parameter_count(11, 6)
    assert not load_by_shape(torch.nn.Linear(6, 11), weights)


# ---------------------------------------------------------------- one-bug mutants

INIT = "        self.cell = nn.LSTMCell(n_values, n_a)\n        self.densor = nn.Linear(n_a, n_values)\n"
CELL_CALL = "a_t, c_t = self.cell(x_t, (a_prev, c_prev))"
STEP_RETURN = "return self.densor(a_t), a_t, c_t"
FORWARD_STEP = "            logits_t, a, c = self.step(X[:, t, :], a, c)\n"
STACK = "return torch.stack(logits, dim=1)"
FEEDBACK = "x = F.one_hot(index, model.n_values).to(logits_t.dtype)"
DRAW = "torch.multinomial(probabilities, num_samples=1, generator=generator)"
INFERENCE_CALL = "music_inference(model, x_initializer, a_initializer, c_initializer, T_y, generator)"
ONE_HOT = "results = F.one_hot(indices, model.n_values).float()"

MUTANTS = [
    # JazzLSTM
    ("JazzLSTM", [(INIT, "        pass\n"),
                  (CELL_CALL, "a_t, c_t = nn.LSTMCell(self.n_values, self.n_a)(x_t, (a_prev, c_prev))"),
                  (STEP_RETURN, "return nn.Linear(self.n_a, self.n_values)(a_t), a_t, c_t")],
     "has no parameters once created"),
    ("JazzLSTM", [(STEP_RETURN, "return nn.Linear(self.n_a, self.n_values)(a_t), a_t, c_t")],
     "forward gives other logits when called twice"),
    ("JazzLSTM", [(INIT, INIT.replace("(n_values, n_a)", "(N_VALUES, N_A)")
                             .replace("(n_a, n_values)", "(N_A, N_VALUES)"))],
     "not from the constants N_VALUES and N_A"),
    ("JazzLSTM", [(CELL_CALL, "a_t, c_t = self.cell(x_t, (c_prev, a_prev))")], "given to the cell as (c_prev, a_prev)"),
    ("JazzLSTM", [(STEP_RETURN, "return self.densor(a_t), c_t, a_t")], "step returns (logits_t, c_t, a_t)"),
    ("JazzLSTM", [(STEP_RETURN, "return self.densor(c_t), a_t, c_t")], "dense layer is applied to the memory cell"),
    ("JazzLSTM", [(STACK, "return torch.softmax(torch.stack(logits, dim=1), dim=-1)")],
     "forward returns the softmax of the logits"),
    ("JazzLSTM", [(STEP_RETURN, "return F.log_softmax(self.densor(a_t), dim=-1), a_t, c_t")],
     "step returns the log-softmax of the logits"),
    ("JazzLSTM", [("        for t in range(X.shape[1]):\n" + FORWARD_STEP,
                   "        x = X[:, 0, :]\n        for t in range(X.shape[1]):\n"
                   "            logits_t, a, c = self.step(x, a, c)\n"
                   "            x = F.one_hot(logits_t.argmax(-1), self.n_values).float()\n")],
     "forward feeds back its own most likely token"),
    ("JazzLSTM", [(FORWARD_STEP, "            logits_t, a, c = self.step(X[:, t, :], a0, c0)\n")],
     "forward starts every step from (a0, c0)"),
    ("JazzLSTM", [("a, c = a0, c0", "a, c = torch.zeros_like(a0), c0")], "forward ignores the initial hidden state a0"),
    ("JazzLSTM", [(STACK, "return torch.stack(logits, dim=0)")], "stack the steps on axis 1"),
    ("JazzLSTM", [(STACK, "return logits")], "forward returned a list of 5 items; expected one tensor"),
    # music_inference
    ("music_inference", [(FEEDBACK, "x = x0")], "never feeds its choice back"),
    ("music_inference", [(FEEDBACK, "x = probabilities if generator is not None else torch.softmax(logits_t, -1)")],
     "feeds back the probabilities"),
    ("music_inference", [(FEEDBACK, "x = F.one_hot(logits_t.argmax(-1), model.n_values).float()")],
     "feeds back the most likely token, not the one it drew"),
    ("music_inference", [("if generator is None:", "if True:")], "takes the argmax even when a generator is given"),
    ("music_inference", [("if generator is None:", "if False:")], "samples even when generator is None"),
    ("music_inference", [(DRAW, "torch.multinomial(probabilities, num_samples=1)")], "torch's global random generator"),
    ("music_inference", [(DRAW, "torch.multinomial(probabilities, num_samples=1, generator=torch.Generator())")],
     "a new torch.Generator() at every step"),
    ("music_inference", [("logits_t, a, c = model.step(x, a, c)", "logits_t, a, c = model.step(x, a0, c0)")],
     "starts every step from (a0, c0)"),
    ("music_inference", [("for _ in range(T_y):", "for _ in range(T_y + 1):")], "one step per generated token"),
    ("music_inference", [("torch.stack(indices, dim=1)", "torch.stack(indices, dim=0)")], "(it looks transposed)"),
    # predict_and_sample
    ("predict_and_sample", [(f"_, indices = {INFERENCE_CALL}",
                             f"logits, _ = {INFERENCE_CALL}\n    indices = logits.argmax(-1)")],
     "returns the argmax of music_inference's logits"),
    ("predict_and_sample", [(ONE_HOT, "results = F.one_hot(indices).float()")], "without num_classes"),
    ("predict_and_sample", [(ONE_HOT, "results = F.one_hot(indices, model.n_values)")],
     "results has dtype int64; expected float32"),
    ("predict_and_sample", [(ONE_HOT, "results = F.one_hot(indices, model.n_values).float().transpose(0, 1)")],
     "results has shape (5, 4, 11); expected (4, 5, 11)"),
    ("predict_and_sample", [("T_y, generator)", "T_y, torch.Generator())")], "a new torch.Generator() of its own"),
    ("predict_and_sample", [("T_y, generator)", "T_y)")], "does not pass generator on"),
    ("predict_and_sample", [("T_y, generator)", "T_y, torch.Generator().manual_seed(int(torch.randint(10**6, ()))))")],
     "two runs with generators seeded alike gave different tokens"),
    ("predict_and_sample", [("with torch.no_grad():", "if True:")], "with gradients on"),
]


@pytest.mark.parametrize("function,edits,message", MUTANTS, ids=[f"{m[0]}:{m[2][:32]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, edits, message):
    nb = edited([(function, old, new) for old, new in edits])
    (result,) = grade(write(nb, tmp_path, ID), only={function}).results
    assert result.score == 0, f"the mutant kept its points: {result.messages}"
    assert any(message in m for m in result.messages), result.messages


def test_a_broken_model_does_not_cost_the_functions_that_use_it(tmp_path):
    """music_inference and predict_and_sample are graded with the solution's JazzLSTM."""
    nb = edited([("JazzLSTM", STEP_RETURN, "return self.densor(c_t), a_t, c_t")])
    assert scores(grade(write(nb, tmp_path, ID))) == {
        "JazzLSTM": (0, 20), "music_inference": (20, 20), "predict_and_sample": (10, 10)}


def test_in_notebook_check_names_the_mistake_and_leaves_the_torch_seed_alone():
    from autograder import notebook, runtime
    from autograder.feedback import check

    def loaded(nb: dict) -> dict:
        namespace, problems = runtime.build_namespace(notebook.definitions(nb, GRADED), "student")
        assert not problems
        return namespace

    torch.manual_seed(5)
    state = torch.get_rng_state()
    broken = loaded(edited([("JazzLSTM", STEP_RETURN, "return self.densor(a_t), c_t, a_t")]))
    with pytest.raises(AssertionError, match=r"step returns \(logits_t, c_t, a_t\)"):
        check(ID, broken["JazzLSTM"])
    solution = loaded(solution_notebook(ID))
    for name in GRADED:
        check(ID, solution[name])
    assert torch.equal(torch.get_rng_state(), state)


# ---------------------------------------------------------------- hostile submissions

HANG = INIT + "\n".join([
    "", "    def step(self, x_t, a_prev, c_prev):", "        while True:", "            pass", "",
    "    def forward(self, X, a0, c0):", "        while True:", "            pass", ""])
JAZZ_HEAD = "class JazzLSTM(nn.Module):\n    def __init__(self, n_values, n_a):\n        super().__init__()\n" \
            "        self.n_values, self.n_a = n_values, n_a\n"

HOSTILE = {
    "hang": ("JazzLSTM", JAZZ_HEAD + HANG),
    # Fake results printed around a value that claims to equal anything.
    "fake_prints_always_equal": ("predict_and_sample", (
        "class Always:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n\n"
        "def predict_and_sample(model, x_initializer, a_initializer, c_initializer, T_y=200, generator=None):\n"
        "    print('predict_and_sample: 10/10 points, all checks passed')\n"
        "    print('{\"score\": 50, \"max_score\": 50}')\n"
        "    return Always(), Always()\n")),
    "exit": ("music_inference", (
        "def music_inference(model, x0, a0, c0, T_y, generator=None):\n    import os\n    os._exit(0)\n")),
    # Monkeypatching torch, numpy and the grader's verdict, then returning junk of the right shape.
    "monkeypatch": ("JazzLSTM", JAZZ_HEAD + (
        "        import numpy, torch, autograder.verdict\n"
        "        torch.equal = torch.allclose = lambda *a, **k: True\n"
        "        torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)\n"
        "        numpy.allclose = numpy.array_equal = lambda *a, **k: True\n"
        "        autograder.verdict.judge = lambda *a, **k: []\n"
        "        self.cell = nn.LSTMCell(n_values, n_a)\n        self.densor = nn.Linear(n_a, n_values)\n\n"
        "    def step(self, x_t, a_prev, c_prev):\n"
        "        return torch.zeros(len(x_t), self.n_values), a_prev, c_prev\n\n"
        "    def forward(self, X, a0, c0):\n"
        "        return torch.zeros(X.shape[0], X.shape[1], self.n_values)\n")),
    # A tensor subclass whose comparisons always succeed, holding zeros.
    "agreeable_tensor": ("music_inference", (
        "class Agreeable(torch.Tensor):\n    def __eq__(self, other):\n        return True\n\n"
        "def music_inference(model, x0, a0, c0, T_y, generator=None):\n"
        "    logits = torch.zeros(len(x0), T_y, model.n_values).as_subclass(Agreeable)\n"
        "    return logits, torch.zeros(len(x0), T_y, dtype=torch.int64).as_subclass(Agreeable)\n")),
    "sys_exit": ("predict_and_sample", (
        "def predict_and_sample(model, x_initializer, a_initializer, c_initializer, T_y=200, generator=None):\n"
        "    import sys\n    print('all checks passed')\n    sys.exit(0)\n")),
}



@pytest.mark.parametrize("cases,expected", [
    (["hang", "fake_prints_always_equal"],
     {"hang": "did not finish within", "fake_prints_always_equal": "returned a tuple of 2 items (Always, Always)"}),
    (["exit", "monkeypatch"], {"exit": "exited its process", "monkeypatch": "wrong values"}),
    (["agreeable_tensor", "sys_exit"], {"agreeable_tensor": "wrong values", "sys_exit": "SystemExit"}),
], ids=["hang+fake_prints", "exit+monkeypatch", "agreeable_tensor+sys_exit"])
def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path, cases, expected):
    nb = solution_notebook(ID)
    for case in cases:
        function, source = HOSTILE[case]
        nb = with_cell_source(nb, function, source)
    start = time.monotonic()
    results = by_name(grade(write(nb, tmp_path, ID)))
    assert time.monotonic() - start < 3 * LIMIT
    hostile = {HOSTILE[case][0]: case for case in cases}
    for name, result in results.items():
        if name in hostile:
            assert result.score == 0, (name, result.messages)
            assert any(expected[hostile[name]] in m for m in result.messages), result.messages
        else:
            assert result.score == result.max_score > 0, (name, result.messages)
