"""Turn a PrettyMIDI object into a waveform with numpy alone (no sound fonts, no binaries).

Each note is a handful of harmonics of its fundamental under an envelope: a short linear
attack, an exponential decay while the key is held, and a short fade after release.
"""

import numpy as np
import pretty_midi

from seqmodels.music.midi import BASS_PROGRAM, COMP_PROGRAM

ATTACK, RELEASE = 0.01, 0.06  # seconds
SAMPLE_RATE = 22050

# Relative amplitudes of harmonics 1, 2, 3, ... and decay time (s) for each kind of instrument.
_TIMBRE = {
    COMP_PROGRAM: ([1.0, 0.3, 0.1], 0.8),
    BASS_PROGRAM: ([1.0, 0.5, 0.2], 0.6),
}
_DEFAULT_TIMBRE = ([1.0, 0.6, 0.4, 0.25, 0.15, 0.08], 2.0)  # a reedy lead voice


def _tone(pitch: int, duration: float, velocity: int, sample_rate: int,
         harmonics: list[float], decay: float) -> np.ndarray:
    """Samples of one note held for ``duration`` seconds, plus its release tail."""
    f0 = pretty_midi.note_number_to_hz(pitch)
    t = np.arange(int(round((duration + RELEASE) * sample_rate))) / sample_rate
    wave = sum(a * np.sin(2 * np.pi * k * f0 * t)
               for k, a in enumerate(harmonics, start=1) if k * f0 < sample_rate / 2)  # no aliasing
    envelope = np.minimum(t / ATTACK, 1.0) * np.exp(-t / decay)
    envelope *= np.clip((duration + RELEASE - t) / RELEASE, 0.0, 1.0)  # fade out after the key is let go
    return (velocity / 127) * envelope * wave


def synthesize(midi: pretty_midi.PrettyMIDI, sample_rate: int = SAMPLE_RATE, peak: float = 0.8) -> np.ndarray:
    """Mono waveform of every instrument in ``midi``, scaled so that its largest |sample| is ``peak``.

    Its length is ``ceil((midi.get_end_time() + RELEASE) * sample_rate)`` samples.
    """
    out = np.zeros(int(np.ceil((midi.get_end_time() + RELEASE) * sample_rate)))
    for instrument in midi.instruments:
        harmonics, decay = _TIMBRE.get(instrument.program, _DEFAULT_TIMBRE)
        for note in instrument.notes:
            samples = _tone(note.pitch, note.end - note.start, note.velocity, sample_rate, harmonics, decay)
            start = int(round(note.start * sample_rate))
            samples = samples[: len(out) - start]
            out[start:start + len(samples)] += samples
    loudest = np.max(np.abs(out), initial=0.0)
    return out * (peak / loudest) if loudest > 0 else out
