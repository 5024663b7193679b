"""Training windows, the music21 score and the piano roll."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from seqmodels.music.corpus import make_corpus  # noqa: E402
from seqmodels.music.dataset import corpus_sequences, training_windows  # noqa: E402
from seqmodels.music.pianoroll import plot_pianoroll  # noqa: E402
from seqmodels.music.score import to_stream  # noqa: E402
from seqmodels.music.theory import Note, jazz_blues  # noqa: E402


def test_windows_shift_targets_into_inputs():
    sequences = [list(range(10)), list(range(20, 27))]
    X, Y = training_windows(sequences, T_x=4, stride=2, n_values=30)
    assert X.shape == (4 + 2, 4, 30) and Y.shape == (6, 4)  # windows start at 0, 2, 4, 6 and at 0, 2
    assert Y.tolist()[0] == [0, 1, 2, 3] and Y.tolist()[5] == [22, 23, 24, 25]
    assert not X[:, 0].any()  # x<1> = 0
    assert np.array_equal(X[:, 1:].argmax(-1), Y[:, :-1]) and np.all(X[:, 1:].sum(-1) == 1)


def test_corpus_sequences_are_reproducible():
    assert corpus_sequences(make_corpus(3, seed=0)) == corpus_sequences(make_corpus(3, seed=0))


def test_score_has_the_notes_and_chord_symbols_with_sensible_spelling():
    blues = jazz_blues("E-")
    notes = [Note(68, 0, 2), Note(70, 7, 3), Note(66, 14, 1)]  # A-flat, B-flat across a barline, G-flat
    part = to_stream(notes, blues)
    pitches = [n.pitch for n in part.recurse().notes if n.isNote]
    assert [p.nameWithOctave for p in pitches] == ["A-4", "B-4", "B-4", "G-4"]  # tied across the bar
    symbols = [c.figure for c in part.recurse().getElementsByClass("ChordSymbol")]
    assert symbols == ["E-7", "A-7"]


def test_pianoroll_draws_every_note():
    progression, notes = make_corpus(1, seed=0)[0]
    ax = plot_pianoroll(notes, progression)
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == len(notes)
    assert ax.get_xlim() == (0, 8)
