"""Offline speech: eSpeak NG synthesis is repeatable and sounds like speech; the spectrogram has the right axes."""

import numpy as np
import pytest

from seqmodels.speech import spectrogram, synthesize

SENTENCE = "the quick brown fox jumps over the lazy dog"


def test_synthesis_is_repeatable_even_after_other_calls():
    first, rate = synthesize(SENTENCE)
    synthesize("something else entirely", rate=220, pitch=80)  # eSpeak keeps state between calls
    again, rate_again = synthesize(SENTENCE)
    assert rate == rate_again == 22050
    np.testing.assert_array_equal(first, again)


def test_a_sentence_is_loud_enough_and_lasts_a_few_seconds():
    samples, rate = synthesize(SENTENCE)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert np.all(np.abs(samples) <= 1.0)
    assert np.sqrt(np.mean(samples**2)) > 0.02  # not silence
    assert 1.5 < len(samples) / rate < 5.0      # nine words at 160 words per minute is about 3.4 s


def test_faster_speech_is_shorter_and_different_texts_sound_different():
    normal, rate = synthesize(SENTENCE)
    fast, _ = synthesize(SENTENCE, rate=300)
    assert len(fast) < 0.75 * len(normal)
    one, _ = synthesize("activate")
    other, _ = synthesize("elephant")
    n = min(len(one), len(other))
    assert np.abs(one[:n] - other[:n]).max() > 0.1


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(RuntimeError, match="voice"):
        synthesize("hello", voice="no-such-voice+none")


def test_spectrogram_of_a_1_khz_sine_peaks_at_1_khz():
    rate = 16000
    t = np.arange(rate) / rate                     # one second
    times, freqs, power_db = spectrogram(np.sin(2 * np.pi * 1000 * t), rate, window_ms=25, hop_ms=10)
    window, hop = 400, 160                         # 25 ms and 10 ms at 16 kHz
    n_frames = 1 + (rate - window) // hop
    assert power_db.shape == (window // 2 + 1, n_frames) == (len(freqs), len(times))
    assert freqs[0] == 0 and freqs[-1] == pytest.approx(rate / 2)
    np.testing.assert_allclose(np.diff(times), hop / rate)  # frames 10 ms apart, in seconds
    assert times[0] == pytest.approx(window / 2 / rate)      # the centre of the first window
    np.testing.assert_array_equal(freqs[np.argmax(power_db, axis=0)], 1000)


def test_spectrogram_of_silence_is_the_floor_and_short_signals_have_no_frames():
    _, _, power_db = spectrogram(np.zeros(1000), 8000)
    assert np.all(power_db == -100)
    times, freqs, power_db = spectrogram(np.zeros(100), 8000)  # shorter than one 25 ms window
    assert times.shape == (0,) and power_db.shape == (len(freqs), 0)


def test_unknown_voice_variant_is_a_clear_error_not_a_silent_default():
    """eSpeak NG itself ignores a variant it cannot find; synthesize refuses it."""
    with pytest.raises(RuntimeError, match="unknown voice variant 'nosuchvariant'"):
        synthesize("hello", voice="en+nosuchvariant")
    samples, _ = synthesize("hello", voice="en+f3")
    assert len(samples) > 0
