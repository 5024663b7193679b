"""Date translation with attention and beam search: probes and recognisable mistakes for one_step_attention,
NMTModel, greedy_decode and beam_search.

The graded code is torch, so drivers build modules inside the sandbox from plain arrays and return arrays.
Weights are placed by shape (autograder.torch_models), never by layer names. Probe sizes (n_a = 4, n_s = 6,
n_e = 5, T_x = 7) make every parameter shape different except the pairs torch itself keeps alike (the two
directions of a bidirectional LSTM, and the two bias vectors of each LSTM, which torch only adds).

The searches are graded on two kinds of model: the solution's NMTModel with random weights, and a
``TableModel`` whose next-token distribution is a seeded table of the prefix, with an end token, so that
hypotheses end at different lengths and length normalisation matters. On a table model small enough to
list every output, the best output by exhaustive search is known; beam search with a beam wider than the
number of outputs must find it, which checks the solution as well as the learner. Most mistakes are the
solution's own search run with other arguments (alpha = 0 for "no normalisation", a beam of B² for
"keeps B² hypotheses"); two are searches that rank by the wrong quantity, written here as such.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from autograder.mistakes import changed, like_reference
from autograder.spec import Assignment, GradedFunction, Mistake, Probe
from autograder.torch_models import load_by_shape, plain, tensors

ID = "date_translation"
N_IN, N_OUT = 43, 11
SOS = N_OUT
N_A, N_S, N_E, HIDDEN, T_X, M = 4, 6, 5, 10, 7, 3
MODEL_SEED = 0
RTOL = 1e-5

Kwargs = dict[str, Any]


def float32(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def attention_network(weights: list[np.ndarray]) -> nn.Module:
    """The dense network Linear -> tanh -> Linear -> one energy, holding the probe's weights."""
    w1, b1, w2, b2 = (torch.from_numpy(w) for w in weights)
    network = nn.Sequential(nn.Linear(w1.shape[1], w1.shape[0]), nn.Tanh(), nn.Linear(w2.shape[1], 1))
    with torch.no_grad():
        for p, w in zip(network.parameters(), (w1, b1, w2, b2)):
            p.copy_(w)
    return network


# ---------------------------------------------------------------- one_step_attention

def attention_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    a, s_prev = torch.from_numpy(kwargs["a"]), torch.from_numpy(kwargs["s_prev"])
    mask = torch.from_numpy(np.asarray(kwargs["mask"], dtype=bool))
    with torch.no_grad():
        context, alphas = tensors(namespace[name](a, s_prev, attention_network(kwargs["weights"]), mask), 2, name,
                                  "the tuple (context, alphas) of tensors")
    return {"context": plain(context), "alphas": plain(alphas)}


def attention_probes(rng, ref):
    lengths = [T_X, 4, 2]
    mask = np.array([[t < n for t in range(T_X)] for n in lengths])
    base = {"a": float32(rng, M, T_X, 2 * N_A), "s_prev": float32(rng, M, N_S),
            "weights": [float32(rng, HIDDEN, 2 * N_A + N_S), float32(rng, HIDDEN), float32(rng, 1, HIDDEN, scale=2.0),
                        float32(rng, 1)],
            "mask": mask}
    return [Probe("padded", base, "inputs of 7, 4 and 2 characters"),
            Probe("no_padding", {**base, "mask": np.ones_like(mask)}, "no padding")]


def energies(kwargs: Kwargs, order: str = "a,s") -> np.ndarray:
    """The attention network's energies (m, T_x) on [a; s_prev] (or, for a mistake, [s_prev; a])."""
    a, s = torch.from_numpy(kwargs["a"]), torch.from_numpy(kwargs["s_prev"])
    s = s[:, None, :].expand(-1, a.shape[1], -1)
    with torch.no_grad():
        return plain(attention_network(kwargs["weights"])(torch.cat([a, s] if order == "a,s" else [s, a], -1))[..., 0])


def from_energies(kwargs: Kwargs, e: np.ndarray, axis: int = 1, mask: bool = True) -> dict:
    """context and alphas from energies: softmax over ``axis``, padding masked first when ``mask``."""
    if mask:
        e = np.where(kwargs["mask"], e, -np.inf)
    e = e - e.max(axis=axis, keepdims=True)
    alphas = np.exp(e) / np.exp(e).sum(axis=axis, keepdims=True)
    return {"alphas": alphas, "context": np.einsum("mt,mtn->mn", alphas, kwargs["a"])}


def attention_mistakes():
    outputs = ["alphas", "context"]
    found = []
    for out in outputs:
        found += [
            Mistake(out, "the softmax is taken over axis 0, the examples; take it over the input positions t' (dim=1)",
                    lambda ctx, out=out: from_energies(ctx.probe.kwargs, energies(ctx.probe.kwargs), axis=0)[out]),
            Mistake(out, "the network gets [s<t-1>; a<t'>]; concatenate in the order [a<t'>; s<t-1>]",
                    lambda ctx, out=out: from_energies(ctx.probe.kwargs, energies(ctx.probe.kwargs, "s,a"))[out]),
            Mistake(out, "padding positions are zeroed after the softmax, so the weights no longer sum to 1: set their "
                    "energies to -inf before it",
                    lambda ctx, out=out: masked_after(ctx.probe.kwargs)[out], probe="padded"),
        ]
    found += like_reference("padding gets attention: set the energies of masked positions to -inf before the softmax",
                            lambda ctx: {**ctx.probe.kwargs, "mask": np.ones_like(ctx.probe.kwargs["mask"])}, outputs,
                            probe="padded")
    return found


def masked_after(kwargs: Kwargs) -> dict:
    alphas = from_energies(kwargs, energies(kwargs), mask=False)["alphas"] * kwargs["mask"]
    return {"alphas": alphas, "context": np.einsum("mt,mtn->mn", alphas, kwargs["a"])}


def attention_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    alphas = value.get("alphas") if isinstance(value, dict) else None
    if not isinstance(alphas, np.ndarray) or alphas.shape != expected["alphas"].shape:
        return []
    sums = alphas.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-5):
        return [f"the attention weights of an example sum to {sums.round(3).tolist()}; over the input positions "
                "t' they must sum to 1"]
    return []


# ---------------------------------------------------------------- NMTModel

def nmt_weights(rng: np.random.Generator) -> list[np.ndarray]:
    """Weights in the shapes of the notebook's layers at the probe sizes, in torch's parameter order."""
    lstm = [float32(rng, 4 * N_A, N_E, scale=0.6), float32(rng, 4 * N_A, N_A, scale=0.6),
            float32(rng, 4 * N_A, scale=0.3), float32(rng, 4 * N_A, scale=0.3)]
    reverse = [float32(rng, *w.shape, scale=0.6) for w in lstm]
    return [float32(rng, N_IN, N_E), *lstm, *reverse,
            float32(rng, HIDDEN, 2 * N_A + N_S, scale=0.6), float32(rng, HIDDEN), float32(rng, 1, HIDDEN, scale=2.0),
            float32(rng, 1), float32(rng, N_OUT + 1, N_E),
            float32(rng, 4 * N_S, 2 * N_A + N_E, scale=0.5), float32(rng, 4 * N_S, N_S, scale=0.5),
            float32(rng, 4 * N_S, scale=0.3), float32(rng, 4 * N_S, scale=0.3),
            float32(rng, N_OUT, N_S, scale=1.5), float32(rng, N_OUT)]


def built_model(namespace: dict, weights: list[np.ndarray] | None) -> nn.Module:
    torch.manual_seed(MODEL_SEED)
    model = namespace["NMTModel"](n_a=N_A, n_s=N_S, n_e=N_E)
    if weights is not None and not load_by_shape(model, weights):
        raise RuntimeError("this notebook's NMTModel does not have the layers the notebook describes "
                           "(see the parameter count); fix NMTModel first")
    return model.eval()


def inputs(rng: np.random.Generator, lengths: list[int]) -> np.ndarray:
    X = np.zeros((len(lengths), T_X), dtype=np.int64)
    for i, n in enumerate(lengths):
        X[i, :n] = rng.integers(1, N_IN, size=n)
    return X


TWICE = "same logits twice"


def nmt_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    with torch.random.fork_rng(devices=[]):
        if kwargs["part"] == "size":
            torch.manual_seed(MODEL_SEED)
            model = namespace[name](n_a=N_A, n_s=N_S, n_e=N_E)
            return {"parameters": int(sum(p.numel() for p in model.parameters()))}
        model = built_model({**namespace, "NMTModel": namespace[name]}, kwargs["weights"])
        X, Y = torch.from_numpy(kwargs["X"]), torch.from_numpy(kwargs["Y"])
        expected = "the tuple (logits, alphas) of tensors"
        with torch.no_grad():
            logits, alphas = tensors(model(X, Y), 2, "forward", expected)
            again, _ = tensors(model(X, Y), 2, "forward", expected)
        logits = plain(logits)
        return {"logits": logits, "alphas": plain(alphas),
                TWICE: bool(logits.shape == tuple(again.shape) and np.array_equal(logits, plain(again)))}


def nmt_probes(rng, ref):
    X = inputs(rng, [T_X, 5, 3])
    return [Probe("size", {"part": "size"}),
            Probe("forward", {"part": "forward", "weights": nmt_weights(rng), "X": X,
                              "Y": rng.integers(0, N_OUT, size=(M, 4))}, "inputs of 7, 5 and 3 characters")]


def lstm_parameters(n_in: int, n: int) -> int:
    return 4 * n * (n_in + n) + 8 * n


def nmt_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name == "size":
        count = value.get("parameters") if isinstance(value, dict) else None
        want = expected["parameters"]
        if count is None or count == want:
            return []
        made = f"NMTModel(n_a={N_A}, n_s={N_S}, n_e={N_E})"
        if count == want - lstm_parameters(N_E, N_A):
            return [f"{made} has a one-directional encoder: use nn.LSTM(..., bidirectional=True)"]
        if count == want - (N_OUT + 1) * N_E - 4 * N_S * N_E:
            return [f"{made} has no embedding of the previous character: the LSTMCell reads [c<t>; embedding of "
                    "y<t-1>], with an embedding of N_OUT + 1 rows"]
        return [f"{made} has {count} parameters; the layers the notebook describes have {want}"]
    alphas = value.get("alphas") if isinstance(value, dict) else None
    if isinstance(alphas, np.ndarray) and alphas.ndim == 3 and not np.allclose(alphas.sum(-1), 1, atol=1e-4):
        return ["the attention weights of an output step do not sum to 1 over the input positions"]
    return []


def nmt_mistakes():
    return [Mistake(TWICE, "forward gives other logits when called twice on the same input: a layer is created "
                    "inside a method, with new random weights at every call; create every layer in __init__",
                    lambda ctx: False)]


NMT_LABELS = {"parameters": "the number of parameters", TWICE: "forward called twice"}
NMT_HINTS = {"logits": "forward returns logits (m, T_y, N_OUT): one output step per target character, stacked "
                       "on axis 1", "alphas": "forward returns alphas (m, T_y, T_x), the weights of every step"}


# ---------------------------------------------------------------- a table model for the searches

class TableModel:
    """A next-token model given by a table: P(y | prefix) is a seeded random distribution over ``vocab`` tokens,
    the last of which is ``eos``. It has NMTModel's search interface; its state carries the prefix as a number."""

    def __init__(self, seed: int, vocab: int, concentration: float):
        self.seed, self.vocab, self.concentration, self.eos = seed, vocab, concentration, vocab - 1

    def log_probs(self, prefix: tuple[int, ...]) -> np.ndarray:
        rng = np.random.default_rng([self.seed, *prefix])
        return np.log(rng.dirichlet(np.full(self.vocab, self.concentration)))

    def encode(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(len(X), 1, 1), torch.ones(len(X), 1, dtype=torch.bool)

    def start(self, m: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(m, 1, dtype=torch.float64), torch.zeros(m, 1, dtype=torch.float64)

    def step(self, y_prev: torch.Tensor, state, a, mask):
        codes = state[0][:, 0].tolist()
        prefixes = [self.prefix(int(code)) for code in codes]
        prefixes = [p if int(y) == SOS else (*p, int(y)) for p, y in zip(prefixes, y_prev.tolist())]
        new_codes = torch.tensor([[float(self.code(p))] for p in prefixes], dtype=torch.float64)
        logits = torch.tensor(np.array([self.log_probs(p) for p in prefixes]), dtype=torch.float64)
        return logits, (new_codes, state[1]), torch.ones(len(codes), 1)

    def code(self, prefix: tuple[int, ...]) -> int:
        return sum((y + 1) * (self.vocab + 1) ** i for i, y in enumerate(prefix))

    def prefix(self, code: int) -> tuple[int, ...]:
        out = []
        while code:
            code, digit = divmod(code, self.vocab + 1)
            out.append(digit - 1)
        return tuple(out)

    def exhaustive_best(self, max_len: int, alpha: float) -> tuple[list[int], float]:
        """The best output by length-normalised log-probability, over every output of at most max_len tokens."""
        best: tuple[list[int], float] = ([], -np.inf)
        for length in range(1, max_len + 1):
            for ys in itertools.product(range(self.vocab), repeat=length):
                if self.eos in ys[:-1] or (length < max_len and ys[-1] != self.eos):
                    continue  # an output ends at its eos, or when it reaches max_len
                total = sum(self.log_probs(ys[:t])[ys[t]] for t in range(length))
                if total / length ** alpha > best[1]:
                    best = (list(ys), total / length ** alpha)
        return best


def search_model(namespace: dict, kwargs: Kwargs):
    if kwargs["model"] == "table":
        return TableModel(kwargs["seed"], kwargs["vocab"], kwargs["concentration"])
    return built_model(namespace, kwargs["weights"])


def greedy_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    model = search_model(namespace, kwargs)
    indices, log_prob = namespace[name](model, torch.from_numpy(kwargs["x"]), max_len=kwargs["max_len"])
    return {"indices": [int(i) for i in indices], "log_prob": float(log_prob)}


def telling_seed(rng: np.random.Generator, ref: dict, table: Kwargs, B: int, alpha: float) -> int:
    """A table model's seed on which the beam of width B differs from the beams of width B² and 1, and from the
    same search without length normalisation, so that each of those mistakes changes the answer."""
    def best(**changes: Any) -> list[int]:
        kwargs = {**table, "beam_width": B, "alpha": alpha, **changes}
        return beam_driver(ref, "beam_search", kwargs)["outputs"][0]

    for _ in range(1000):
        table = {**table, "seed": int(rng.integers(2**31))}
        right = best()
        if right not in (best(beam_width=B * B), best(beam_width=1), best(alpha=0.0)):
            return table["seed"]
    raise RuntimeError("no table model tells the search mistakes apart")  # pragma: no cover - never seen


def ending_seed(rng: np.random.Generator, ref: dict, table: Kwargs) -> int:
    """A table model's seed on which greedy decoding chooses the end token before max_len, after two tokens or
    more, so that going on after it, or never feeding a choice back, changes the answer."""
    for _ in range(1000):
        table = {**table, "seed": int(rng.integers(2**31))}
        indices = greedy_driver(ref, "greedy_decode", table)["indices"]
        if 2 < len(indices) < table["max_len"] and len(set(indices)) > 1:
            return table["seed"]
    raise RuntimeError("no table model ends early under greedy decoding")  # pragma: no cover - never seen


def search_probes(rng: np.random.Generator, ref: dict, beam: bool) -> list[Probe]:
    extra = (lambda B, alpha: {"beam_width": B, "alpha": alpha}) if beam else (lambda B, alpha: {})
    x = inputs(rng, [5])[0]
    table = {"model": "table", "x": x, "vocab": 4, "concentration": 0.6, "max_len": 4 if beam else 6}

    def seed(B: int, alpha: float) -> int:
        return telling_seed(rng, ref, table, B, alpha) if beam else ending_seed(rng, ref, table)

    return [Probe("nmt", {"model": "nmt", "weights": nmt_weights(rng), "x": x, "max_len": 5, **extra(3, 0.7)},
                  "the notebook's model, random weights"),
            Probe("table", {**table, "seed": seed(2, 0.7), **extra(2, 0.7)}, "a table model with an end token"),
            Probe("table_2", {**table, "seed": seed(3, 1.0), **extra(3, 1.0)}, "a table model with an end token")]


def table_greedy(kwargs: Kwargs, feed_back: bool = True, stop: bool = True, logs: bool = True) -> dict:
    """What a greedy decoder with one slip returns on a table model: never feeding back its choice, not stopping
    at the end token, or adding up probabilities rather than their logarithms."""
    model = TableModel(kwargs["seed"], kwargs["vocab"], kwargs["concentration"])
    prefix, chosen, total = (), [], 0.0
    for _ in range(kwargs["max_len"]):
        log_p = model.log_probs(prefix if feed_back else ())
        y = int(np.argmax(log_p))
        chosen.append(y)
        total += log_p[y] if logs else np.exp(log_p[y])
        prefix = (*prefix, y)
        if stop and y == model.eos:
            break
    return {"indices": chosen, "log_prob": float(total)}


def greedy_mistakes():
    slips = {"greedy_decode never feeds its choice back: the input of the next step is the character just chosen":
             {"feed_back": False},
             "greedy_decode goes on after the end token: stop once model.eos is chosen (keep it in the output)":
             {"stop": False},
             "log_prob adds up probabilities; add up their logarithms (torch.log_softmax)": {"logs": False}}
    return [Mistake(out, message, lambda ctx, out=out, slip=slip: table_greedy(ctx.probe.kwargs, **slip)[out], probe)
            for message, slip in slips.items() for out in ("indices", "log_prob") for probe in ("table", "table_2")]


# ---------------------------------------------------------------- beam_search

def beam_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    model = search_model(namespace, kwargs)
    ranked = namespace[name](model, torch.from_numpy(kwargs["x"]), beam_width=kwargs["beam_width"],
                             alpha=kwargs["alpha"], max_len=kwargs["max_len"])
    ranked = list(ranked)[:kwargs.get("keep", len(ranked))]
    return {"outputs": [[int(i) for i in indices] for indices, _ in ranked],
            "scores": np.array([float(score) for _, score in ranked])}


def beam_probes(rng, ref):
    probes = search_probes(rng, ref, beam=True)
    table = probes[1].kwargs
    # Wider than the number of outputs (4 + 16 + 64 + 256 < 400): beam search is then exhaustive.
    probes.append(Probe("exhaustive", {**table, "seed": int(rng.integers(2**31)), "beam_width": 400, "alpha": 0.7,
                                       "keep": 1}, "a beam wider than the number of outputs"))
    return probes


def ranked_by(score: Callable[[list[float], int, float], float], steps_only: bool = False):
    """A mistaken beam search on a table model, keeping the B best candidates by ``score`` at every step.

    ``score(log_probs_so_far, length, alpha)`` ranks candidates; with ``steps_only`` they are chosen by their last
    step's log-probability alone (pruned before the prefix's score is added).
    """
    def search(kwargs: Kwargs) -> dict:
        model = TableModel(kwargs["seed"], kwargs["vocab"], kwargs["concentration"])
        B, alpha, alive, finished = kwargs["beam_width"], kwargs["alpha"], [((), [])], []
        for _ in range(kwargs["max_len"]):
            candidates = [((*ys, y), steps + [float(model.log_probs(ys)[y])])
                          for ys, steps in alive for y in range(model.vocab)]
            key = (lambda c: c[1][-1]) if steps_only else (lambda c: score(c[1], len(c[0]), 0.0))
            candidates.sort(key=key, reverse=True)
            alive = []
            for ys, steps in candidates[:B]:
                (finished if ys[-1] == model.eos else alive).append((ys, steps))
            if not alive:
                break
        ranked = sorted(((list(ys), score(steps, len(ys), alpha)) for ys, steps in finished + alive),
                        key=lambda item: item[1], reverse=True)[:B]
        return {"outputs": [ys for ys, _ in ranked], "scores": np.array([s for _, s in ranked])}
    return search


def log_score(steps: list[float], length: int, alpha: float) -> float:
    return sum(steps) / length ** alpha


def probability_score(steps: list[float], length: int, alpha: float) -> float:
    return float(np.exp(sum(steps))) / length ** alpha


def beam_mistakes():
    outputs = ["outputs", "scores"]
    found = like_reference("beam_search does not normalise by length: the score of y is log P(y|x) / T**alpha",
                           changed(alpha=0.0), outputs)
    found += like_reference("beam_search keeps B² hypotheses at each step; keep only the B best of all extensions",
                            lambda ctx: {**ctx.probe.kwargs, "beam_width": ctx.probe.kwargs["beam_width"] ** 2,
                                         "keep": ctx.probe.kwargs["beam_width"]}, outputs)
    for probe in ("table", "table_2"):
        for out in outputs:
            found.append(Mistake(out, "beam_search multiplies probabilities instead of adding log-probabilities "
                                 "(torch.log_softmax)", lambda ctx, out=out: ranked_by(probability_score)(ctx.probe.kwargs)[out],
                                 probe))
            found.append(Mistake(out, "beam_search chooses the B extensions by their last step's probability alone; "
                                 "rank them by the whole prefix's log-probability plus the step's",
                                 lambda ctx, out=out: ranked_by(log_score, steps_only=True)(ctx.probe.kwargs)[out], probe))
    return found


def beam_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name != "exhaustive" or not isinstance(value, dict) or not value.get("outputs"):
        return []
    kw = probe.kwargs
    best, _ = TableModel(kw["seed"], kw["vocab"], kw["concentration"]).exhaustive_best(kw["max_len"], kw["alpha"])
    if value["outputs"][0] != best:
        return [f"with a beam wider than the number of possible outputs, beam search must return the best output "
                f"by exhaustive search, {best}; it returned {value['outputs'][0]}"]
    return []


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,
    memory_mb=1536,
    functions=(
        GradedFunction("one_step_attention", (), attention_probes, attention_mistakes, driver=attention_driver,
                       rtol=RTOL, properties=attention_properties),
        GradedFunction("NMTModel", (), nmt_probes, nmt_mistakes, uses=("one_step_attention",), driver=nmt_driver,
                       labels=NMT_LABELS, hints=NMT_HINTS, rtol=RTOL, properties=nmt_properties),
        GradedFunction("greedy_decode", (), lambda rng, ref: search_probes(rng, ref, beam=False), greedy_mistakes,
                       uses=("NMTModel", "one_step_attention"), driver=greedy_driver, rtol=RTOL),
        GradedFunction("beam_search", (), beam_probes, beam_mistakes, uses=("NMTModel", "one_step_attention"),
                       driver=beam_driver, rtol=RTOL, properties=beam_properties),
    ),
)
