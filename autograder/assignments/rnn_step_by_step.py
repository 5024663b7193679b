"""Assignment 1, "Building an RNN step by step": probes and recognisable mistakes.

Sizes are pairwise different (n_x=3, n_a=5, n_y=2, m=7, T_x=4) so that a mixed-up axis
shows up as a wrong shape rather than as a silently wrong number.
"""

from __future__ import annotations

import numpy as np

from autograder.mistakes import (ignores, reference_with, softmax_mistakes, stored_previous_step,
                                 wrong_activation, zeroed)
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe

N_X, N_A, N_Y, M, T_X = 3, 5, 2, 7, 4
# Where each LSTM quantity sits in lstm_cell_forward's cache, and how messages name it.
LSTM_CACHE = {"a_next": 0, "c_next": 1, "a_prev": 2, "c_prev": 3, "ft": 4, "it": 5, "cct": 6, "ot": 7, "xt": 8}
LSTM_LABELS = {"a_next": "a_next", "c_next": "c_next", "a_prev": "a_prev", "c_prev": "c_prev",
               "ft": "the forget gate Γ_f (ft)", "it": "the update gate Γ_u (it)",
               "cct": "the candidate c̃ (cct)", "ot": "the output gate Γ_o (ot)", "xt": "xt"}
# The reference's intermediate values in the LSTM backward step, so that a message can say which
# gate's gradient is wrong first.
LSTM_BACKWARD_LABELS = {"dot": "dΓ_o, the output gate's gradient,", "dcct": "dc̃, the candidate's gradient,",
                        "dit": "dΓ_u, the update gate's gradient,", "dft": "dΓ_f, the forget gate's gradient,",
                        "dc": "the gradient reaching c⟨t⟩ (dc_next plus the path through a⟨t⟩)",
                        "tanh_c": "tanh(c⟨t⟩)", "dconcat": "the gradient of [a⟨t-1⟩; x⟨t⟩]"}
CARRIED = {"da_prevt": "the da_prev returned by step t+1", "dc_prevt": "the dc_prev returned by step t+1"}
RNN_LABELS = {"cache[0]": "cache[0] (a_next)", "cache[1]": "cache[1] (a_prev)", "cache[2]": "cache[2] (xt)"}


def rnn_parameters(rng: np.random.Generator) -> dict:
    return {"Wax": rng.standard_normal((N_A, N_X)), "Waa": rng.standard_normal((N_A, N_A)) * 0.5,
            "Wya": rng.standard_normal((N_Y, N_A)), "ba": rng.standard_normal((N_A, 1)),
            "by": rng.standard_normal((N_Y, 1))}


def lstm_parameters(rng: np.random.Generator) -> dict:
    p = {}
    for g in "fico":
        p[f"W{g}"] = rng.standard_normal((N_A, N_A + N_X)) * 0.7
        p[f"b{g}"] = rng.standard_normal((N_A, 1))
    p["Wy"], p["by"] = rng.standard_normal((N_Y, N_A)), rng.standard_normal((N_Y, 1))
    return p


def with_zero(name: str, kwargs: dict, path: tuple, note: str) -> Probe:
    return Probe(name, zeroed(kwargs, path), note)


def last_step_only(rng: np.random.Generator, kwargs: dict) -> Probe:
    """da is zero except at the last step, so earlier gradients can only arrive through the recurrence."""
    da = np.zeros_like(kwargs["da"])
    da[:, :, -1] = rng.standard_normal(da.shape[:2])
    return Probe("last_step", {**kwargs, "da": da})


# ---------------------------------------------------------------- forward, basic RNN

def rnn_cell_forward_probes(rng, ref):
    base = {"xt": rng.standard_normal((N_X, M)), "a_prev": rng.standard_normal((N_A, M)),
            "parameters": rnn_parameters(rng)}
    return [Probe("random", base),
            with_zero("zero_x", base, ("xt",), "x⟨t⟩ = 0"),
            with_zero("zero_a_prev", base, ("a_prev",), "a⟨t-1⟩ = 0"),
            with_zero("zero_ba", base, ("parameters", "ba"), "b_a = 0"),
            with_zero("zero_by", base, ("parameters", "by"), "b_y = 0")]


def output_logits(weight: str, a_path: str):
    """The logits W a + b_y, from the *reference* state, for softmax diagnoses."""
    return lambda ctx: ctx.probe.kwargs["parameters"][weight] @ ctx.expected[a_path] + ctx.probe.kwargs["parameters"]["by"]


def rnn_cell_forward_mistakes():
    return (wrong_activation("a_next", "tanh")
            + ignores("b_a", ("parameters", "ba"), ["a_next"])
            + ignores("x⟨t⟩ (the W_ax x⟨t⟩ term)", ("xt",), ["a_next"])
            + ignores("a⟨t-1⟩ (the W_aa a⟨t-1⟩ term)", ("a_prev",), ["a_next"])
            + ignores("b_y", ("parameters", "by"), ["yt_pred"])
            + softmax_mistakes("yt_pred", output_logits("Wya", "a_next")))


# ---------------------------------------------------------------- forward over time

def rnn_forward_probes(rng, ref):
    return [Probe("random", {"x": rng.standard_normal((N_X, M, T_X)), "a0": rng.standard_normal((N_A, M)),
                             "parameters": rnn_parameters(rng)})]


def lstm_cell_forward_probes(rng, ref):
    base = {"xt": rng.standard_normal((N_X, M)), "a_prev": rng.standard_normal((N_A, M)),
            "c_prev": rng.standard_normal((N_A, M)), "parameters": lstm_parameters(rng)}
    return [Probe("random", base),
            with_zero("zero_c_prev", base, ("c_prev",), "c⟨t-1⟩ = 0"),
            *[with_zero(f"zero_b{g}", base, ("parameters", f"b{g}"), f"b_{g} = 0") for g in "fico"]]


def lstm_cell_forward_mistakes():
    def cache(name: str) -> str:
        return f"cache[{LSTM_CACHE[name]}]"

    def gate(ctx: Context, name: str) -> np.ndarray:
        return ctx.expected[cache(name)]

    found = [
        Mistake("c_next", "c_next swaps the gates: Γ_f must scale c⟨t-1⟩ and Γ_u the candidate c̃⟨t⟩",
                lambda ctx: gate(ctx, "ft") * gate(ctx, "cct") + gate(ctx, "it") * ctx.probe.kwargs["c_prev"]),
        Mistake("c_next", "c_next drops the forget-gate term Γ_f * c⟨t-1⟩",
                lambda ctx: gate(ctx, "it") * gate(ctx, "cct")),
        Mistake("a_next", "a_next = Γ_o * c⟨t⟩ is missing the tanh of c⟨t⟩",
                lambda ctx: gate(ctx, "ot") * ctx.expected["c_next"]),
        *ignores("the previous cell c⟨t-1⟩", ("c_prev",), ["c_next"]),
        *softmax_mistakes("yt_pred", output_logits("Wy", "a_next")),
    ]
    for g, key in zip("fio", ("ft", "it", "ot")):
        found += wrong_activation(cache(key), "the sigmoid")
        found += ignores(f"b_{g}", ("parameters", f"b{g}"), [cache(key)])
    found += wrong_activation(cache("cct"), "tanh")
    found += ignores("b_c", ("parameters", "bc"), [cache("cct")])
    return found


def lstm_forward_probes(rng, ref):
    return [Probe("random", {"x": rng.standard_normal((N_X, M, T_X)), "a0": rng.standard_normal((N_A, M)),
                             "parameters": lstm_parameters(rng)})]


# ---------------------------------------------------------------- backward

def rnn_cell_backward_probes(rng, ref):
    _, _, cache = ref["rnn_cell_forward"](rng.standard_normal((N_X, M)), rng.standard_normal((N_A, M)),
                                          rnn_parameters(rng))
    return [Probe("random", {"da_next": rng.standard_normal((N_A, M)), "cache": cache})]


RNN_CELL_GRADS = ["dxt", "da_prev", "dWax", "dWaa", "dba"]


def rnn_cell_backward_mistakes():
    return (reference_with("the tanh derivative (1 - a_next**2) is missing", ("cache", 0), np.zeros_like,
                           RNN_CELL_GRADS)
            + [Mistake(g, "the tanh derivative uses a_prev; it is 1 - a_next**2",
                       lambda ctx, g=g: ctx.reference({**ctx.probe.kwargs, "cache": (
                           ctx.probe.kwargs["cache"][1],) + tuple(ctx.probe.kwargs["cache"][1:])})[g])
               for g in RNN_CELL_GRADS])


def rnn_backward_probes(rng, ref):
    _, _, caches = ref["rnn_forward"](rng.standard_normal((N_X, M, T_X)), rng.standard_normal((N_A, M)),
                                      rnn_parameters(rng))
    base = {"da": rng.standard_normal((N_A, M, T_X)), "caches": caches}
    return [Probe("random", base), last_step_only(rng, base)]


def no_recurrence(grads: list[str], message: str) -> list[Mistake]:
    """With da only at the last step, dropping the recurrent gradient zeroes all earlier steps."""
    def predict(ctx: Context, g: str) -> np.ndarray:
        want = ctx.expected[g].copy()
        if g in ("dx",):
            want[..., :-1] = 0.0
            return want
        return np.zeros_like(want)  # da0 then receives nothing
    return [Mistake(g, message, lambda ctx, g=g: predict(ctx, g), probe="last_step") for g in grads]


def lstm_cell_backward_probes(rng, ref):
    *_, cache = ref["lstm_cell_forward"](rng.standard_normal((N_X, M)), rng.standard_normal((N_A, M)),
                                         rng.standard_normal((N_A, M)), lstm_parameters(rng))
    base = {"da_next": rng.standard_normal((N_A, M)), "dc_next": rng.standard_normal((N_A, M)), "cache": cache}
    return [Probe("random", base), with_zero("zero_dc_next", base, ("dc_next",), "dc_next = 0")]


LSTM_CELL_GRADS = ["dxt", "da_prev", "dc_prev", "dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"]


def lstm_cell_backward_mistakes():
    cell_path = ["dc_prev", "dWf", "dWi", "dWc", "dbf", "dbi", "dbc"]  # reached only through dc
    return (reference_with("dc_prev is not multiplied by the forget gate Γ_f", ("cache", LSTM_CACHE["ft"]),
                           np.ones_like, ["dc_prev"])
            + reference_with("the gradient from a_next into c_next misses the tanh derivative 1 - tanh(c_next)**2",
                             ("cache", LSTM_CACHE["c_next"]), np.zeros_like, cell_path)
            + ignores("dc_next (the gradient arriving at c⟨t⟩ from step t+1)", ("dc_next",), LSTM_CELL_GRADS))


def lstm_backward_probes(rng, ref):
    _, _, _, caches = ref["lstm_forward"](rng.standard_normal((N_X, M, T_X)), rng.standard_normal((N_A, M)),
                                          lstm_parameters(rng))
    base = {"da": rng.standard_normal((N_A, M, T_X)), "caches": caches}
    return [Probe("random", base), last_step_only(rng, base)]


BIAS_HINT = "bias gradients sum dz over the batch axis 1 and keep a column: np.sum(dz, axis=1, keepdims=True)"
RECURRENCE = "the gradient through a⟨t-1⟩ is not carried back: step t-1 must receive da[:, :, t-1] + da_prev from step t"

ASSIGNMENT = Assignment(
    id="rnn_step_by_step",
    seconds_per_function=15.0,
    memory_mb=1536,
    functions=(
        GradedFunction("rnn_cell_forward", ("a_next", "yt_pred", "cache"), rnn_cell_forward_probes,
                       rnn_cell_forward_mistakes, labels=RNN_LABELS),
        GradedFunction("rnn_forward", ("a", "y_pred", "caches"), rnn_forward_probes,
                       lambda: [stored_previous_step("a", "a_next")],
                       uses=("rnn_cell_forward",), time_axis=("a", "y_pred")),
        GradedFunction("lstm_cell_forward", ("a_next", "c_next", "yt_pred", "cache"), lstm_cell_forward_probes,
                       lstm_cell_forward_mistakes,
                       labels={f"cache[{i}]": f"{LSTM_LABELS[k]} in cache[{i}]" for k, i in LSTM_CACHE.items()}),
        GradedFunction("lstm_forward", ("a", "y", "c", "caches"), lstm_forward_probes,
                       lambda: [stored_previous_step("a", "a_next")],
                       uses=("lstm_cell_forward",), time_axis=("a", "y", "c")),
        GradedFunction("rnn_cell_backward", (), rnn_cell_backward_probes, rnn_cell_backward_mistakes,
                       hints={"dba": BIAS_HINT}),
        GradedFunction("rnn_backward", (), rnn_backward_probes,
                       lambda: no_recurrence(["dx", "da0"], RECURRENCE),
                       uses=("rnn_cell_backward",), time_axis=("dx",), hints={"dba": BIAS_HINT}, labels=CARRIED),
        GradedFunction("lstm_cell_backward", (), lstm_cell_backward_probes, lstm_cell_backward_mistakes,
                       hints={k: BIAS_HINT for k in ("dbf", "dbi", "dbc", "dbo")}, labels=LSTM_BACKWARD_LABELS),
        GradedFunction("lstm_backward", (), lstm_backward_probes,
                       lambda: no_recurrence(["dx", "da0"], RECURRENCE + " (and dc_prev into step t-1)"),
                       uses=("lstm_cell_backward",), time_axis=("dx",), labels=CARRIED),
    ),
)
