"""Piano-roll plot of a solo over its chords, notes coloured by their category."""

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle

from seqmodels.music.theory import (
    APPROACH,
    CHORD_TONE,
    EIGHTHS_PER_BAR,
    SCALE_TONE,
    Note,
    Progression,
    chord_at,
    classify,
    progression_length,
)

COLOURS = {CHORD_TONE: "tab:blue", SCALE_TONE: "tab:green", APPROACH: "tab:red"}
LABELS = {CHORD_TONE: "chord tone", SCALE_TONE: "scale tone", APPROACH: "approach (chromatic)"}


def _pretty(symbol: str) -> str:
    """Chord symbol as a musician writes it: music21's ``-`` becomes a flat sign."""
    return symbol[0] + symbol[1:].replace("-", "\u266d", 1) if symbol[1:2] == "-" else symbol


def plot_pianoroll(notes: Sequence[Note], progression: Progression, ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Draw ``notes`` as bars (x in bars of 4/4, y in MIDI pitch) with the chord symbols above."""
    chorus = progression_length(progression)
    end = max((n.start + n.duration for n in notes), default=chorus)
    length = chorus * -(-end // chorus)  # whole choruses
    if ax is None:
        _, ax = plt.subplots(figsize=(min(20, max(10, 0.75 * length / EIGHTHS_PER_BAR)), 3.5))
    for n in notes:
        colour = COLOURS[classify(n.pitch, chord_at(progression, n.start))]
        ax.add_patch(Rectangle((n.start / EIGHTHS_PER_BAR, n.pitch - 0.4), n.duration / EIGHTHS_PER_BAR, 0.8,
                               facecolor=colour, edgecolor="black", linewidth=0.5))
    pitches = [n.pitch for n in notes] or [60]
    top = max(pitches) + 2
    position, short_run = 0, 0
    while position < length:  # one label per chord, repeated each chorus
        for symbol, chord_length in progression:
            # Chords shorter than a bar alternate between two heights so that their labels don't collide.
            short_run = short_run + 1 if chord_length < EIGHTHS_PER_BAR else 0
            ax.axvline(position / EIGHTHS_PER_BAR, color="grey", linewidth=0.5, zorder=0)
            ax.text(position / EIGHTHS_PER_BAR + 0.05, top + 1.8 * (short_run % 2 == 0 and short_run > 0),
                    _pretty(symbol), fontsize=8, va="bottom")
            position += chord_length
    ax.set_xlim(0, length / EIGHTHS_PER_BAR)
    ax.set_ylim(min(pitches) - 2, top + 4)
    ax.set_xlabel("bar")
    ax.set_ylabel("MIDI pitch")
    ax.legend(handles=[Patch(color=COLOURS[c], label=LABELS[c]) for c in COLOURS],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    if title:
        ax.set_title(title)
    return ax
