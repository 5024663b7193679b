"""seqmodels.bleu: hand-computed cases, and agreement with sacrebleu on generated translations."""

import math

import numpy as np
import pytest
from sacrebleu.metrics import BLEU

from seqmodels import bleu

REFS = ["the cat is on the mat".split(), "there is a cat on the mat".split()]
VOCAB = "the a cat dog is was on in under mat box house there here and big small red".split()


def test_modified_unigram_precision_clips_repeated_words():
    assert bleu.modified_precision(["the"] * 7, REFS, 1) == (2, 7)  # "the" occurs at most twice in one reference


def test_modified_bigram_precision():
    # bigrams: the cat (x2, clipped to 1), cat the (0), cat on, on the, the mat
    assert bleu.modified_precision("the cat the cat on the mat".split(), REFS, 2) == (4, 6)


def test_sentence_shorter_than_n_has_no_ngrams():
    assert bleu.modified_precision(["the", "cat"], REFS, 3) == (0, 0)


def test_brevity_penalty():
    assert bleu.brevity_penalty(8, 6) == 1.0
    assert bleu.brevity_penalty(6, 6) == 1.0
    assert bleu.brevity_penalty(5, 10) == pytest.approx(math.exp(-1))
    assert bleu.brevity_penalty(0, 3) == 0.0


def test_closest_reference_length_ties_to_the_shorter():
    assert bleu.closest_reference_length(5, [4, 6]) == 4
    assert bleu.closest_reference_length(5, [6, 4]) == 4
    assert bleu.closest_reference_length(5, [9, 6, 2]) == 6


def test_sentence_bleu_by_hand():
    # p_1 = 5/7, p_2 = 4/6, p_3 = 2/5 (cat on the, on the mat), p_4 = 1/4 (cat on the mat); c = r = 7
    expected = math.exp((math.log(5 / 7) + math.log(4 / 6) + math.log(2 / 5) + math.log(1 / 4)) / 4)
    assert bleu.sentence_bleu("the cat the cat on the mat".split(), REFS) == pytest.approx(expected, abs=1e-12)
    assert bleu.sentence_bleu(["the"] * 7, REFS) == 0.0  # no bigram matches
    assert bleu.sentence_bleu(REFS[1], REFS) == 1.0


def test_too_short_candidate_is_penalised():
    candidate = "there is a cat".split()  # every n-gram matches, but c = 4 against r = 6
    assert bleu.sentence_bleu(candidate, REFS) == pytest.approx(math.exp(1 - 6 / 4))


def noisy_copy(reference: list[str], rng: np.random.Generator, p_drop: float, p_insert: float) -> list[str]:
    """A candidate made from a reference by random drops, substitutions, insertions and one swap."""
    candidate = []
    for word in reference:
        u = rng.random()
        if u < p_drop:
            continue
        candidate.append(str(rng.choice(VOCAB)) if u < p_drop + 0.15 else word)
        if rng.random() < p_insert:
            candidate.append(str(rng.choice(VOCAB)))
    if len(candidate) > 1 and rng.random() < 0.5:
        i = int(rng.integers(len(candidate) - 1))
        candidate[i], candidate[i + 1] = candidate[i + 1], candidate[i]
    return candidate


def generated_corpora() -> list[tuple[list[list[str]], list[list[list[str]]]]]:
    """Ten corpora of 30 sentences each; drop and insertion rates vary, so c < r in some and c > r in others."""
    rng = np.random.default_rng(2014)
    corpora = []
    for p_drop, p_insert in zip(np.linspace(0.0, 0.3, 10), np.linspace(0.3, 0.0, 10)):
        candidates, references = [], []
        for _ in range(30):
            refs = [[str(w) for w in rng.choice(VOCAB, size=rng.integers(3, 15))]
                    for _ in range(rng.integers(1, 4))]
            candidates.append(noisy_copy(refs[int(rng.integers(len(refs)))], rng, p_drop, p_insert))
            references.append(refs)
        corpora.append((candidates, references))
    return corpora


def sacrebleu_corpus(candidates: list[list[str]], references: list[list[list[str]]]) -> float:
    """sacrebleu's corpus BLEU on whitespace-joined tokens, rescaled from 0-100 to 0-1."""
    n_refs = max(len(refs) for refs in references)
    # sacrebleu wants one stream per reference slot: fill missing slots by repeating a sentence's
    # first reference, which changes neither the maximum n-gram counts nor the closest length.
    streams = [[" ".join(refs[k] if k < len(refs) else refs[0]) for refs in references] for k in range(n_refs)]
    metric = BLEU(tokenize="none", smooth_method="none", max_ngram_order=4)
    return metric.corpus_score([" ".join(c) for c in candidates], streams).score / 100


def max_difference_from_sacrebleu() -> float:
    """The largest |ours - sacrebleu| over the generated corpora, at corpus and at sentence level."""
    differences = []
    for candidates, references in generated_corpora():
        differences.append(abs(bleu.corpus_bleu(candidates, references) - sacrebleu_corpus(candidates, references)))
        for candidate, refs in zip(candidates, references):
            differences.append(abs(bleu.sentence_bleu(candidate, refs) - sacrebleu_corpus([candidate], [refs])))
    return max(differences)


def test_generated_data_exercises_clipping_and_brevity():
    corpora = generated_corpora()
    assert sum(len(candidates) for candidates, _ in corpora) == 300
    lengths = [(sum(map(len, cands)), sum(bleu.closest_reference_length(len(c), [len(r) for r in refs])
                                          for c, refs in zip(cands, refss)))
               for cands, refss in corpora]
    assert any(c < r for c, r in lengths) and any(c > r for c, r in lengths)
    scores = [bleu.corpus_bleu(cands, refss) for cands, refss in corpora]
    assert 0.05 < min(scores) and max(scores) < 0.95


def test_agrees_with_sacrebleu():
    assert max_difference_from_sacrebleu() < 1e-6


def unclipped_precision(candidate: list[str], references: list[list[str]], n: int) -> tuple[int, int]:
    counts = bleu.ngrams(candidate, n)
    in_some_reference = set().union(*(bleu.ngrams(ref, n) for ref in references))
    return sum(count for gram, count in counts.items() if gram in in_some_reference), sum(counts.values())


@pytest.mark.parametrize("name, replacement", [
    ("modified_precision", unclipped_precision),
    ("brevity_penalty", lambda c, r: 1.0),
    ("closest_reference_length", lambda c, lengths: min(lengths)),
])
def test_comparison_catches_a_broken_bleu(monkeypatch, name, replacement):
    monkeypatch.setattr(bleu, name, replacement)
    assert max_difference_from_sacrebleu() > 1e-6
