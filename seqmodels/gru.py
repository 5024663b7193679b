"""A gated recurrent unit (GRU) in numpy, in the notation of the lecture notes.

One function covers three cells, chosen by ``reset``:

- ``"none"``: the simplified GRU, which has only the update gate Γ_u;
- ``"before"``: the full GRU of the notes, where Γ_r scales c^{<t-1>} *before* W_c;
- ``"after"``: the full GRU as PyTorch computes it, where Γ_r scales W_cc c^{<t-1>} + b_cc,
  the already transformed memory, so that ``nn.GRUCell`` is reproduced exactly.

Shapes: ``xt`` is (n_x, m), ``c_prev`` is (n_a, m), one example per column. Every weight
matrix acts on the stacked column [c^{<t-1>}; x^{<t>}] and has shape (n_a, n_a + n_x);
every bias is (n_a, 1). The GRU's hidden state is its memory cell: a^{<t>} = c^{<t>}.
"""

import numpy as np

from seqmodels.activations import sigmoid

RESET_PLACEMENTS = ("none", "before", "after")


def gru_cell_forward(
    xt: np.ndarray, c_prev: np.ndarray, parameters: dict[str, np.ndarray], reset: str = "before"
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One GRU step.

    parameters: ``Wu, bu, Wc, bc`` always; ``Wr, br`` unless ``reset == "none"``; and
    ``bcc`` (n_a, 1), the bias on the memory part of the candidate, when ``reset == "after"``.
    Returns c^{<t>} (n_a, m) and the gates ``gamma_u``, ``gamma_r``, ``c_tilde`` (each (n_a, m)).
    """
    if reset not in RESET_PLACEMENTS:
        raise ValueError(f"reset must be one of {RESET_PLACEMENTS}, got {reset!r}")
    n_a = c_prev.shape[0]
    concat = np.concatenate([c_prev, xt], axis=0)  # [c^{<t-1>}; x^{<t>}], (n_a + n_x, m)
    gamma_u = sigmoid(parameters["Wu"] @ concat + parameters["bu"])
    Wc, bc = parameters["Wc"], parameters["bc"]
    Wcc, Wcx = Wc[:, :n_a], Wc[:, n_a:]  # the columns that read c^{<t-1>} and x^{<t>}

    if reset == "none":
        gamma_r = np.ones_like(c_prev)  # the simplified GRU always looks at all of its memory
    else:
        gamma_r = sigmoid(parameters["Wr"] @ concat + parameters["br"])

    if reset == "after":
        # PyTorch: gate the memory after the matrix product, bias included.
        c_tilde = np.tanh(Wcx @ xt + bc + gamma_r * (Wcc @ c_prev + parameters["bcc"]))
    else:
        # The notes: gate the memory first, then transform [Γ_r * c^{<t-1>}; x^{<t>}].
        c_tilde = np.tanh(Wcc @ (gamma_r * c_prev) + Wcx @ xt + bc)

    c_next = gamma_u * c_tilde + (1.0 - gamma_u) * c_prev
    return c_next, {"gamma_u": gamma_u, "gamma_r": gamma_r, "c_tilde": c_tilde}


def gru_forward(
    x: np.ndarray, c0: np.ndarray, parameters: dict[str, np.ndarray], reset: str = "before"
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the GRU over a whole sequence.

    x is (n_x, m, T_x) and c0 is (n_a, m). Returns the memory c with shape (n_a, m, T_x),
    where ``c[:, :, t]`` is c^{<t+1>}, and the gates of every step, each (n_a, m, T_x).
    """
    T_x = x.shape[2]
    c_prev = c0
    c, gates = [], []
    for t in range(T_x):
        c_prev, g = gru_cell_forward(x[:, :, t], c_prev, parameters, reset)
        c.append(c_prev)
        gates.append(g)
    stacked = {name: np.stack([g[name] for g in gates], axis=2) for name in gates[0]}
    return np.stack(c, axis=2), stacked


def gru_parameters_from_torch(
    weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray, bias_hh: np.ndarray
) -> dict[str, np.ndarray]:
    """Translate ``nn.GRUCell`` weights (as numpy arrays) into parameters for ``reset="after"``.

    PyTorch stacks the rows of ``weight_ih`` (3 n_a, n_x) and ``weight_hh`` (3 n_a, n_a) as
    (r, z, n) and computes h' = (1 - z) * n + z * h, so its z is the *keep* gate and
    Γ_u = 1 - z = σ(-(pre-activation of z)): the update gate's weights and bias change sign.
    """
    W_ir, W_iz, W_in = np.split(weight_ih, 3, axis=0)
    W_hr, W_hz, W_hn = np.split(weight_hh, 3, axis=0)
    b_ir, b_iz, b_in = (b.reshape(-1, 1) for b in np.split(bias_ih, 3))
    b_hr, b_hz, b_hn = (b.reshape(-1, 1) for b in np.split(bias_hh, 3))
    return {
        "Wr": np.hstack([W_hr, W_ir]), "br": b_ir + b_hr,
        "Wu": -np.hstack([W_hz, W_iz]), "bu": -(b_iz + b_hz),
        "Wc": np.hstack([W_hn, W_in]), "bc": b_in, "bcc": b_hn,
    }
