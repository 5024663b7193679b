"""The marked-symbol task really asks for the marked symbol, and training is reproducible."""

import numpy as np
import pytest
import torch

from seqmodels.toy_tasks import (
    CELLS, SINGLE_STEP_CELLS, LastStepModel, marked_symbol_batch, seconds_per_step, to_torch,
    torch_parameter_count, train_marked_symbol,
)

m, T_x, n_symbols = 2000, 12, 4


@pytest.fixture
def batch():
    return marked_symbol_batch(m, T_x, n_symbols, np.random.default_rng(0))


def test_shapes_and_one_hot_symbols(batch):
    x, y, t_mark = batch
    assert x.shape == (n_symbols + 1, m, T_x) and x.dtype == np.float32
    assert y.shape == t_mark.shape == (m,)
    np.testing.assert_array_equal(x[:n_symbols].sum(axis=0), 1.0)  # one symbol per step
    assert set(np.unique(x)) == {0.0, 1.0}


def test_exactly_one_marked_step_at_t_mark(batch):
    x, _, t_mark = batch
    markers = x[n_symbols]
    np.testing.assert_array_equal(markers.sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers.argmax(axis=1), t_mark)


def test_label_is_the_symbol_at_the_marked_step(batch):
    x, y, _ = batch
    for i in range(m):
        (marked,) = np.flatnonzero(x[n_symbols, i])  # find the mark by reading x, not t_mark
        assert x[y[i], i, marked] == 1.0


def test_lags_cover_the_whole_sequence_and_labels_are_balanced(batch):
    _, y, t_mark = batch
    assert set(t_mark) == set(range(T_x))
    np.testing.assert_allclose(np.bincount(y, minlength=n_symbols) / m, 1 / n_symbols, atol=0.04)


def test_last_step_alone_is_uninformative(batch):
    # Unless the mark is on the last step, the last symbol matches the label only by chance.
    x, y, t_mark = batch
    last = x[:n_symbols, :, -1].argmax(axis=0)
    elsewhere = t_mark != T_x - 1
    assert abs(np.mean(last[elsewhere] == y[elsewhere]) - 1 / n_symbols) < 0.04


def test_generator_is_deterministic_under_a_seed():
    first = marked_symbol_batch(50, T_x, n_symbols, np.random.default_rng(7))
    second = marked_symbol_batch(50, T_x, n_symbols, np.random.default_rng(7))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_to_torch_puts_time_first():
    x, _, _ = marked_symbol_batch(3, T_x, n_symbols, np.random.default_rng(1))
    xt = to_torch(x)
    assert xt.shape == (T_x, 3, n_symbols + 1)
    np.testing.assert_array_equal(xt[5, 2].numpy(), x[:, 2, 5])


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_model_reads_out_the_last_hidden_state(cell):
    torch.manual_seed(0)
    model = LastStepModel(cell, n_symbols + 1, 8, n_symbols)
    x = to_torch(marked_symbol_batch(5, T_x, n_symbols, np.random.default_rng(2))[0])
    out, _ = model.rnn(x)
    torch.testing.assert_close(model(x), model.readout(out[-1]))
    assert model(x).shape == (5, n_symbols)


def test_training_is_deterministic_under_a_seed():
    first = train_marked_symbol("gru", T_x=6, n_a=8, steps=20, eval_every=5, m_eval=100, seed=3)
    second = train_marked_symbol("gru", T_x=6, n_a=8, steps=20, eval_every=5, m_eval=100, seed=3)
    np.testing.assert_array_equal(first.measured_at, [0, 5, 10, 15, 20])
    np.testing.assert_array_equal(first.accuracy, second.accuracy)


def test_a_gated_cell_learns_a_short_task():
    run = train_marked_symbol("lstm", T_x=5, n_a=16, steps=300, eval_every=50, m_eval=500, seed=0)
    assert run.accuracy[0] < 0.5 and run.accuracy[-1] > 0.95


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("n_x, n_a", [(1, 1), (5, 32), (64, 7)])
def test_parameter_formula_matches_torch_modules(cell, n_x, n_a):
    for module in (SINGLE_STEP_CELLS[cell](n_x, n_a), CELLS[cell](n_x, n_a)):
        assert sum(p.numel() for p in module.parameters()) == torch_parameter_count(cell, n_x, n_a)


def test_step_timer_returns_one_mean_per_repeat():
    times = seconds_per_step("lstm", n_x=3, n_a=4, m=2, number=3, repeats=4)
    assert times.shape == (4,) and np.all(times > 0)
