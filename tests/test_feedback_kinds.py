"""Feedback on realistic wrong solutions: each kind of mistake gets a message that names it.

The cases come from tests/learner_mistakes.py (whole cells written as learners write them).
bench/bench_feedback.py reports how many of all the cases get a named message.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder import notebook, runtime
from autograder.assignments import get_assignment
from autograder.dataflow import flow_of
from autograder.grade import grade
from autograder.variants import kind_of, variants
from autograder.verdict import shared_arrays
from tests.grading_helpers import write
from tests.learner_mistakes import ASSIGNMENT, CASES, notebook_for

BY_ID = {case.id: case for case in CASES}

NAMED = {
    # aliasing: the child records which returned arrays share memory
    "lstm-forward-c0-view-of-c": "caches[0][0][3] shares memory with c",
    "lstm-cell-c-next-in-place": "c_prev in cache[3] shares memory with c_next",
    # wrong input used
    "rnn-cell-y-from-a-prev": "yt_pred is computed with a_prev where it needs a_next",
    "lstm-forward-state-from-outputs": "the call to lstm_cell_forward gets zeros where it needs a_next",
    "lstm-forward-a0-ignored": "a_next is computed with zeros where it needs a0",
    # reductions and operands
    "rnn-cell-backward-mean-bias": "dba is computed with a mean where it needs a sum",
    "rnn-cell-backward-dwaa-from-da-prev": "dWaa is computed with da_prev where it needs a_prev",
    "lstm-cell-backward-bias-axis0": "a sum over axis 0 where it needs axis 1",
    # accumulation
    "rnn-backward-adds-own-total": "dWax, dWaa, dba stay at their initial zeros",
    "rnn-backward-overwrites-gradients": "dWax keeps only one step's term",
    # names from cells the grader does not run
    "rnn-forward-parameters-tmp": "it uses parameters_tmp, which your notebook defines only in cell",
    # the LSTM backward step: the gate whose gradient is wrong first
    "lstm-gate-dit-candidate-derivative": "dΓ_u, the update gate's gradient, is wrong: dWi, dbi come straight from it",
    "lstm-gate-dot-missing-tanh": "dΓ_o, the output gate's gradient, is missing the factor tanh(c⟨t⟩)",
}


def graded(case, tmp_path):
    path = write(notebook_for(case), tmp_path, ASSIGNMENT)
    (result,) = grade(path, only={case.function}).results
    return result


@pytest.mark.parametrize("case_id", sorted(NAMED))
def test_the_mistake_is_named(case_id, tmp_path):
    result = graded(BY_ID[case_id], tmp_path)
    assert result.score == 0
    assert result.messages[0].startswith("likely mistake: ") and NAMED[case_id] in result.messages[0], result.messages


def test_every_kind_of_the_issue_has_a_named_case():
    kinds = {BY_ID[case_id].kind for case_id in NAMED}
    assert kinds >= {"aliasing", "wrong_input", "reduction", "accumulation", "unknown_name", "lstm_gate"}


def _solution_lines() -> set[str]:
    """Every line the learner has to write in the reference (inside solution regions), stripped."""
    lines, inside = set(), False
    for cell in runtime.solution_notebook(ASSIGNMENT)["cells"]:
        for line in "".join(cell.get("source", "")).splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                lines.add(line.strip())
    return lines


def test_every_case_loses_its_points_with_short_messages_and_no_reference_code(tmp_path):
    """Across the corpus: no wrong case keeps a point, at most 3 lines each, no line of the reference shown."""
    secret = _solution_lines()
    for case in CASES:
        result = graded(case, tmp_path)
        assert result.score == 0, (case.id, result.messages)
        assert 1 <= len(result.messages) <= 6 and all(len(m) <= 500 for m in result.messages), (case.id, result.messages)
        named = [m for m in result.messages if m.startswith("likely mistake")]
        assert len(named) <= 2, (case.id, result.messages)
        for line in secret:
            assert not any(line in m for m in result.messages), (case.id, line)


# ---------------------------------------------------------------- the detectors on their own

def test_shared_arrays_finds_views_and_same_arrays_but_not_disjoint_slices():
    c = np.zeros((2, 3, 4))
    value = (c, [c[:, :, 0], c[:, :, 1].copy()], {"again": c})
    pairs = {frozenset(p) for p in shared_arrays(value, ("c", "caches", "extra"))}
    assert frozenset({"c", "caches[0]"}) in pairs and frozenset({"c", "extra['again']"}) in pairs
    assert frozenset({"caches[0]", "caches[1]"}) not in pairs
    assert not shared_arrays((c[:, :, 0], c[:, :, 1]), ("a", "b"))


TOY = '''
def step(x, a_prev, W, b):
    """Returns a_next, y, cache = (a_next, a_prev)."""
    n = x.shape[0]
    ### BEGIN SOLUTION
    z = W @ x + b
    a_next = np.tanh(z) * a_prev
    y = np.sum(a_next, axis=1, keepdims=True)
    ### END SOLUTION
    cache = (a_next, a_prev)
    return a_next, y, cache
'''


def test_dataflow_maps_outputs_and_finds_the_first_wrong_value():
    flow = flow_of(TOY, "step", ("a_next", "y", "cache"))
    assert flow.variable("cache[1]") == "a_prev" and flow.variable("y") == "y"
    assert flow.depends["y"] >= {"a_next", "z", "W", "x", "b", "a_prev"}
    # z wrong: a_next, y and cache[0] are wrong, a_prev (cache[1]) is right
    assert flow.root_cause(["a_next", "y", "cache[0]"], ["cache[1]"]) == ("a_next", ["a_next", "y", "cache[0]"])
    assert flow.root_cause(["y"], ["a_next", "cache[0]", "cache[1]"]) is None  # one output: nothing to order


def test_variants_change_only_the_learners_lines_and_name_things_the_learner_sees():
    rng = np.random.default_rng(0)
    kinds = {k: kind_of(v) for k, v in {"x": rng.random((3, 2)), "a_prev": rng.random((4, 2)),
                                        "W": rng.random((4, 3)), "b": rng.random((4, 1)), "n": 3,
                                        "z": rng.random((4, 2)), "a_next": rng.random((4, 2)),
                                        "y": rng.random((4, 1)), "cache": ()}.items()}
    public = {"x", "a_prev", "W", "b", "a_next", "y", "cache", "n"}
    found = list(variants(TOY, "step", public, kinds, {}))
    messages = [v.message for v in found]
    assert "{output} is computed with x where it needs b" in messages  # z is internal: named by the wrong output
    assert "y is computed with a mean where it needs a sum (np.sum)" in messages
    assert "y is computed with a sum over axis 0 where it needs axis 1" in messages
    assert "a_next is missing the factor a_prev" in messages
    for variant in found:  # the given lines (n = ..., cache = ...) are never changed
        assert "n = x.shape[0]" in variant.source and "cache = (a_next, a_prev)" in variant.source
        assert "### BEGIN SOLUTION" in variant.source and "z" not in re.findall(r"needs (\w+)", variant.message)


def test_names_defined_outside_graded_cells_are_found():
    nb = runtime.solution_notebook(ASSIGNMENT)
    graded_ids = runtime.solution_ids(nb, get_assignment(ASSIGNMENT))
    outside = notebook.names_outside(nb, graded_ids)
    assert "rnn_cell_forward" not in outside  # defined in a graded cell
    assert all(isinstance(n, int) and n >= 1 for n in outside.values())


def test_the_notebook_check_names_the_same_mistake():
    """check() in the learner's kernel gives the grader's named message."""
    from autograder.feedback import check
    from seqmodels.activations import sigmoid, softmax

    case = BY_ID["rnn-cell-backward-dwaa-from-da-prev"]
    kernel = {"np": np, "sigmoid": sigmoid, "softmax": softmax}
    exec(case.source, kernel)  # noqa: S102 - the learner's cell, run as their kernel would
    with pytest.raises(AssertionError, match=NAMED[case.id]):
        check(ASSIGNMENT, kernel[case.function])


def test_no_variants_of_a_function_with_a_while_loop():
    """A changed name in a while loop might never end, and variants run in the grader's own process."""
    source = "def f(x, n):\n    i = 0\n    while i < n:\n        x = x * 2\n        i += 1\n    return x\n"
    assert list(variants(source, "f", {"x", "n", "i"}, {"x": "int", "n": "int", "i": "int"}, {})) == []
    assert list(variants(source.replace("while i < n:", "for i in range(n):"), "f", {"x", "n", "i"},
                         {"x": "int", "n": "int", "i": "int"}, {}))
