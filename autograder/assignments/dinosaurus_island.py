"""Dinosaurus Island: probes and recognisable mistakes for clip, sample, optimize and model.

``clip``, ``optimize`` and ``model`` are deterministic and are compared with the reference
exactly. Their drivers also return what the call did to its inputs (the gradients passed to
``clip``, the parameters passed to ``optimize``), so "modifies its input" and "does not update
in place" are visible as plain data.

``sample`` is random, so it is judged by statistics, never by one lucky sequence. Its driver
draws thousands of names with one seeded ``np.random.Generator`` inside the sandbox and returns
them as an array. The grader then computes, for every prefix that was drawn at least
``MIN_PREFIX`` times (the empty prefix, i.e. the first character, then the second character
given the first, and so on), the exact next-character distribution of the probe's model
(``seqmodels.char_rnn.rnn_step_forward``) and tests the observed frequencies against it.

The test uses the L1 deviation bound for empirical distributions (Weissman, Ordentlich,
Seroussi, Verdú and Weinberger, 2003): for n independent draws from a distribution p over k
symbols, P(||p̂ - p||_1 >= eps) <= (2^k - 2) exp(-n eps^2 / 2). Draws after a given prefix are
independent draws from p whatever the number n of times the prefix occurred, so the bound
holds given n. Each prefix is tested at level ALPHA / M, where M bounds the number of prefixes
that can be tested (at each depth they are disjoint and each needs MIN_PREFIX draws). By the
union bound a correct ``sample`` fails a probe with probability at most ALPHA = 1e-6 (all three
probes together: 3e-6), with no large-sample approximation. The parameters of the "statistics"
probe were picked, among random candidates rounded to one decimal, so that each sampling
mistake recognised below moves some tested next-character distribution at least seven times
further than the threshold.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np

from autograder.mistakes import changed, like_reference, zeroed
from autograder.runtime import load_reference
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe
from autograder.verdict import describe
from seqmodels.char_rnn import rnn_step_forward
from seqmodels.names import load_names, vocabulary

ID = "dinosaurus_island"
GRADS = ("dWax", "dWaa", "dWya", "db", "dby", "da_next")
PARAMS = ("Wax", "Waa", "Wya", "b", "by")
N_A, N_V, T = 4, 6, 8  # optimize probe: hidden units, vocabulary, name length (pairwise different)





# ---------------------------------------------------------------- clip


def clip_driver(namespace: dict, name: str, kwargs: dict) -> tuple:
    """The clipped dict and the input dict as it is after the call."""
    gradients = kwargs["gradients"]
    return namespace[name](gradients=gradients, max_value=kwargs["max_value"]), gradients


def random_gradients(rng: np.random.Generator, keys: tuple[str, ...], scale: float) -> dict:
    """Each array has an entry far above the bounds, one far below and a small negative one inside."""
    shapes = {"dWax": (N_A, N_V), "dWaa": (N_A, N_A), "dWya": (N_V, N_A), "db": (N_A, 1),
              "dby": (N_V, 1), "da_next": (N_A, 1)}
    grads = {}
    for key in keys:
        g = rng.standard_normal(shapes[key]) * scale
        g.flat[0], g.flat[1], g.flat[-1] = 3 * scale, -0.1 * scale, -3 * scale
        grads[key] = g
    return grads


def clip_probes(rng, ref):
    return [Probe("random", {"gradients": random_gradients(rng, GRADS, 3.0), "max_value": 2.5}),
            Probe("no_da_next", {"gradients": random_gradients(rng, GRADS[:5], 6.0), "max_value": 7.0})]


def rescaled(ctx: Context, key: str, total: bool) -> np.ndarray:
    """Norm clipping: the array (or all of them) scaled down to norm max_value."""
    grads, m = ctx.probe.kwargs["gradients"], ctx.probe.kwargs["max_value"]
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values())) if total else np.linalg.norm(grads[key])
    return grads[key] * (m / norm if norm > m else 1.0)


def clip_mistakes():
    def filled(out: str, sign: int):
        return lambda ctx: np.full_like(ctx.expected[out], sign * ctx.probe.kwargs["max_value"])

    found = []
    for key in GRADS:
        out = f"returned[{key!r}]"
        found += [
            Mistake(f"input[{key!r}]", "clip changes the arrays it is given (it clips them in place); "
                    "leave gradients unchanged and return clipped copies", lambda ctx, out=out: ctx.expected[out]),
            Mistake(out, "{output} is not clipped: clip every array in the dict",
                    lambda ctx, k=key: ctx.probe.kwargs["gradients"][k]),
            Mistake(out, "clip loses the signs of negative entries (absolute values?)",
                    lambda ctx, out=out: np.abs(ctx.expected[out])),
            Mistake(out, "clip's lower and upper bounds are swapped (every entry becomes -max_value)", filled(out, -1)),
            Mistake(out, "clip's lower and upper bounds are swapped (every entry becomes max_value)", filled(out, 1)),
            Mistake(out, "clip clips to [0, max_value]; the lower bound is -max_value",
                    lambda ctx, out=out: np.maximum(ctx.expected[out], 0.0)),
            Mistake(out, "clip rescales each array by its norm; this exercise clips each entry on its own",
                    lambda ctx, k=key: rescaled(ctx, k, total=False)),
            Mistake(out, "clip rescales the gradients by their total norm; this exercise clips each entry on its own",
                    lambda ctx, k=key: rescaled(ctx, k, total=True)),
            *like_reference("clip ignores max_value (it clips at 5)", changed(max_value=5.0), [out]),
        ]
    return found


def clip_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    returned, keys = value[0], list(probe.kwargs["gradients"])
    if not isinstance(returned, dict):
        return [f"clip returned {describe(returned)}; expected a dict with the keys of gradients "
                f"({', '.join(keys)})"]
    missing = [k for k in keys if k not in returned]
    if missing:
        return [f"the dict clip returns lacks the keys {', '.join(missing)}: keep every key of gradients"]
    return []


CLIP_LABELS = {**{f"returned[{k!r}]": f"{k} in the returned dict" for k in GRADS},
               **{f"input[{k!r}]": f"gradients[{k!r}] after the call" for k in GRADS}}


# ---------------------------------------------------------------- sample

ALPHA = 1e-6  # largest chance that a correct sample fails one probe
MIN_PREFIX = 200  # prefixes drawn fewer times are not tested
# Five symbols, the end symbol at index 2 (not 0: the end index must come from char_to_ix).
SMALL_VOCAB = {"a": 0, "b": 1, "\n": 2, "c": 3, "d": 4}
# Fixed parameters, n_a = 3: W_ax is large, so the next character depends strongly on the one just
# drawn, and W_aa too, so it also depends on the characters before; the five symbols are each
# between 8% and 45% likely as the first character (the end symbol 16%).
STATISTICS_PARAMETERS = {
    "Wax": [[1.1, 1.1, -1.2, 0.0, 0.0], [0.1, 4.4, -0.6, -0.6, -0.9], [2.1, -0.8, -0.2, 1.8, 1.5]],
    "Waa": [[-1.9, 3.6, 0.6], [1.9, 0.7, 3.4], [-0.7, -1.2, 0.8]],
    "Wya": [[2.1, 0.0, 1.4], [2.4, -2.1, 2.1], [1.7, -0.7, -0.1], [-0.7, 1.3, -0.9], [1.0, 2.1, -2.6]],
    "b": [[0.5], [-0.1], [-0.5]],
    "by": [[0.1], [0.0], [-0.5], [-0.2], [0.0]],
}


def sample_driver(namespace: dict, name: str, kwargs: dict) -> dict:
    """Inside the sandbox: draw ``draws`` names with one seeded Generator.

    Returns plain data: the names as rows of an int array padded with -1 (cut after
    max_length + 1 entries), their full lengths, the first problem with a result's form
    (or ""), and in how many of 3 seeds two calls on generators in the same state disagreed.
    """
    fn, cap = namespace[name], kwargs.get("max_length") or 50
    extra = {"max_length": kwargs["max_length"]} if kwargs.get("max_length") else {}

    def draw(rng: np.random.Generator) -> list[int] | str:
        return _indices(fn(parameters=kwargs["parameters"], char_to_ix=kwargs["char_to_ix"], rng=rng, **extra))

    rng = np.random.default_rng(kwargs["seed"])
    drawn = np.full((kwargs["draws"], cap + 1), -1, dtype=np.int64)
    lengths = np.zeros(kwargs["draws"], dtype=np.int64)
    for i in range(kwargs["draws"]):
        seq = draw(rng)
        if isinstance(seq, str):
            return {"drawn": drawn[:0], "lengths": lengths[:0], "problem": seq, "unrepeatable": 0}
        lengths[i] = len(seq)
        drawn[i, : min(len(seq), cap + 1)] = seq[: cap + 1]
    unrepeatable = sum(draw(np.random.default_rng([kwargs["seed"], s])) != draw(np.random.default_rng(
        [kwargs["seed"], s])) for s in range(3))
    return {"drawn": drawn, "lengths": lengths, "problem": "", "unrepeatable": int(unrepeatable)}


def _indices(result: Any) -> list[int] | str:
    """The result as a list of Python ints, or a description of what is wrong with its form."""
    if type(result) is not list:
        return f"returned {describe(result)}; expected a list of int indices"
    if any(type(i) is str for i in result):
        return "returns characters; it must return their integer indices (char_to_ix gives them)"
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in result):
        return "returned a list that holds something other than int indices"
    return [int(i) for i in result]


def sample_probes(rng, ref):
    params = {k: np.array(v) for k, v in STATISTICS_PARAMETERS.items()}
    never_ends = {**params, "by": params["by"] - 40.0 * (np.arange(5) == SMALL_VOCAB["\n"])[:, None]}
    char_to_ix, _ = vocabulary()
    n_a = 6
    untrained = {"Wax": rng.standard_normal((n_a, 27)) * 0.1, "Waa": rng.standard_normal((n_a, n_a)) * 0.1,
                 "Wya": rng.standard_normal((27, n_a)) * 0.1, "b": np.zeros((n_a, 1)), "by": np.zeros((27, 1))}
    return [
        Probe("statistics", {"parameters": params, "char_to_ix": SMALL_VOCAB, "seed": 11, "draws": 6000,
                             "max_length": 8}, compare=False),
        Probe("never_ends", {"parameters": never_ends, "char_to_ix": SMALL_VOCAB, "seed": 12, "draws": 200,
                             "max_length": 4}, compare=False),
        # Default max_length (50): with 27 nearly equally likely symbols about 1 name in 6 reaches it.
        Probe("default_length", {"parameters": untrained, "char_to_ix": char_to_ix, "seed": 13, "draws": 300,
                                 "max_length": None}, compare=False),
    ]


def next_distribution(params: dict, prefix: tuple[int, ...], variant: str = "right") -> np.ndarray:
    """The model's distribution of the character after ``prefix`` (indices), or a buggy sampler's.

    Variants: "right"; "reset" (a⟨t-1⟩ set back to zero at every step); "no_feedback" (x stays
    zero); "several_hot" (x keeps the ones of all earlier characters).
    """
    vocab, n_a = params["by"].shape[0], params["Waa"].shape[0]
    a, x = np.zeros((n_a, 1)), np.zeros((vocab, 1))
    for c in (None, *prefix):
        if c is not None and variant != "no_feedback":
            if variant != "several_hot":
                x = np.zeros((vocab, 1))
            x[c] = 1.0
        if variant == "reset":
            a = np.zeros((n_a, 1))
        a, y = rnn_step_forward(params, a, x)
    return y.ravel()


VARIANTS = {
    "reset": "sample sets the hidden state back to zero at every step; carry a_next over to the next step",
    "no_feedback": "sample does not feed the drawn character back: the next input x must be its one-hot column",
    "several_hot": "the input x has several ones: make a fresh one-hot column for each drawn character",
}


def l1_threshold(n: int, k: int, tests: int) -> float:
    """eps with (2^k - 2) exp(-n eps^2 / 2) = ALPHA / tests."""
    return math.sqrt(2.0 * (math.log(2.0 ** k - 2.0) + math.log(tests / ALPHA)) / n)


def sample_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if value["problem"]:
        return [f"sample {value['problem']}"]
    kw = probe.kwargs
    params, end, cap = kw["parameters"], kw["char_to_ix"]["\n"], kw["max_length"] or 50
    seqs = [[int(c) for c in row[:n]] for row, n in zip(value["drawn"], value["lengths"])]
    problems = _form_problems(seqs, value["lengths"], end, cap, params["by"].shape[0], probe.name == "never_ends")
    if problems:
        return problems
    if value["unrepeatable"]:
        return ["sample does not draw only with the rng it is given: two calls on generators in the same state "
                "returned different names (np.random or another generator?)"]
    if len(set(map(tuple, seqs))) == 1 and len(seqs) > 1:
        greedy = _greedy(params, end, cap)
        if seqs[0] == greedy:
            return ["sample always takes the most likely character (argmax); draw it from the distribution "
                    "with rng.choice"]
        return ["every call of sample returned the same name: draw each character with the rng passed in"]
    return _statistics_problems(seqs, params, end, cap, kw["char_to_ix"], kw["draws"])


def _form_problems(seqs: list[list[int]], lengths: np.ndarray, end: int, cap: int, vocab: int,
                   never_ends: bool) -> list[str]:
    if any(not 0 <= c < vocab for s in seqs for c in s):
        return [f"sample returned indices outside 0 ... {vocab - 1} (the vocabulary has {vocab} symbols)"]
    longest = int(lengths.max())
    if longest > cap:
        return [f"sample returned a list of {longest} entries with max_length={cap}: max_length counts the end "
                "index, so draw at most max_length - 1 characters"]
    if any(not s for s in seqs):
        return ["sample returned an empty list; it must end with the end index char_to_ix['\\n']"]
    unended = [s for s in seqs if s[-1] != end]
    if end != 0 and unended and all(s[-1] == 0 for s in unended):
        return [f"sample stops at index 0, but the end index is char_to_ix['\\n'] (here {end})"]
    if any(end in s[:-1] for s in seqs):
        return ["the end index appears before the last entry: stop as soon as it is drawn"]
    if unended:
        if all(len(s) == cap - 1 for s in unended):
            return [f"a name cut off at the length cap must still end with the end index char_to_ix['\\n'] "
                    f"(max_length={cap}: {cap - 1} drawn characters, then the end index)"]
        return ["the returned list must end with the end index char_to_ix['\\n']"]
    if never_ends and int(lengths.min()) < cap:
        return [f"with an end symbol that is never drawn, sample returned {int(lengths.min())} entries for "
                f"max_length={cap}; it must draw max_length - 1 characters, then append the end index"]
    return []


def _greedy(params: dict, end: int, cap: int) -> list[int]:
    seq: list[int] = []
    while len(seq) < cap - 1:
        seq.append(int(np.argmax(next_distribution(params, tuple(seq)))))
        if seq[-1] == end:
            return seq
    return seq + [end]


def _statistics_problems(seqs: list[list[int]], params: dict, end: int, cap: int, char_to_ix: dict,
                         draws: int) -> list[str]:
    """Test the next-character frequencies after every often-drawn prefix, shallowest first."""
    vocab = params["by"].shape[0]
    counts: dict[tuple[int, ...], np.ndarray] = {}
    for s in seqs:
        for t, c in enumerate(s[: cap - 1]):  # at most cap - 1 drawn; an end index at position cap was appended
            counts.setdefault(tuple(s[:t]), np.zeros(vocab))[c] += 1
    tests = max(1, (cap - 1) * (draws // MIN_PREFIX))  # at most this many prefixes can reach MIN_PREFIX
    chars = {i: c for c, i in char_to_ix.items()}
    for prefix in sorted((p for p, c in counts.items() if c.sum() >= MIN_PREFIX), key=len):
        n = int(counts[prefix].sum())
        freq, eps = counts[prefix] / n, l1_threshold(n, vocab, tests)
        p = next_distribution(params, prefix)
        if np.abs(freq - p).sum() < eps:
            continue
        where = ("the first character" if not prefix else
                 f"the character after {''.join(chars.get(c, '?') for c in prefix)!r}")
        found = [f"{where} is not drawn from the model's softmax: over {n} draws its frequencies "
                 f"({_fmt(freq)}) are far from the probabilities ({_fmt(p)})"]
        for variant, message in VARIANTS.items():
            if prefix and np.abs(freq - next_distribution(params, prefix, variant)).sum() < eps:
                found.insert(0, f"likely mistake: {message}")
                break
        return found
    return []


def _fmt(p: np.ndarray) -> str:
    return " ".join(f"{x:.2f}" for x in p)


# ---------------------------------------------------------------- optimize


def optimize_driver(namespace: dict, name: str, kwargs: dict) -> tuple:
    """(loss, gradients, a_last, the caller's parameters after the call)."""
    result = namespace[name](**kwargs)
    if type(result) not in (tuple, list) or len(result) != 3:
        raise TypeError(f"optimize must return (loss, gradients, a_last); it returned {describe(result)}")
    return (*result, kwargs["parameters"])


def optimize_probes(rng, ref):
    def probe(name: str, a_prev: np.ndarray, note: str = "") -> Probe:
        Y = [int(i) for i in rng.integers(1, N_V, T - 1)] + [0]
        params = {"Wax": rng.standard_normal((N_A, N_V)), "Waa": rng.standard_normal((N_A, N_A)),
                  "Wya": rng.standard_normal((N_V, N_A)) * 3.0, "b": rng.standard_normal((N_A, 1)),
                  "by": rng.standard_normal((N_V, 1))}
        # learning_rate and max_value differ from their defaults and from each other. A large W_ya
        # makes the gradients large: about half of their entries are clipped at 0.7, and some
        # exceed 5 (so a clip at the default 5 is told apart from no clip).
        return Probe(name, {"X": [None] + Y[:-1], "Y": Y, "a_prev": a_prev, "parameters": params,
                            "learning_rate": 0.2, "max_value": 0.7}, note)
    return [probe("random", rng.standard_normal((N_A, 1))), probe("zero_a_prev", np.zeros((N_A, 1)), "a_prev = 0")]


def optimize_mistakes():
    updated = [f"parameters_after[{k!r}]" for k in PARAMS]
    grads = [f"gradients[{k!r}]" for k in GRADS]

    def loss_after(ctx: Context) -> float:
        after = {k: ctx.expected[f"parameters_after[{k!r}]"] for k in PARAMS}
        return ctx.reference({**ctx.probe.kwargs, "parameters": after})["loss"]

    swapped = lambda ctx: {**ctx.probe.kwargs, "learning_rate": ctx.probe.kwargs["max_value"],  # noqa: E731
                           "max_value": ctx.probe.kwargs["learning_rate"]}
    # Messages name no output, so one mistake seen in several outputs is reported once. Updated
    # parameters are matched only against mistakes of the update itself: when every entry of a
    # gradient is clipped, the update depends only on the signs and on learning_rate * max_value,
    # so other mistakes can coincide there by chance (a swap of the two, for one).
    return [
        *like_reference("optimize ignores a_prev: the forward pass must start from a_prev, not from zeros",
                        lambda ctx: zeroed(ctx.probe.kwargs, ("a_prev",)), ["loss", "a_last"] + grads),
        Mistake("loss", "loss is measured after the update; return the loss of the forward pass before it",
                loss_after),
        Mistake("a_last", "a_last is a_prev, the state you started from; return the last hidden state a⟨T⟩",
                lambda ctx: ctx.probe.kwargs["a_prev"]),
        *[Mistake(out, "the caller's parameters are unchanged: update the dict passed in, in place "
                  "(update_parameters does), rather than a new one", lambda ctx, k=k: ctx.probe.kwargs["parameters"][k])
          for k, out in zip(PARAMS, updated)],
        # Not clipping at all and clipping at 5 agree on arrays with no entry beyond 5: both messages hold then.
        *like_reference("the returned gradients are not clipped to [-max_value, max_value]", changed(max_value=np.inf),
                        grads),
        *like_reference("the parameters are updated with gradients not clipped to [-max_value, max_value]: clip "
                        "them before updating", changed(max_value=np.inf), updated),
        *like_reference("optimize ignores max_value (it clips at 5)", changed(max_value=5.0), grads + updated),
        *like_reference("optimize ignores learning_rate (it uses 0.01)", changed(learning_rate=0.01), updated),
        *like_reference("learning_rate and max_value are swapped", swapped, grads),
    ]


# ---------------------------------------------------------------- model


def _run_model(namespace: dict, name: str, kwargs: dict) -> Any:
    kw = dict(kwargs)
    seed = kw.pop("seed")
    return namespace[name](**kw, rng=None if seed is None else np.random.default_rng(seed))


def model_driver(namespace: dict, name: str, kwargs: dict) -> tuple:
    """(parameters, history) with each history list turned into a float array."""
    result = _run_model(namespace, name, kwargs)
    if type(result) not in (tuple, list) or len(result) != 2 or type(result[1]) is not dict:
        raise TypeError(f"model must return (parameters, history) with history a dict; it returned {describe(result)}")
    history = {key: _float_array(values) for key, values in result[1].items()}
    return result[0], history


def _float_array(values: Any) -> Any:
    if type(values) in (list, tuple) and all(isinstance(v, (int, float, np.number)) for v in values):
        return np.array(values, dtype=np.float64)
    return values


def model_probes(rng, ref):
    short = [n for n in load_names() if len(n) <= 7]
    names = [short[i] for i in rng.choice(len(short), 5, replace=False)]
    char_to_ix, ix_to_char = vocabulary()
    common = {"names": names, "ix_to_char": ix_to_char, "char_to_ix": char_to_ix, "sample_every": 0}
    # 12 steps over 5 names: the shuffled list is walked through more than twice.
    return [Probe("random", {**common, "num_iterations": 12, "n_a": 6, "seed": 3, "learning_rate": 0.05,
                             "max_value": 1.0, "beta": 0.9}),
            Probe("defaults", {**common, "num_iterations": 4, "n_a": 5, "seed": None})]




def _reference_modelchanged(ctx: Context, **replace) -> dict:
    """Outputs of the reference model with some helpers it calls replaced (``name -> factory(ref)``)."""
    from autograder.grade import normalise
    from autograder.verdict import leaves

    ref = load_reference(ASSIGNMENT)
    model = ref["model"]
    patched = types.FunctionType(model.__code__, {**ref, **{k: make(ref) for k, make in replace.items()}},
                                 model.__name__, model.__defaults__)
    value = normalise(model_driver({"model": patched}, "model", ctx.probe.kwargs))
    return leaves(value, ("parameters", "history"))


def _carrying(ref: dict):
    """optimize started from the previous name's last state instead of zeros."""
    state: dict = {}

    def optimize(X, Y, a_prev, *args, **kwargs):
        loss, gradients, state["a"] = ref["optimize"](X, Y, state.get("a", a_prev), *args, **kwargs)
        return loss, gradients, state["a"]
    return optimize


def _one_step_ahead(ctx: Context):
    """name_to_example as if step s trained on the name the reference trains on at step s + 1."""
    trained: list[str] = []

    def recording(ref: dict):
        return lambda name, char_to_ix: (trained.append(name), ref["name_to_example"](name, char_to_ix))[1]

    _reference_modelchanged(ctx, name_to_example=recording)
    period = len(ctx.probe.kwargs["names"])

    def shifted(ref: dict):
        calls = iter(range(len(trained)))
        return lambda name, char_to_ix: ref["name_to_example"](trained[(next(calls) + 1) % period], char_to_ix)
    return shifted


def model_mistakes():
    history = ["history['loss']", "history['perplexity']"]
    trained = [f"parameters[{k!r}]" for k in PARAMS] + history

    def patched(message: str, outputs: list[str], **replace) -> list[Mistake]:
        return [Mistake(out, message, lambda ctx, out=out: _reference_modelchanged(ctx, **replace)[out])
                for out in outputs]

    def start_at_zero(ctx: Context, out: str) -> np.ndarray:
        beta = ctx.probe.kwargs.get("beta", 0.999)
        steps = np.arange(1, len(ctx.expected[out]) + 1)
        loss = ctx.expected["history['loss']"] - beta ** steps * np.log(len(ctx.probe.kwargs["char_to_ix"]))
        return loss if out == "history['loss']" else np.exp(loss)

    return [
        *[Mistake(out, "the names are taken one step early: step 1 must train on the first name of the shuffled "
                  "order (an off-by-one in the step index)",
                  lambda ctx, out=out: _reference_modelchanged(ctx, name_to_example=_one_step_ahead(ctx))[out])
          for out in trained],
        *patched("each name must start from a zero hidden state; model carries a_last over from the previous name",
                 trained, optimize=_carrying),
        *patched("the smoothed loss averages the total loss of each name; smooth the per-character loss "
                 "(per_char_loss)", history, per_char_loss=lambda ref: lambda loss, Y: loss),
        *like_reference("history['loss'] is not smoothed: it holds each name's own per-character loss",
                        changed(beta=0.0), history),
        *[Mistake(out, "the smoothed loss starts from 0; start it from log(vocab_size), the loss of a uniform guess",
                  lambda ctx, out=out: start_at_zero(ctx, out)) for out in history],
        *like_reference("model ignores beta (it uses 0.999)", changed(beta=0.999), history),
        *like_reference("model ignores the rng passed in", changed(seed=None), trained),
        *like_reference("model passes neither learning_rate nor max_value on to optimize",
                        changed(learning_rate=0.01, max_value=5.0), trained),
        *like_reference("model does not pass learning_rate on to optimize", changed(learning_rate=0.01), trained),
        *like_reference("model does not pass max_value on to optimize", changed(max_value=5.0), trained),
        Mistake("history['step']", "history['step'] counts from 0; steps are numbered 1, 2, ..., num_iterations",
                lambda ctx: ctx.expected["history['step']"] - 1),
    ]


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,
    memory_mb=1536,
    functions=(
        GradedFunction("clip", ("returned", "input"), clip_probes, clip_mistakes, driver=clip_driver,
                       labels=CLIP_LABELS, properties=clip_properties),
        GradedFunction("sample", (), sample_probes, driver=sample_driver, properties=sample_properties),
        GradedFunction("optimize", ("loss", "gradients", "a_last", "parameters_after"), optimize_probes,
                       optimize_mistakes, uses=("clip",), driver=optimize_driver,
                       labels={f"parameters_after[{k!r}]": f"parameters[{k!r}] after the call" for k in PARAMS},
                       hints={"a_last": "a_last must stay a column of shape (n_a, 1): keep the last column as a "
                              "2-D slice"}),
        GradedFunction("model", ("parameters", "history"), model_probes, model_mistakes,
                       uses=("optimize", "sample"), driver=model_driver,
                       time_axis=("history['loss']", "history['perplexity']", "history['step']"),
                       hints={"history": "history needs one entry per step, steps 1 to num_iterations"}),
    ),
)
