"""Jazz improvisation with an LSTM: probes and recognisable mistakes for JazzLSTM, music_inference
and predict_and_sample.

The graded code is torch, so every driver builds a model inside the sandbox and returns plain
arrays. A model is built under a fixed torch seed and then given weights drawn by the probe
(numpy arrays in the shapes of ``nn.LSTMCell(n_values, n_a)`` and ``nn.Linear(n_a, n_values)``).
Weights are matched to ``model.parameters()`` by shape, never by attribute or ``state_dict``
name; the sizes make every shape different except the cell's two bias vectors, which torch
only ever adds together, so their order does not matter. Verdicts are behavioural: the logits,
states and tokens must equal those of the solution's code on the same weights and seeds.

- ``JazzLSTM``: its parameter count right after ``__init__``, one ``step``, and ``forward`` with
  teacher forcing, called twice (layers created inside ``step`` or ``forward`` give other logits
  on the second call).
- ``music_inference`` runs with the solution's ``JazzLSTM``, greedily and with a seeded
  ``torch.Generator``. Besides equality with the solution, the grader checks the author's
  oracle itself: teacher forcing the model on ``x0`` followed by the chosen tokens must give the
  returned logits, which holds only if each choice really is fed back.
- ``predict_and_sample`` runs with the solution's ``JazzLSTM`` and ``music_inference``, twice with
  the same seed (the tokens must agree), and its driver records whether the model's ``step``
  ran with gradients switched off.

Most mistakes are recognised by ablation: the solution run with an input changed (a zero
initial state, no generator, torch's global generator) or with a model whose ``step`` sees what a
buggy generation loop would give it (no feedback, probabilities fed back, state reset, a generator
reseeded at every step).
Sizes are pairwise different (n_values=11, n_a=6, m=4, T=5) so that a swapped axis shows up
as a wrong shape.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from autograder.mistakes import changed, like_reference, zeroed
from autograder.runtime import load_reference
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe
from autograder.torch_models import load_by_shape, plain, tensor, tensors
from seqmodels.activations import softmax

ID = "jazz_improvisation"
N_VALUES, N_A, M, T = 11, 6, 4, 5
MODEL_SEED = 0  # torch seed under which every model is built (its weights are then replaced)
GLOBAL_SEED = 1234  # torch's global generator is seeded with this before the graded code runs
FRESH_SEED = torch.Generator().initial_seed()  # the seed of a new torch.Generator() nobody seeded
NOT_CHOSEN = -30.0  # the dense bias of the last token: it is never chosen, so one_hot needs num_classes
RTOL = 1e-5  # float32 arithmetic done in another order still agrees to this

Kwargs = dict[str, Any]


# ---------------------------------------------------------------- plain data in, models out

def lstm_weights(rng: np.random.Generator, n_values: int = N_VALUES, n_a: int = N_A) -> list[np.ndarray]:
    """Weights for an LSTM cell (n_values -> n_a) and a dense layer (n_a -> n_values), in torch's shapes.

    The dense layer's weights are large, so the softmax is far from uniform and a draw often
    differs from the argmax.
    """
    gates = 4 * n_a
    dense_bias = rng.standard_normal(n_values)
    dense_bias[-1] = NOT_CHOSEN
    arrays = [rng.standard_normal((gates, n_values)) * 0.8, rng.standard_normal((gates, n_a)) * 0.5,
              rng.standard_normal(gates) * 0.3, rng.standard_normal(gates) * 0.3,
              rng.standard_normal((n_values, n_a)) * 1.5, dense_bias]
    return [a.astype(np.float32) for a in arrays]


def dense_layer(weights: list[np.ndarray], n_values: int, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    """(W_y, b_y) among the probe's weights, found by shape."""
    (w_y,) = [w for w in weights if w.shape == (n_values, n_a)]
    (b_y,) = [w for w in weights if w.shape == (n_values,)]
    return w_y, b_y


def generator(seed: int | None) -> torch.Generator | None:
    return None if seed is None else torch.Generator().manual_seed(seed)


def trained_model(namespace: dict, kwargs: Kwargs) -> torch.nn.Module:
    """A JazzLSTM (the solution's, while grading) holding the probe's weights."""
    torch.manual_seed(MODEL_SEED)
    model = namespace["JazzLSTM"](kwargs["n_values"], kwargs["n_a"])
    if not load_by_shape(model, kwargs["weights"]):
        raise RuntimeError("this notebook's JazzLSTM does not have the parameters of an nn.LSTMCell(n_values, n_a) "
                           "and an nn.Linear(n_a, n_values); fix JazzLSTM first")
    return model


# ---------------------------------------------------------------- JazzLSTM

def jazz_lstm_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    """Build the model; report its size, or one step, or forward called twice on the same input."""
    with torch.random.fork_rng(devices=[]):  # leave the learner's own torch seed alone
        torch.manual_seed(MODEL_SEED)
        model = namespace[name](kwargs["n_values"], kwargs["n_a"])
        if kwargs["part"] == "size":
            return {"parameters": int(sum(p.numel() for p in model.parameters()))}
        load_by_shape(model, kwargs["weights"])  # if the shapes are wrong, the size probe says so
        if kwargs["part"] == "step":
            logits_t, a_t, c_t = tensors(model.step(tensor(kwargs["x_t"]), tensor(kwargs["a_prev"]),
                                                    tensor(kwargs["c_prev"])),
                                         3, "step", "the tuple (logits_t, a_t, c_t) of tensors")
            return {"logits_t": plain(logits_t), "a_t": plain(a_t), "c_t": plain(c_t)}
        X, a0, c0 = tensor(kwargs["X"]), tensor(kwargs["a0"]), tensor(kwargs["c0"])
        expected = "one tensor of shape (m, T_x, n_values)"
        (first,) = tensors(model(X, a0, c0), 1, "forward", expected)
        (second,) = tensors(model(X, a0, c0), 1, "forward", expected)
        first, second = plain(first), plain(second)
        return {"logits": first,
                "same logits twice": bool(first.shape == second.shape and np.array_equal(first, second))}


def one_hot_rows(rng: np.random.Generator, shape: tuple[int, ...], n_values: int) -> np.ndarray:
    """One-hot vectors of random tokens (never the last, unchosen one)."""
    return np.eye(n_values, dtype=np.float32)[rng.integers(0, n_values - 1, size=shape)]


def state(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((M, N_A)).astype(np.float32)


def jazz_lstm_probes(rng, ref):
    sizes = {"n_values": N_VALUES, "n_a": N_A}
    weights = lstm_weights(rng)
    X = one_hot_rows(rng, (M, T), N_VALUES)
    X[:, 0] = 0.0  # as in training: the first input is the zero vector
    return [Probe("size", {"part": "size", **sizes}, compare=False),
            Probe("step", {"part": "step", **sizes, "weights": weights, "x_t": one_hot_rows(rng, (M,), N_VALUES),
                           "a_prev": state(rng), "c_prev": state(rng)}),
            Probe("forward", {"part": "forward", **sizes, "weights": weights, "X": X,
                              "a0": state(rng), "c0": state(rng)})]


def parameter_count(n_values: int, n_a: int, cell: bool = True, dense: bool = True) -> int:
    """The notebook's formula: the cell's 4 n_a (n_a + n_values) weights and 8 n_a biases, then the dense layer."""
    return cell * (4 * n_a * (n_a + n_values) + 8 * n_a) + dense * (n_a * n_values + n_values)






def jazz_lstm_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name != "size":
        return []
    n_values, n_a = probe.kwargs["n_values"], probe.kwargs["n_a"]
    count, want = value["parameters"], expected["parameters"]
    if count == want:
        return []
    made = f"JazzLSTM(n_values={n_values}, n_a={n_a})"
    if count == 0:
        return [f"{made} has no parameters once created: create self.cell and self.densor in __init__, once "
                "(layers created inside step or forward get new random weights at every call and never learn)"]
    if count == parameter_count(n_values, n_a, dense=False):
        return [f"{made} has only the LSTM cell's parameters: create self.densor = nn.Linear(n_a, n_values) "
                "in __init__ too"]
    if count == parameter_count(n_values, n_a, cell=False):
        return [f"{made} has only the dense layer's parameters: create self.cell = nn.LSTMCell(n_values, n_a) "
                "in __init__ too"]
    notebook = load_reference(ASSIGNMENT)
    if count == parameter_count(notebook["N_VALUES"], notebook["N_A"]):
        return [f"{made} has the size of the notebook's model: build the layers from the arguments n_values and "
                "n_a, not from the constants N_VALUES and N_A"]
    return [f"{made} has {count} parameters; an nn.LSTMCell(n_values, n_a) and an nn.Linear(n_a, n_values) have "
            f"4·n_a·(n_a + n_values) + 8·n_a + n_a·n_values + n_values = {want}"]


def not_logits(output: str, who: str) -> list[Mistake]:
    return [Mistake(output, f"{who} returns the softmax of the logits; return the logits themselves "
                    "(F.cross_entropy applies the softmax)", lambda ctx: softmax(ctx.expected[output], axis=-1)),
            Mistake(output, f"{who} returns the log-softmax of the logits; return the logits themselves "
                    "(F.cross_entropy applies the softmax)", lambda ctx: np.log(softmax(ctx.expected[output], axis=-1)))]


def _zero(key: str) -> Callable[[Context], Kwargs]:
    return lambda ctx: zeroed(ctx.probe.kwargs, (key,))


def replayed_forward(ctx: Context, feed: str = "teacher", reset: bool = False, read: str = "logits") -> np.ndarray:
    """The forward logits a buggy loop would give, built from the solution's ``step`` one step at a time.

    feed: the input after step 1 ("teacher": X[:, t]; "argmax" or "softmax" of the previous logits);
    reset: every step starts from (a0, c0); read: "logits", or "dense(c)" for the dense layer applied to c.
    """
    kw = ctx.probe.kwargs
    X, n_values, n_a = kw["X"], kw["n_values"], kw["n_a"]
    a, c, x = kw["a0"], kw["c0"], X[:, 0]
    rows = []
    for t in range(X.shape[1]):
        if t > 0 and feed == "teacher":
            x = X[:, t]
        if reset:
            a, c = kw["a0"], kw["c0"]
        out = ctx.reference({"part": "step", "n_values": n_values, "n_a": n_a, "weights": kw["weights"],
                             "x_t": x, "a_prev": a, "c_prev": c})
        logits, a, c = out["logits_t"], out["a_t"], out["c_t"]
        if read == "dense(c)":
            w_y, b_y = dense_layer(kw["weights"], n_values, n_a)
            logits = c @ w_y.T + b_y
        rows.append(logits)
        if feed == "argmax":
            x = np.eye(n_values, dtype=np.float32)[logits.argmax(-1)]
        elif feed == "softmax":
            x = softmax(logits, axis=-1)
    return np.stack(rows, axis=1)


SWAPPED_RETURN = "step returns (logits_t, c_t, a_t); nn.LSTMCell gives the pair (a⟨t⟩, c⟨t⟩), in that order"
DENSE_ON_C = "the dense layer is applied to the memory cell c⟨t⟩; the logits come from the hidden state a⟨t⟩"


def jazz_lstm_mistakes():
    def swap_state(ctx: Context) -> Kwargs:
        kw = ctx.probe.kwargs
        return {**kw, "a_prev": kw["c_prev"], "c_prev": kw["a_prev"]}

    def dense_on_c(ctx: Context) -> np.ndarray:
        w_y, b_y = dense_layer(ctx.probe.kwargs["weights"], ctx.probe.kwargs["n_values"], ctx.probe.kwargs["n_a"])
        return ctx.expected["c_t"] @ w_y.T + b_y

    return [
        Mistake("same logits twice", "forward gives other logits when called twice on the same input: a layer is "
                "created inside step or forward, so it has new random weights at every call; create self.cell and "
                "self.densor once, in __init__", lambda ctx: False),
        Mistake("a_t", SWAPPED_RETURN, lambda ctx: ctx.expected["c_t"]),
        Mistake("c_t", SWAPPED_RETURN, lambda ctx: ctx.expected["a_t"]),
        *like_reference("the state is given to the cell as (c_prev, a_prev); nn.LSTMCell takes the pair "
                        "(a_prev, c_prev)", swap_state, ["logits_t", "a_t", "c_t"]),
        Mistake("logits_t", DENSE_ON_C, dense_on_c),
        Mistake("logits", DENSE_ON_C, lambda ctx: replayed_forward(ctx, read="dense(c)")),
        *not_logits("logits_t", "step"),
        *not_logits("logits", "forward"),
        Mistake("logits", "forward feeds back its own most likely token; with teacher forcing the input at step t "
                "is the true X[:, t, :]", lambda ctx: replayed_forward(ctx, feed="argmax")),
        Mistake("logits", "forward feeds back its own probabilities; with teacher forcing the input at step t "
                "is the true X[:, t, :]", lambda ctx: replayed_forward(ctx, feed="softmax")),
        Mistake("logits", "forward starts every step from (a0, c0): pass the a and c returned by each step on to "
                "the next", lambda ctx: replayed_forward(ctx, reset=True)),
        *like_reference("forward ignores the initial hidden state a0 (it starts from zeros)", _zero("a0"), ["logits"]),
        *like_reference("forward ignores the initial memory cell c0 (it starts from zeros)", _zero("c0"), ["logits"]),
    ]


JAZZ_LSTM_LABELS = {"logits_t": "step's logits_t", "a_t": "step's a_t", "c_t": "step's c_t",
                    "logits": "forward's logits", "same logits twice": "forward called twice"}
JAZZ_LSTM_HINTS = {"logits": "forward returns one tensor (m, T_x, n_values): stack the steps on axis 1, "
                             "torch.stack(logits, dim=1)",
                   "logits_t": "step's logits_t is (m, n_values): the dense layer applied to a⟨t⟩"}


# ---------------------------------------------------------------- music_inference

class AblatedModel:
    """A model whose ``step`` sees what a generation loop with one bug would pass it.

    Only the grader uses it, on the solution's code, to predict what such a bug returns.
    """

    def __init__(self, model: torch.nn.Module, variant: str, x0: torch.Tensor, a0: torch.Tensor, c0: torch.Tensor,
                 generator: torch.Generator | None):
        self.model, self.variant, self.n_values, self.n_a = model, variant, model.n_values, model.n_a
        self.x0, self.a0, self.c0, self.generator = x0, a0, c0, generator
        self.previous: torch.Tensor | None = None  # the logits of the step before

    def step(self, x: torch.Tensor, a: torch.Tensor, c: torch.Tensor):
        if self.previous is not None:
            if self.variant == "no feedback":
                x = self.x0
            elif self.variant == "probabilities":
                x = torch.softmax(self.previous, dim=-1)
            elif self.variant == "argmax fed back":
                x = F.one_hot(self.previous.argmax(dim=-1), self.n_values).float()
            elif self.variant == "state reset":
                a, c = self.a0, self.c0
        if self.variant == "new generator each step" and self.generator is not None:
            self.generator.manual_seed(FRESH_SEED)  # this step's draw is the first of a new generator
        logits, a, c = self.model.step(x, a, c)
        self.previous = logits
        return logits, a, c


def inference_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    """Generate with the probe's model and generator seed; the logits and indices as arrays."""
    with torch.random.fork_rng(devices=[]):
        model = trained_model(namespace, kwargs)
        x0, a0, c0 = tensor(kwargs["x0"]), tensor(kwargs["a0"]), tensor(kwargs["c0"])
        draws = generator(kwargs["seed"])
        if kwargs.get("variant"):  # only in the grader's predictions of mistakes
            model = AblatedModel(model, kwargs["variant"], x0, a0, c0, draws)
        torch.manual_seed(GLOBAL_SEED)  # so that drawing from the global generator is recognisable
        logits, indices = tensors(namespace[name](model, x0, a0, c0, kwargs["T_y"], draws),
                                  2, name, "the tuple (logits, indices) of tensors")
        return {"logits": plain(logits), "indices": plain(indices)}


def generation_kwargs(rng: np.random.Generator, m: int, T_y: int, seed: int | None, zero_start: bool) -> Kwargs:
    if zero_start:
        x0, a0, c0 = np.zeros((m, N_VALUES), np.float32), *np.zeros((2, m, N_A), np.float32)
    else:
        x0 = one_hot_rows(rng, (m,), N_VALUES)
        a0, c0 = (rng.standard_normal((m, N_A)).astype(np.float32) for _ in range(2))
    return {"n_values": N_VALUES, "n_a": N_A, "weights": lstm_weights(rng), "x0": x0, "a0": a0, "c0": c0,
            "T_y": T_y, "seed": seed}


def inference_probes(rng, ref):
    return [Probe("greedy", generation_kwargs(rng, M, T, None, zero_start=False), "generator = None"),
            Probe("sampled", generation_kwargs(rng, M, T, int(rng.integers(2**31)), zero_start=False)),
            Probe("sampled_from_zeros", generation_kwargs(rng, M, T, int(rng.integers(2**31)), zero_start=True))]


def ablated(variant: str) -> Callable[[Context], Kwargs]:
    return changed(variant=variant)


def sampling_mistakes(who: str, outputs: list[str]) -> list[Mistake]:
    """How a generation can use the wrong source of randomness, recognised on every sampled probe.

    Taking the argmax gives the logits of feeding the argmax back, so that mistake is told apart
    by the tokens alone.
    """
    sampled = ["sampled", "sampled_from_zeros"]
    chosen = [out for out in outputs if out != "logits"]
    found = like_reference(f"{who} samples even when generator is None; with no generator take the most likely "
                           "token (argmax)", changed(seed=GLOBAL_SEED), outputs, "greedy")
    for probe in sampled:
        found += like_reference(f"{who} takes the argmax even when a generator is given; then draw from "
                                "softmax(logits) with torch.multinomial(..., generator=generator)",
                                changed(seed=None), chosen, probe)
        found += like_reference(f"{who} draws from torch's global random generator, not from the generator it is "
                                "given: pass generator=generator to torch.multinomial", changed(seed=GLOBAL_SEED),
                                outputs, probe)
        found += like_reference(f"{who} draws from a new torch.Generator() of its own; use the generator it is "
                                "given", changed(seed=FRESH_SEED), outputs, probe)
    return found


def inference_mistakes():
    outputs = ["logits", "indices"]
    feedback = {
        "no feedback": "music_inference never feeds its choice back: the input at step t+1 must be the one-hot "
                       "vector of the token chosen at step t, not x0 again",
        "probabilities": "music_inference feeds back the probabilities softmax(logits); feed back the one-hot "
                         "vector of the chosen token, F.one_hot(index, n_values).float()",
        "argmax fed back": "music_inference feeds back the most likely token, not the one it drew; feed back the "
                           "chosen token",
        "state reset": "music_inference starts every step from (a0, c0): pass the a and c returned by model.step "
                       "on to the next step",
        "new generator each step": "music_inference draws from a new torch.Generator() at every step; draw from "
                                   "the generator it is given",
    }
    found = []
    for variant, message in feedback.items():  # feeding the argmax back is told apart by the tokens alone
        found += like_reference(message, ablated(variant), ["indices"] if variant == "argmax fed back" else outputs)
    found += sampling_mistakes("music_inference", outputs)
    found += like_reference("music_inference ignores x0 (it starts from a zero input)", _zero("x0"), outputs)
    found += like_reference("music_inference ignores a0 (it starts from a zero hidden state)", _zero("a0"), outputs)
    found += like_reference("music_inference ignores c0 (it starts from a zero memory cell)", _zero("c0"), outputs)
    return found + not_logits("logits", "music_inference")


def teacher_forced_logits(kwargs: Kwargs, indices: np.ndarray) -> np.ndarray:
    """The solution's JazzLSTM run with teacher forcing on x0 followed by the chosen tokens (one-hot)."""
    x0 = tensor(kwargs["x0"])[:, None, :]
    chosen = F.one_hot(torch.from_numpy(indices[:, :-1].astype(np.int64)), kwargs["n_values"]).float()
    with torch.random.fork_rng(devices=[]), torch.no_grad():  # check() runs this in the learner's kernel
        model = trained_model(load_reference(ASSIGNMENT), kwargs)
        return plain(model(torch.cat([x0, chosen], dim=1), tensor(kwargs["a0"]), tensor(kwargs["c0"])))


def dtype_problem(value: dict, key: str, want: type) -> list[str]:
    got = value[key]
    if isinstance(got, np.ndarray) and got.dtype != want:
        return [f"{key} has dtype {got.dtype}; expected {np.dtype(want).name}"]
    return []


def inference_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    kw = probe.kwargs
    problems = dtype_problem(value, "indices", np.int64)
    logits, indices = value["logits"], value["indices"]
    shape = (len(kw["x0"]), kw["T_y"])
    if (problems or not isinstance(logits, np.ndarray) or logits.shape != shape + (kw["n_values"],)
            or not isinstance(indices, np.ndarray) or indices.shape != shape
            or not np.all((indices >= 0) & (indices < kw["n_values"]))):
        return problems
    forced = teacher_forced_logits(kw, indices)
    wrong = [t for t in range(shape[1]) if not np.allclose(logits[:, t], forced[:, t], rtol=0, atol=RTOL * 10)]
    if wrong and wrong[0] > 0:  # step 1 sees only x0: a wrong first step is not a feedback problem
        problems.append(f"from step t={wrong[0] + 1} on, the logits are not those the model computes when fed x0 and "
                        "then its own chosen tokens (one-hot), each step continuing from the state of the step before: "
                        "the token chosen at step t must be the input of step t+1")
    return problems


INFERENCE_HINTS = {"logits": "logits is (m, T_y, n_values): one step per generated token, stacked on axis 1",
                   "indices": "indices is (m, T_y): squeeze the (m, 1) draw of torch.multinomial and stack the "
                              "steps on axis 1"}


# ---------------------------------------------------------------- predict_and_sample

SECOND_RUN = "indices of a second run with the same seed"


def predict_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    """Generate twice with the same seed; record whether the model ran with gradients on."""
    with torch.random.fork_rng(devices=[]):
        model = trained_model(namespace, kwargs)
        x, a, c = tensor(kwargs["x"]), tensor(kwargs["a"]), tensor(kwargs["c"])
        if kwargs.get("variant") == "inference":  # only in the grader: music_inference on the same inputs
            logits, indices = namespace["music_inference"](model, x, a, c, kwargs["T_y"], generator(kwargs["seed"]))
            return {"logits": plain(logits), "indices": plain(indices)}
        step, grad_enabled = model.step, []

        def watched_step(*args, **kw):
            grad_enabled.append(torch.is_grad_enabled())
            return step(*args, **kw)

        model.step = watched_step  # an instance attribute: music_inference's model.step calls land here
        torch.manual_seed(GLOBAL_SEED)
        runs = [tensors(namespace[name](model, x, a, c, kwargs["T_y"], generator(kwargs["seed"])),
                        2, name, "the tuple (results, indices) of tensors") for _ in range(2)]
        return {"results": plain(runs[0][0]), "indices": plain(runs[0][1]), SECOND_RUN: plain(runs[1][1]),
                "gradients on": any(grad_enabled)}


def predict_probes(rng, ref):
    def renamed(kwargs: Kwargs) -> Kwargs:
        kwargs = dict(kwargs)
        kwargs["x"], kwargs["a"], kwargs["c"] = kwargs.pop("x0"), kwargs.pop("a0"), kwargs.pop("c0")
        return kwargs

    return [Probe("sampled", renamed(generation_kwargs(rng, M, T, int(rng.integers(2**31)), zero_start=True))),
            Probe("greedy", renamed(generation_kwargs(rng, M, T, None, zero_start=False)), "generator = None")]


def predict_mistakes():
    outputs = ["results", "indices"]

    def argmax_of_logits(ctx: Context, output: str) -> np.ndarray:
        logits = ctx.reference({**ctx.probe.kwargs, "variant": "inference"})["logits"]
        indices = logits.argmax(axis=-1)
        return np.eye(logits.shape[-1], dtype=np.float32)[indices] if output == "results" else indices

    found = [Mistake("gradients on", "predict_and_sample runs the model with gradients on: generate inside "
                     "`with torch.no_grad():`", lambda ctx: True)]
    found += [Mistake(out, "predict_and_sample returns the argmax of music_inference's logits; return the tokens "
                      "music_inference chose (its second output)", lambda ctx, out=out: argmax_of_logits(ctx, out),
                      "sampled") for out in outputs]
    found += like_reference("predict_and_sample does not pass generator on to music_inference, which then takes the "
                            "argmax", changed(seed=None), outputs, "sampled")
    found += sampling_mistakes("predict_and_sample", outputs)
    # A deterministic mistake gives the same tokens in the second run: name it there too.
    return found + [Mistake(SECOND_RUN, m.message, m.predict, m.probe) for m in found if m.output == "indices"]


def predict_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    problems = dtype_problem(value, "results", np.float32) + dtype_problem(value, "indices", np.int64)
    results, indices, again = value["results"], value["indices"], value[SECOND_RUN]
    n_values = probe.kwargs["n_values"]
    if isinstance(indices, np.ndarray) and isinstance(again, np.ndarray) and not np.array_equal(indices, again):
        problems.append("two runs with generators seeded alike gave different tokens: draw only from the generator "
                        "predict_and_sample is given")
    if (isinstance(results, np.ndarray) and isinstance(indices, np.ndarray)
            and results.shape == indices.shape + (n_values,) and np.all((indices >= 0) & (indices < n_values))
            and not np.array_equal(results, np.eye(n_values)[indices])):
        problems.append("results is not the one-hot encoding of indices: results[i, t] must be "
                        "F.one_hot(indices, n_values)[i, t] as floats")
    return problems


PREDICT_HINTS = {"results": "results is (m, T_y, n_values): F.one_hot(indices, num_classes=n_values); without "
                            "num_classes the width is the largest token drawn plus one",
                 "indices": "indices is (m, T_y), as music_inference returns it",
                 SECOND_RUN: "indices is (m, T_y), as music_inference returns it"}


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,  # a child needs 2 to 5 s, mostly to import torch, music21 and matplotlib
    memory_mb=1536,  # those imports map about 700 MB of address space
    functions=(
        GradedFunction("JazzLSTM", (), jazz_lstm_probes, jazz_lstm_mistakes, driver=jazz_lstm_driver,
                       labels=JAZZ_LSTM_LABELS, hints=JAZZ_LSTM_HINTS, rtol=RTOL, properties=jazz_lstm_properties),
        GradedFunction("music_inference", (), inference_probes, inference_mistakes, uses=("JazzLSTM",),
                       driver=inference_driver, hints=INFERENCE_HINTS, rtol=RTOL, properties=inference_properties),
        GradedFunction("predict_and_sample", (), predict_probes, predict_mistakes,
                       uses=("JazzLSTM", "music_inference"), driver=predict_driver, hints=PREDICT_HINTS, rtol=RTOL,
                       labels={"gradients on": "whether the model ran with gradients on"},
                       properties=predict_properties),
    ),
)
