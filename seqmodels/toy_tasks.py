"""A synthetic long-range-dependency task, a small torch loop that trains a cell on it,
and the two measurements that compare RNN, GRU and LSTM cells: size and speed.

The *marked-symbol* task: a sequence of T_x random symbols, one of which carries a marker;
after reading the whole sequence the network must name the marked symbol. The distance
from the marked step to the end, the lag, is uniform on 0 .. T_x - 1, so most examples
ask the network to carry one symbol across many steps of noise, which a vanilla RNN
struggles to do and a gated cell does by closing its update (or opening its forget) gate.

The generator returns numpy arrays in the course layout, one example per column:
``x`` has shape (n_x, m, T_x).
"""

import timeit
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
SINGLE_STEP_CELLS = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}  # affine maps of [a^{<t-1>}, x^{<t>}] per step: gates + candidate


def marked_symbol_batch(
    m: int, T_x: int, n_symbols: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """m sequences of T_x uniformly random symbols, exactly one step of each marked.

    x has shape (n_symbols + 1, m, T_x), float32: rows 0 .. n_symbols - 1 one-hot encode
    the symbol, row n_symbols is 1 at the marked step and 0 elsewhere. Returns x, the labels
    y (m,) int64 (the marked symbol) and the marked step t_mark (m,) int64, counted from 0.
    """
    symbols = rng.integers(0, n_symbols, size=(m, T_x))
    t_mark = rng.integers(0, T_x, size=m)
    examples = np.arange(m)
    x = np.zeros((n_symbols + 1, m, T_x), dtype=np.float32)
    x[symbols, examples[:, None], np.arange(T_x)[None, :]] = 1.0
    x[n_symbols, examples, t_mark] = 1.0
    return x, symbols[examples, t_mark], t_mark


def to_torch(x: np.ndarray) -> torch.Tensor:
    """Course layout (n_x, m, T_x) to torch's (T_x, m, n_x)."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0)))


class LastStepModel(nn.Module):
    """A one-layer recurrent network (RNN, GRU or LSTM) read out by a linear layer at t = T_x."""

    def __init__(self, cell: str, n_x: int, n_a: int, n_y: int):
        super().__init__()
        self.rnn = CELLS[cell](n_x, n_a)
        self.readout = nn.Linear(n_a, n_y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (T_x, m, n_x), torch's layout. Returns logits (m, n_y) from the last hidden state."""
        out, _ = self.rnn(x)
        return self.readout(out[-1])


@dataclass
class TrainingRun:
    model: LastStepModel
    measured_at: np.ndarray  # training steps at which the held-out accuracy was measured
    accuracy: np.ndarray


def train_marked_symbol(
    cell: str, T_x: int, n_symbols: int = 4, n_a: int = 32, steps: int = 500, m: int = 64,
    lr: float = 5e-3, clip: float = 1.0, eval_every: int = 25, m_eval: int = 1000, seed: int = 0,
) -> TrainingRun:
    """Train ``cell`` ("rnn", "gru" or "lstm") with Adam on fresh batches of the marked-symbol task.

    Gradients are clipped to norm ``clip`` so that one exploding step cannot undo training.
    Every ``eval_every`` steps the accuracy on a fixed held-out batch of ``m_eval``
    sequences is recorded. The same seed gives the same run.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = LastStepModel(cell, n_symbols + 1, n_a, n_symbols)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x_eval, y_eval, _ = marked_symbol_batch(m_eval, T_x, n_symbols, rng)
    x_eval, y_eval = to_torch(x_eval), torch.from_numpy(y_eval)
    measured_at, accuracy = [], []
    for step in range(steps + 1):
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                accuracy.append((model(x_eval).argmax(dim=1) == y_eval).float().mean().item())
            measured_at.append(step)
        if step == steps:
            break
        x, y, _ = marked_symbol_batch(m, T_x, n_symbols, rng)
        loss = nn.functional.cross_entropy(model(to_torch(x)), torch.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return TrainingRun(model, np.array(measured_at), np.array(accuracy))


def torch_parameter_count(cell: str, n_x: int, n_a: int) -> int:
    """Parameters of one torch cell: per block, a (n_a, n_x) and a (n_a, n_a) matrix and two biases.

    Torch keeps separate input and hidden biases; the notes' one bias per block gives
    ``BLOCKS[cell] * n_a * (n_a + n_x + 1)`` instead.
    """
    return BLOCKS[cell] * (n_a * (n_a + n_x) + 2 * n_a)


def seconds_per_step(cell: str, n_x: int, n_a: int, m: int, number: int = 200, repeats: int = 5) -> np.ndarray:
    """Time one forward step of torch's ``RNNCell``/``GRUCell``/``LSTMCell`` on a batch of m.

    Returns ``repeats`` measurements, each the mean over ``number`` calls, in seconds.
    """
    torch.manual_seed(0)
    module = SINGLE_STEP_CELLS[cell](n_x, n_a)
    x, a = torch.randn(m, n_x), torch.randn(m, n_a)
    state = (a, torch.zeros(m, n_a)) if cell == "lstm" else a  # the LSTM also carries c^{<t>}
    with torch.no_grad():
        module(x, state)  # the first call pays one-off set-up costs; keep it out of the timing
        times = timeit.repeat(lambda: module(x, state), number=number, repeat=repeats)
    return np.array(times) / number
