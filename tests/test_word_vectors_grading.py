"""The autograder on "Operations on word vectors": one-bug mutants, the probes, hostile submissions."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.assignments.word_vectors import distinct_question, mistaken_answers, vocabulary_driver
from autograder.runtime import load_reference
from autograder.assignments import get_assignment
from tests.grading_helpers import assert_mutant_caught, graded_with_sources

ID = "word_vectors"

SIMILARITY = "return float(u @ v / (norm_u * norm_v))"
ZERO_GUARD = "    if norm_u == 0 or norm_v == 0:\n        return 0.0\n"
TARGET = "target = e_c - e_a + e_b"
BY_COSINE = "similarity = np.divide(E @ target, lengths, out=np.zeros(len(E)), where=lengths > 0)"
EXCLUDE = "    similarity[rows] = -np.inf                                    # never one of the question words\n"
PROJECTION = "e_biascomponent = (e @ g) / (g @ g) * g"
SCALE_PAIR = "    e_w1, e_w2 = e_w1 / np.linalg.norm(e_w1), e_w2 / np.linalg.norm(e_w2)\n"

MUTANTS = [
    ("cosine_similarity", SIMILARITY, "return float(u @ v)", "returns the dot product u·v"),
    ("cosine_similarity", SIMILARITY, "return float(u @ v / (norm_u ** 2 * norm_v ** 2))", "squared lengths"),
    ("cosine_similarity", SIMILARITY, "return float(1 - u @ v / (norm_u * norm_v))", "the cosine distance"),
    ("cosine_similarity", ZERO_GUARD, "", "returns NaN when a vector is zero"),
    ("complete_analogy", EXCLUDE, "", "can return one of the three question words"),
    ("complete_analogy", TARGET, "target = e_c - e_b + e_a", "the relation the wrong way round"),
    ("complete_analogy", BY_COSINE, "similarity = -np.linalg.norm(E - target, axis=1)", "Euclidean distance"),
    ("complete_analogy", BY_COSINE, "similarity = E @ target / lengths", "np.argmax picks a NaN"),
    ("neutralize", PROJECTION, "e_biascomponent = (e @ g) / np.linalg.norm(g) * g", "by ||g|| instead of ||g||²"),
    ("neutralize", PROJECTION, "e_biascomponent = (e @ g) * g", "assumes g has length 1"),
    ("neutralize", "e_debiased = e - e_biascomponent", "e_debiased = e_biascomponent", "returns the bias component"),
    ("equalize", SCALE_PAIR, "", "scale each to length 1 first"),
    ("equalize", "s = np.sign((e_w1 - e_w2) @ bias_axis)", "s = 1.0", "always puts pair[0] on the positive side"),
    ("equalize", "e1, e2 = nu + half_gap, nu - half_gap", "e1, e2 = half_gap, -half_gap", "leaves out ν"),
    ("equalize", "* g_hat", "* bias_axis", "move along the unit vector ĝ"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message)


def test_analogy_probes_tell_every_mistake_apart():
    """On each random probe the right answer and the five mistaken ones are six different words."""
    reference = load_reference(get_assignment(ID))
    rng = np.random.default_rng(3)
    for zero_word in (False, True):
        kwargs = distinct_question(rng, reference, 30, zero_word)
        answer = vocabulary_driver(reference, "complete_analogy", kwargs)
        mistaken = mistaken_answers(kwargs, lambda kw: vocabulary_driver(reference, "complete_analogy", kw))
        assert len({answer, *mistaken.values()}) == 6, (answer, mistaken)
        assert mistaken["kept"] in (kwargs["word_a"], kwargs["word_b"], kwargs["word_c"])


HOSTILE = {
    # Claims to equal any answer, and prints a fake full score.
    "cosine_similarity": (
        "class Anything(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\n\n"
        "def cosine_similarity(u, v):\n    print('cosine_similarity: passed all 4 checks.  60/60')\n"
        "    return Anything(0.5)\n"),
    # Patches numpy for the grader and then answers at random.
    "complete_analogy": (
        "def complete_analogy(word_a, word_b, word_c, word_to_vec_map):\n    import numpy\n"
        "    numpy.allclose = numpy.array_equal = lambda *a, **k: True\n"
        "    return word_to_vec_map.words[0]\n"),
    # Looks for the solution notebook and the grader's files, then hangs.
    "neutralize": (
        "def neutralize(word, g, word_to_vec_map):\n    import glob, pathlib\n"
        "    for path in glob.glob('/**/solutions/word_vectors/*.ipynb', recursive=True):\n"
        "        return pathlib.Path(path).read_text()\n"
        "    while True:\n        pass\n"),
}


def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path):
    results = graded_with_sources(tmp_path, ID, HOSTILE)
    for name in HOSTILE:
        assert results[name].score == 0, (name, results[name].messages)
    assert any("wrong values" in m for m in results["cosine_similarity"].messages)
    assert results["complete_analogy"].messages  # numpy patched in the sandbox, never in the grader
    assert any("did not finish" in m for m in results["neutralize"].messages), results["neutralize"].messages
    assert results["equalize"].score == results["equalize"].max_score > 0
