"""The autograder on assignment 1: solution, stub, one-bug mutants."""

from __future__ import annotations

import pytest

from autograder.grade import grade
from tests.grading_helpers import assert_mutant_caught, scores, solution_notebook, with_cell_edit, write

ID = "rnn_step_by_step"


MUTANTS = [
    ("rnn_cell_forward", "a_next = np.tanh(", "a_next = sigmoid(", "a_next uses the sigmoid where it needs tanh"),
    ("rnn_cell_forward", "softmax(Wya @ a_next + by)", "softmax(Wya @ a_next + by, axis=1)", "softmax over axis 1"),
    ("rnn_cell_forward", "Wax @ xt + ba)", "Wax @ xt)", "a_next ignores b_a"),
    ("rnn_forward",
     "        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)\n        a[:, :, t] = a_next\n",
     "        a[:, :, t] = a_next\n        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)\n",
     "holds the state before step t"),
    ("lstm_cell_forward", "c_next = ft * c_prev + it * cct", "c_next = ft * cct + it * c_prev", "swaps the gates"),
    ("lstm_cell_forward", "a_next = ot * np.tanh(c_next)", "a_next = ot * c_next", "missing the tanh of c⟨t⟩"),
    ("lstm_cell_forward", "ft = sigmoid(Wf @ concat + bf)", "ft = np.tanh(Wf @ concat + bf)",
     "the forget gate Γ_f (ft) in cache[4] uses tanh where it needs the sigmoid"),
    ("lstm_cell_forward", "ot = sigmoid(Wo @ concat + bo)", "ot = sigmoid(Wo @ concat)", "the output gate Γ_o (ot) in cache[7] ignores b_o"),
    ("rnn_cell_backward", "dz = da_next * (1 - a_next ** 2)", "dz = da_next", "tanh derivative (1 - a_next**2) is missing"),
    ("rnn_cell_backward", "dz = da_next * (1 - a_next ** 2)", "dz = da_next * (1 - a_prev ** 2)", "uses a_prev"),
    ("rnn_cell_backward", "dba = np.sum(dz, axis=1, keepdims=True)", "dba = np.sum(dz, axis=1)", "keepdims=True"),
    ("rnn_backward", "rnn_cell_backward(da[:, :, t] + da_prevt,", "rnn_cell_backward(da[:, :, t],", "not carried back"),
    ("lstm_cell_backward", "dc_prev = dc * ft", "dc_prev = dc", "not multiplied by the forget gate"),
    ("lstm_cell_backward", "dc = dc_next + da_next * ot * (1 - tanh_c ** 2)", "dc = dc_next + da_next * ot",
     "misses the tanh derivative"),
    ("lstm_backward", "lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt,",
     "lstm_cell_backward(da[:, :, t], dc_prevt,", "earlier steps are wrong: check what is carried back"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message)


def test_a_broken_helper_does_not_cost_the_function_that_calls_it(tmp_path):
    """rnn_forward is graded with the reference rnn_cell_forward, so one bug costs once."""
    nb = with_cell_edit(solution_notebook(ID), "rnn_cell_forward", "a_next = np.tanh(", "a_next = sigmoid(")
    report = grade(write(nb, tmp_path, ID), only={"rnn_cell_forward", "rnn_forward"})
    assert scores(report) == {"rnn_cell_forward": (0, 10), "rnn_forward": (10, 10)}


def test_in_notebook_check_grades_a_function_alone_and_restores_the_learners_names():
    """check(rnn_forward) uses the reference cell, as the grader does, then puts the learner's back."""
    from autograder.feedback import check
    from autograder.notebook import definitions
    from autograder.runtime import build_namespace

    nb = with_cell_edit(solution_notebook(ID), "rnn_cell_forward", "a_next = np.tanh(", "a_next = sigmoid(")
    learner, problems = build_namespace(definitions(nb, {"rnn_cell_forward", "rnn_forward"}), "student")
    assert not problems
    own_cell = learner["rnn_cell_forward"]
    check(ID, learner["rnn_forward"])  # passes although the learner's cell is wrong
    assert learner["rnn_cell_forward"] is own_cell
    with pytest.raises(AssertionError, match="sigmoid"):
        check(ID, own_cell)
