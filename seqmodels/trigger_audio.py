"""Audio for the trigger-word assignment: spoken words and backgrounds, all made here at run time.

Words are synthesised with eSpeak NG (``seqmodels.speech``) in many renditions: voices, voice
variants, speaking rates and pitches. The test voices never occur in training. Backgrounds are
coloured noise, babble (many quiet overlapping words) and music from the course's own synthesiser.
Everything is resampled to 16 kHz. The assignment's notebook mixes these into clips; this module
only makes the ingredients. eSpeak NG's variants vary a little from call to call (pitch flutter),
so two builds of the data set differ slightly; the notebook's numbers do not depend on the exact
samples.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import resample_poly

from seqmodels.speech import synthesize

SAMPLE_RATE = 16_000
TRIGGER = "activate"
# Negatives: words that share sounds with "activate", then ordinary words.
NEGATIVES = ("activity", "captivate", "cultivate", "motivate", "active", "vacate", "navigate", "renovate",
             "elevator", "actor", "table", "banana", "seven", "computer", "hello", "weather", "music",
             "tomorrow", "garden", "window", "yellow", "basket", "morning", "station", "kitchen", "doctor")
TRAIN_VOICES = ("en+m1", "en+m2", "en+m3", "en+f1", "en+f2", "en-us+m4", "en-us+f3", "en-gb-x-rp+m5",
                "en-gb-x-rp+f4", "en-us+m6")
TEST_VOICES = ("en+m7", "en-us+f5", "en-gb-x-rp+m3", "en+klatt")


def word_audio(word: str, voice: str, rng: np.random.Generator) -> np.ndarray:
    """One rendition of ``word`` at 16 kHz, float32: a random rate, pitch and loudness."""
    samples, rate = synthesize(word, voice=voice, rate=int(rng.integers(135, 195)), pitch=int(rng.integers(30, 70)))
    common = math.gcd(SAMPLE_RATE, rate)
    samples = resample_poly(samples, SAMPLE_RATE // common, rate // common)
    nonzero = np.flatnonzero(np.abs(samples) > 1e-3)
    if len(nonzero):
        samples = samples[nonzero[0]:nonzero[-1] + 1]  # no leading or trailing silence: the word's end is known
    return (samples * rng.uniform(0.5, 1.0) / max(np.abs(samples).max(), 1e-6)).astype(np.float32)


def word_bank(voices: tuple[str, ...], renditions: int, seed: int) -> dict[str, list[np.ndarray]]:
    """``renditions`` recordings of the trigger and of each negative word per voice: {"activates", "negatives"}."""
    rng = np.random.default_rng(seed)
    activates = [word_audio(TRIGGER, v, rng) for v in voices for _ in range(renditions)]
    negatives = [word_audio(w, v, rng) for v in voices for w in NEGATIVES for _ in range(max(1, renditions // 3))]
    return {"activates": activates, "negatives": negatives}


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), scaled to unit peak."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=float)
    f[0] = 1.0
    noise = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    return noise / np.abs(noise).max()


def background(seconds: float, rng: np.random.Generator, bank: dict[str, list[np.ndarray]]) -> np.ndarray:
    """A quiet background of ``seconds``: coloured noise, babble or music, picked at random; float32 at 16 kHz."""
    n = int(seconds * SAMPLE_RATE)
    kind = rng.integers(3)
    if kind == 0:
        audio = coloured_noise(n, rng.uniform(0, 2), rng) * rng.uniform(0.02, 0.1)
    elif kind == 1:  # babble: many quiet words on top of each other
        audio = coloured_noise(n, 1.0, rng) * 0.01
        words = bank["negatives"]
        for _ in range(int(rng.integers(15, 30))):
            word = words[int(rng.integers(len(words)))]
            start = int(rng.integers(0, n - len(word)))
            audio[start:start + len(word)] += word * rng.uniform(0.03, 0.08)
    else:
        audio = music(seconds, rng) * rng.uniform(0.05, 0.15)
    return audio.astype(np.float32)


def music(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A few seconds of random piano-like notes from the course's synthesiser, at 16 kHz, unit peak."""
    import pretty_midi

    from seqmodels.music.synth import SAMPLE_RATE as MUSIC_RATE, synthesize as play

    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    t = 0.0
    while t < seconds:
        length = float(rng.choice([0.25, 0.5, 0.75]))
        piano.notes.append(pretty_midi.Note(velocity=int(rng.integers(50, 90)), pitch=int(rng.integers(48, 80)),
                                            start=t, end=t + length))
        t += length
    midi.instruments.append(piano)
    common = math.gcd(SAMPLE_RATE, MUSIC_RATE)
    audio = resample_poly(play(midi), SAMPLE_RATE // common, MUSIC_RATE // common)[: int(seconds * SAMPLE_RATE)]
    audio = np.pad(audio, (0, int(seconds * SAMPLE_RATE) - len(audio)))
    return audio / max(np.abs(audio).max(), 1e-6)
