"""Offline speech for the speech chapter: eSpeak NG synthesis and a numpy spectrogram.

eSpeak NG is a formant synthesiser written in C. The ``espeakng-loader`` wheel ships its shared
library and voice data, and we drive it through ``ctypes``: the engine is started once per
process (eSpeak keeps global state) and asked to hand every block of 16-bit samples to a Python
callback instead of playing it. Nothing is downloaded and no sound card is needed.
"""

import ctypes
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

# Constants from eSpeak NG's public header, speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2     # espeak_Synth returns once all the audio went to the callback
_INITIALIZE_DONT_EXIT = 0x8000    # report errors to us instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH = 1, 3              # espeak_PARAMETER values
_EE_OK = 0

# eSpeak's pitch "flutter" and voice "roughness" read counters that run on from one utterance to
# the next, so with them the same text comes out slightly differently every time. The built-in
# variant "Storm" switches both off (a low, steady male voice), which makes English synthesis
# repeatable within and across processes.
STEADY_VARIANT = "Storm"

# int callback(short *wav, int numsamples, espeak_EVENT *events); returning 0 means "go on".
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Engine:
    """The one eSpeak NG instance of this process, with the buffer its callback fills."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as error:
            raise RuntimeError(
                "cannot load eSpeak NG: install the pinned 'espeakng-loader' package from "
                f"requirements.txt ({error})"
            ) from error
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        self.variants = Path(data_path) / "voices" / "!v"
        self.sample_rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise with the data in {data_path}")
        self.chunks: list[np.ndarray] = []
        self.callback = _SynthCallback(self._receive)  # kept on self so that it is never garbage collected
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lock = threading.Lock()

    def _receive(self, wav: "ctypes._Pointer[ctypes.c_short]", n_samples: int, _events: int | None) -> int:
        if n_samples > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0

    def say(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        """int16 samples of ``text`` spoken with the given settings."""
        with self.lock:
            self._check(self.lib.espeak_SetVoiceByName(voice.encode()), f"unknown voice {voice!r}")
            self._check(self.lib.espeak_SetParameter(_RATE, rate, 0), f"bad rate {rate}")
            self._check(self.lib.espeak_SetParameter(_PITCH, pitch, 0), f"bad pitch {pitch}")
            encoded = text.encode("utf-8") + b"\0"
            self.chunks = []
            self._check(self.lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None),
                        "synthesis failed")
            chunks, self.chunks = self.chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    @staticmethod
    def _check(status: int, message: str) -> None:
        if status != _EE_OK:
            raise RuntimeError(f"eSpeak NG: {message} (error code {status})")


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def synthesize(text: str, voice: str = "en", rate: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text`` with eSpeak NG, offline.

    ``voice`` is an eSpeak NG language voice ("en", "en-us", ...), spoken with the
    ``STEADY_VARIANT``; a name that already has a ``+variant`` is used as it is, and may then not
    be repeatable. ``rate`` is in words per minute (80 to 450) and ``pitch`` runs from 0 to 100.
    Returns the samples as a float32 array of shape (n_samples,) with values in [-1, 1], and the
    sample rate in Hz (22050). For English, the same arguments always give the same samples.
    """
    engine = _engine()
    name = voice if "+" in voice else f"{voice}+{STEADY_VARIANT}"
    variant = name.split("+", 1)[1]
    if not (engine.variants / variant).is_file():  # eSpeak NG would silently speak without it
        raise RuntimeError(f"eSpeak NG: unknown voice variant {variant!r} (no file in {engine.variants})")
    samples = engine.say(text, name, rate, pitch)
    return samples.astype(np.float32) / 32768.0, engine.sample_rate


def spectrogram(samples: np.ndarray, sample_rate: int, window_ms: float = 25,
                hop_ms: float = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectrogram of a mono signal, in decibels.

    The signal is cut into frames of ``window_ms`` milliseconds that start every ``hop_ms``
    milliseconds; each frame is multiplied by a Hann window and Fourier transformed. Returns

    * ``times_s``, shape (n_frames,): the centre of each frame, in seconds;
    * ``freqs_hz``, shape (n_freqs,): the frequency of each bin, from 0 up to ``sample_rate / 2``,
      with ``n_freqs = window_length // 2 + 1`` for a window of
      ``window_length = round(window_ms * sample_rate / 1000)`` samples;
    * ``power_db``, shape (n_freqs, n_frames): ``10 log10`` of the power in each bin and frame,
      floored at 1e-10 (-100 dB), so that a column is one frame, as in the plots.

    A signal shorter than one window gives zero frames.
    """
    samples = np.asarray(samples, dtype=np.float64)
    window_length = int(round(window_ms * sample_rate / 1000))
    hop_length = int(round(hop_ms * sample_rate / 1000))
    n_frames = max(0, 1 + (len(samples) - window_length) // hop_length)
    starts = np.arange(n_frames) * hop_length
    frames = samples[starts[:, None] + np.arange(window_length)]     # (n_frames, window_length)
    spectrum = np.fft.rfft(frames * np.hanning(window_length), axis=1)
    power_db = 10 * np.log10(np.maximum(np.abs(spectrum) ** 2, 1e-10))
    times_s = (starts + window_length / 2) / sample_rate
    freqs_hz = np.fft.rfftfreq(window_length, 1 / sample_rate)
    return times_s, freqs_hz, power_db.T
