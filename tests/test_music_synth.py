"""The numpy synthesiser: finite, normalised, the right length, and the right pitch."""

import numpy as np
import pretty_midi
import pytest

from seqmodels.music.corpus import make_corpus
from seqmodels.music.midi import solo_to_midi
from seqmodels.music.synth import RELEASE, synthesize


def one_note(pitch=69, start=0.5, end=1.5):
    midi = pretty_midi.PrettyMIDI()
    instrument = pretty_midi.Instrument(program=0)
    instrument.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=start, end=end))
    midi.instruments.append(instrument)
    return midi


def test_solo_waveform_is_finite_normalised_and_long_enough():
    progression, notes = make_corpus(1, seed=0)[0]
    midi = solo_to_midi(notes, progression)
    wave = synthesize(midi, sample_rate=8000, peak=0.7)
    assert wave.ndim == 1 and np.all(np.isfinite(wave))
    assert np.max(np.abs(wave)) == pytest.approx(0.7)
    assert len(wave) == int(np.ceil((midi.get_end_time() + RELEASE) * 8000))


def test_a_single_a4_sounds_at_440_hz_and_only_while_held():
    rate = 16000
    wave = synthesize(one_note(), sample_rate=rate)
    assert np.all(wave[: int(0.5 * rate)] == 0)  # silence before the note starts
    held = wave[int(0.6 * rate): int(1.4 * rate)]
    spectrum = np.abs(np.fft.rfft(held * np.hanning(len(held))))
    frequencies = np.fft.rfftfreq(len(held), 1 / rate)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(440, abs=2)
    assert np.all(np.abs(wave[int((1.5 + RELEASE) * rate) + 1:]) < 1e-12)  # silent after the release


def test_no_harmonic_above_nyquist():
    rate = 8000
    wave = synthesize(one_note(pitch=96), sample_rate=rate)  # C7, about 2093 Hz: only the fundamental fits
    held = wave[int(0.6 * rate): int(1.4 * rate)]
    spectrum = np.abs(np.fft.rfft(held * np.hanning(len(held))))
    frequencies = np.fft.rfftfreq(len(held), 1 / rate)
    peaks = frequencies[spectrum > 0.05 * spectrum.max()]
    assert np.all(np.abs(peaks - 2093) < 20)


def test_empty_midi_gives_silence():
    wave = synthesize(pretty_midi.PrettyMIDI(), sample_rate=1000)
    assert len(wave) == int(np.ceil(RELEASE * 1000)) and not wave.any()
