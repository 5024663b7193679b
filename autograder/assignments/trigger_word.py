"""Trigger word detection: probes and recognisable mistakes for the clip builders, TriggerModel and
detect_triggers.

The clip builders draw from a numpy Generator in the order the notebook prescribes, so they are graded
by exact equality with the solution under the same seed. ``TriggerModel`` is graded by behaviour: its
parameter count, its logits for weights placed by shape, the same logits twice, and causality (changing
the input after some frame must not change the outputs of steps whose window ended before it). Where
two parameters have the same shape (the convolution's bias and the batch norm's two vectors; a GRU's
hidden weights and the next GRU's input weights; the GRU biases), the probe gives them the same values,
so the order in which a learner registers layers does not matter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.mistakes import like_reference
from autograder.sequences import at_steps
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe
from autograder.torch_models import load_by_shape, plain, tensors

ID = "trigger_word"
CLIP_MS, SAMPLE_RATE, T_Y = 5_000, 16_000, 121
N_FREQ, N_C, N_A, T_X_PROBE = 6, 5, 4, 43
RTOL = 1e-5

Kwargs = dict[str, Any]


def seeded(namespace: dict, name: str, kwargs: Kwargs) -> Any:
    """Call the function with a Generator made from the probe's seed in place of ``seed``."""
    kwargs = dict(kwargs)
    rng = np.random.default_rng(kwargs.pop("seed"))
    return namespace[name](rng=rng, **kwargs)


# ---------------------------------------------------------------- get_random_time_segment

def segment_driver(namespace: dict, name: str, kwargs: Kwargs) -> np.ndarray:
    """One segment per seed, as rows of an (n, 2) array."""
    seeds = kwargs.pop("seeds")
    return np.array([[int(v) for v in seeded(namespace, name, {**kwargs, "seed": seed})] for seed in seeds],
                    dtype=np.int64)


def segment_probes(rng, ref):
    return [Probe("short", {"segment_ms": 700, "seeds": [1, 2, 3, 4]}),
            Probe("long", {"segment_ms": 4_990, "seeds": [5, 6, 7, 8]}, "a segment almost as long as the clip"),
            Probe("short_clip", {"segment_ms": 3, "clip_ms": 5, "seeds": list(range(12))})]


def segment_mistakes():
    out = "segments"
    return [
        *like_reference("the start is drawn from rng.integers(0, clip_ms - segment_ms): the segment can then never "
                        "end on the clip's last millisecond; draw from rng.integers(0, clip_ms - segment_ms + 1)",
                        lambda ctx: {**ctx.probe.kwargs, "clip_ms": ctx.probe.kwargs.get("clip_ms", CLIP_MS) - 1},
                        [out]),
        Mistake(out, "end_ms is start_ms + segment_ms; with both ends included it is start_ms + segment_ms - 1",
                lambda ctx: ctx.expected[out] + np.array([0, 1])),
    ]


# ---------------------------------------------------------------- is_overlapping

def overlap_driver(namespace: dict, name: str, kwargs: Kwargs) -> np.ndarray:
    return np.array([bool(namespace[name](tuple(segment), [tuple(p) for p in previous]))
                     for segment, previous in kwargs["cases"]])


CASES = [((100, 199), []), ((100, 199), [(0, 99)]), ((100, 199), [(200, 300)]), ((100, 199), [(0, 100)]),
         ((100, 199), [(199, 250)]), ((100, 199), [(120, 130)]), ((100, 199), [(50, 400)]),
         ((100, 199), [(0, 50), (300, 400), (150, 160)]), ((100, 199), [(0, 50), (300, 400)])]


def overlap_probes(rng, ref):
    return [Probe("cases", {"cases": [[list(s), [list(p) for p in prev]] for s, prev in CASES]})]


def overlap_mistakes():
    def strict(ctx: Context) -> np.ndarray:
        return np.array([any(s < pe and ps < e for ps, pe in prev) for (s, e), prev in ctx.probe.kwargs["cases"]])

    def first_only(ctx: Context) -> np.ndarray:
        return np.array([bool(prev) and prev[0][0] <= e and s <= prev[0][1]
                         for (s, e), prev in ctx.probe.kwargs["cases"]])

    return [Mistake("overlaps", "segments that share only their first or last millisecond count as apart; with both "
                    "ends included, (100, 199) and (0, 100) share millisecond 100", strict),
            Mistake("overlaps", "only the first previous segment is compared; check every one of them", first_only)]


# ---------------------------------------------------------------- insert_audio_clip

def insert_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    background = np.array(kwargs["background"], copy=True)
    previous = [tuple(p) for p in kwargs["previous_segments"]]
    mixed, segment = namespace[name](background, np.asarray(kwargs["audio_clip"]), previous,
                                     np.random.default_rng(kwargs["seed"]), max_tries=kwargs["max_tries"])
    return {"audio": np.asarray(mixed), "segment": None if segment is None else [int(v) for v in segment],
            "background unchanged": bool(np.array_equal(background, kwargs["background"])),
            "previous_segments unchanged": previous == [tuple(p) for p in kwargs["previous_segments"]]}


def insert_probes(rng, ref):
    background = (rng.standard_normal(CLIP_MS * SAMPLE_RATE // 1000) * 0.01).astype(np.float32)
    clip = rng.standard_normal(12_345).astype(np.float32)  # 772 ms (771.6 rounded up)
    return [Probe("empty", {"background": background, "audio_clip": clip, "previous_segments": [], "seed": 3,
                            "max_tries": 20}),
            Probe("crowded", {"background": background, "audio_clip": clip, "seed": 4, "max_tries": 20,
                              "previous_segments": [[0, 1000], [1500, 2600], [3400, 4100]]},
                  "most of the clip taken"),
            Probe("full", {"background": background, "audio_clip": clip, "seed": 5, "max_tries": 7,
                           "previous_segments": [[0, 4999]]}, "no room at all")]


def insert_mistakes():
    return [
        Mistake("background unchanged", "insert_audio_clip changes the background it is given: add the word into "
                "background.copy()", lambda ctx: False),
        Mistake("previous_segments unchanged", "insert_audio_clip appends to previous_segments; leave that to the "
                "caller (create_training_example records the segment)", lambda ctx: False),
    ]


# ---------------------------------------------------------------- insert_ones

def ones_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    y = np.array(kwargs["y"], copy=True)
    out = namespace[name](y, kwargs["segment_end_ms"], **{k: kwargs[k] for k in ("n_ones",) if k in kwargs})
    return {"labels": np.asarray(out), "y unchanged": bool(np.array_equal(y, kwargs["y"]))}


def ones_probes(rng, ref):
    y = np.zeros(T_Y, dtype=np.float32)
    earlier = y.copy()
    earlier[10:20] = 1
    return [Probe("middle", {"y": y, "segment_end_ms": 2_345}),
            Probe("end", {"y": y, "segment_end_ms": 4_900}, "the word ends 0.1 s before the clip does"),
            Probe("second_word", {"y": earlier, "segment_end_ms": 3_003, "n_ones": 7}, "ones already there")]


def ones_mistakes():
    def shifted(by: int):
        def predict(ctx: Context) -> np.ndarray:
            kw = ctx.probe.kwargs
            y, n = np.array(kw["y"], copy=True), kw.get("n_ones", 10)
            t = int(kw["segment_end_ms"] * len(y) / CLIP_MS) + 1 + by
            y[max(t, 0):t + n] = 1
            return y
        return predict

    return [Mistake("labels", "the ones start at the step where the word ends; they start at the step after it, "
                    "t + 1", shifted(-1)),
            Mistake("labels", "the ones start two steps after the word's end; the first one is at t + 1", shifted(1)),
            Mistake("y unchanged", "insert_ones changes the y it is given: work on y.copy()", lambda ctx: False)]


# ---------------------------------------------------------------- create_training_example

def example_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    x, y, segments = namespace[name](np.array(kwargs["background"], copy=True), list(kwargs["activates"]),
                                     list(kwargs["negatives"]), np.random.default_rng(kwargs["seed"]))
    return {"x": np.asarray(x), "y": np.asarray(y), "segments": [[int(a), int(b)] for a, b in segments]}


def example_probes(rng, ref):
    background = (rng.standard_normal(CLIP_MS * SAMPLE_RATE // 1000) * 0.01).astype(np.float32)
    activates = [rng.standard_normal(n).astype(np.float32) * 0.5 for n in (9_000, 11_000)]
    negatives = [rng.standard_normal(n).astype(np.float32) * 0.5 for n in (7_000, 13_000, 10_000)]
    return [Probe(f"seed_{seed}", {"background": background, "activates": activates, "negatives": negatives,
                                   "seed": seed}) for seed in (2, 11, 23)]


# ---------------------------------------------------------------- TriggerModel

TWICE = "same logits twice"
CAUSAL = "outputs before the change"


def model_weights(rng: np.random.Generator) -> list[np.ndarray]:
    """Weights in the shapes of TriggerModel(N_FREQ, N_C, N_A); alike shapes get alike values (see above)."""
    def w(*shape: int, scale: float = 0.5) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    channel = np.abs(w(N_C)) + 0.5  # also the batch norm's scale, so positive
    hidden, bias = w(3 * N_A, N_A), w(3 * N_A, scale=0.2)
    return [w(N_C, N_FREQ, 15), channel, channel, channel,
            w(3 * N_A, N_C), hidden, bias, bias, hidden, hidden, bias, bias, w(1, N_A), w(1)]


def model_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = namespace[name](n_freq=N_FREQ, n_c=N_C, n_a=N_A)
        if kwargs["part"] == "size":
            return {"parameters": int(sum(p.numel() for p in model.parameters()))}
        load_by_shape(model, kwargs["weights"])  # wrong shapes: the size probe says so
        model.eval()
        x = torch.from_numpy(kwargs["x"])
        changed = x.clone()
        changed[..., kwargs["from_frame"]:] += 3.0
        expected = "one tensor of logits (m, T_y)"
        with torch.no_grad():
            (logits,) = tensors(model(x), 1, "forward", expected)
            (again,) = tensors(model(x), 1, "forward", expected)
            (after,) = tensors(model(changed), 1, "forward", expected)
        logits, steps = plain(logits), kwargs["unchanged_steps"]
        return {"logits": logits, TWICE: bool(np.array_equal(logits, plain(again))),
                CAUSAL: plain(after)[:, :steps] if after.shape == logits.shape else plain(after)}


def model_probes(rng, ref):
    from_frame = 24  # steps t with 4t + 14 < 24, i.e. t <= 2, must not change
    return [Probe("size", {"part": "size"}),
            Probe("forward", {"part": "forward", "weights": model_weights(rng), "from_frame": from_frame,
                              "unchanged_steps": 3, "x": rng.standard_normal((2, N_FREQ, T_X_PROBE)).astype(np.float32)},
                  "hand-set weights")]


def model_mistakes():
    return [Mistake(TWICE, "forward gives other logits when called twice: a layer is created inside forward; create "
                    "every layer once, in __init__", lambda ctx: False),
            Mistake("logits", "forward returns probabilities (a sigmoid); return the logits, the loss applies the sigmoid",
                    lambda ctx: 1 / (1 + np.exp(-ctx.expected["logits"])))]


def model_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name == "size":
        count = value.get("parameters") if isinstance(value, dict) else None
        if count is not None and count != expected["parameters"]:
            return [f"TriggerModel(n_freq={N_FREQ}, n_c={N_C}, n_a={N_A}) has {count} parameters; the layers the "
                    f"notebook describes have {expected['parameters']}"]
        return []
    after, logits = value.get(CAUSAL), value.get("logits")
    if isinstance(after, np.ndarray) and isinstance(logits, np.ndarray) and after.shape == logits[:, :3].shape \
            and not np.allclose(after, logits[:, :3], atol=1e-5):
        return ["the first output steps change when only later frames change: the model looks ahead (a "
                "bidirectional GRU, or padding that centres the convolution); the output at step t may only see "
                "frames up to the end of its convolution window"]
    return []


# ---------------------------------------------------------------- detect_triggers

def detect_driver(namespace: dict, name: str, kwargs: Kwargs) -> np.ndarray:
    p = np.asarray(kwargs["probabilities"])
    return at_steps(namespace[name](p, kwargs["threshold"], kwargs["min_gap"]), len(p))


def detect_probes(rng, ref):
    p = np.full(60, 0.1)
    p[5:12], p[14:16], p[30:33], p[33] = 0.9, 0.7, 0.6, 0.5
    p[50] = 0.5
    return [Probe("runs", {"probabilities": p, "threshold": 0.5, "min_gap": 10}),
            Probe("tight", {"probabilities": p, "threshold": 0.65, "min_gap": 3})]


def detect_mistakes():
    def loop(ctx: Context, strict: bool = False, gap_from_last_high: bool = False, gap: bool = True) -> np.ndarray:
        kw = ctx.probe.kwargs
        found, last_high = [], None
        for t, p in enumerate(kw["probabilities"]):
            high = p > kw["threshold"] if strict else p >= kw["threshold"]
            if high:
                reference_step = last_high if gap_from_last_high else (found[-1] if found else None)
                if not gap or reference_step is None or t - reference_step >= kw["min_gap"]:
                    found.append(t)
                last_high = t
        return at_steps(found, len(kw["probabilities"]))

    out = "detections"
    return [Mistake(out, "a probability equal to threshold is not detected; detect when p >= threshold",
                    lambda ctx: loop(ctx, strict=True)),
            Mistake(out, "every step above threshold is a detection; after a detection, skip min_gap steps",
                    lambda ctx: loop(ctx, gap=False)),
            Mistake(out, "min_gap is counted from the last step above threshold; count it from the last detection",
                    lambda ctx: loop(ctx, gap_from_last_high=True))]


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,
    memory_mb=1536,
    functions=(
        GradedFunction("get_random_time_segment", ("segments",), segment_probes, segment_mistakes,
                       driver=segment_driver),
        GradedFunction("is_overlapping", ("overlaps",), overlap_probes, overlap_mistakes, driver=overlap_driver),
        GradedFunction("insert_audio_clip", (), insert_probes, insert_mistakes,
                       uses=("get_random_time_segment", "is_overlapping"), driver=insert_driver),
        GradedFunction("insert_ones", (), ones_probes, ones_mistakes, driver=ones_driver),
        GradedFunction("create_training_example", (), example_probes,
                       uses=("get_random_time_segment", "is_overlapping", "insert_audio_clip", "insert_ones"),
                       driver=example_driver, rtol=1e-5),
        GradedFunction("TriggerModel", (), model_probes, model_mistakes, driver=model_driver, rtol=RTOL,
                       properties=model_properties),
        GradedFunction("detect_triggers", ("detections",), detect_probes, detect_mistakes, driver=detect_driver),
    ),
)
