"""The autograder on date translation: one-bug mutants of the attention step, the model and both searches,
the exhaustive-search oracle, and hostile submissions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.assignments.date_translation import TableModel
from autograder.grade import grade
from tests.grading_helpers import graded_with_sources, solution_notebook, with_cell_edit, write

ID = "date_translation"

SOFTMAX = "alphas = torch.softmax(energies, dim=1)"
CONCAT = "concat = torch.cat([a, s_prev[:, None, :].expand(-1, T_x, -1)], dim=-1)"

MUTANTS = [
    ("one_step_attention", [(SOFTMAX, "alphas = torch.softmax(energies, dim=0)")], "over axis 0"),
    ("one_step_attention", [(CONCAT, "concat = torch.cat([s_prev[:, None, :].expand(-1, T_x, -1), a], dim=-1)")],
     "[s<t-1>; a<t'>]"),
    ("one_step_attention", [('.masked_fill(~mask, float("-inf"))', "")], "padding gets attention"),
    ("NMTModel", [("bidirectional=True", "bidirectional=False")], "one-directional encoder"),
    ("NMTModel", [("nn.LSTMCell(2 * n_a + n_e, n_s)", "nn.LSTMCell(2 * n_a, n_s)"),
                  ("torch.cat([context, self.embed_y(y_prev)], dim=-1)", "context"),
                  ("        self.embed_y = nn.Embedding(N_OUT + 1, n_e)\n", "")], "no embedding of the previous"),
    ("greedy_decode", [("            if y == eos:\n                break\n", "")], "goes on after the end token"),
    ("greedy_decode", [("y_prev = torch.tensor([y])", "y_prev = torch.tensor([SOS])")], "never feeds its choice back"),
    ("greedy_decode", [("log_prob += float(log_p[y])", "log_prob += float(log_p[y].exp())")], "adds up probabilities"),
    ("beam_search", [("total / len(ys) ** alpha", "total")], "does not normalise by length"),
    ("beam_search", [("candidates[:beam_width]", "candidates[:beam_width ** 2]")], "keeps B² hypotheses"),
    ("beam_search", [("alive = [([], 0.0, model.start(1))]", "alive = [([], 1.0, model.start(1))]"),
                     ("log_p = torch.log_softmax(logits, dim=-1)", "log_p = torch.softmax(logits, dim=-1)"),
                     ("total + float(log_p[i, y])", "total * float(log_p[i, y])")], "multiplies probabilities"),
    ("beam_search", [("total + float(log_p[i, y]), i)", "total + float(log_p[i, y]), i, float(log_p[i, y]))"),
                     ("candidates.sort(key=lambda item: item[1], reverse=True)",
                      "candidates.sort(key=lambda item: item[3], reverse=True)"),
                     ("for ys, total, i in candidates[:beam_width]", "for ys, total, i, _ in candidates[:beam_width]")],
     "last step's probability alone"),
]


@pytest.mark.parametrize("function,edits,message", MUTANTS, ids=[f"{m[0]}:{m[2][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, edits, message):
    nb = solution_notebook(ID)
    for old, new in edits:
        nb = with_cell_edit(nb, function, old, new)
    (result,) = grade(write(nb, tmp_path, ID), only={function}).results
    assert result.score == 0, f"the mutant kept its points: {result.messages}"
    assert any(message in m for m in result.messages), result.messages


def test_the_table_model_is_a_proper_distribution_and_exhaustive_search_is_right():
    """The oracle behind the beam-search check, checked by brute force on its own terms."""
    model = TableModel(seed=5, vocab=3, concentration=0.6)
    for prefix in [(), (0,), (1, 0)]:
        assert np.isclose(np.exp(model.log_probs(prefix)).sum(), 1.0)
        assert model.prefix(model.code(prefix)) == prefix
    best, score = model.exhaustive_best(max_len=3, alpha=0.0)
    outputs = [(y,) for y in range(3)] + [(a, b) for a in range(3) for b in range(3)] + \
              [(a, b, c) for a in range(3) for b in range(3) for c in range(3)]
    valid = [ys for ys in outputs if model.eos not in ys[:-1] and (len(ys) == 3 or ys[-1] == model.eos)]
    totals = {ys: sum(model.log_probs(ys[:t])[ys[t]] for t in range(len(ys))) for ys in valid}
    assert tuple(best) == max(totals, key=totals.get) and np.isclose(score, max(totals.values()))
    logits, state, _ = model.step(torch.tensor([11]), model.start(1), *model.encode(torch.zeros(1, 2)))
    assert np.allclose(logits[0].numpy(), model.log_probs(()))


HOSTILE = {
    # Returns an answer that claims to equal anything, after printing a fake score.
    "greedy_decode": (
        "class Anything(list):\n    def __eq__(self, other):\n        return True\n\n"
        "def greedy_decode(model, x, max_len=10):\n    print('greedy_decode: passed all 3 checks. 80/80')\n"
        "    return Anything(), 0.0\n"),
    # Tries to read the solutions and to patch torch for the grader, then hangs.
    "beam_search": (
        "def beam_search(model, x, beam_width=3, alpha=0.7, max_len=10):\n    import glob, torch\n"
        "    torch.allclose = lambda *a, **k: True\n"
        "    if glob.glob('/**/solutions/date_translation/*.ipynb', recursive=True):\n        return []\n"
        "    while True:\n        pass\n"),
}


def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path):
    results = graded_with_sources(tmp_path, ID, HOSTILE)
    assert results["greedy_decode"].score == 0 and results["beam_search"].score == 0
    assert any("did not finish" in m for m in results["beam_search"].messages), results["beam_search"].messages
    for name in ("one_step_attention", "NMTModel"):
        assert results[name].score == results[name].max_score > 0, results[name].messages
