"""The trigger-word ingredients: spoken words at 16 kHz without silence around them, quiet backgrounds,
and test voices that training never hears."""

import numpy as np

from seqmodels.trigger_audio import (SAMPLE_RATE, TEST_VOICES, TRAIN_VOICES, background, coloured_noise, word_audio,
                                     word_bank)


def test_a_word_lasts_about_half_a_second_with_no_silence_around_it():
    audio = word_audio("activate", TRAIN_VOICES[0], np.random.default_rng(0))
    assert audio.dtype == np.float32 and 0.3 < len(audio) / SAMPLE_RATE < 1.2
    assert np.abs(audio[:80]).max() > 1e-3 and np.abs(audio[-80:]).max() > 1e-3
    assert 0.45 <= np.abs(audio).max() <= 1.0


def test_test_voices_are_never_training_voices_and_banks_have_every_word():
    assert not set(TRAIN_VOICES) & set(TEST_VOICES)
    bank = word_bank(TEST_VOICES[:1], renditions=3, seed=0)
    assert len(bank["activates"]) == 3 and len(bank["negatives"]) == 26


def test_backgrounds_are_five_quiet_seconds_and_noise_has_its_colour():
    rng = np.random.default_rng(1)
    bank = word_bank(TRAIN_VOICES[:1], renditions=3, seed=1)
    for _ in range(6):
        audio = background(5.0, rng, bank)
        assert audio.shape == (5 * SAMPLE_RATE,) and 0 < np.abs(audio).max() <= 0.2
    white, brown = (np.abs(np.fft.rfft(coloured_noise(2**15, e, rng))) ** 2 for e in (0.0, 2.0))
    low, high = slice(10, 200), slice(8000, 16000)
    assert brown[low].mean() / brown[high].mean() > 100 * white[low].mean() / white[high].mean()
