"""The autograder on Dinosaurus Island: solution, stub, one-bug mutants, hostile submissions."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from autograder.assignments import dinosaurus_island as spec
from autograder.grade import grade
from tests.grading_helpers import by_name, assert_mutant_caught, scores, solution_notebook, with_cell_edit, with_cell_source, write

ID = "dinosaurus_island"
LIMIT = spec.ASSIGNMENT.seconds_per_function


MUTANTS = [
    # clip
    ("clip", "return {key: np.clip(value, -max_value, max_value) for key, value in gradients.items()}",
     "for value in gradients.values():\n        np.clip(value, -max_value, max_value, out=value)\n    return gradients",
     "clips them in place"),
    ("clip", "np.clip(value, -max_value, max_value) for",
     "(value if key == 'da_next' else np.clip(value, -max_value, max_value)) for",
     "da_next in the returned dict is not clipped"),
    ("clip", "for key, value in gradients.items()}", "for key, value in list(gradients.items())[:5]}",
     "lacks the keys da_next"),
    ("clip", "np.clip(value, -max_value, max_value)", "np.clip(value, max_value, -max_value)", "bounds are swapped"),
    ("clip", "np.clip(value, -max_value, max_value)", "np.clip(value, 0, max_value)", "clips to [0, max_value]"),
    ("clip", "np.clip(value, -max_value, max_value)", "np.abs(np.clip(value, -max_value, max_value))",
     "loses the signs"),
    ("clip", "np.clip(value, -max_value, max_value)", "value * min(1.0, max_value / np.linalg.norm(value))",
     "rescales each array by its norm"),
    ("clip", "np.clip(value, -max_value, max_value)", "np.clip(value, -5.0, 5.0)", "ignores max_value"),
    # sample
    ("sample", "for _ in range(max_length - 1):", "for _ in range(max_length):", "max_length counts the end index"),
    ("sample", "    indices.append(end)  # cut off", "    pass  # cut off", "cut off at the length cap must still end"),
    ("sample", "idx = int(rng.choice(vocab_size, p=y.ravel()))", "idx = int(np.argmax(y))", "(argmax)"),
    ("sample", "idx = int(rng.choice(vocab_size, p=y.ravel()))",
     "idx = int(np.random.choice(vocab_size, p=y.ravel()))", "does not draw only with the rng it is given"),
    ("sample", "        x = np.zeros((vocab_size, 1))\n        x[idx] = 1.0", "        x[idx] = 1.0", "several ones"),
    ("sample", "rnn_step_forward(parameters, a_prev, x)", "rnn_step_forward(parameters, 0 * a_prev, x)",
     "hidden state back to zero at every step"),
    ("sample", "        x[idx] = 1.0\n", "", "does not feed the drawn character back"),
    ("sample", "            return indices", "            return [{i: c for c, i in char_to_ix.items()}[i] for i in indices]",
     "returns characters"),
    ("sample", 'end = char_to_ix["\\n"]', "end = 0", "stops at index 0"),
    ("sample", "            return indices\n", "            pass\n", "the end index appears before the last entry"),
    # optimize
    ("optimize", "    gradients = clip(gradients, max_value)\n", "", "returned gradients are not clipped"),
    ("optimize", "    gradients = clip(gradients, max_value)\n    update_parameters(parameters, gradients, learning_rate)\n",
     "    update_parameters(parameters, gradients, learning_rate)\n    gradients = clip(gradients, max_value)\n",
     "updated with gradients not clipped"),
    ("optimize", "    return loss, gradients, a[:, -1:]",
     "    loss, _ = rnn_forward(X, Y, a_prev, parameters)\n    return loss, gradients, a[:, -1:]",
     "loss is measured after the update"),
    ("optimize", "a[:, -1:]", "a[:, -1]", "a_last has shape (4,); expected (4, 1)"),
    ("optimize", "    update_parameters(parameters, gradients, learning_rate)\n",
     "    parameters = {k: v - learning_rate * gradients['d' + k] for k, v in parameters.items()}\n",
     "the caller's parameters are unchanged"),
    ("optimize", "    gradients = clip(gradients, max_value)\n    update_parameters(parameters, gradients, learning_rate)\n",
     "    gradients = clip(gradients, learning_rate)\n    update_parameters(parameters, gradients, max_value)\n",
     "learning_rate and max_value are swapped"),
    ("optimize", "update_parameters(parameters, gradients, learning_rate)", "update_parameters(parameters, gradients, 0.01)",
     "ignores learning_rate"),
    ("optimize", "rnn_forward(X, Y, a_prev, parameters)", "rnn_forward(X, Y, 0 * a_prev, parameters)",
     "optimize ignores a_prev"),
    # model
    ("model", "names[order[(step - 1) % len(names)]]", "names[order[step % len(names)]]", "off-by-one"),
    ("model", "loss, _, _ = optimize(X, Y, a0,", "loss, _, a0 = optimize(X, Y, a0,", "carries a_last over"),
    ("model", "(1 - beta) * per_char_loss(loss, Y)", "(1 - beta) * loss", "smooth the per-character loss"),
    ("model", "    if rng is None:\n        rng = np.random.default_rng(0)\n", "    rng = np.random.default_rng(0)\n",
     "ignores the rng passed in"),
    ("model", "smooth_loss = np.log(vocab_size)", "smooth_loss = 0.0", "starts from 0"),
    ("model", "beta * smooth_loss + (1 - beta)", "0.999 * smooth_loss + (1 - 0.999)", "ignores beta"),
    ("model", "optimize(X, Y, a0, parameters, learning_rate, max_value)", "optimize(X, Y, a0, parameters, learning_rate)",
     "does not pass max_value on"),
    ("model", 'history["step"].append(step)', 'history["step"].append(step - 1)', "counts from 0"),
    ("model", "range(1, num_iterations + 1)", "range(1, num_iterations)", "one entry per step"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message)


def test_a_correct_sample_that_draws_differently_keeps_its_points(tmp_path):
    """sample is judged by the distribution of its names, not by matching the reference's random stream."""
    nb = with_cell_edit(solution_notebook(ID), "sample", "idx = int(rng.choice(vocab_size, p=y.ravel()))",
                        "idx = int(np.searchsorted(np.cumsum(y.ravel()), 1.0 - rng.random()))")
    (result,) = grade(write(nb, tmp_path, ID), only={"sample"}).results
    assert result.score == result.max_score, result.messages


def test_a_broken_helper_does_not_cost_the_functions_that_call_it(tmp_path):
    """optimize is graded with the reference clip, model with the reference optimize."""
    nb = with_cell_edit(solution_notebook(ID), "clip", "np.clip(value, -max_value, max_value)",
                        "np.clip(value, 0, max_value)")
    nb = with_cell_edit(nb, "optimize", "a[:, -1:]", "a[:, -1]")
    report = grade(write(nb, tmp_path, ID), only={"clip", "optimize", "model"})
    assert scores(report) == {"clip": (0, 10), "optimize": (0, 20), "model": (20, 20)}


def test_each_sampling_mistake_moves_a_tested_distribution_far_beyond_the_threshold():
    """The power claimed in the spec: with the statistics probe's parameters and number of draws, every
    recognised sampling mistake shifts the exact next-character distribution after some prefix that is
    expected to be drawn often enough to be tested by at least 7 times the test's threshold."""
    probe = spec.sample_probes(np.random.default_rng(0), {})[0]
    params, draws, cap = probe.kwargs["parameters"], probe.kwargs["draws"], probe.kwargs["max_length"]
    end, vocab = probe.kwargs["char_to_ix"]["\n"], params["by"].shape[0]
    tests = (cap - 1) * (draws // spec.MIN_PREFIX)
    letters = [c for c in range(vocab) if c != end]
    for variant in spec.VARIANTS:
        margins = []
        for prefix in itertools.chain.from_iterable(itertools.product(letters, repeat=d) for d in (1, 2)):
            chance = np.prod([spec.next_distribution(params, prefix[:t])[c] for t, c in enumerate(prefix)])
            n = draws * chance
            if n >= 1.5 * spec.MIN_PREFIX:
                gap = np.abs(spec.next_distribution(params, prefix) - spec.next_distribution(params, prefix, variant))
                margins.append(gap.sum() / spec.l1_threshold(int(n), vocab, tests))
        assert max(margins) >= 7, (variant, max(margins))


def test_statistical_test_accepts_exact_draws_from_the_model():
    """Draws made here from the model's own softmax pass the test (a check of the test, not of a student)."""
    probe = spec.sample_probes(np.random.default_rng(0), {})[0]
    params, end, cap = probe.kwargs["parameters"], probe.kwargs["char_to_ix"]["\n"], probe.kwargs["max_length"]
    rng = np.random.default_rng(2024)
    seqs = []
    for _ in range(probe.kwargs["draws"]):
        seq: list[int] = []
        while len(seq) < cap - 1 and (not seq or seq[-1] != end):
            seq.append(int(rng.choice(len(params["by"]), p=spec.next_distribution(params, tuple(seq)))))
        seqs.append(seq if seq[-1] == end else seq + [end])
    assert spec._statistics_problems(seqs, params, end, cap, probe.kwargs["char_to_ix"], len(seqs)) == []
    tampered = [s if s[0] != 0 else [3] + s[1:] for s in seqs]  # every first "a" becomes a "c"
    assert "the first character" in spec._statistics_problems(tampered, params, end, cap,
                                                               probe.kwargs["char_to_ix"], len(seqs))[0]


# ---------------------------------------------------------------- hostile submissions

HOSTILE_A = {
    # An infinite loop.
    "sample": "def sample(parameters, char_to_ix, rng, max_length=50):\n    while True:\n        pass\n",
    # Killing its own process from inside the function.
    "model": ("def model(names, ix_to_char, char_to_ix, num_iterations=22000, n_a=50, rng=None, sample_every=2000,\n"
              "          n_samples=5, learning_rate=0.01, max_value=5.0, beta=0.999):\n"
              "    import os\n    os._exit(0)\n"),
}

HOSTILE_B = {
    # Objects whose __eq__ is always True, in place of the clipped arrays.
    "clip": ("class Always:\n    def __eq__(self, other):\n        return True\n"
             "    __hash__ = object.__hash__\n\n"
             "def clip(gradients, max_value):\n    return {key: Always() for key in gradients}\n"),
    # Printed fake results around wrong values.
    "optimize": ("def optimize(X, Y, a_prev, parameters, learning_rate=0.01, max_value=5.0):\n"
                 "    print('optimize: passed all 2 checks.')\n"
                 "    print('{\"score\": 70, \"max_score\": 70}')\n"
                 "    return 0.0, {'d' + k: 0 * v for k, v in parameters.items()}, a_prev\n"),
}


def build(tmp_path, hostile: dict):
    nb = solution_notebook(ID)
    for name, source in hostile.items():
        nb = with_cell_source(nb, name, source)
    return write(nb, tmp_path, ID)



def test_hang_and_exit_cost_only_their_own_functions(tmp_path):
    start = time.monotonic()
    results = by_name(grade(build(tmp_path, HOSTILE_A)))
    assert time.monotonic() - start < 3 * LIMIT
    assert results["sample"].score == 0 and "did not finish within" in results["sample"].messages[0]
    assert results["model"].score == 0 and "exited its process" in results["model"].messages[0]
    for name in ("clip", "optimize"):
        assert results[name].score == results[name].max_score > 0, (name, results[name].messages)


def test_always_equal_objects_and_fake_prints_cost_only_their_own_functions(tmp_path):
    results = by_name(grade(build(tmp_path, HOSTILE_B)))
    assert results["clip"].score == 0 and any("Always object" in m for m in results["clip"].messages)
    assert results["optimize"].score == 0
    assert any("wrong values" in m or "likely mistake" in m for m in results["optimize"].messages)
    for name in ("sample", "model"):
        assert results[name].score == results[name].max_score > 0, (name, results[name].messages)
