"""The CTC assignment's reference against independent oracles: PyTorch's CTC loss and autograd, and
brute force over every path on tiny inputs. The grader's expected answers come from this reference,
so these tests also check the grader's own probes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.assignments import get_assignment
from autograder.assignments.ctc_speech import (brute_force_loss_and_grad, labelling_probabilities, log_softmax,
                                               small_enough)
from autograder.grade import probes_for
from autograder.runtime import load_reference

ASSIGNMENT = get_assignment("ctc_speech")


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_reference(ASSIGNMENT)


def torch_loss_and_grad(log_probs: np.ndarray, target: list[int], blank: int,
                        zero_infinity: bool = False) -> tuple[float, np.ndarray]:
    """PyTorch's CTC loss of one utterance and its gradient with respect to the logits.

    The log-probabilities serve as logits: log_softmax leaves them unchanged, so the gradient is the
    one with respect to logits whose log-softmax they are."""
    z = torch.tensor(log_probs, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([target], dtype=torch.long) if target else torch.zeros((1, 0), dtype=torch.long)
    loss = F.ctc_loss(torch.log_softmax(z, dim=1)[:, None], targets, torch.tensor([len(log_probs)]),
                      torch.tensor([len(target)]), blank=blank, reduction="sum", zero_infinity=zero_infinity)
    loss.backward()
    return loss.item(), z.grad.numpy()


def random_case(rng: np.random.Generator, T: int, C: int, L: int) -> tuple[np.ndarray, list[int], int]:
    blank = int(rng.integers(C))
    labels = [k for k in range(C) if k != blank]
    return log_softmax(rng.standard_normal((T, C)) * 2), [int(k) for k in rng.choice(labels, L)], blank


def test_loss_and_gradient_match_torch_on_random_inputs(ref):
    rng = np.random.default_rng(0)
    worst_loss = worst_grad = 0.0
    for _ in range(60):
        T = int(rng.integers(8, 60))
        log_probs, target, blank = random_case(rng, T, int(rng.integers(2, 7)), int(rng.integers(0, T // 3)))
        if len(target) > 1:
            target[1] = target[0]  # a repeated label needs a blank between its two copies
        _, loss = ref["ctc_forward"](log_probs, target, blank)
        want_loss, want_grad = torch_loss_and_grad(log_probs, target, blank)
        worst_loss = max(worst_loss, abs(loss - want_loss) / max(1.0, want_loss))
        worst_grad = max(worst_grad, float(np.abs(ref["ctc_backward"](log_probs, target, blank) - want_grad).max()))
    assert worst_loss < 1e-10 and worst_grad < 1e-10, (worst_loss, worst_grad)


def test_loss_and_gradient_match_brute_force_on_every_tiny_input_shape(ref):
    rng = np.random.default_rng(1)
    for T, C, L in itertools.product(range(1, 6), (2, 3), range(0, 4)):
        log_probs, target, blank = random_case(rng, T, C, L)
        alpha, loss = ref["ctc_forward"](log_probs, target, blank)
        want_loss, want_grad = brute_force_loss_and_grad(log_probs, target, blank)
        assert alpha.shape == (T, 2 * L + 1)
        assert loss == want_loss or np.isclose(loss, want_loss, rtol=1e-12), (T, C, target, blank)
        np.testing.assert_allclose(ref["ctc_backward"](log_probs, target, blank), want_grad, atol=1e-12)


def test_a_target_that_cannot_fit_has_infinite_loss_and_zero_gradient_as_torch_says(ref):
    log_probs = log_softmax(np.random.default_rng(2).standard_normal((4, 3)))
    target = [1, 1, 1]  # needs 5 frames: a _ a _ a
    alpha, loss = ref["ctc_forward"](log_probs, target, 0)
    assert loss == np.inf == torch_loss_and_grad(log_probs, target, 0)[0]
    assert np.all(alpha[-1, -2:] == -np.inf)
    zeroed_loss, zeroed_grad = torch_loss_and_grad(log_probs, target, 0, zero_infinity=True)
    assert zeroed_loss == 0.0 and not zeroed_grad.any()
    assert not ref["ctc_backward"](log_probs, target, 0).any()


def test_long_inputs_stay_finite_where_probabilities_underflow(ref):
    rng = np.random.default_rng(3)
    log_probs, target, blank = random_case(rng, 3_000, 6, 80)
    _, loss = ref["ctc_forward"](log_probs, target, blank)
    want_loss, want_grad = torch_loss_and_grad(log_probs, target, blank)
    assert loss > 745  # P(target | x) = exp(-loss) is below the smallest float64
    assert abs(loss - want_loss) < 1e-9 * want_loss
    assert np.abs(ref["ctc_backward"](log_probs, target, blank) - want_grad).max() < 1e-9


def test_prefix_beam_search_finds_the_most_probable_labelling_on_tiny_inputs(ref):
    rng = np.random.default_rng(4)
    greedy_wrong = 0
    for _ in range(150):
        T, C = int(rng.integers(1, 7)), int(rng.integers(2, 4))
        blank = int(rng.integers(C))
        log_probs = log_softmax(rng.standard_normal((T, C)) * 1.5)
        probs = labelling_probabilities(log_probs, blank)
        best = max(probs, key=probs.get)
        assert tuple(ref["prefix_beam_search"](log_probs, beam_width=C ** T, blank=blank)) == best
        greedy_wrong += tuple(ref["greedy_decode"](log_probs, blank=blank)) != best
    assert greedy_wrong > 0  # the inputs include cases where summing paths matters


def test_the_graders_expected_answers_agree_with_the_oracles(ref):
    """Every probe of the loss and gradient against torch; every tiny decoder probe against brute force."""
    for name in ("ctc_forward", "ctc_backward"):
        spec = ASSIGNMENT.function(name)
        for probe in probes_for(ASSIGNMENT, spec, ref):
            kw = probe.kwargs
            want_loss, want_grad = torch_loss_and_grad(kw["log_probs"], kw["target"], kw["blank"],
                                                       zero_infinity=probe.name == "impossible")
            if name == "ctc_forward":
                loss = ref[name](kw["log_probs"], kw["target"], kw["blank"])[1]
                assert (loss == np.inf and want_loss == 0.0) or abs(loss - want_loss) <= 1e-9 * max(1, want_loss)
            else:
                np.testing.assert_allclose(ref[name](kw["log_probs"], kw["target"], kw["blank"]), want_grad,
                                           atol=1e-9, err_msg=probe.name)
    spec = ASSIGNMENT.function("prefix_beam_search")
    tiny = [p for p in probes_for(ASSIGNMENT, spec, ref) if small_enough(p)]
    assert len(tiny) >= 4
    for probe in tiny:
        probs = labelling_probabilities(probe.kwargs["log_probs"], probe.kwargs["blank"])
        assert tuple(ref["prefix_beam_search"](**probe.kwargs)) == max(probs, key=probs.get), probe.name
