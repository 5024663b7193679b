"""Emojify: probes and recognisable mistakes for sentence_to_avg, model, sentences_to_indices,
pretrained_embedding_layer and EmojifyV2.

Vocabularies are small and random (n_e = 7; words w00, w01, ... plus a few real ones so that the
sentences read naturally), sent as plain data and turned into a ``WordVectors`` in the sandbox.

- ``model`` is graded on exact equality with the solution under the same seed, which the notebook's
  rule for drawing from ``rng`` makes possible; its mistakes are predicted by running the solution
  with an altered argument (a negative learning rate) or with a generator that misbehaves the way
  the buggy code draws (never shuffling, shuffling once, an unscaled W).
- ``EmojifyV2`` is graded by behaviour, never by layer names: the number of trainable parameters,
  logits for weights set by shape (as for Jazz), the same logits when called twice and when more
  padding is appended, and whether dropout acts in training mode. Reading the last *padded* step is
  predicted by the solution itself on the same indices with PAD replaced by UNK (both zero
  vectors), which makes every step a real one.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from autograder.mistakes import changed, like_reference
from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe
from autograder.torch_models import load_by_shape, plain, tensors
from autograder.vocabulary import random_vocabulary, vocabulary_driver, word_vectors
from seqmodels.activations import softmax
from seqmodels.emojify import N_CLASSES, tokenize

ID = "emojify"
N_E, N_A = 6, 7  # pairwise different from each other, from N_CLASSES = 5 and from the vocabulary size
PAD, UNK = 0, 1
MODEL_SEED = 0
REAL_WORDS = ["i", "do", "n't", "love", "you", "not", "happy", "lunch", "was", "great", "baseball", "game"]
UNKNOWN = "zqxj"  # a token no probe vocabulary holds

Kwargs = dict[str, Any]


def probe_vocabulary(rng: np.random.Generator, extra: int = 6) -> dict:
    vocabulary = random_vocabulary(rng, len(REAL_WORDS) + extra, N_E)
    vocabulary["words"][:len(REAL_WORDS)] = REAL_WORDS
    return vocabulary


SENTENCES = ["I love you", "I don't love you!", "lunch was GREAT, great", f"{UNKNOWN} happy {UNKNOWN} game",
             f"{UNKNOWN}", "you love baseball game not", "happy"]


# ---------------------------------------------------------------- sentence_to_avg

def avg_probes(rng, ref):
    vocabulary = probe_vocabulary(rng)
    notes = {3: "some words are unknown", 4: "no word is known"}
    return [Probe(f"sentence_{i}", {"sentence": s, "vocabulary": vocabulary}, notes.get(i, ""))
            for i, s in enumerate(SENTENCES)]


def split_naively(lower: bool) -> Callable[[Kwargs], Kwargs]:
    """The sentence as str.split() sees it: a piece that is not a clean token becomes an unknown word."""
    def alter(kwargs: Kwargs) -> Kwargs:
        pieces = (kwargs["sentence"].lower() if lower else kwargs["sentence"]).split()
        return {**kwargs, "sentence": " ".join(p if tokenize(p) == [p] else UNKNOWN for p in pieces)}
    return alter


def known_and_all(ctx: Context) -> tuple[int, int]:
    tokens = tokenize(ctx.probe.kwargs["sentence"])
    return sum(t in ctx.probe.kwargs["vocabulary"]["words"] for t in tokens), len(tokens)


def avg_mistakes():
    out = "avg"
    split_message = ("sentence_to_avg splits the sentence with str.split(){}; use tokenize(sentence), which "
                     "lowercases, drops punctuation and splits off n't")
    return [
        Mistake(out, "with no known word the average is NaN (the mean of nothing): return the zero vector",
                lambda ctx: np.full(N_E, np.nan), probe="sentence_4"),
        Mistake(out, "sentence_to_avg divides by the number of all words, unknown ones included; average over the "
                "known words only", lambda ctx: ctx.expected[out] * known_and_all(ctx)[0] / known_and_all(ctx)[1]),
        Mistake(out, "sentence_to_avg returns the sum of the vectors; divide by the number of known words",
                lambda ctx: ctx.expected[out] * known_and_all(ctx)[0]),
        *like_reference(split_message.format(""), lambda ctx: split_naively(True)(ctx.probe.kwargs), [out]),
        *like_reference(split_message.format(" and does not lowercase it"),
                        lambda ctx: split_naively(False)(ctx.probe.kwargs), [out]),
    ]


# ---------------------------------------------------------------- model

class ScriptedDraws:
    """A numpy Generator that draws the way one buggy ``model`` would, for the solution to replay.

    ``in_order``: no shuffling (the permutation is the identity and draws nothing);
    ``once``: one permutation, reused for every pass; ``unscaled``: W drawn without / sqrt(n_h).
    """

    def __init__(self, seed: int, variant: str):
        self.rng, self.variant, self.first = np.random.default_rng(seed), variant, None

    def standard_normal(self, size):
        draw = self.rng.standard_normal(size)
        return draw * np.sqrt(size[1]) if self.variant == "unscaled" else draw

    def permutation(self, m):
        if self.variant == "in_order":
            return np.arange(m)
        if self.variant == "once":
            self.first = self.rng.permutation(m) if self.first is None else self.first
            return self.first
        return self.rng.permutation(m)


def model_driver(namespace: dict, name: str, kwargs: Kwargs) -> tuple:
    kwargs = dict(kwargs)
    seed, variant = kwargs.pop("seed"), kwargs.pop("draws", None)
    rng = ScriptedDraws(seed, variant) if variant else np.random.default_rng(seed)
    X = np.array(kwargs.pop("X"), dtype=object)  # as in the notebook: an array of sentences
    W, b, costs = namespace[name](X, kwargs.pop("Y"), word_vectors(kwargs.pop("vocabulary")), rng, **kwargs)
    return W, b, np.asarray(costs, dtype=np.float64)  # a list of costs is fine too


def model_probes(rng, ref):
    vocabulary = probe_vocabulary(rng)
    words = vocabulary["words"]
    X = [" ".join(rng.choice(words, size=rng.integers(1, 5))) for _ in range(11)] + [UNKNOWN]
    Y = rng.integers(0, N_CLASSES, size=len(X))
    common = {"X": X, "Y": Y, "vocabulary": vocabulary, "num_iterations": 3}
    return [Probe("seed_1", {**common, "seed": 1, "learning_rate": 0.1}),
            Probe("seed_2", {**common, "seed": 2, "learning_rate": 0.5})]


def model_mistakes():
    outputs = ["W", "b", "costs"]
    found = like_reference("model moves W and b up the gradient: with dz = a - y, take W - learning_rate * dW "
                           "(and the same for b)", lambda ctx: {**ctx.probe.kwargs,
                                                                "learning_rate": -ctx.probe.kwargs["learning_rate"]},
                           outputs)
    draws = {"in_order": "model visits the examples in the same order every pass: shuffle with rng.permutation(m) "
                         "at the start of each pass",
             "once": "model shuffles the examples once, before training: draw a new rng.permutation(m) at the start "
                     "of every pass",
             "unscaled": "W starts as rng.standard_normal((n_y, n_h)) without dividing by np.sqrt(n_h)"}
    for variant, message in draws.items():
        found += like_reference(message, changed(draws=variant), outputs)
    found.append(Mistake("costs", "costs adds up the losses of a pass; the cost of a pass is their mean (divide by m)",
                         lambda ctx: ctx.expected["costs"] * len(ctx.probe.kwargs["Y"])))
    return found


# ---------------------------------------------------------------- sentences_to_indices

def indices_driver(namespace: dict, name: str, kwargs: Kwargs) -> Any:
    word_to_index = {w: i + 2 for i, w in enumerate(kwargs["words"])}
    return namespace[name](np.array(kwargs["X"], dtype=object), word_to_index, kwargs["max_len"])


def indices_probes(rng, ref):
    words = probe_vocabulary(rng)["words"]
    return [Probe("padded", {"X": SENTENCES[:4], "words": words, "max_len": 7}),
            Probe("cut", {"X": SENTENCES[3:], "words": words, "max_len": 3}, "sentences longer than max_len")]


def left_padded(ctx: Context) -> np.ndarray:
    rows = []
    for row in ctx.expected["X_indices"]:
        words = row[row != PAD]
        rows.append(np.concatenate([np.full(len(row) - len(words), PAD), words]))
    return np.array(rows, dtype=np.int64)


def indices_mistakes():
    out = "X_indices"
    split_message = ("sentences_to_indices splits with str.split(){}; use tokenize(sentence), which lowercases, "
                     "drops punctuation and splits off n't")

    def naive(lower: bool) -> Callable[[Context], Kwargs]:
        alter = split_naively(lower)
        return lambda ctx: {**ctx.probe.kwargs, "X": [alter({"sentence": s})["sentence"] for s in ctx.probe.kwargs["X"]]}

    def without_unknown(ctx: Context) -> Kwargs:
        known = set(ctx.probe.kwargs["words"])
        return {**ctx.probe.kwargs, "X": [" ".join(t for t in tokenize(s) if t in known) for s in ctx.probe.kwargs["X"]]}

    return [
        Mistake(out, "an unknown word gets index PAD (0); give it UNK (1), so that the model still sees a word there",
                lambda ctx: np.where(ctx.expected[out] == UNK, PAD, ctx.expected[out])),
        *like_reference("sentences_to_indices leaves unknown words out; give each one the index UNK (1)",
                        without_unknown, [out]),
        Mistake(out, "the padding comes first; put the words first and PAD after them", left_padded),
        *like_reference(split_message.format(""), naive(lower=True), [out]),
        *like_reference(split_message.format(" and does not lowercase"), naive(lower=False), [out]),
    ]


def indices_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [f"X_indices has dtype {value.dtype}; word indices are integers (np.int64), as nn.Embedding needs"]
    return []


# ---------------------------------------------------------------- pretrained_embedding_layer

def embedding_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    vocabulary = kwargs["vocabulary"]
    word_to_index = {w: i + 2 for i, w in enumerate(vocabulary["words"])}
    layer = namespace[name](word_vectors(vocabulary), word_to_index)
    rows = layer(torch.arange(len(word_to_index) + 2))
    (rows,) = tensors(rows, 1, "the layer", "a tensor of embeddings")
    parameters = list(layer.parameters())
    return {"rows": plain(rows), "sizes": [list(p.shape) for p in parameters],
            "trainable": any(p.requires_grad for p in parameters)}


def embedding_probes(rng, ref):
    return [Probe("random", {"vocabulary": probe_vocabulary(rng)})]


def embedding_mistakes():
    def shifted(ctx: Context) -> np.ndarray:
        want = ctx.expected["rows"]
        rows = np.zeros_like(want)
        rows[:-2] = want[2:]
        return rows

    return [
        Mistake("trainable", "the embedding layer is trainable: freeze it (from_pretrained(..., freeze=True), or "
                "requires_grad False), so that training never moves the GloVe vectors", lambda ctx: True),
        Mistake("rows", "row i holds the vector of the i-th word; the vector of word w belongs in row "
                "word_to_index[w] (rows 0 and 1 are PAD and UNK)", shifted),
    ]


EMBEDDING_LABELS = {"rows": "the layer's rows 0..V+1", "sizes": "the layer's parameter shapes",
                    "trainable": "whether the layer is trainable"}
EMBEDDING_HINTS = {"sizes": "the layer needs max(word_to_index.values()) + 1 rows (PAD, UNK and every word), each "
                            "of length n_e"}


def embedding_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    rows = value.get("rows") if isinstance(value, dict) else None
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and len(rows) > UNK and np.any(rows[[PAD, UNK]]):
        return ["rows PAD (0) and UNK (1) of the layer must hold zeros"]
    return []


# ---------------------------------------------------------------- EmojifyV2

TRAINABLE = "trainable parameters"
TWICE = "same logits twice"
PADDED = "logits with 3 more PADs"
DROPOUT = "dropout acts in training mode"


def build(namespace: dict, name: str, kwargs: Kwargs) -> torch.nn.Module:
    torch.manual_seed(MODEL_SEED)
    embedding = torch.nn.Embedding.from_pretrained(torch.from_numpy(kwargs["embedding"]), freeze=True,
                                                   padding_idx=PAD)
    return namespace[name](embedding, n_a=kwargs["n_a"])


def v2_driver(namespace: dict, name: str, kwargs: Kwargs) -> dict:
    """Build the model; report its trainable size, or its logits for the probe's weights and indices."""
    with torch.random.fork_rng(devices=[]):  # leave the learner's own torch seed alone
        model = build(namespace, name, kwargs)
        if kwargs["part"] == "size":
            return {TRAINABLE: int(sum(p.numel() for p in model.parameters() if p.requires_grad))}
        load_by_shape(model, [*kwargs["weights"], kwargs["embedding"]])  # wrong shapes: the size probe says so
        X = torch.from_numpy(np.asarray(kwargs["X"], dtype=np.int64))
        more = torch.cat([X, torch.full((len(X), 3), PAD, dtype=torch.int64)], dim=1)
        expected = "one tensor of logits (m, n_classes)"
        model.eval()
        with torch.no_grad():
            (first,) = tensors(model(X), 1, "forward", expected)
            (second,) = tensors(model(X), 1, "forward", expected)
            (padded,) = tensors(model(more), 1, "forward", expected)
            model.train()
            torch.manual_seed(1)
            (training,) = tensors(model(X), 1, "forward", expected)
        first, second = plain(first), plain(second)
        return {"logits": first, TWICE: bool(first.shape == second.shape and np.array_equal(first, second)),
                PADDED: plain(padded),
                DROPOUT: bool(first.shape != training.shape or not np.allclose(first, plain(training)))}


def v2_weights(rng: np.random.Generator) -> list[np.ndarray]:
    """nn.LSTM(N_E, N_A) and nn.Linear(N_A, N_CLASSES) weights in torch's shapes; the two LSTM biases are summed
    by torch, so their order does not matter."""
    shapes = [(4 * N_A, N_E), (4 * N_A, N_A), (4 * N_A,), (4 * N_A,), (N_CLASSES, N_A), (N_CLASSES,)]
    return [(rng.standard_normal(s) * 0.8).astype(np.float32) for s in shapes]


def v2_probes(rng, ref):
    vocab_len = 12
    embedding = rng.standard_normal((vocab_len, N_E)).astype(np.float32)
    embedding[[PAD, UNK]] = 0.0
    lengths = [4, 2, 5, 1, 3]
    X = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    for i, length in enumerate(lengths):
        X[i, :length] = rng.integers(2, vocab_len, size=length)
    X[0, 1] = UNK  # an unknown word is a real step
    common = {"embedding": embedding, "n_a": N_A}
    return [Probe("size", {"part": "size", **common}),
            Probe("forward", {"part": "forward", **common, "weights": v2_weights(rng), "X": X},
                  "sentences of 4, 2, 5, 1 and 3 words")]


def pads_as_words(ctx: Context) -> Kwargs:
    X = np.asarray(ctx.probe.kwargs["X"])
    return {**ctx.probe.kwargs, "X": np.where(X == PAD, UNK, X)}


def v2_mistakes():
    last_padded = ("EmojifyV2 reads the state at the last padded step; read a<T_x> at each sentence's last real word, "
                   "a[torch.arange(m), lengths - 1] with lengths = (X_indices != PAD).sum(1)")

    def padded_as_words(ctx: Context) -> Kwargs:
        kwargs = pads_as_words(ctx)
        X = np.asarray(kwargs["X"])
        return {**kwargs, "X": np.concatenate([X, np.full((len(X), 3), UNK)], axis=1)}

    return [
        Mistake(TWICE, "forward gives other logits when called twice on the same input: a layer is created inside "
                "forward, with new random weights at every call; create the layers once, in __init__",
                lambda ctx: False),
        Mistake(DROPOUT, "EmojifyV2 has no dropout: in training mode, apply nn.Dropout to a<T_x> before the linear layer",
                lambda ctx: False),
        *like_reference(last_padded, pads_as_words, ["logits"]),
        Mistake(PADDED, last_padded, lambda ctx: ctx.reference(padded_as_words(ctx))["logits"]),
        *like_reference("EmojifyV2 reads the state after the first word; read it at each sentence's last real word",
                        lambda ctx: {**ctx.probe.kwargs, "X": np.asarray(ctx.probe.kwargs["X"])[:, :1]}, ["logits"]),
        Mistake("logits", "forward returns probabilities (a softmax); return the logits, F.cross_entropy applies the "
                "softmax", lambda ctx: softmax(ctx.expected["logits"], axis=-1)),
    ]


def lstm_parameters(n_e: int, n_a: int) -> int:
    """One nn.LSTM(n_e, n_a): four gates' weights on [x, a] and two bias vectors."""
    return 4 * n_a * (n_e + n_a) + 8 * n_a


def v2_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    if probe.name != "size" or not isinstance(value, dict) or value.get(TRAINABLE) == expected[TRAINABLE]:
        return []
    count, want = value.get(TRAINABLE), expected[TRAINABLE]
    vocab_len, n_e = probe.kwargs["embedding"].shape
    made = f"EmojifyV2(embedding of {vocab_len}x{n_e}, n_a={N_A})"
    if count == want + vocab_len * n_e:
        return [f"{made} trains the embedding too: use the embedding it is given, frozen, and train only the LSTM "
                "and the linear layer"]
    if count == want + lstm_parameters(N_A, N_A):
        return [f"{made} has two LSTM layers; this model has one nn.LSTM(n_e, n_a) and one nn.Linear(n_a, n_classes)"]
    return [f"{made} has {count} trainable parameters; one nn.LSTM(n_e, n_a) and one nn.Linear(n_a, n_classes) have "
            f"4·n_a·(n_e + n_a) + 8·n_a + n_a·n_classes + n_classes = {want}"]


V2_LABELS = {TRAINABLE: "the number of trainable parameters", PADDED: "the logits with 3 more PADs appended",
             TWICE: "forward called twice", DROPOUT: "dropout in training mode"}
V2_HINTS = {"logits": "forward returns one tensor (m, n_classes): one row of logits per sentence"}


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,  # a child needs 2 to 4 s, mostly to import torch and matplotlib
    memory_mb=1536,
    functions=(
        GradedFunction("sentence_to_avg", ("avg",), avg_probes, avg_mistakes, driver=vocabulary_driver),
        GradedFunction("model", ("W", "b", "costs"), model_probes, model_mistakes, uses=("sentence_to_avg",),
                       driver=model_driver),
        GradedFunction("sentences_to_indices", ("X_indices",), indices_probes, indices_mistakes,
                       driver=indices_driver, properties=indices_properties),
        GradedFunction("pretrained_embedding_layer", (), embedding_probes, embedding_mistakes,
                       driver=embedding_driver, labels=EMBEDDING_LABELS, hints=EMBEDDING_HINTS,
                       properties=embedding_properties, rtol=1e-6),
        GradedFunction("EmojifyV2", (), v2_probes, v2_mistakes, driver=v2_driver, labels=V2_LABELS, hints=V2_HINTS,
                       properties=v2_properties, rtol=1e-5),
    ),
)
