"""Data preparation and small trainers for the word2vec and GloVe chapters.

Everything here works on integer word ids: a vocabulary maps each kept word to a row
``0 .. V-1``, ordered from most to least frequent. Embedding matrices have one row per word,
shape ``(V, n_e)``, so ``E[i]`` is the vector ``e_i`` of word ``i``. The chapters write the losses
out themselves; this module holds what both of them reuse.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
import scipy.sparse
import torch


def build_vocab(tokens: Sequence[str], min_count: int) -> tuple[list[str], dict[str, int], np.ndarray]:
    """Keep the words that occur at least ``min_count`` times, most frequent first.

    Returns ``words`` (V,), ``index`` (word -> row) and ``counts`` (V,) int64.
    """
    kept = [(w, n) for w, n in Counter(tokens).most_common() if n >= min_count]
    words = [w for w, _ in kept]
    return words, {w: i for i, w in enumerate(words)}, np.array([n for _, n in kept], dtype=np.int64)


def encode(tokens: Sequence[str], index: dict[str, int]) -> np.ndarray:
    """The ids of the in-vocabulary tokens, in order, shape (n,); other tokens are dropped."""
    return np.array([index[w] for w in tokens if w in index], dtype=np.int64)


def subsample(ids: np.ndarray, counts: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Drop each occurrence of word w with probability 1 - sqrt(t / f(w)), f the relative frequency.

    ids: (n,) word ids; counts: (V,). Returns the kept ids, shape (m,) with m <= n.
    """
    freq = counts / counts.sum()
    keep = np.minimum(1.0, np.sqrt(t / freq))
    return ids[rng.random(len(ids)) < keep[ids]]


def skipgram_pairs(ids: np.ndarray, window: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(context c, target t) pairs: each position draws a half-width b in 1..window and pairs its
    word with every word at most b positions before or after it (nearer words are picked more often).

    ids: (n,). Returns ``centre`` and ``context``, both int64 of the same shape (P,).
    """
    half = rng.integers(1, window + 1, size=len(ids))
    centre, context = [], []
    for d in range(1, window + 1):
        pos = np.arange(len(ids) - d)
        right = pos[half[pos] >= d]          # centre at p, target d to the right
        left = pos[half[pos + d] >= d]       # centre at p + d, target d to the left
        centre += [ids[right], ids[left + d]]
        context += [ids[right + d], ids[left]]
    return np.concatenate(centre), np.concatenate(context)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P(w) proportional to f(w) ** power, shape (V,), summing to 1."""
    weights = counts.astype(np.float64) ** power
    return weights / weights.sum()


def sgns_loss(E: torch.Tensor, theta: torch.Tensor, c: torch.Tensor, t: torch.Tensor,
              negatives: torch.Tensor) -> torch.Tensor:
    """Mean negative-sampling loss of a batch.

    E, theta: (V, n_e); c, t: (B,) context and target ids; negatives: (B, k) ids.
    Per example: -log sigma(theta_t . e_c) - sum_k log sigma(-theta_neg . e_c).
    """
    e_c = E[c]                                                   # (B, n_e)
    pos = (theta[t] * e_c).sum(-1)                               # (B,)
    neg = torch.einsum("bkd,bd->bk", theta[negatives], e_c)      # (B, k)
    return -(torch.nn.functional.logsigmoid(pos) + torch.nn.functional.logsigmoid(-neg).sum(-1)).mean()


def train_skipgram_ns(centre: np.ndarray, context: np.ndarray, V: int, n_e: int = 50, k: int = 5,
                      noise: np.ndarray | None = None, epochs: int = 1, batch: int = 4096,
                      lr: float = 0.01, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """Skip-gram with negative sampling, Adam on full batches of ``batch`` pairs.

    centre, context: (P,) ids; noise: (V,) distribution of the k negatives (uniform if None).
    Returns the context embeddings E (V, n_e) as numpy and the loss of every step.
    """
    gen = torch.Generator().manual_seed(seed)
    E = (torch.randn(V, n_e, generator=gen) / n_e ** 0.5).requires_grad_()
    theta = torch.zeros(V, n_e, requires_grad=True)
    noise_t = torch.full((V,), 1.0 / V) if noise is None else torch.as_tensor(noise, dtype=torch.float32)
    opt = torch.optim.Adam([E, theta], lr=lr)
    c_all, t_all = torch.as_tensor(centre), torch.as_tensor(context)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(c_all), generator=gen)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            negatives = torch.multinomial(noise_t, len(idx) * k, replacement=True, generator=gen)
            loss = sgns_loss(E, theta, c_all[idx], t_all[idx], negatives.view(len(idx), k))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return E.detach().numpy(), losses


def cooccurrence(ids: np.ndarray, window: int, V: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted co-occurrence counts: a pair of words d <= window positions apart adds 1/d to
    X_ij and to X_ji, so X is symmetric.

    ids: (n,). Returns the nonzero entries as ``i``, ``j`` (nnz,) int64 and ``x`` (nnz,) float64.
    """
    rows, cols, weights = [], [], []
    for d in range(1, window + 1):
        a, b = ids[:-d], ids[d:]
        rows += [a, b]
        cols += [b, a]
        weights.append(np.full(2 * len(a), 1.0 / d))
    X = scipy.sparse.coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                                shape=(V, V)).tocsr().tocoo()   # tocsr() adds up repeated pairs
    return X.row.astype(np.int64), X.col.astype(np.int64), X.data


def glove_weight(x: np.ndarray | torch.Tensor, x_max: float = 100.0, alpha: float = 0.75):
    """f(X_ij) = (X_ij / x_max) ** alpha below x_max, 1 above; same shape as x."""
    return (x / x_max).clip(max=1.0) ** alpha


def train_glove(i: np.ndarray, j: np.ndarray, x: np.ndarray, V: int, n_e: int = 50, epochs: int = 10,
                batch: int = 16384, lr: float = 0.05, seed: int = 0) -> tuple[dict[str, np.ndarray], list[float]]:
    """Minimise sum f(X_ij) (theta_i . e_j + b_i + b'_j - log X_ij)^2 over the nonzero X_ij with Adagrad.

    i, j, x: (nnz,) from :func:`cooccurrence`. Returns ``theta``, ``e`` (V, n_e), ``b``, ``b_prime``
    (V,) as numpy, and the mean weighted squared error of every step.
    """
    gen = torch.Generator().manual_seed(seed)
    params = {"theta": torch.rand(V, n_e, generator=gen) - 0.5, "e": torch.rand(V, n_e, generator=gen) - 0.5,
              "b": torch.zeros(V), "b_prime": torch.zeros(V)}
    for p in params.values():
        p.mul_(1.0 / n_e).requires_grad_()
    opt = torch.optim.Adagrad(list(params.values()), lr=lr)
    i_t, j_t, x_t = torch.as_tensor(i), torch.as_tensor(j), torch.as_tensor(x, dtype=torch.float32)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x_t), generator=gen)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            bi, bj, bx = i_t[idx], j_t[idx], x_t[idx]
            pred = (params["theta"][bi] * params["e"][bj]).sum(-1) + params["b"][bi] + params["b_prime"][bj]
            loss = (glove_weight(bx) * (pred - bx.log()) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return {name: p.detach().numpy() for name, p in params.items()}, losses


def nearest(vectors: np.ndarray, words: Sequence[str], index: dict[str, int], word: str, k: int = 5) -> list[str]:
    """The k words whose rows of ``vectors`` (V, n_e) have the highest cosine similarity to ``word``'s."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[index[word]]
    sims[index[word]] = -np.inf
    return [words[r] for r in np.argsort(-sims)[:k]]
