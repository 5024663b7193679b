"""Speech recognition with CTC: probes and recognisable mistakes for collapse, the CTC loss and its
gradient, and the two decoders.

Besides the solution's own answers, the grader holds an oracle of its own on the tiny probes: it adds
up the probability of every one of the C^T frame-by-frame paths. The loss, the gradient and the most
probable labelling are checked against that sum, so a message can say what the answer should be
without relying on the reference alone. Labellings are compared as fixed-length arrays (see
``autograder.sequences``), so that a missing or an extra label is a wrong value that a mistake can
explain.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import numpy as np

from autograder.mistakes import changed, like_reference
from autograder.sequences import padded
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe

ID = "ctc_speech"
MAX_BRUTE_FORCE_PATHS = 5_000  # C**T above this: no exhaustive oracle for the probe

Kwargs = dict[str, Any]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def random_log_probs(rng: np.random.Generator, T: int, C: int, scale: float = 2.0) -> np.ndarray:
    return log_softmax(rng.standard_normal((T, C)) * scale)


def peaked_log_probs(rng: np.random.Generator, labels: list[int], frames_per_label: int, C: int, blank: int,
                     peak: float) -> np.ndarray:
    """Frames that spell ``labels`` (each label for some frames, a blank after it), each with probability
    ``peak`` on its class and the rest spread over the others: a long input with one clear answer."""
    path = [k for label in labels for k in [label] * frames_per_label + [blank]]
    probs = rng.uniform(0.5, 1.0, (len(path), C))
    probs[np.arange(len(path)), path] = 0.0
    probs *= (1 - peak) / probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(path)), path] = peak
    return np.log(probs)


# ---------------------------------------------------------------- the exhaustive oracle

def merge_repeats(path: list[int]) -> list[int]:
    return [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]


def collapsed(path, blank: int) -> list[int]:
    """The grader's own collapse rule B: merge repeats, then drop blanks."""
    return [int(k) for k in merge_repeats(list(path)) if k != blank]


def labelling_probabilities(log_probs: np.ndarray, blank: int) -> dict[tuple[int, ...], float]:
    """P(labelling | x) of every labelling, by adding up all C^T paths (tiny inputs only)."""
    totals: dict[tuple[int, ...], float] = defaultdict(float)
    T, C = log_probs.shape
    for path in itertools.product(range(C), repeat=T):
        labelling = tuple(collapsed(path, blank))
        totals[labelling] += float(np.exp(log_probs[np.arange(T), path].sum()))
    return totals


def brute_force_loss_and_grad(log_probs: np.ndarray, target: list[int], blank: int) -> tuple[float, np.ndarray]:
    """-log P(target | x) and its gradient with respect to the logits, from all C^T paths."""
    T, C = log_probs.shape
    total, occupancy = 0.0, np.zeros((T, C))
    for path in itertools.product(range(C), repeat=T):
        if collapsed(path, blank) == list(target):
            p = float(np.exp(log_probs[np.arange(T), path].sum()))
            total += p
            occupancy[np.arange(T), path] += p
    if total == 0.0:
        return float("inf"), np.zeros((T, C))
    return -float(np.log(total)), np.exp(log_probs) - occupancy / total


def small_enough(probe: Probe) -> bool:
    T, C = np.shape(probe.kwargs["log_probs"])
    return C ** T <= MAX_BRUTE_FORCE_PATHS


# ---------------------------------------------------------------- collapse

def collapse_driver(namespace: dict, name: str, kwargs: Kwargs) -> np.ndarray:
    path = kwargs["path"]
    return padded(namespace[name](list(path), blank=kwargs["blank"]), len(path))


# "ttt_h_eee___ ___qqq__" with _ the blank (0), space 1, and letters from 2 on
WORDS = {"_": 0, " ": 1, "t": 2, "h": 3, "e": 4, "q": 5}


def collapse_probes(rng, ref):
    the_q = [WORDS[ch] for ch in "ttt_h_eee___ ___qqq__"]
    return [Probe("the_q", {"path": the_q, "blank": 0}, '"ttt_h_eee___ ___qqq__"'),
            Probe("repeats", {"path": [2, 2, 0, 2, 3, 3, 3, 0, 0, 3, 2], "blank": 0}, "a blank between equal labels"),
            Probe("all_blank", {"path": [0, 0, 0, 0], "blank": 0}, "only blanks"),
            Probe("blank_3", {"path": [3, 1, 1, 3, 0, 0, 3, 2, 3, 2, 2], "blank": 3}, "the blank is class 3")]


def collapse_mistakes(path_of, output: str = "labels") -> list[Mistake]:
    """The ways to get collapsing wrong, for any function whose answer collapses ``path_of(ctx)``."""
    def predict(blanks_first: bool = False, merge: bool = True, drop: bool = True, blank_0: bool = False):
        def labels(ctx: Context) -> np.ndarray:
            path = [int(k) for k in path_of(ctx)]
            blank = 0 if blank_0 else ctx.probe.kwargs.get("blank", 0)
            if blanks_first:
                path = [k for k in path if k != blank]
            path = merge_repeats(path) if merge else path
            return padded([k for k in path if k != blank] if drop else path, len(ctx.expected[output]))
        return labels

    return [
        Mistake(output, "the blanks are dropped before repeats are merged, so a blank no longer keeps two equal "
                "labels apart (\"a_a\" must give [a, a]); merge the repeats first, then drop the blanks",
                predict(blanks_first=True)),
        Mistake(output, "repeated labels are kept; first merge each run of the same class into one (\"aa_\" gives [a])",
                predict(merge=False)),
        Mistake(output, "the blanks are kept; after merging the repeats, drop every blank", predict(drop=False)),
        Mistake(output, "the blank is taken to be class 0 whatever the blank argument says; use blank",
                predict(blank_0=True)),
    ]


# ---------------------------------------------------------------- ctc_forward

def ctc_probes(rng, ref):
    """Shared by ctc_forward and ctc_backward."""
    long_target = [int(k) for k in rng.integers(1, 6, 50)]
    long_target[10] = long_target[9]
    return [Probe("random", {"log_probs": random_log_probs(rng, 10, 5), "target": [1, 3, 2, 4], "blank": 0}),
            Probe("repeats", {"log_probs": random_log_probs(rng, 12, 4), "target": [2, 2, 3, 3], "blank": 0},
                  "the target repeats a label"),
            Probe("tiny", {"log_probs": random_log_probs(rng, 5, 3), "target": [1, 1], "blank": 0},
                  "5 frames"),
            Probe("blank_3", {"log_probs": random_log_probs(rng, 9, 4), "target": [0, 1, 0], "blank": 3},
                  "the blank is class 3"),
            Probe("empty", {"log_probs": random_log_probs(rng, 6, 3), "target": [], "blank": 0}, "the target is empty"),
            Probe("impossible", {"log_probs": random_log_probs(rng, 4, 3), "target": [1, 1, 1], "blank": 0},
                  "the target cannot fit in the frames"),
            Probe("long", {"log_probs": random_log_probs(rng, 2_000, 6, scale=3.0), "target": long_target,
                           "blank": 0}, "2,000 frames")]


def ctc_call(namespace: dict, name: str, kwargs: Kwargs) -> Any:
    return namespace[name](np.array(kwargs["log_probs"], copy=True), list(kwargs["target"]), blank=kwargs["blank"])


def alpha_skipping_repeats(log_probs: np.ndarray, target: list[int], blank: int) -> np.ndarray:
    """α when a path may jump from a label straight to the same label again (the repeat rule left out)."""
    l_ext = np.full(2 * len(target) + 1, blank)
    l_ext[1::2] = target
    T, S = len(log_probs), len(l_ext)
    alpha = np.full((T, S), -np.inf)
    alpha[0, :2] = log_probs[0, l_ext[:2]]
    for t in range(1, T):
        for s in range(S):
            sources = alpha[t - 1, max(0, s - (2 if l_ext[s] != blank else 1)):s + 1]
            alpha[t, s] = np.logaddexp.reduce(sources) + log_probs[t, l_ext[s]]
    return alpha


def forward_mistakes():
    def loss_from(alpha: np.ndarray) -> float:
        return -float(np.logaddexp.reduce(alpha[-1, -2:]))

    no_repeat_rule = ("a path may jump from a label straight to an equal label, with no blank between them; for "
                      "\"aa\" that path collapses to \"a\". Allow the jump over the blank from s-2 only when "
                      "l'[s] is not the blank and l'[s] != l'[s-2]")
    return [
        Mistake("alpha", no_repeat_rule, lambda ctx: alpha_skipping_repeats(**ctx.probe.kwargs)),
        Mistake("loss", no_repeat_rule, lambda ctx: loss_from(alpha_skipping_repeats(**ctx.probe.kwargs))),
        Mistake("loss", "the loss becomes inf on a long input: multiplying probabilities underflows to 0 after "
                "a few hundred frames. Keep α in log space: add log-probabilities and combine paths with "
                "np.logaddexp", lambda ctx: np.inf if ctx.expected["loss"] > 700 else ctx.expected["loss"],
                probe="long"),
        Mistake("loss", "the loss is log P(target | x); it is its negative, -log P(target | x)",
                lambda ctx: -ctx.expected["loss"]),
        Mistake("loss", "the loss keeps only the paths that end on the last label; paths may also end on the final "
                "blank: add alpha[T-1, S-1] and alpha[T-1, S-2]", lambda ctx: -ctx.expected["alpha"][-1, -2]),
        Mistake("loss", "the loss keeps only the paths that end on the final blank; paths may also end on the last "
                "label: add alpha[T-1, S-1] and alpha[T-1, S-2]", lambda ctx: -ctx.expected["alpha"][-1, -1]),
        *like_reference("the blank is taken to be class 0 whatever the blank argument says; use blank",
                        changed(blank=0), ["alpha", "loss"], probe="blank_3"),
    ]


def forward_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name != "tiny" or not isinstance(value, (tuple, list)) or len(value) != 2:
        return []
    want, _ = brute_force_loss_and_grad(probe.kwargs["log_probs"], probe.kwargs["target"], probe.kwargs["blank"])
    try:
        got = float(value[1])
    except (TypeError, ValueError):
        return []  # the comparison with the reference reports the form
    if not np.isclose(got, want, rtol=1e-6, atol=1e-9):
        return [f"on a 5-frame input, loss is {got:.6g}; adding up all 243 paths that could be played gives "
                f"-log P(target | x) = {want:.6g}"]
    return []


# ---------------------------------------------------------------- ctc_backward

def backward_mistakes():
    def y(ctx: Context) -> np.ndarray:
        return np.exp(ctx.probe.kwargs["log_probs"])

    return [
        Mistake("grad", "grad is the gradient with respect to the log-probabilities (-γ); the softmax's Jacobian "
                "turns it into the gradient with respect to the logits, y - γ",
                lambda ctx: ctx.expected["grad"] - y(ctx)),
        Mistake("grad", "grad is the gradient with respect to the probabilities (-γ / y); the softmax's Jacobian "
                "turns it into the gradient with respect to the logits, y - γ",
                lambda ctx: (ctx.expected["grad"] - y(ctx)) / y(ctx)),
        Mistake("grad", "grad has the wrong sign: it is y - γ, the derivative of the loss -log P, not of log P",
                lambda ctx: -ctx.expected["grad"]),
    ]


def backward_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name != "tiny" or not isinstance(value, np.ndarray) or value.shape != np.shape(expected):
        return []
    _, want = brute_force_loss_and_grad(probe.kwargs["log_probs"], probe.kwargs["target"], probe.kwargs["blank"])
    worst = float(np.max(np.abs(value.astype(np.float64) - want)))
    if not worst <= 1e-6:
        return [f"on a 5-frame input, grad differs by up to {worst:.3g} from the gradient found by adding up all "
                "243 paths"]
    return []


# ---------------------------------------------------------------- the decoders

def decode_driver(namespace: dict, name: str, kwargs: Kwargs) -> np.ndarray:
    log_probs = np.array(kwargs["log_probs"], copy=True)
    extra = {"beam_width": kwargs["beam_width"]} if "beam_width" in kwargs else {}
    return padded(namespace[name](log_probs, blank=kwargs["blank"], **extra), len(log_probs))


def greedy_probes(rng, ref):
    return [Probe("random", {"log_probs": random_log_probs(rng, 16, 4), "blank": 0}),
            Probe("blank_2", {"log_probs": random_log_probs(rng, 16, 4), "blank": 2}, "the blank is class 2"),
            Probe("peaked", {"log_probs": peaked_log_probs(rng, [1, 1, 3, 2, 2, 2], 2, 4, 0, 0.7), "blank": 0},
                  "a label repeated after a blank")]


def greedy_mistakes():
    def best_path(axis: int):
        return lambda ctx: np.argmax(ctx.probe.kwargs["log_probs"], axis=axis)

    return [*collapse_mistakes(best_path(1)),
            Mistake("labels", "the best path is returned as it is; collapse it (merge repeats, then drop blanks)",
                    lambda ctx: padded(best_path(1)(ctx), len(ctx.probe.kwargs["log_probs"]))),
            Mistake("labels", "the argmax is taken over axis 0 (the frames); take it over axis 1, the classes of "
                    "each frame", lambda ctx: padded(
                        collapsed(best_path(0)(ctx), ctx.probe.kwargs["blank"]),
                        len(ctx.probe.kwargs["log_probs"])))]


def merge_example() -> np.ndarray:
    """Three frames with P(blank) = 0.55 and P(a) = 0.45: the best path is all blanks (P = 0.17), but the
    six paths that collapse to [a] add up to P = 0.72."""
    return np.log(np.tile([0.55, 0.45], (3, 1)))


def beam_probes(rng, ref):
    tiny = [Probe(f"tiny_{i}", {"log_probs": random_log_probs(rng, T, 3, scale=1.5), "beam_width": 30, "blank": b},
                  f"{T} frames, 3 classes") for i, (T, b) in enumerate([(5, 0), (6, 1), (4, 2), (6, 0)])]
    return [Probe("merge", {"log_probs": merge_example(), "beam_width": 10, "blank": 0},
                  "the best path and the best labelling differ"),
            *tiny,
            Probe("long", {"log_probs": peaked_log_probs(rng, [int(k) for k in rng.integers(1, 5, 300)], 4, 5, 0, 0.55),
                           "beam_width": 3, "blank": 0}, "1,500 frames")]


def beam_mistakes():
    def best_path_labels(ctx: Context) -> np.ndarray:
        log_probs, blank = ctx.probe.kwargs["log_probs"], ctx.probe.kwargs["blank"]
        return padded(collapsed(np.argmax(log_probs, axis=1), blank), len(log_probs))

    return [Mistake("labels", "the answer is the best single path (greedy decoding's answer): paths that collapse "
                    "to the same prefix must be merged, their probabilities added, before the beam is pruned",
                    best_path_labels, probe="merge")]


def beam_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if not small_enough(probe) or not isinstance(value, np.ndarray) or value.dtype.kind not in "iu":
        return []
    probs = labelling_probabilities(probe.kwargs["log_probs"], probe.kwargs["blank"])
    best = max(probs, key=probs.get)
    got = tuple(int(k) for k in value if k != -1)
    if probs.get(got, 0.0) < probs[best] * (1 - 1e-9):
        return [f"on the {probe.name} input (T = {len(probe.kwargs['log_probs'])}, beam_width = "
                f"{probe.kwargs['beam_width']}), the answer {list(got)} has P = {probs.get(got, 0.0):.3g}, but "
                f"{list(best)} has P = {probs[best]:.3g} (all labellings added up)"]
    return []


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,
    memory_mb=2048,
    functions=(
        GradedFunction("collapse", ("labels",), collapse_probes,
                       lambda: collapse_mistakes(lambda ctx: ctx.probe.kwargs["path"]), driver=collapse_driver),
        GradedFunction("ctc_forward", ("alpha", "loss"), ctc_probes, forward_mistakes, driver=ctc_call,
                       properties=forward_properties, rtol=1e-6),
        GradedFunction("ctc_backward", ("grad",), ctc_probes, backward_mistakes, uses=("ctc_forward",),
                       driver=ctc_call, properties=backward_properties, rtol=1e-6),
        GradedFunction("greedy_decode", ("labels",), greedy_probes, greedy_mistakes, uses=("collapse",),
                       driver=decode_driver),
        GradedFunction("prefix_beam_search", ("labels",), beam_probes, beam_mistakes, driver=decode_driver,
                       properties=beam_properties),
    ),
)
