"""Data preparation and trainers of seqmodels.word2vec, on small hand-made inputs."""

import numpy as np
import pytest
import torch

from seqmodels import word2vec as w2v

torch.set_num_threads(1)


def test_build_vocab_orders_by_count_and_drops_rare_words():
    words, index, counts = w2v.build_vocab("b a b c b a d".split(), min_count=2)
    assert words == ["b", "a"]
    assert index == {"b": 0, "a": 1}
    assert counts.tolist() == [3, 2]
    assert w2v.encode("a x b a".split(), index).tolist() == [1, 0, 1]


def test_subsample_keeps_rare_words_and_thins_frequent_ones():
    counts = np.array([9900, 100])                       # relative frequencies 0.99 and 0.01
    ids = np.repeat([0, 1], counts)
    kept = w2v.subsample(ids, counts, t=0.02, rng=np.random.default_rng(0))
    assert (kept == 1).sum() == 100                      # f = 0.01 < t: always kept
    expected = np.sqrt(0.02 / 0.99) * 9900               # about 1,407 of the 9,900
    assert abs((kept == 0).sum() - expected) < 4 * np.sqrt(expected)


def test_skipgram_pairs_stay_inside_the_window():
    ids = np.arange(200)  # id = position, so |centre - context| is the distance
    centre, context = w2v.skipgram_pairs(ids, window=3, rng=np.random.default_rng(1))
    assert centre.shape == context.shape and centre.dtype == np.int64
    distance = np.abs(centre - context)
    assert distance.min() == 1 and distance.max() == 3
    # Each pair appears in both directions unless the two half-widths differ; nearer pairs are commoner.
    assert (distance == 1).sum() > (distance == 2).sum() > (distance == 3).sum()


def test_skipgram_pairs_with_window_one_are_the_neighbours():
    centre, context = w2v.skipgram_pairs(np.array([5, 6, 7]), window=1, rng=np.random.default_rng(0))
    assert sorted(zip(centre.tolist(), context.tolist())) == [(5, 6), (6, 5), (6, 7), (7, 6)]


def test_noise_distribution_sums_to_one_and_is_flatter_than_unigram():
    counts = np.array([1000, 100, 10, 1])
    noise = w2v.noise_distribution(counts)
    unigram = counts / counts.sum()
    assert noise.sum() == pytest.approx(1.0)
    assert noise[0] < unigram[0] and noise[-1] > unigram[-1]
    assert np.all(np.diff(noise) < 0)


def test_cooccurrence_is_symmetric_with_inverse_distance_weights():
    i, j, x = w2v.cooccurrence(np.array([0, 1, 2, 0]), window=2, V=3)
    X = np.zeros((3, 3))
    X[i, j] = x
    np.testing.assert_allclose(X, X.T)
    assert X[0, 1] == pytest.approx(1 + 0.5)   # 0-1 adjacent, and 1 ... 0 two apart
    assert X[0, 2] == pytest.approx(0.5 + 1)   # 0 _ 2 two apart, 2 0 adjacent
    assert X[0, 0] == 0 and X[1, 2] == pytest.approx(1.0)


def test_sgns_loss_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(3)
    E, theta = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    c, t, negatives = 2, 4, [0, 5, 1]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    expected = -np.log(sigmoid(theta[t] @ E[c])) - sum(np.log(sigmoid(-theta[n] @ E[c])) for n in negatives)
    got = w2v.sgns_loss(torch.tensor(E), torch.tensor(theta), torch.tensor([c]), torch.tensor([t]),
                        torch.tensor([negatives]))
    assert got.item() == pytest.approx(expected)


def test_tiny_skipgram_run_reduces_the_loss_and_returns_one_row_per_word():
    rng = np.random.default_rng(0)
    ids = np.tile([0, 1, 2, 3, 4, 5, 6, 7], 200)
    centre, context = w2v.skipgram_pairs(ids, window=1, rng=rng)
    E, losses = w2v.train_skipgram_ns(centre, context, V=8, n_e=6, k=3, epochs=20, batch=256, lr=0.05)
    assert E.shape == (8, 6)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def test_tiny_glove_run_fits_the_log_counts():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, size=3000)
    i, j, x = w2v.cooccurrence(ids, window=2, V=10)
    params, losses = w2v.train_glove(i, j, x, V=10, n_e=5, epochs=300, batch=1000, lr=0.1)
    assert params["theta"].shape == params["e"].shape == (10, 5) and params["b"].shape == (10,)
    assert losses[-1] < 0.1 * losses[0]
    pred = (params["theta"][i] * params["e"][j]).sum(1) + params["b"][i] + params["b_prime"][j]
    assert np.abs(pred - np.log(x)).mean() < 0.1


def test_glove_weight_is_capped_at_one():
    np.testing.assert_allclose(w2v.glove_weight(np.array([0.0, 100.0, 1000.0, 10.0])),
                               [0.0, 1.0, 1.0, 0.1 ** 0.75])


def test_nearest_uses_cosine_and_skips_the_word_itself():
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    words = ["a", "b", "c", "d"]
    assert w2v.nearest(vectors, words, {w: r for r, w in enumerate(words)}, "a", k=3) == ["b", "d", "c"]
