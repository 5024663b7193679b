"""The numpy GRU against PyTorch's GRUCell and GRU, in float64."""

import numpy as np
import pytest
import torch

from seqmodels.gru import gru_cell_forward, gru_forward, gru_parameters_from_torch

n_x, n_a, m = 3, 5, 4


def torch_cell(seed: int) -> torch.nn.GRUCell:
    torch.manual_seed(seed)
    return torch.nn.GRUCell(n_x, n_a).double()


def numpy_parameters(cell: torch.nn.Module, suffix: str = "") -> dict[str, np.ndarray]:
    w = {name: getattr(cell, name + suffix).detach().numpy() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    return gru_parameters_from_torch(**w)


def inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))


def torch_step(cell: torch.nn.GRUCell, xt: np.ndarray, c_prev: np.ndarray) -> np.ndarray:
    # torch stores one example per row, the course one per column.
    with torch.no_grad():
        return cell(torch.from_numpy(xt.T), torch.from_numpy(c_prev.T)).numpy().T


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reset_after_matches_torch_gru_cell(seed):
    cell = torch_cell(seed)
    xt, c_prev = inputs(seed)
    c_next, gates = gru_cell_forward(xt, c_prev, numpy_parameters(cell), reset="after")
    np.testing.assert_allclose(c_next, torch_step(cell, xt, c_prev), rtol=1e-12, atol=1e-12)
    assert gates["gamma_u"].shape == gates["gamma_r"].shape == gates["c_tilde"].shape == (n_a, m)


def test_reset_before_differs_from_torch_in_general():
    cell = torch_cell(0)
    xt, c_prev = inputs(0)
    c_next, _ = gru_cell_forward(xt, c_prev, numpy_parameters(cell), reset="before")
    assert np.max(np.abs(c_next - torch_step(cell, xt, c_prev))) > 1e-3


def test_reset_before_matches_torch_when_hidden_weights_are_diagonal():
    # With W_hn diagonal and b_hn = 0, r * (W_hn h) equals W_hn (r * h): the placements agree.
    cell = torch_cell(3)
    with torch.no_grad():
        cell.weight_hh[2 * n_a:] = torch.diag(torch.randn(n_a, dtype=torch.float64))
        cell.bias_hh[2 * n_a:] = 0.0
    xt, c_prev = inputs(3)
    c_next, _ = gru_cell_forward(xt, c_prev, numpy_parameters(cell), reset="before")
    np.testing.assert_allclose(c_next, torch_step(cell, xt, c_prev), rtol=1e-12, atol=1e-12)


def test_simplified_gru_matches_torch_with_reset_gate_held_open():
    # A reset gate saturated at 1 and no hidden bias on n: torch's cell becomes the simplified GRU.
    cell = torch_cell(4)
    with torch.no_grad():
        cell.weight_ih[:n_a] = 0.0
        cell.weight_hh[:n_a] = 0.0
        cell.bias_ih[:n_a] = 60.0  # sigmoid(60) rounds to 1.0 in float64
        cell.bias_hh[:n_a] = 0.0
        cell.bias_hh[2 * n_a:] = 0.0
    xt, c_prev = inputs(4)
    params = numpy_parameters(cell)
    for unused in ("Wr", "br", "bcc"):
        params.pop(unused)
    c_next, gates = gru_cell_forward(xt, c_prev, params, reset="none")
    np.testing.assert_allclose(c_next, torch_step(cell, xt, c_prev), rtol=1e-12, atol=1e-12)
    assert np.all(gates["gamma_r"] == 1.0)


def test_closed_update_gate_keeps_the_memory():
    xt, c_prev = inputs(5)
    rng = np.random.default_rng(5)
    params = {
        "Wu": np.zeros((n_a, n_a + n_x)), "bu": np.full((n_a, 1), -800.0),  # Γ_u is exactly 0
        "Wc": rng.standard_normal((n_a, n_a + n_x)), "bc": rng.standard_normal((n_a, 1)),
    }
    c_next, _ = gru_cell_forward(xt, c_prev, params, reset="none")
    np.testing.assert_array_equal(c_next, c_prev)


def test_sequence_matches_torch_gru():
    T_x = 7
    torch.manual_seed(6)
    gru = torch.nn.GRU(n_x, n_a).double()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((n_x, m, T_x))
    c0 = rng.standard_normal((n_a, m))
    with torch.no_grad():
        # torch.nn.GRU wants (T_x, m, n_x) and (layers, m, n_a).
        out, _ = gru(torch.from_numpy(x.transpose(2, 1, 0).copy()), torch.from_numpy(c0.T[None].copy()))
    c, gates = gru_forward(x, c0, numpy_parameters(gru, suffix="_l0"), reset="after")
    np.testing.assert_allclose(c, out.numpy().transpose(2, 1, 0), rtol=1e-12, atol=1e-12)
    assert gates["gamma_u"].shape == (n_a, m, T_x)


def test_unknown_reset_placement_is_rejected():
    xt, c_prev = inputs(0)
    with pytest.raises(ValueError):
        gru_cell_forward(xt, c_prev, numpy_parameters(torch_cell(0)), reset="middle")
