"""The reference solution of assignment 1 against PyTorch, an independent oracle.

Forward passes: the cell equations with copied weights (``nn.LSTMCell`` holds our Wi, Wf, Wc, Wo).
Backward passes: autograd of L = sum(da * a) (+ sum(dc * c)), the quantity the functions return.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.assignments import get_assignment
from autograder.runtime import load_reference

ref = load_reference(get_assignment("rnn_step_by_step"))
n_x, n_a, n_y, m, T_x = 3, 5, 2, 4, 6
rng = np.random.default_rng(7)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def rnn_params() -> dict:
    return {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)),
            "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
            "by": rng.standard_normal((n_y, 1))}


def lstm_params() -> dict:
    p = {f"W{g}": rng.standard_normal((n_a, n_a + n_x)) for g in "fico"}
    p.update({f"b{g}": rng.standard_normal((n_a, 1)) for g in "fico"})
    p.update(Wy=rng.standard_normal((n_y, n_a)), by=rng.standard_normal((n_y, 1)))
    return p


def torch_lstm_cell(p: dict) -> torch.nn.LSTMCell:
    """nn.LSTMCell with our weights: torch stacks the gates as (i, f, g, o) = (Γ_u, Γ_f, c̃, Γ_o)."""
    cell = torch.nn.LSTMCell(n_x, n_a).double()
    order = "ifco"
    with torch.no_grad():
        # torch splits our [a_prev; x] weight into a hidden part and an input part.
        cell.weight_hh.copy_(t(np.concatenate([p[f"W{g}"][:, :n_a] for g in order])))
        cell.weight_ih.copy_(t(np.concatenate([p[f"W{g}"][:, n_a:] for g in order])))
        cell.bias_ih.copy_(t(np.concatenate([p[f"b{g}"][:, 0] for g in order])))
        cell.bias_hh.zero_()
    return cell


def test_rnn_forward_matches_torch_rnn():
    p = rnn_params()
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    a, y_pred, _ = ref["rnn_forward"](x, a0, p)
    rnn = torch.nn.RNN(n_x, n_a, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t(p["Wax"]))
        rnn.weight_hh_l0.copy_(t(p["Waa"]))
        rnn.bias_ih_l0.copy_(t(p["ba"][:, 0]))
        rnn.bias_hh_l0.zero_()
        out, _ = rnn(t(x).permute(2, 1, 0), t(a0).T[None])  # torch: (T, m, n_x)
        logits = out @ t(p["Wya"]).T + t(p["by"][:, 0])
        y_torch = torch.softmax(logits, dim=-1)
    np.testing.assert_allclose(a, out.permute(2, 1, 0).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y_pred, y_torch.permute(2, 1, 0).numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_forward_matches_torch_lstm_cell():
    p = lstm_params()
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    a, y, c, _ = ref["lstm_forward"](x, a0, p)
    cell = torch_lstm_cell(p)
    h, cs = t(a0).T, torch.zeros(m, n_a, dtype=torch.float64)
    with torch.no_grad():
        for step in range(T_x):
            h, cs = cell(t(x[:, :, step]).T, (h, cs))
            np.testing.assert_allclose(a[:, :, step], h.numpy().T, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(c[:, :, step], cs.numpy().T, rtol=1e-10, atol=1e-12)
            y_torch = torch.softmax(h @ t(p["Wy"]).T + t(p["by"][:, 0]), dim=-1)
            np.testing.assert_allclose(y[:, :, step], y_torch.numpy().T, rtol=1e-10, atol=1e-12)


def autograd_rnn(p: dict, x: np.ndarray, a0: np.ndarray, da: np.ndarray) -> dict:
    """Gradients of sum(da * a) for the basic RNN, by autograd."""
    W = {k: t(v, grad=True) for k, v in p.items()}
    xs, a0_leaf = t(x, grad=True), t(a0, grad=True)
    a_prev, loss = a0_leaf, 0
    for step in range(x.shape[2]):
        a_prev = torch.tanh(W["Waa"] @ a_prev + W["Wax"] @ xs[:, :, step] + W["ba"])
        loss = loss + (t(da[:, :, step]) * a_prev).sum()
    loss.backward()
    return {"dx": xs.grad, "da0": a0_leaf.grad, "dWax": W["Wax"].grad, "dWaa": W["Waa"].grad, "dba": W["ba"].grad}


def test_rnn_backward_matches_autograd():
    p = rnn_params()
    x, a0, da = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m, T_x))
    grads = ref["rnn_backward"](da, ref["rnn_forward"](x, a0, p)[2])
    expected = autograd_rnn(p, x, a0, da)
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value.numpy(), rtol=1e-9, atol=1e-11, err_msg=key)


@pytest.mark.parametrize("with_dc", [True, False])
def test_lstm_cell_backward_matches_autograd(with_dc):
    p = lstm_params()
    xt, a_prev, c_prev = (rng.standard_normal(s) for s in [(n_x, m), (n_a, m), (n_a, m)])
    da_next, dc_next = rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m)) * with_dc
    *_, cache = ref["lstm_cell_forward"](xt, a_prev, c_prev, p)
    grads = ref["lstm_cell_backward"](da_next, dc_next, cache)

    cell = torch_lstm_cell(p)
    x_t, h_t, c_t = t(xt.T, grad=True), t(a_prev.T, grad=True), t(c_prev.T, grad=True)
    h, c = cell(x_t, (h_t, c_t))
    ((t(da_next.T) * h).sum() + (t(dc_next.T) * c).sum()).backward()
    np.testing.assert_allclose(grads["dxt"], x_t.grad.numpy().T, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(grads["da_prev"], h_t.grad.numpy().T, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(grads["dc_prev"], c_t.grad.numpy().T, rtol=1e-9, atol=1e-11)
    for i, g in enumerate("ifco"):
        rows = slice(i * n_a, (i + 1) * n_a)
        dW = np.concatenate([cell.weight_hh.grad[rows].numpy(), cell.weight_ih.grad[rows].numpy()], axis=1)
        np.testing.assert_allclose(grads[f"dW{g}"], dW, rtol=1e-9, atol=1e-11, err_msg=g)
        np.testing.assert_allclose(grads[f"db{g}"][:, 0], cell.bias_ih.grad[rows].numpy(), rtol=1e-9, atol=1e-11)


def test_lstm_backward_matches_autograd_through_time():
    p = lstm_params()
    x, a0, da = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m, T_x))
    grads = ref["lstm_backward"](da, ref["lstm_forward"](x, a0, p)[3])
    cell = torch_lstm_cell(p)
    xs, h = t(x, grad=True), t(a0.T, grad=True)
    h0, c, loss = h, torch.zeros(m, n_a, dtype=torch.float64), 0
    for step in range(T_x):
        h, c = cell(xs[:, :, step].T, (h, c))
        loss = loss + (t(da[:, :, step].T) * h).sum()
    loss.backward()
    np.testing.assert_allclose(grads["dx"], xs.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(grads["da0"], h0.grad.numpy().T, rtol=1e-9, atol=1e-11)
    for i, g in enumerate("ifco"):
        rows = slice(i * n_a, (i + 1) * n_a)
        dW = np.concatenate([cell.weight_hh.grad[rows].numpy(), cell.weight_ih.grad[rows].numpy()], axis=1)
        np.testing.assert_allclose(grads[f"dW{g}"], dW, rtol=1e-9, atol=1e-11, err_msg=g)


def test_rnn_cell_backward_matches_autograd():
    p = rnn_params()
    xt, a_prev, da_next = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))
    _, _, cache = ref["rnn_cell_forward"](xt, a_prev, p)
    grads = ref["rnn_cell_backward"](da_next, cache)
    W = {k: t(v, grad=True) for k, v in p.items()}
    x_t, a_t = t(xt, grad=True), t(a_prev, grad=True)
    (t(da_next) * torch.tanh(W["Waa"] @ a_t + W["Wax"] @ x_t + W["ba"])).sum().backward()
    for key, value in {"dxt": x_t.grad, "da_prev": a_t.grad, "dWax": W["Wax"].grad, "dWaa": W["Waa"].grad,
                       "dba": W["ba"].grad}.items():
        np.testing.assert_allclose(grads[key], value.numpy(), rtol=1e-9, atol=1e-11, err_msg=key)
