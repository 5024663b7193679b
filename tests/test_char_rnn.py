"""seqmodels.char_rnn against torch autograd, and the per-character loss definitions."""

import numpy as np
import pytest
import torch

from seqmodels.char_rnn import (
    corpus_per_char_loss,
    initialize_parameters,
    per_char_loss,
    perplexity,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    update_parameters,
)
from seqmodels.names import name_to_example, unigram_loss, vocabulary

N_A, VOCAB = 7, 27


def random_problem(seed: int, length: int):
    """Random parameters (not tiny, so that every gradient is far from zero), a random name
    of the given length over a-z, and a random a^{<0>}."""
    rng = np.random.default_rng(seed)
    params = {
        "Wax": rng.normal(0, 0.5, (N_A, VOCAB)),
        "Waa": rng.normal(0, 0.5, (N_A, N_A)),
        "Wya": rng.normal(0, 0.5, (VOCAB, N_A)),
        "b": rng.normal(0, 0.5, (N_A, 1)),
        "by": rng.normal(0, 0.5, (VOCAB, 1)),
    }
    # Letters may repeat, which checks that dWax accumulates over repeated inputs.
    name = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=length))
    char_to_ix, _ = vocabulary()
    X, Y = name_to_example(name, char_to_ix)
    a0 = rng.normal(0, 0.5, (N_A, 1))
    return params, X, Y, a0


def torch_loss_and_grads(params, X, Y, a0):
    """The same model written with one-hot vectors in torch (float64), differentiated by autograd."""
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    a_init = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    a, loss = a_init, 0.0
    for x_ix, y_ix in zip(X, Y):
        x = torch.zeros(VOCAB, 1, dtype=torch.float64)
        if x_ix is not None:
            x[x_ix] = 1.0
        a = torch.tanh(p["Wax"] @ x + p["Waa"] @ a + p["b"])
        log_probs = torch.log_softmax(p["Wya"] @ a + p["by"], dim=0)
        loss = loss - log_probs[y_ix, 0]
    loss.backward()
    grads = {"d" + k: v.grad.numpy() for k, v in p.items()}
    grads["da_next"] = a_init.grad.numpy()
    return loss.item(), grads


@pytest.mark.parametrize("seed,length", [(0, 1), (1, 6), (2, 15)])
def test_loss_and_gradients_match_autograd(seed, length):
    params, X, Y, a0 = random_problem(seed, length)
    loss, cache = rnn_forward(X, Y, a0, params)
    grads, a = rnn_backward(X, Y, params, cache)
    expected_loss, expected = torch_loss_and_grads(params, X, Y, a0)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert set(grads) == set(expected)
    for key, value in expected.items():
        assert grads[key].shape == value.shape, key
        np.testing.assert_allclose(grads[key], value, rtol=1e-10, atol=1e-12, err_msg=key)
    assert a.shape == (N_A, len(X) + 1)
    np.testing.assert_array_equal(a[:, :1], a0)


def test_forward_agrees_with_step_by_step_one_hot_forward():
    params, X, Y, a0 = random_problem(3, 9)
    loss, (a, y_hat, _, _) = rnn_forward(X, Y, a0, params)
    a_prev, total = a0, 0.0
    for t, (x_ix, y_ix) in enumerate(zip(X, Y)):
        x = np.zeros((VOCAB, 1))
        if x_ix is not None:
            x[x_ix] = 1.0
        a_prev, y_t = rnn_step_forward(params, a_prev, x)
        np.testing.assert_allclose(a[:, t + 1 : t + 2], a_prev, rtol=1e-12)
        np.testing.assert_allclose(y_hat[:, t : t + 1], y_t, rtol=1e-12)
        total -= np.log(y_t[y_ix, 0])
    assert loss == pytest.approx(total, rel=1e-12)


def test_update_parameters_is_sgd_in_place():
    params, X, Y, a0 = random_problem(4, 5)
    before = {k: v.copy() for k, v in params.items()}
    arrays = {k: v for k, v in params.items()}
    grads, _ = rnn_backward(X, Y, params, rnn_forward(X, Y, a0, params)[1])
    out = update_parameters(params, grads, 0.1)
    assert out is params
    for k in before:
        assert params[k] is arrays[k]
        np.testing.assert_allclose(params[k], before[k] - 0.1 * grads["d" + k])


def test_initialize_parameters_shapes_and_scale():
    p = initialize_parameters(50, 27, 27, np.random.default_rng(0))
    shapes = {"Wax": (50, 27), "Waa": (50, 50), "Wya": (27, 50), "b": (50, 1), "by": (27, 1)}
    assert {k: v.shape for k, v in p.items()} == shapes
    assert not p["b"].any() and not p["by"].any()
    assert 0.005 < p["Waa"].std() < 0.02


def test_per_char_loss_and_perplexity_definitions():
    assert per_char_loss(6.0, [1, 2, 0]) == 2.0
    assert perplexity(np.log(5.0)) == pytest.approx(5.0)
    # A model that always predicts the uniform distribution is exactly "vocabulary-size perplexed".
    params, X, Y, a0 = random_problem(5, 8)
    params["Wya"][:] = 0.0
    params["by"][:] = 0.0
    loss, _ = rnn_forward(X, Y, a0, params)
    assert perplexity(per_char_loss(loss, Y)) == pytest.approx(VOCAB)


def test_unigram_loss_is_the_loss_of_a_frequency_only_model():
    names = ["abba", "cab", "zebra", "a"]
    char_to_ix, ix_to_char = vocabulary()
    # Count targets by brute force: every letter plus one end-of-name per name.
    targets = "".join(n + "\n" for n in names)
    freq = np.array([targets.count(ix_to_char[i]) for i in range(VOCAB)]) / len(targets)
    params = initialize_parameters(N_A, VOCAB, VOCAB, np.random.default_rng(0))
    params["Wya"][:] = 0.0  # output ignores the hidden state ...
    params["by"][:, 0] = np.log(np.maximum(freq, 1e-300))  # ... and predicts the frequencies
    examples = [name_to_example(n, char_to_ix) for n in names]
    assert unigram_loss(names, char_to_ix) == pytest.approx(corpus_per_char_loss(params, examples))
    entropy = -sum(f * np.log(f) for f in freq if f > 0)
    assert unigram_loss(names, char_to_ix) == pytest.approx(entropy)
