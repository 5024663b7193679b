"""The toy tagging task really needs the future, and its torch helpers behave as documented."""

import numpy as np
import pytest
import torch
from torch import nn

from seqmodels.tagging import (
    AMBIGUOUS_WORD, NAME, SURNAMES, VOCAB, Tagger, evaluate, make_tagging_data,
    recurrent_param_count, train_tagger,
)

SURNAME_IDS = [VOCAB.index(w) for w in SURNAMES]


@pytest.mark.parametrize("lag", [1, 3])
def test_label_of_teddy_is_the_class_of_the_word_lag_steps_later(lag):
    data = make_tagging_data(500, 10, lag=lag, rng=np.random.default_rng(1))
    assert (data.ambiguous.sum(axis=1) == 1).all()
    assert (data.x[data.ambiguous] == VOCAB.index(AMBIGUOUS_WORD)).all()
    rows, p = np.nonzero(data.ambiguous)
    later_is_surname = np.isin(data.x[rows, p + lag], SURNAME_IDS)
    assert ((data.y[rows, p] == NAME) == later_is_surname).all()
    # Away from "teddy" a word's label is decided by the word itself.
    assert ((data.y == NAME) == np.isin(data.x, SURNAME_IDS))[~data.ambiguous].all()
    # Both outcomes occur, so the later word really decides something.
    assert 0.4 < later_is_surname.mean() < 0.6


def test_words_up_to_teddy_carry_no_information_about_its_label():
    # If the label leaked into the prefix, some position or preceding word would skew it.
    T_x = 10
    data = make_tagging_data(20_000, T_x, rng=np.random.default_rng(2))
    rows, p = np.nonzero(data.ambiguous)
    label = data.y[rows, p]
    for position in range(T_x - 1):
        assert abs(label[p == position].mean() - 0.5) < 0.05, position
    previous = data.x[rows[p > 0], p[p > 0] - 1]
    for word in np.unique(previous):
        assert abs(label[p > 0][previous == word].mean() - 0.5) < 0.08, VOCAB[word]


def test_same_seed_same_data_and_other_seed_other_data():
    a, b, c = (make_tagging_data(50, 8, rng=np.random.default_rng(s)) for s in (3, 3, 4))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_lag_must_fit_in_the_sentence():
    with pytest.raises(ValueError):
        make_tagging_data(5, 4, lag=4)


def test_forward_tagger_ignores_the_future_and_bidirectional_does_not():
    torch.manual_seed(0)
    x = torch.from_numpy(make_tagging_data(8, 10).x)
    changed = x.clone()
    changed[:, 6:] = torch.from_numpy(make_tagging_data(8, 10, rng=np.random.default_rng(9)).x[:, 6:])
    for bidirectional in (False, True):
        model = Tagger(bidirectional=bidirectional).eval()
        with torch.no_grad():
            before, after = model(x), model(changed)
        assert before.shape == (8, 10, 2)
        same_past = torch.allclose(before[:, :6], after[:, :6])
        assert same_past == (not bidirectional)


def test_only_the_bidirectional_tagger_labels_teddy_correctly():
    torch.set_num_threads(1)
    rng = np.random.default_rng(5)
    train, val = make_tagging_data(1500, 10, rng=rng), make_tagging_data(400, 10, rng=rng)
    accuracy = {}
    for bidirectional in (False, True):
        torch.manual_seed(0)
        model = Tagger(bidirectional=bidirectional, cell="rnn")
        train_tagger(model, train, val, epochs=6)
        accuracy[bidirectional] = evaluate(model, val)["ambiguous"]
    assert accuracy[False] < 0.65  # a guess: nothing before "teddy" tells the cases apart
    assert accuracy[True] > 0.95


def test_training_is_deterministic_under_a_seed():
    data = make_tagging_data(300, 8, rng=np.random.default_rng(6))
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        histories.append(train_tagger(Tagger(cell="rnn"), data, data, epochs=2, seed=1))
    assert histories[0] == histories[1]
    assert len(histories[0]["all"]) == 3


@pytest.mark.parametrize("cell, module", [("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_parameter_count_formula_matches_torch(cell, module, num_layers, bidirectional):
    n_x, n_a = 7, 5
    net = module(n_x, n_a, num_layers=num_layers, bidirectional=bidirectional)
    expected = sum(p.numel() for p in net.parameters())
    assert recurrent_param_count(cell, n_x, n_a, num_layers, bidirectional) == expected
