"""Operations on word vectors: probes and recognisable mistakes for cosine_similarity,
complete_analogy, neutralize and equalize.

A vocabulary travels to the sandbox as plain data ({"words", "vectors"}) and the driver turns it
into the ``WordVectors`` mapping the notebook's functions take. Probe vocabularies are small and
random (n_e = 7, not GloVe's 50, so a hard-coded 50 shows up as a wrong shape), with vector
lengths that vary a lot, so that cosine similarity and Euclidean distance disagree. One analogy
probe uses 3,000 real GloVe words.

The analogy probes are drawn until the right answer, and the answers of the usual mistakes
(keeping the question words, Euclidean distance, the target built the wrong way round, comparing
the differences e_b - e_a and e_w - e_c), are all different words, so a wrong answer names its
mistake. Most predictions are the solution's own answer to an altered question: the question
words swapped, or the vocabulary given a copy of each question word under another name.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from autograder.spec import Assignment, Context, GradedFunction, Mistake, Probe
from autograder.vocabulary import random_vocabulary as random_words
from autograder.vocabulary import vectors_of, vocabulary_driver
from seqmodels.embeddings import load_glove

ID = "word_vectors"
N_E = 7
COPY = "copy of "  # the prefix of the question words' copies in the "keeps the question words" ablation

Kwargs = dict[str, Any]


def random_vocabulary(rng: np.random.Generator, size: int, zero_word: bool = False) -> dict:
    """A random vocabulary (see autograder.vocabulary), optionally with one zero vector in the middle."""
    vocabulary = random_words(rng, size, N_E)
    if zero_word:
        vocabulary["vectors"][size // 2] = 0.0
    return vocabulary


# ---------------------------------------------------------------- cosine_similarity

def cosine_probes(rng, ref):
    u, v = rng.standard_normal(N_E), rng.standard_normal(N_E) * 4.0
    return [Probe("random", {"u": u, "v": v}),
            Probe("scaled", {"u": u * 0.2, "v": rng.standard_normal(N_E) * 3.0}, "the lengths differ"),
            Probe("opposite", {"u": v, "v": -2.5 * v}, "v = -2.5 u"),
            Probe("zero_vector", {"u": np.zeros(N_E), "v": v}, "u = 0")]


def _uv(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(ctx.probe.kwargs["u"], float), np.asarray(ctx.probe.kwargs["v"], float)


def dot_over_lengths(power_u: int, power_v: int) -> Callable[[Context], float]:
    """u·v / (||u||^power_u ||v||^power_v): the right formula for powers (1, 1), a mistake otherwise."""
    def predict(ctx: Context) -> float:
        u, v = _uv(ctx)
        with np.errstate(all="ignore"):  # 0/0 on the zero-vector probe: a NaN prediction, not a warning
            return float(u @ v / (np.linalg.norm(u) ** power_u * np.linalg.norm(v) ** power_v))
    return predict


def cosine_mistakes():
    out = "similarity"
    return [  # first: on a zero vector, 0/0 is also what several of the others give
        Mistake(out, "cosine_similarity returns NaN when a vector is zero (0/0): return 0.0 for a zero vector",
                lambda ctx: float("nan"), probe="zero_vector"),
        Mistake(out, "cosine_similarity returns the dot product u·v; divide it by the two lengths ||u|| ||v||",
                dot_over_lengths(0, 0)),
        Mistake(out, "cosine_similarity divides by the squared lengths ||u||² ||v||²; divide by ||u|| ||v||",
                dot_over_lengths(2, 2)),
        Mistake(out, "cosine_similarity divides by the length of u only; divide by ||u|| ||v||",
                dot_over_lengths(1, 0)),
        Mistake(out, "cosine_similarity divides by the length of v only; divide by ||u|| ||v||",
                dot_over_lengths(0, 1)),
        Mistake(out, "cosine_similarity returns the Euclidean distance ||u - v||, a dissimilarity; return "
                "u·v / (||u|| ||v||)", lambda ctx: float(np.linalg.norm(_uv(ctx)[0] - _uv(ctx)[1]))),
        Mistake(out, "cosine_similarity returns 1 - cos θ (the cosine distance); return cos θ itself",
                lambda ctx: 1.0 - ctx.expected[out]),
    ]


# ---------------------------------------------------------------- complete_analogy

def analogy_kwargs(vocabulary: dict, a: str, b: str, c: str) -> Kwargs:
    return {"word_a": a, "word_b": b, "word_c": c, "vocabulary": vocabulary}


def with_copies(kwargs: Kwargs) -> Kwargs:
    """The vocabulary with a copy of each question word under another name: the solution's answer on it
    is what a search that forgets to leave the question words out returns (up to the name)."""
    vocabulary = kwargs["vocabulary"]
    question = [kwargs["word_a"], kwargs["word_b"], kwargs["word_c"]]
    words = list(vocabulary["words"]) + [COPY + w for w in question]
    vectors = np.vstack([vocabulary["vectors"], *vectors_of(kwargs, *question)])
    return {**kwargs, "vocabulary": {"words": words, "vectors": vectors}}


def kept_question_word(kwargs: Kwargs, solve: Callable[[Kwargs], str]) -> str:
    return str(solve(with_copies(kwargs))).removeprefix(COPY)


def swapped(kwargs: Kwargs, x: str, y: str) -> Kwargs:
    return {**kwargs, x: kwargs[y], y: kwargs[x]}


def euclidean_answer(kwargs: Kwargs) -> str:
    """The nearest word to e_c - e_a + e_b by Euclidean distance, question words left out."""
    e_a, e_b, e_c = vectors_of(kwargs, kwargs["word_a"], kwargs["word_b"], kwargs["word_c"])
    words, vectors = kwargs["vocabulary"]["words"], np.asarray(kwargs["vocabulary"]["vectors"], float)
    distance = np.linalg.norm(vectors - (e_c - e_a + e_b), axis=1)
    distance[[words.index(kwargs[k]) for k in ("word_a", "word_b", "word_c")]] = np.inf
    return words[int(np.argmin(distance))]


def differences_answer(kwargs: Kwargs) -> str:
    """The word w with the largest sim(e_b - e_a, e_w - e_c), question words left out (another formulation)."""
    e_a, e_b, e_c = vectors_of(kwargs, kwargs["word_a"], kwargs["word_b"], kwargs["word_c"])
    words, vectors = kwargs["vocabulary"]["words"], np.asarray(kwargs["vocabulary"]["vectors"], float)
    steps, relation = vectors - e_c, e_b - e_a
    lengths = np.linalg.norm(steps, axis=1) * np.linalg.norm(relation)
    similarity = np.divide(steps @ relation, lengths, out=np.zeros(len(words)), where=lengths > 0)
    similarity[[words.index(kwargs[k]) for k in ("word_a", "word_b", "word_c")]] = -np.inf
    return words[int(np.argmax(similarity))]


def mistaken_answers(kwargs: Kwargs, solve: Callable[[Kwargs], str]) -> dict[str, str]:
    """What each usual mistake answers on this question (``solve`` is the solution's search)."""
    return {"kept": kept_question_word(kwargs, solve),
            "b<->a": solve(swapped(kwargs, "word_a", "word_b")),
            "a<->c": solve(swapped(kwargs, "word_a", "word_c")),
            "euclidean": euclidean_answer(kwargs),
            "differences": differences_answer(kwargs)}


def distinct_question(rng: np.random.Generator, ref: dict, size: int, zero_word: bool = False) -> Kwargs:
    """A random vocabulary and question on which the answer and every mistake's answer differ."""
    def solve(kwargs: Kwargs) -> str:
        return vocabulary_driver(ref, "complete_analogy", kwargs)

    for _ in range(10_000):
        vocabulary = random_vocabulary(rng, size, zero_word)
        a, b, c = rng.choice([w for i, w in enumerate(vocabulary["words"]) if not (zero_word and i == size // 2)],
                             3, replace=False)
        kwargs = analogy_kwargs(vocabulary, str(a), str(b), str(c))
        answers = [solve(kwargs), *mistaken_answers(kwargs, solve).values()]
        if zero_word:
            answers.append(vocabulary["words"][size // 2])
        if len(set(answers)) == len(answers):
            return kwargs
    raise RuntimeError("no random question tells the mistakes apart")  # pragma: no cover - never seen


def glove_question(words: int = 3_000) -> Kwargs:
    """man : woman :: king : ? on the most frequent real GloVe words."""
    glove = load_glove().top(words)
    return analogy_kwargs({"words": list(glove.words), "vectors": np.asarray(glove.vectors, dtype=np.float64)},
                          "man", "woman", "king")


def analogy_probes(rng, ref):
    return [Probe("random", distinct_question(rng, ref, 30)),
            Probe("random_2", distinct_question(rng, ref, 40)),
            Probe("zero_vector_word", distinct_question(rng, ref, 30, zero_word=True), "a word's vector is zero"),
            Probe("glove", glove_question(), "man : woman :: king : ?")]


def analogy_mistakes():
    out = "d"

    def solve(ctx: Context) -> Callable[[Kwargs], str]:
        return lambda kwargs: ctx.reference(kwargs)[out]

    return [
        Mistake(out, "complete_analogy can return one of the three question words: leave word_a, word_b and word_c "
                "out of the search", lambda ctx: kept_question_word(ctx.probe.kwargs, solve(ctx))),
        Mistake(out, "complete_analogy searches near e_c - e_b + e_a, the relation the wrong way round; the target "
                "is e_c - e_a + e_b", lambda ctx: solve(ctx)(swapped(ctx.probe.kwargs, "word_a", "word_b"))),
        Mistake(out, "complete_analogy searches near e_a - e_c + e_b; the target is e_c - e_a + e_b",
                lambda ctx: solve(ctx)(swapped(ctx.probe.kwargs, "word_a", "word_c"))),
        Mistake(out, "complete_analogy ranks words by Euclidean distance; rank them by cosine similarity, which "
                "ignores the vectors' lengths", lambda ctx: euclidean_answer(ctx.probe.kwargs)),
        Mistake(out, "complete_analogy compares e_b - e_a with e_w - e_c; this assignment asks for the word w with "
                "the largest sim(e_w, e_c - e_a + e_b)", lambda ctx: differences_answer(ctx.probe.kwargs)),
        Mistake(out, "a word whose vector is zero gets similarity NaN (0/0), and np.argmax picks a NaN: give it "
                "similarity 0, as cosine_similarity does", probe="zero_vector_word",
                predict=lambda ctx: ctx.probe.kwargs["vocabulary"]["words"][len(ctx.probe.kwargs["vocabulary"]["words"]) // 2]),
    ]


# ---------------------------------------------------------------- neutralize

def bias_probe(rng: np.random.Generator, name: str, g_length: float, note: str = "") -> Probe:
    vocabulary = random_vocabulary(rng, 12)
    g = rng.standard_normal(N_E)
    return Probe(name, {"word": vocabulary["words"][3], "g": g * g_length / np.linalg.norm(g),
                        "vocabulary": vocabulary}, note)


def neutralize_probes(rng, ref):
    return [bias_probe(rng, "random", 2.7), bias_probe(rng, "short_g", 0.4), bias_probe(rng, "unit_g", 1.0, "|g| = 1")]


def _e_g(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    kw = ctx.probe.kwargs
    (e,) = vectors_of(kw, kw["word"])
    return e, np.asarray(kw["g"], dtype=np.float64)


def neutralize_mistakes():
    out = "e_debiased"

    def removing(scale: Callable[[np.ndarray], float]) -> Callable[[Context], np.ndarray]:
        def predict(ctx: Context) -> np.ndarray:
            e, g = _e_g(ctx)
            return e - (e @ g) * scale(g) * g
        return predict

    return [
        Mistake(out, "neutralize divides e·g by ||g|| instead of ||g||²", removing(lambda g: 1 / np.linalg.norm(g))),
        Mistake(out, "neutralize assumes g has length 1: divide e·g by ||g||² (g is not a unit vector)",
                removing(lambda g: 1.0)),
        Mistake(out, "neutralize returns the bias component (e·g / ||g||²) g; return e minus it",
                lambda ctx: _e_g(ctx)[0] - ctx.expected[out]),
        Mistake(out, "neutralize adds the bias component instead of subtracting it",
                lambda ctx: 2 * _e_g(ctx)[0] - ctx.expected[out]),
        Mistake(out, "neutralize scales e to length 1 first; remove the bias component from e itself",
                lambda ctx: ctx.expected[out] / np.linalg.norm(_e_g(ctx)[0])),
    ]


# ---------------------------------------------------------------- equalize

def pair_probe(rng: np.random.Generator, name: str, side: float, note: str = "") -> Probe:
    """Two words whose vectors are shorter than 1 (so a forgotten scaling gives a defined, wrong answer);
    pair[0] is on the positive side of g when ``side`` > 0."""
    vocabulary = random_vocabulary(rng, 10)
    g = rng.standard_normal(N_E) * 1.9
    for i, target_side in ((2, side), (5, -side)):
        e = rng.standard_normal(N_E) + 0.8 * target_side * g / np.linalg.norm(g)
        vocabulary["vectors"][i] = e * rng.uniform(0.55, 0.8) / np.linalg.norm(e)
    return Probe(name, {"pair": (vocabulary["words"][2], vocabulary["words"][5]), "bias_axis": g,
                        "vocabulary": vocabulary}, note)


def equalize_probes(rng, ref):
    return [pair_probe(rng, "random", 1.0), pair_probe(rng, "first_on_negative_side", -1.0,
                                                       "pair[0] on the negative side of g")]


def equalize_parts(ctx: Context, scale: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(nu, g_hat, direction of e_w1 - e_w2 along g as ±1, ||nu||²) of the probe's pair."""
    kw = ctx.probe.kwargs
    e1, e2 = vectors_of(kw, *kw["pair"])
    if scale:
        e1, e2 = e1 / np.linalg.norm(e1), e2 / np.linalg.norm(e2)
    g = np.asarray(kw["bias_axis"], dtype=np.float64)
    mu = (e1 + e2) / 2
    nu = mu - (mu @ g) / (g @ g) * g
    return nu, g / np.linalg.norm(g), float(np.sign((e1 - e2) @ g)), float(nu @ nu)


def equalized(ctx: Context, scale: bool = True, sign: bool = True, with_nu: bool = True,
              axis: str = "g_hat") -> tuple[np.ndarray, np.ndarray]:
    """The pair a mistaken equalize returns, by which part it gets wrong."""
    nu, g_hat, s, nu2 = equalize_parts(ctx, scale)
    direction = g_hat if axis == "g_hat" else np.asarray(ctx.probe.kwargs["bias_axis"], dtype=np.float64)
    half_gap = (s if sign else 1.0) * np.sqrt(max(1 - nu2, 0.0)) * direction
    base = nu if with_nu else np.zeros_like(nu)
    return base + half_gap, base - half_gap


def equalize_mistakes():
    variants = {
        "equalize uses the pair's vectors as they are; scale each to length 1 first (the formula is for unit "
        "vectors)": {"scale": False},
        "equalize always puts pair[0] on the positive side of g: multiply by s = sign((e_w1 - e_w2)·g) so that "
        "each word keeps its side": {"sign": False},
        "equalize leaves out ν: each new vector is ν ± s·sqrt(1 - ||ν||²)·ĝ": {"with_nu": False},
        "equalize moves along g itself; move along the unit vector ĝ = g / ||g||": {"axis": "g"},
    }
    found = []
    for message, changes in variants.items():
        for i, out in enumerate(("e1", "e2")):
            found.append(Mistake(out, message, lambda ctx, changes=changes, i=i: equalized(ctx, **changes)[i]))
    for out in ("e1", "e2"):
        found.append(Mistake(out, "equalize returns ν for both words: add ± s·sqrt(1 - ||ν||²)·ĝ to tell them "
                             "apart along g", lambda ctx: equalize_parts(ctx)[0]))
    return found


def equalize_properties(probe: Probe, value: Any, expected: Any) -> list[str]:
    """Lengths of 1, when the values are wrong: a quick, formula-free clue."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return []
    lengths = [float(np.linalg.norm(v)) if isinstance(v, np.ndarray) and v.shape == (N_E,) else None for v in value]
    if None in lengths or all(abs(n - 1) < 1e-6 for n in lengths):
        return []
    return [f"e1 and e2 have lengths {lengths[0]:.3f} and {lengths[1]:.3f}; equalized vectors have length 1"]


ASSIGNMENT = Assignment(
    id=ID,
    seconds_per_function=20.0,
    memory_mb=1536,
    functions=(
        GradedFunction("cosine_similarity", ("similarity",), cosine_probes, cosine_mistakes,
                       labels={"similarity": "the similarity"}),
        GradedFunction("complete_analogy", ("d",), analogy_probes, analogy_mistakes, driver=vocabulary_driver,
                       labels={"d": "the answer"}),
        GradedFunction("neutralize", ("e_debiased",), neutralize_probes, neutralize_mistakes,
                       driver=vocabulary_driver),
        GradedFunction("equalize", ("e1", "e2"), equalize_probes, equalize_mistakes, driver=vocabulary_driver,
                       properties=equalize_properties),
    ),
)
