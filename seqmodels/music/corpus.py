"""A rule-based soloist that writes the training corpus for the Jazz assignment.

No recordings ship with the course, so we generate jazz-flavoured lines ourselves: phrases of
swung eighth notes built from arpeggios, scale runs and chromatic approach notes, each ending
on a held note (usually a chord tone) and followed by a breath. Every note is checked against the token
vocabulary, so every solo can be encoded exactly.
"""

import numpy as np

from seqmodels.music.theory import (
    Note,
    Progression,
    chord_at,
    chord_tones,
    ii_v_i,
    jazz_blues,
    ladder_step,
    progression_length,
    scale_tones,
)
from seqmodels.music.tokens import HIGH, LOW, START_PITCH, note_token

# Pairs of keys a whole step apart: a ii-V-I in the first, then one in the second.
II_V_I_KEYS = (("C", "B-"), ("F", "E-"), ("B-", "A-"), ("E-", "D-"), ("G", "F"), ("D", "C"))
BLUES_KEYS = ("F", "B-", "C", "G")


def training_progressions() -> list[Progression]:
    """The chord changes the corpus is written over: six 8-bar ii-V-I pairs and four blues."""
    return [ii_v_i(a) + ii_v_i(b) for a, b in II_V_I_KEYS] + [jazz_blues(k) for k in BLUES_KEYS]


class _Soloist:
    """Writes one solo from left to right; ``pitch`` is the last note played."""

    def __init__(self, progression: Progression, rng: np.random.Generator):
        self.progression, self.rng = progression, rng
        self.total = progression_length(progression)
        self.notes: list[Note] = []
        self.position, self.pitch, self.direction = 0, START_PITCH, 1

    def chord(self, offset: int = 0) -> str:
        return chord_at(self.progression, self.position + offset)

    def target(self, classes: frozenset[int], steps: int) -> int:
        """Pitch ``steps`` rungs of ``classes`` away in the current direction, turning at the range ends."""
        pitch = ladder_step(self.pitch, classes, self.direction * steps)
        if not LOW <= pitch <= HIGH:
            self.direction = -self.direction
            pitch = ladder_step(self.pitch, classes, self.direction * steps)
        return pitch

    def play(self, pitch: int, duration: int) -> bool:
        """Append the note if it fits the time left, the range and the vocabulary."""
        note = Note(pitch, self.position, min(duration, self.total - self.position))
        if note.duration <= 0 or not LOW <= pitch <= HIGH:
            return False
        try:
            note_token(self.pitch, note, self.chord())
        except ValueError:
            return False
        self.notes.append(note)
        self.position, self.pitch = self.position + note.duration, pitch
        return True

    def rest(self, duration: int) -> None:
        self.position = min(self.position + duration, self.total)

    def chord_step(self, duration: int = 1) -> None:
        """Next chord tone up or down (always writable, so the other figures fall back on it)."""
        self.play(self.target(chord_tones(self.chord()), 1), duration)

    def arpeggio(self) -> None:
        """Two to four chord tones, mostly neighbours on the chord ladder; sometimes a repeat."""
        for _ in range(self.rng.integers(2, 5)):
            steps = int(self.rng.choice([0, 1, 2, 3], p=[0.08, 0.64, 0.2, 0.08]))
            duration = 2 if self.rng.random() < 0.2 else 1
            if not self.play(self.target(chord_tones(self.chord()), steps), duration):
                self.chord_step()

    def scale_run(self) -> None:
        """Three to six scale tones in a row, now and then skipping one; the last may be a quarter."""
        n = int(self.rng.integers(3, 7))
        for i in range(n):
            steps = 2 if self.rng.random() < 0.15 else 1
            duration = 2 if i == n - 1 and self.rng.random() < 0.25 else 1
            if not self.play(self.target(scale_tones(self.chord()), steps), duration):
                self.chord_step()

    def approach(self) -> None:
        """A chromatic neighbour one semitone from the next chord tone, then that chord tone."""
        goal = self.target(chord_tones(self.chord(1)), int(self.rng.integers(1, 3)))
        outside = [p for p in (goal - self.direction, goal + self.direction)
                   if p != self.pitch and p % 12 not in scale_tones(self.chord())]
        duration = 2 if self.rng.random() < 0.3 else 1
        if outside and self.play(outside[0], 1) and self.play(goal, duration):
            return
        self.chord_step()

    def landing(self) -> None:
        """End a phrase on a held note: usually a chord tone, sometimes a tension (9, 11, 13)."""
        duration = int(self.rng.choice([2, 3, 4], p=[0.4, 0.3, 0.3]))
        chord = self.chord()
        classes = chord_tones(chord) if self.rng.random() < 0.75 else scale_tones(chord) - chord_tones(chord)
        if not self.play(self.target(classes, 1), duration):
            self.chord_step()

    def phrase(self) -> None:
        """An optional pick-up rest, a line of figures, a held note, a rest."""
        self.rest(int(self.rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2])))  # pick-up: on or after the beat
        self.direction = int(self.rng.choice([-1, 1]))
        line_end = self.position + int(self.rng.integers(4, 13))
        figures = (self.arpeggio, self.scale_run, self.approach)
        while self.position < min(line_end, self.total):
            figures[self.rng.choice(3, p=[0.35, 0.4, 0.25])]()
            if self.rng.random() < 0.3:
                self.direction = -self.direction
        if self.position < self.total:
            self.landing()
        self.rest(int(self.rng.integers(1, 5)))  # breathe


def generate_solo(progression: Progression, rng: np.random.Generator) -> list[Note]:
    """One solo over ``progression`` (a single chorus), drawn with ``rng``."""
    soloist = _Soloist(progression, rng)
    while soloist.position < soloist.total:
        soloist.phrase()
    return soloist.notes


def make_corpus(n_solos: int, seed: int = 0) -> list[tuple[Progression, list[Note]]]:
    """``n_solos`` solos, cycling through ``training_progressions()``; the same seed gives the same corpus."""
    rng = np.random.default_rng(seed)
    progressions = training_progressions()
    return [(p, generate_solo(p, rng)) for p in (progressions[i % len(progressions)] for i in range(n_solos))]
