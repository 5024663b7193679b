"""MIDI output with swing, read back with pretty_midi."""

import pretty_midi
import pytest

from seqmodels.music.corpus import make_corpus
from seqmodels.music.midi import eighth_to_seconds, read_solo, seconds_to_eighth, solo_to_midi, write_solo
from seqmodels.music.theory import Note, ii_v_i, progression_length


def test_swing_splits_the_beat_two_to_one():
    # At 120 beats per minute a beat lasts half a second.
    assert eighth_to_seconds(0, tempo=120) == 0
    assert eighth_to_seconds(1, tempo=120) == pytest.approx(1 / 3)  # two thirds of a beat
    assert eighth_to_seconds(2, tempo=120) == pytest.approx(0.5)
    assert eighth_to_seconds(3, tempo=120, swing=0.5) == pytest.approx(0.75)  # straight eighths
    for position in range(40):
        assert seconds_to_eighth(eighth_to_seconds(position)) == position


def test_written_file_reads_back_to_the_same_notes(tmp_path):
    progression, notes = make_corpus(1, seed=0)[0]
    path = tmp_path / "new" / "folder" / "solo.mid"
    write_solo(path, notes, progression)
    assert path.exists()
    midi = pretty_midi.PrettyMIDI(str(path))
    solo = next(i for i in midi.instruments if i.name == "solo")
    assert [n.pitch for n in solo.notes] == [n.pitch for n in notes]
    for written, note in zip(solo.notes, notes):
        assert written.start == pytest.approx(eighth_to_seconds(note.start), abs=1e-3)
        assert written.end == pytest.approx(eighth_to_seconds(note.start + note.duration), abs=1e-3)
    assert read_solo(path) == notes


def test_accompaniment_fills_whole_choruses():
    progression = ii_v_i("F")
    chorus = progression_length(progression)
    notes = [Note(65, 0, 2), Note(69, chorus + 3, 1)]  # spills into a second chorus
    midi = solo_to_midi(notes, progression)
    names = [i.name for i in midi.instruments]
    assert names == ["solo", "comp", "bass"]
    assert midi.get_end_time() == pytest.approx(eighth_to_seconds(2 * chorus), abs=1e-3)
    bass = midi.instruments[2].notes
    assert [n.pitch % 12 for n in bass[:4]] == [7, 7, 0, 0]  # G (of Gm7), then C (of C7)
    assert solo_to_midi(notes).instruments[0].name == "solo" and len(solo_to_midi(notes).instruments) == 1
