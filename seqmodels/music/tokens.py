"""A solo as a sequence of tokens that make sense over any chord progression.

A token is a triple ``(category, steps, duration)``:

* ``category``: ``"C"`` chord tone, ``"S"`` other scale tone, ``"A"`` chromatic (approach)
  note, all judged against the chord sounding when the note starts, or ``"R"`` for a rest;
* ``steps``: how far the note lies from the previous note, counted in notes *of its own
  category* over the current chord (``+1`` is the next chord tone up, ``-2`` the second
  chord tone down, ``0`` repeats a chord tone); rests use ``0``;
* ``duration``: length in eighth notes, 1 to 4.

Because pitches are only ever described relative to the chord, decoding the same tokens over
a different progression gives a different solo that still fits the new chords.
"""

from collections.abc import Sequence

from seqmodels.music.theory import (
    APPROACH,
    CHORD_TONE,
    SCALE_TONE,
    Note,
    Progression,
    chord_at,
    classify,
    ladder_distance,
    ladder_step,
    pitch_classes,
)

REST = "R"
DURATIONS = (1, 2, 3, 4)
STEPS = {CHORD_TONE: (-3, -2, -1, 0, 1, 2, 3), SCALE_TONE: (-1, 1), APPROACH: (-2, -1, 1, 2)}

# Decoded solos stay between G3 and A5; the first note is measured from G4.
LOW, HIGH, START_PITCH = 55, 81, 67

VOCAB: list[tuple[str, int, int]] = [
    (category, steps, duration)
    for category, all_steps in STEPS.items() for steps in all_steps for duration in DURATIONS
] + [(REST, 0, duration) for duration in DURATIONS]
TOKEN_ID = {token: i for i, token in enumerate(VOCAB)}
N_VALUES = len(VOCAB)


def token_name(index: int) -> str:
    """Readable form of a token id, e.g. ``"C+1 q"`` (chord tone one up, a quarter note)."""
    category, steps, duration = VOCAB[index]
    length = {1: "e", 2: "q", 3: "q.", 4: "h"}[duration]
    return f"rest {length}" if category == REST else f"{category}{steps:+d} {length}"


def note_token(previous_pitch: int, note: Note, symbol: str) -> int:
    """Id of the token for ``note`` over chord ``symbol``, after a note at ``previous_pitch``.

    Raises ValueError if the note cannot be written with this vocabulary.
    """
    category = classify(note.pitch, symbol)
    steps = ladder_distance(previous_pitch, note.pitch, pitch_classes(symbol, category))
    token = (category, steps, note.duration)
    if token not in TOKEN_ID:
        raise ValueError(f"{note} after pitch {previous_pitch} over {symbol} needs token {token}")
    return TOKEN_ID[token]


def _rest_ids(length: int) -> list[int]:
    """Rest tokens that fill ``length`` eighths, longest first."""
    ids = []
    while length > 0:
        chunk = min(length, DURATIONS[-1])
        ids.append(TOKEN_ID[(REST, 0, chunk)])
        length -= chunk
    return ids


def encode(notes: Sequence[Note], progression: Progression, length: int | None = None) -> list[int]:
    """Token ids of a monophonic solo; gaps become rests, padded with rests up to ``length``."""
    ids, position, previous = [], 0, START_PITCH
    for note in sorted(notes, key=lambda n: n.start):
        if note.start < position:
            raise ValueError(f"{note} overlaps the previous note")
        ids += _rest_ids(note.start - position)
        ids.append(note_token(previous, note, chord_at(progression, note.start)))
        position, previous = note.start + note.duration, note.pitch
    if length is not None:
        ids += _rest_ids(length - position)
    return ids


def decode(ids: Sequence[int], progression: Progression, length: int | None = None) -> list[Note]:
    """Notes of the solo that the tokens ``ids`` describe over ``progression`` (repeated as needed).

    A step that would leave the range [LOW, HIGH] is taken in the other direction (and a
    repeat whose nearest chord tone is off the range takes the next one inwards), so sampled
    sequences cannot wander off the keyboard. With ``length`` the solo stops after that many
    eighths, the last note cut short if necessary.
    """
    notes, position, previous = [], 0, START_PITCH
    for index in ids:
        if length is not None and position >= length:
            break
        category, steps, duration = VOCAB[index]
        if length is not None:
            duration = min(duration, length - position)
        if category != REST:
            classes = pitch_classes(chord_at(progression, position), category)
            pitch = ladder_step(previous, classes, steps)
            if not LOW <= pitch <= HIGH:  # turn back towards the middle of the range
                pitch = ladder_step(previous, classes, -steps if steps else (1 if pitch < LOW else -1))
            notes.append(Note(pitch, position, duration))
            previous = pitch
        position += duration
    return notes
