"""A solo as a music21 part with chord symbols, for reading as notation or text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from seqmodels.music.theory import Note, Progression, chord_at, progression_length, scale_spelling


if TYPE_CHECKING:
    from music21 import pitch, stream

# As in theory: music21 is imported when first used, so importing this module costs nothing.

_FLATS = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")


def spell(midi: int, symbol: str) -> pitch.Pitch:
    """The pitch ``midi`` named as a player reading over ``symbol`` would expect.

    Scale tones take their name in the chord's scale (A-flat, not G-sharp, over E-flat seven);
    chromatic notes are written with flats unless the chord's root is a sharp.
    """
    from music21 import pitch

    pc = midi % 12
    name = scale_spelling(symbol).get(pc) or (pitch.Pitch(midi=midi).name if "#" in symbol else _FLATS[pc])
    spelled = pitch.Pitch(name)
    spelled.octave = midi // 12 - 1
    spelled.octave += (midi - spelled.midi) // 12  # C-flat and B-sharp sit across the octave line
    return spelled


def to_stream(notes: Sequence[Note], progression: Progression) -> stream.Part:
    """A 4/4 part holding the chord symbols (repeated per chorus) and the notes of the solo.

    Offsets and lengths are in quarter notes, as music21 counts them (one eighth = 0.5).
    """
    from music21 import clef, harmony, meter, note, stream

    part = stream.Part()
    part.insert(0, clef.TrebleClef())
    part.insert(0, meter.TimeSignature("4/4"))
    end = max((n.start + n.duration for n in notes), default=0)
    chorus = progression_length(progression)
    for first in range(0, max(end, 1), chorus):
        position = first
        for symbol, length in progression:
            if position < end:
                part.insert(position / 2, harmony.ChordSymbol(symbol))
            position += length
    position = 0
    for n in sorted(notes, key=lambda n: n.start):
        if n.start > position:
            part.insert(position / 2, note.Rest(quarterLength=(n.start - position) / 2))
        spelled = spell(n.pitch, chord_at(progression, n.start))
        part.insert(n.start / 2, note.Note(spelled, quarterLength=n.duration / 2))
        position = n.start + n.duration
    measures = part.makeMeasures()
    measures.makeTies(inPlace=True)  # a note that crosses a barline becomes two tied notes
    return measures
