"""Solos to MIDI and back with pretty_midi, with swing applied on the way out.

On the page jazz eighths are written straight; in performance the eighth on the beat is
played long and the one after it short. With ``swing = 2/3`` the pair splits the beat 2:1,
the usual triplet feel; ``swing = 1/2`` plays them straight.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import pretty_midi

from seqmodels.music.theory import Note, Progression, chord_at, chord_tones, progression_length, root

SOLO_PROGRAM, COMP_PROGRAM, BASS_PROGRAM = 66, 4, 32  # tenor sax, electric piano, acoustic bass
TEMPO, SWING = 140.0, 2 / 3


def eighth_to_seconds(position: int, tempo: float = TEMPO, swing: float = SWING) -> float:
    """Time in seconds at which grid position ``position`` (in eighths) is played."""
    beat, offbeat = divmod(position, 2)
    return (beat + swing * offbeat) * 60.0 / tempo


def seconds_to_eighth(seconds: float, tempo: float = TEMPO, swing: float = SWING) -> int:
    """Grid position nearest to a time produced by ``eighth_to_seconds`` (robust to tick rounding)."""
    beats = seconds * tempo / 60.0
    beat = math.floor(beats + 0.1)
    return 2 * beat + (beats - beat > swing / 2)


def _accompaniment(progression: Progression, length: int, tempo: float, swing: float) -> list[pretty_midi.Instrument]:
    """A held chord (chord tones between E3 and D#4) and a bass root every half bar, for ``length`` eighths."""
    comp = pretty_midi.Instrument(program=COMP_PROGRAM, name="comp")
    bass = pretty_midi.Instrument(program=BASS_PROGRAM, name="bass")
    for position in range(0, length, 4):
        symbol = chord_at(progression, position)
        start, end = eighth_to_seconds(position, tempo, swing), eighth_to_seconds(position + 4, tempo, swing)
        for pc in chord_tones(symbol):
            comp.notes.append(pretty_midi.Note(velocity=45, pitch=52 + (pc - 52) % 12, start=start, end=end))
        bass.notes.append(pretty_midi.Note(velocity=70, pitch=36 + (root(symbol) - 36) % 12, start=start, end=end))
    return [comp, bass]


def solo_to_midi(notes: Sequence[Note], progression: Progression | None = None,
                 tempo: float = TEMPO, swing: float = SWING) -> pretty_midi.PrettyMIDI:
    """A PrettyMIDI object whose first instrument, ``"solo"``, plays ``notes``.

    With a ``progression`` a comping piano and a bass follow it (repeating it as often as the
    solo needs, in whole choruses).
    """
    midi = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=tempo)
    solo = pretty_midi.Instrument(program=SOLO_PROGRAM, name="solo")
    for note in notes:
        velocity = 100 if note.start % 2 else 88  # swing players lean on the off-beats
        solo.notes.append(pretty_midi.Note(velocity=velocity, pitch=note.pitch,
                                           start=eighth_to_seconds(note.start, tempo, swing),
                                           end=eighth_to_seconds(note.start + note.duration, tempo, swing)))
    midi.instruments.append(solo)
    if progression is not None:
        chorus = progression_length(progression)
        end = max((n.start + n.duration for n in notes), default=0)
        midi.instruments += _accompaniment(progression, chorus * max(1, math.ceil(end / chorus)), tempo, swing)
    return midi


def write_solo(path: str | Path, notes: Sequence[Note], progression: Progression | None = None,
               tempo: float = TEMPO, swing: float = SWING) -> pretty_midi.PrettyMIDI:
    """Write the solo (and its accompaniment) to the MIDI file ``path``, creating folders as needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi = solo_to_midi(notes, progression, tempo, swing)
    midi.write(str(path))
    return midi


def read_solo(path: str | Path, tempo: float = TEMPO, swing: float = SWING) -> list[Note]:
    """Notes of the ``"solo"`` track of a MIDI file written by ``write_solo``, back on the grid."""
    midi = pretty_midi.PrettyMIDI(str(path))
    solo = next(i for i in midi.instruments if i.name == "solo")
    notes = []
    for n in sorted(solo.notes, key=lambda n: n.start):
        start = seconds_to_eighth(n.start, tempo, swing)
        notes.append(Note(n.pitch, start, seconds_to_eighth(n.end, tempo, swing) - start))
    return notes
