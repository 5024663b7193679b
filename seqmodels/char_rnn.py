"""A one-layer character-level RNN language model in numpy, one name at a time.

These are the ungraded helpers of Dinosaurus Island: forward and backward propagation
through time over a single name, the SGD update, and the per-character loss. The graded
parts of the assignment (gradient clipping, sampling, the optimisation step and the
training loop) are written by students on top of them.

Notation (column vectors, one time step per column):

    a^{<t>}     = tanh(W_aa a^{<t-1>} + W_ax x^{<t>} + b_a)      (n_a, 1)
    \\hat y^{<t>} = softmax(W_ya a^{<t>} + b_y)                   (n_y, 1)
    L           = - sum_t log \\hat y^{<t>}[y^{<t>}]

Parameter keys: ``Wax`` (n_a, n_x), ``Waa`` (n_a, n_a), ``Wya`` (n_y, n_a), ``b`` (n_a, 1),
``by`` (n_y, 1). Gradient keys add a ``d`` in front, plus ``da_next`` = dL/da^{<0>}.

A name is given as index lists ``X`` and ``Y`` of equal length T (see
``seqmodels.names.name_to_example``): ``X[t]`` is the index of the one-hot input x^{<t+1>}
(``None`` for the zero vector, used at the first step), ``Y[t]`` the index of the target.
Because x^{<t>} is one-hot, W_ax x^{<t>} is just a column of W_ax: the code picks columns
instead of multiplying by one-hot vectors, and does every step that does not depend on
the previous one (input and output layers) for all T steps in one matrix product.
"""

import numpy as np

from seqmodels.activations import softmax


def initialize_parameters(n_a: int, n_x: int, n_y: int, rng: np.random.Generator) -> dict:
    """Small random weights (std 0.01, drawn in the order Wax, Waa, Wya) and zero biases."""
    return {
        "Wax": rng.standard_normal((n_a, n_x)) * 0.01,
        "Waa": rng.standard_normal((n_a, n_a)) * 0.01,
        "Wya": rng.standard_normal((n_y, n_a)) * 0.01,
        "b": np.zeros((n_a, 1)),
        "by": np.zeros((n_y, 1)),
    }


def rnn_step_forward(parameters: dict, a_prev: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One time step with an explicit input vector.

    a_prev: (n_a, 1); x: (n_x, 1), one-hot or zero. Returns a_next (n_a, 1) and the
    softmax output y_hat (n_y, 1). Used when inputs are produced on the fly (sampling).
    """
    a_next = np.tanh(parameters["Wax"] @ x + parameters["Waa"] @ a_prev + parameters["b"])
    y_hat = softmax(parameters["Wya"] @ a_next + parameters["by"])
    return a_next, y_hat


def rnn_forward(X: list, Y: list[int], a0: np.ndarray, parameters: dict) -> tuple[float, tuple]:
    """Forward pass over one name; returns the summed cross-entropy loss and a cache.

    X, Y: index lists of length T (``X[t] is None`` means a zero input); a0: (n_a, 1).
    The cache is ``(a, y_hat, X, Y)`` with a (n_a, T + 1) holding a^{<0>} ... a^{<T>} (so
    ``a[:, t]`` is a^{<t>}) and y_hat (n_y, T) holding the predicted distributions.
    """
    Waa, Wax = parameters["Waa"], parameters["Wax"]
    T = len(X)
    # Rows are time steps here so that each step reads and writes contiguous memory;
    # the cache exposes the transposes, which have the course's column layout.
    u = np.repeat(parameters["b"].T, T, axis=0)  # (T, n_a): W_ax x^{<t>} + b_a for every t
    steps = [t for t, ix in enumerate(X) if ix is not None]
    u[steps] += Wax.T[[X[t] for t in steps]]
    a = np.empty((T + 1, Waa.shape[0]))
    a[0] = a0[:, 0]
    for t in range(T):
        a[t + 1] = np.tanh(Waa @ a[t] + u[t])  # a[t] is a^{<t>}, u[t] belongs to a^{<t+1>}
    y_hat = softmax(parameters["Wya"] @ a[1:].T + parameters["by"])  # (n_y, T)
    loss = -np.log(y_hat[Y, np.arange(T)]).sum()
    return float(loss), (a.T, y_hat, X, Y)


def rnn_backward(X: list, Y: list[int], parameters: dict, cache: tuple) -> tuple[dict, np.ndarray]:
    """Backpropagation through time for the loss of ``rnn_forward``.

    Returns the gradients dict (dWax, dWaa, dWya, db, dby with the shapes of the
    parameters, and da_next = dL/da^{<0>} of shape (n_a, 1)) and the hidden states
    a (n_a, T + 1) from the cache.
    """
    a, y_hat, _, _ = cache
    T = len(X)
    A = a.T  # (T + 1, n_a), rows are time steps (contiguous: a is a transposed view)
    dz = y_hat.copy()  # dL/dz^{<t>} = y_hat^{<t>} - onehot(y^{<t>}) for softmax + cross-entropy
    dz[Y, np.arange(T)] -= 1.0
    dWya = dz @ A[1:]
    dby = dz.sum(axis=1, keepdims=True)
    da_out = dz.T @ parameters["Wya"]  # (T, n_a): what each a^{<t>} receives from its own output
    one_minus_a2 = 1.0 - A[1:] ** 2  # tanh'(.) at every step
    dpre = np.empty((T, A.shape[1]))  # dL/d(pre-activation of a^{<t>}), rows are steps
    Waa = parameters["Waa"]
    dWax = np.zeros_like(parameters["Wax"])
    dWax_rows = dWax.T  # a view: row i of dWax_rows is column i of dWax
    da_next = np.zeros(A.shape[1])
    for t in range(T - 1, -1, -1):
        dpre[t] = one_minus_a2[t] * (da_out[t] + da_next)
        da_next = dpre[t] @ Waa  # = W_aa^T dpre^{<t>}, flowing back to a^{<t-1>}
        if X[t] is not None:  # dW_ax gets dpre^{<t>} x^{<t>T}: one column for a one-hot x
            dWax_rows[X[t]] += dpre[t]
    dWaa = dpre.T @ A[:-1]
    db = dpre.sum(axis=0)[:, None]
    gradients = {"dWax": dWax, "dWaa": dWaa, "dWya": dWya, "db": db, "dby": dby,
                 "da_next": da_next[:, None]}
    return gradients, a


def update_parameters(parameters: dict, gradients: dict, lr: float) -> dict:
    """One SGD step, in place: W <- W - lr * dW for every parameter. Returns the same dict."""
    for name, value in parameters.items():
        value -= lr * gradients["d" + name]  # in place, so references to the arrays stay valid
    return parameters


def per_char_loss(loss: float, Y: list[int]) -> float:
    """Loss of one name divided by its number of predicted characters (nats per character)."""
    return loss / len(Y)


def perplexity(loss_per_char: float) -> float:
    """exp(per-character loss): the number of equally likely characters the model is unsure between."""
    return float(np.exp(loss_per_char))


def corpus_per_char_loss(parameters: dict, examples: list[tuple[list, list[int]]]) -> float:
    """Per-character loss over many (X, Y) examples, each started from a^{<0>} = 0.

    Total loss divided by the total number of characters, so every character counts the
    same (long names weigh more than short ones).
    """
    a0 = np.zeros((parameters["Waa"].shape[0], 1))
    total = sum(rnn_forward(X, Y, a0, parameters)[0] for X, Y in examples)
    return total / sum(len(Y) for _, Y in examples)
