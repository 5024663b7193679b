"""Spoken digit strings for the CTC chapter: audio synthesised offline, log-mel features in numpy.

An utterance is a random string of ``MIN_DIGITS`` to ``MAX_DIGITS`` digits read out as words
("three one four one"), spoken by eSpeak NG (``seqmodels.speech``) with a random voice, speaking
rate (``RATE_RANGE``, words per minute) and pitch (``PITCH_RANGE``, eSpeak's 0-100 scale). The audio
is resampled from 22,050 Hz to ``SAMPLE_RATE`` (16 kHz), its leading and trailing silence is cut
off, and white noise is added at a random signal-to-noise ratio in ``SNR_DB_RANGE``.

The features are a log-mel spectrogram, one row of ``N_MELS`` numbers every ``HOP_MS`` (10 ms, so
100 frames per second), normalised per utterance to zero mean and unit variance in every mel band.

Labels for CTC: class 0 is the blank and digit d is class d + 1, so there are ``N_CLASSES`` = 11
classes and "three one four" has the target [4, 2, 5].

A voice is an eSpeak English accent with a voice variant ("en-us+f2"): ``ACCENTS`` times
``TRAIN_VARIANTS`` for training, the same accents times ``TEST_VARIANTS`` for testing. No variant
is in both, so the test set is spoken by voices the recogniser never heard.

Splits are deterministic given the seed except for one thing: most variants add pitch "flutter"
whose phase eSpeak carries over from call to call (and which is not even repeatable from one
process to the next), so with them two builds differ very slightly in the samples, though never in
the texts, voices, rates, pitches or lengths. A few variants are exactly repeatable, among them
Storm and shelby (training) and benjamin and klatt6 (test).
"""

from __future__ import annotations

import math
import multiprocessing
from typing import NamedTuple

import numpy as np
from scipy.signal import resample_poly

from seqmodels.speech import spectrogram, synthesize

SAMPLE_RATE = 16_000
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLANK = 0
N_CLASSES = len(DIGITS) + 1
MIN_DIGITS, MAX_DIGITS = 3, 7
RATE_RANGE = (140, 210)       # words per minute, both ends included; eSpeak's default is 175
PITCH_RANGE = (25, 75)        # eSpeak's pitch parameter, both ends included; 50 is the voice's own
SNR_DB_RANGE = (20.0, 40.0)   # mild: the digits stay clearly audible
N_MELS = 40
WINDOW_MS, HOP_MS = 25, 10

ACCENTS = ("en", "en-us", "en-gb-x-rp", "en-gb-scotland")
# Every eSpeak NG voice variant that is meant to sound like a person (left out: the robots
# UniRobot, anikaRobot and robosoft to robosoft8, whisper, whisperf and Demonic), in case-insensitive
# alphabetical order; every sixth one, from the first, is held out for testing. A rule rather than a
# pick of voices, though it was settled after an earlier model's error rates per variant had been seen;
# the test voices are not the easy ones: zac (a child's pitch), kaukovalta and Marco are among them.
TRAIN_VARIANTS = ("Alex", "Alicia", "Andrea", "Andy", "anika", "announcer", "antonio", "AnxiousAndy", "aunty",
                  "belinda", "boris", "caleb", "croak", "david", "Denis", "ed", "edward", "edward2", "f1", "f2",
                  "f4", "f5", "fast", "Gene", "Gene2", "grandpa", "gustave", "Henrique", "Hugo", "ian", "iven2",
                  "iven3", "iven4", "Jacky", "john", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "Lee", "linda",
                  "m1", "m2", "m3", "m5", "m6", "m7", "m8", "marcelo", "Mario", "max", "Michael", "michel", "miguel",
                  "mike2", "Mr serious", "Nguyen", "norbert", "pablo", "pedro", "quincy", "Reed", "RicishayMax",
                  "RicishayMax2", "rob", "robert", "sandro", "shelby", "steph", "steph3", "Storm", "travis", "Tweaky",
                  "victor")
TEST_VARIANTS = ("adam", "Annie", "benjamin", "Diogo", "f3", "grandma", "iven", "kaukovalta", "klatt6", "m4",
                 "Marco", "Mike", "paul", "RicishayMax3", "steph2", "zac")
TRAIN_VOICES = tuple(f"{accent}+{variant}" for accent in ACCENTS for variant in TRAIN_VARIANTS)
TEST_VOICES = tuple(f"{accent}+{variant}" for accent in ACCENTS for variant in TEST_VARIANTS)

class Utterance(NamedTuple):
    """One example: ``features`` (n_frames, N_MELS) float32, ``target`` (its classes, 1..10) and ``text``."""

    features: np.ndarray
    target: list[int]
    text: str


def digits_text(digits: list[int]) -> str:
    """The words that are spoken for ``digits``: [3, 1, 4] -> "three one four"."""
    return " ".join(DIGITS[d] for d in digits)


def labels_text(labels: list[int]) -> str:
    """The text of a CTC label sequence (classes 1..10, no blanks): [4, 2, 5] -> "three one four"."""
    return digits_text([label - 1 for label in labels])


def speak(text: str, voice: str, rate: int, pitch: int, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``text`` spoken at 16 kHz, without leading or trailing silence, with white noise at ``snr_db``.

    Returns float32 samples of shape (n_samples,).
    """
    samples, rate_hz = synthesize(text, voice=voice, rate=rate, pitch=pitch)
    common = math.gcd(SAMPLE_RATE, rate_hz)
    samples = resample_poly(samples, SAMPLE_RATE // common, rate_hz // common)
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    if len(loud):
        samples = samples[loud[0]:loud[-1] + 1]
    signal_power = np.mean(samples**2) if len(samples) else 0.0
    noise = rng.standard_normal(len(samples)) * np.sqrt(signal_power / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """The mel scale (O'Shaughnessy's formula, as in HTK): 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int, freqs_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """Triangular filters equally spaced in mel from 0 Hz to ``sample_rate / 2``.

    ``freqs_hz`` (n_freqs,) are the frequencies of the spectrogram's bins. Returns the weights,
    shape (n_mels, n_freqs): filter m rises from 0 at edge m to 1 at edge m + 1 and falls back to
    0 at edge m + 2, where the n_mels + 2 edges are equally spaced in mel.
    """
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(sample_rate / 2), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs_hz - lower) / (centre - lower)
    falling = (upper - freqs_hz) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel(samples: np.ndarray, sample_rate: int, n_mels: int = N_MELS, window_ms: float = WINDOW_MS,
            hop_ms: float = HOP_MS) -> np.ndarray:
    """Log-mel features of a mono signal, normalised per utterance.

    The power spectrogram (Hann windows of ``window_ms``, one every ``hop_ms``) is pooled by
    :func:`mel_filterbank` and its natural log taken; then every mel band is shifted and scaled to
    zero mean and unit variance over the utterance, which removes the loudness and the voice's
    overall spectral tilt. Returns float32 of shape (n_frames, n_mels), with
    n_frames = 1 + (n_samples - window) // hop as in :func:`seqmodels.speech.spectrogram`.
    """
    _, freqs_hz, power_db = spectrogram(samples, sample_rate, window_ms=window_ms, hop_ms=hop_ms)
    power = 10.0 ** (power_db / 10.0)                                   # (n_freqs, n_frames)
    # einsum rather than @: for matrices this small, multithreaded BLAS spends more time waking its
    # threads than multiplying, and on a busy machine it was ten times slower.
    mel = np.log(np.maximum(np.einsum("mf,ft->tm", mel_filterbank(n_mels, freqs_hz, sample_rate), power), 1e-10))
    if len(mel) == 0:
        return mel.astype(np.float32)
    # The floor on the deviation keeps a constant band (silence at the floor) from blowing up.
    normalised = (mel - mel.mean(axis=0)) / np.maximum(mel.std(axis=0), 1e-3)
    return normalised.astype(np.float32)


class _Recipe(NamedTuple):
    """Everything random about one utterance, drawn up front so that the audio can be made anywhere."""

    text: str
    voice: str
    rate: int
    pitch: int
    snr_db: float
    noise_seed: int


def _features(recipe: _Recipe) -> np.ndarray:
    samples = speak(recipe.text, recipe.voice, recipe.rate, recipe.pitch, recipe.snr_db,
                    np.random.default_rng(recipe.noise_seed))
    return log_mel(samples, SAMPLE_RATE)


def make_split(n_utterances: int, voices: tuple[str, ...], seed: int, min_digits: int = MIN_DIGITS,
               max_digits: int = MAX_DIGITS, n_workers: int = 2) -> list[Utterance]:
    """``n_utterances`` random digit strings, each spoken by a voice drawn uniformly from ``voices``.

    Lengths (``min_digits`` to ``max_digits``, both included), digits, voices, rates, pitches and
    noise all come from ``numpy.random.default_rng(seed)``, drawn before any audio is made, so the
    split does not depend on ``n_workers``: the number of processes that synthesise it (eSpeak NG
    keeps global state, so threads would not do). Every :class:`Utterance` holds features of shape
    (n_frames, N_MELS) at 100 frames per second.
    """
    rng = np.random.default_rng(seed)
    targets, recipes = [], []
    for _ in range(n_utterances):
        digits = [int(d) for d in rng.integers(0, 10, size=int(rng.integers(min_digits, max_digits + 1)))]
        targets.append([d + 1 for d in digits])
        recipes.append(_Recipe(digits_text(digits), voices[int(rng.integers(len(voices)))],
                               int(rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1)),
                               int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
                               float(rng.uniform(*SNR_DB_RANGE)), int(rng.integers(2**63))))
    # "fork" starts the workers at once and, unlike "spawn", does not re-run the caller's script.
    if n_workers > 1 and n_utterances > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            features = pool.map(_features, recipes, chunksize=-(-n_utterances // (4 * n_workers)))
    else:
        features = [_features(recipe) for recipe in recipes]
    return [Utterance(x, target, recipe.text) for x, target, recipe in zip(features, targets, recipes)]
