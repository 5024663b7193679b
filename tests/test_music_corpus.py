"""The rule-based soloist: deterministic, monophonic, in range, and musically consistent."""

import numpy as np

from seqmodels.music.corpus import generate_solo, make_corpus, training_progressions
from seqmodels.music.theory import chord_at, chord_tones, classify, progression_length, scale_tones
from seqmodels.music.tokens import DURATIONS, HIGH, LOW


def test_same_seed_same_corpus():
    assert make_corpus(6, seed=3) == make_corpus(6, seed=3)
    assert make_corpus(6, seed=3) != make_corpus(6, seed=4)
    p = training_progressions()[0]
    assert generate_solo(p, np.random.default_rng(5)) == generate_solo(p, np.random.default_rng(5))


def test_solos_are_monophonic_in_range_and_inside_the_chorus():
    for progression, notes in make_corpus(30, seed=0):
        assert notes, "empty solo"
        for a, b in zip(notes, notes[1:]):
            assert a.start + a.duration <= b.start
        for n in notes:
            assert LOW <= n.pitch <= HIGH and n.duration in DURATIONS
            assert 0 <= n.start and n.start + n.duration <= progression_length(progression)


def test_every_progression_is_used():
    used = {tuple(p) for p, _ in make_corpus(len(training_progressions()), seed=0)}
    assert used == {tuple(p) for p in training_progressions()}


def test_chromatic_notes_resolve_by_semitone_to_a_chord_tone():
    n_chromatic = 0
    for progression, notes in make_corpus(30, seed=1):
        for a, b in zip(notes, notes[1:]):
            if a.pitch % 12 not in scale_tones(chord_at(progression, a.start)):
                n_chromatic += 1
                assert b.start == a.start + a.duration, "an approach note must lead straight into its target"
                assert abs(b.pitch - a.pitch) == 1
                assert b.pitch % 12 in chord_tones(chord_at(progression, b.start))
    assert n_chromatic > 20  # approach notes do occur


def test_held_notes_are_never_chromatic_and_phrases_breathe():
    categories, rests = [], 0
    for progression, notes in make_corpus(30, seed=2):
        for a, b in zip(notes, notes[1:]):
            rests += b.start > a.start + a.duration
        for n in notes:
            category = classify(n.pitch, chord_at(progression, n.start))
            categories.append(category)
            if n.duration >= 3:
                assert category != "A"
    shares = {c: categories.count(c) / len(categories) for c in "CSA"}
    assert shares["C"] > 0.5 and shares["S"] > 0.1 and 0.01 < shares["A"] < 0.1
    assert rests >= 30 * 3  # several phrases per solo
