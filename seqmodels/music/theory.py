"""Chords, scales and progressions, with music21 doing the spelling.

A progression is a list of ``(symbol, length)`` pairs: a chord symbol as music21 writes it
(flats are ``-``, so B-flat seven is ``"B-7"``) and how many eighth notes it lasts.
"""

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

# music21 takes half a second to import, so the functions that spell chords import it when first called:
# importing this module (every Jazz notebook does, and so does the grader) costs nothing.

Progression = list[tuple[str, int]]

EIGHTHS_PER_BAR = 8

# Every note of a solo belongs to one of three groups relative to the chord under it.
CHORD_TONE, SCALE_TONE, APPROACH = "C", "S", "A"

# The scale a soloist would reach for over each kind of seventh chord (a class of music21.scale).
_SCALE_FOR_KIND = {
    "major-seventh": "MajorScale",
    "minor-seventh": "DorianScale",
    "dominant-seventh": "MixolydianScale",
}


@dataclass(frozen=True)
class Note:
    """One sounding note: MIDI ``pitch``, ``start`` and ``duration`` in eighth notes."""

    pitch: int
    start: int
    duration: int


@lru_cache(maxsize=None)
def chord_tones(symbol: str) -> frozenset[int]:
    """Pitch classes (0 = C, ..., 11 = B) of the chord named by ``symbol``."""
    from music21 import harmony

    return frozenset(p.pitchClass for p in harmony.ChordSymbol(symbol).pitches)


@lru_cache(maxsize=None)
def root(symbol: str) -> int:
    """Pitch class of the chord's root."""
    from music21 import harmony

    return harmony.ChordSymbol(symbol).root().pitchClass


@lru_cache(maxsize=None)
def scale_spelling(symbol: str) -> MappingProxyType:
    """Name of each scale tone of the chord, spelled in its key, by pitch class (``{10: "B-", ...}``)."""
    from music21 import harmony, scale

    chord = harmony.ChordSymbol(symbol)
    pitches = getattr(scale, _SCALE_FOR_KIND[chord.chordKind])(chord.root().name).getPitches()
    return MappingProxyType({p.pitchClass: p.name for p in pitches})


@lru_cache(maxsize=None)
def scale_tones(symbol: str) -> frozenset[int]:
    """Pitch classes of the chord's scale (Dorian for m7, Mixolydian for 7, major for maj7)."""
    return frozenset(scale_spelling(symbol))


def pitch_classes(symbol: str, category: str) -> frozenset[int]:
    """The pitch classes a note of ``category`` may take over ``symbol``.

    The three sets partition the twelve pitch classes: chord tones, the remaining scale
    tones (the tensions 9, 11, 13), and the chromatic notes outside the scale.
    """
    if category == CHORD_TONE:
        return chord_tones(symbol)
    if category == SCALE_TONE:
        return scale_tones(symbol) - chord_tones(symbol)
    if category == APPROACH:
        return frozenset(range(12)) - scale_tones(symbol)
    raise ValueError(f"unknown category {category!r}")


def classify(pitch: int, symbol: str) -> str:
    """Category of MIDI ``pitch`` over the chord ``symbol``."""
    for category in (CHORD_TONE, SCALE_TONE, APPROACH):
        if pitch % 12 in pitch_classes(symbol, category):
            return category
    raise AssertionError("the three categories cover all pitch classes")


def ladder_step(pitch: int, classes: frozenset[int], steps: int) -> int:
    """Pitch reached from ``pitch`` after ``steps`` members of ``classes`` (upwards if positive).

    Only pitches whose class is in ``classes`` count as rungs of the ladder; ``pitch`` itself
    need not be one. With ``steps == 0`` the answer is ``pitch`` if it is a rung, otherwise
    the nearest rung (the lower one on a tie).
    """
    if steps == 0:
        for offset in range(12):
            for candidate in (pitch - offset, pitch + offset):
                if candidate % 12 in classes:
                    return candidate
        raise ValueError("empty set of pitch classes")
    direction = 1 if steps > 0 else -1
    remaining = abs(steps)
    while remaining:
        pitch += direction
        remaining -= pitch % 12 in classes
    return pitch


def ladder_distance(start: int, pitch: int, classes: frozenset[int]) -> int:
    """Signed number of rungs from ``start`` up (or down) to ``pitch``: inverts ``ladder_step``."""
    if pitch == start:
        return 0
    direction = 1 if pitch > start else -1
    return direction * sum(q % 12 in classes for q in range(start + direction, pitch + direction, direction))


def progression_length(progression: Progression) -> int:
    """Total length in eighth notes."""
    return sum(length for _, length in progression)


def chord_at(progression: Progression, position: int) -> str:
    """Symbol of the chord sounding at ``position``; the progression repeats (choruses)."""
    position %= progression_length(progression)
    for symbol, length in progression:
        if position < length:
            return symbol
        position -= length
    raise AssertionError("unreachable")


def _degree(tonic: str, degree: int) -> str:
    """Name of scale degree ``degree`` (1..7) of the major key on ``tonic``, spelled by music21."""
    from music21 import key

    return key.Key(tonic).pitchFromDegree(degree).name


def ii_v_i(tonic: str) -> Progression:
    """ii-V-I cadence in the major key on ``tonic``: one bar each of ii7 and V7, two bars of Imaj7."""
    bar = EIGHTHS_PER_BAR
    return [(_degree(tonic, 2) + "m7", bar), (_degree(tonic, 5) + "7", bar), (tonic + "maj7", 2 * bar)]


def jazz_blues(tonic: str) -> Progression:
    """Twelve-bar jazz blues on ``tonic``: I7 IV7 I7 I7 | IV7 IV7 I7 VI7 | ii7 V7 I7-VI7 ii7-V7."""
    one, four, six = tonic + "7", _degree(tonic, 4) + "7", _degree(tonic, 6) + "7"
    two, five = _degree(tonic, 2) + "m7", _degree(tonic, 5) + "7"
    bar, half = EIGHTHS_PER_BAR, EIGHTHS_PER_BAR // 2
    bars = [one, four, one, one, four, four, one, six, two, five]
    return [(s, bar) for s in bars] + [(one, half), (six, half), (two, half), (five, half)]
