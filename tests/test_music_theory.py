"""Chords, scales and progressions against spellings written out by hand from music theory."""

import numpy as np
import pytest

from seqmodels.music.corpus import training_progressions
from seqmodels.music.theory import (APPROACH, CHORD_TONE, SCALE_TONE, chord_at, chord_tones, classify, ii_v_i,
                                    jazz_blues, ladder_distance, ladder_step, pitch_classes, progression_length,
                                    root, scale_spelling, scale_tones)

C, Db, D, Eb, E, F, Gb, G, Ab, A, Bb, B = range(12)

CHORDS = {  # symbol: (chord tones, scale)
    "Dm7": ({D, F, A, C}, {D, E, F, G, A, B, C}),  # Dorian
    "G7": ({G, B, D, F}, {G, A, B, C, D, E, F}),  # Mixolydian
    "Cmaj7": ({C, E, G, B}, {C, D, E, F, G, A, B}),  # major
    "B-7": ({Bb, D, F, Ab}, {Bb, C, D, Eb, F, G, Ab}),
    "E-m7": ({Eb, Gb, Bb, Db}, {Eb, F, Gb, Ab, Bb, C, Db}),
    "A-maj7": ({Ab, C, Eb, G}, {Ab, Bb, C, Db, Eb, F, G}),
    "F#m7": ({Gb, A, Db, E}, {Gb, Ab, A, B, Db, Eb, E}),
}


@pytest.mark.parametrize("symbol", CHORDS)
def test_chord_and_scale_tones(symbol):
    tones, scale = CHORDS[symbol]
    assert chord_tones(symbol) == tones
    assert scale_tones(symbol) == scale
    assert set(scale_spelling(symbol)) == scale


def test_roots_and_flat_spelling():
    assert [root(s) for s in ("B-7", "E-m7", "F#m7", "Cmaj7")] == [Bb, Eb, Gb, C]
    assert scale_spelling("E-7")[Ab] == "A-" and scale_spelling("E-7")[Db] == "D-"


@pytest.mark.parametrize("symbol", CHORDS)
def test_categories_partition_the_octave(symbol):
    tones, scale = CHORDS[symbol]
    sets = [pitch_classes(symbol, c) for c in (CHORD_TONE, SCALE_TONE, APPROACH)]
    assert sets == [tones, scale - tones, set(range(12)) - scale]
    for pitch in range(48, 72):
        assert pitch % 12 in pitch_classes(symbol, classify(pitch, symbol))


def test_progressions():
    assert ii_v_i("B-") == [("Cm7", 8), ("F7", 8), ("B-maj7", 16)]
    assert ii_v_i("E-") == [("Fm7", 8), ("B-7", 8), ("E-maj7", 16)]
    bars = [s for s, n in jazz_blues("F") for _ in range(n // 4)]  # one symbol per half bar
    assert bars == ["F7"] * 2 + ["B-7"] * 2 + ["F7"] * 4 + ["B-7"] * 4 + ["F7"] * 2 + ["D7"] * 2 + ["Gm7"] * 2 \
        + ["C7"] * 2 + ["F7", "D7", "Gm7", "C7"]
    assert progression_length(jazz_blues("F")) == 96
    for progression in training_progressions():
        for symbol, _ in progression:
            assert chord_tones(symbol) <= scale_tones(symbol)


def test_chord_at_repeats_the_progression():
    p = ii_v_i("C")
    assert [chord_at(p, i) for i in (0, 7, 8, 15, 16, 31, 32, 40)] == ["Dm7", "Dm7", "G7", "G7", "Cmaj7", "Cmaj7",
                                                                     "Dm7", "G7"]


def test_ladder_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        classes = frozenset(int(c) for c in rng.choice(12, size=rng.integers(1, 8), replace=False))
        start = int(rng.integers(50, 80))
        members = [p for p in range(start - 40, start + 41) if p % 12 in classes]
        above = [p for p in members if p > start]
        below = [p for p in members if p < start][::-1]
        for k in range(1, 4):
            assert ladder_step(start, classes, k) == above[k - 1]
            assert ladder_step(start, classes, -k) == below[k - 1]
            assert ladder_distance(start, above[k - 1], classes) == k
            assert ladder_distance(start, below[k - 1], classes) == -k
        nearest = min(members, key=lambda p: (abs(p - start), p))
        assert ladder_step(start, classes, 0) == nearest
