"""Spoken digit strings and the CTC recogniser: held-out voices, labels, features, lengths, error rate, training."""

import numpy as np
import pytest
import torch

from seqmodels import ctc_recogniser as cr
from seqmodels import digit_speech as ds
from seqmodels.speech import synthesize

STEADY_VOICES = ("en+Storm", "en-gb-x-rp+shelby")  # variants without pitch flutter: exactly repeatable


def test_test_voices_are_held_out_and_every_voice_exists():
    assert not set(ds.TRAIN_VOICES) & set(ds.TEST_VOICES)
    assert not set(ds.TRAIN_VARIANTS) & set(ds.TEST_VARIANTS)
    for voice in ds.TRAIN_VOICES + ds.TEST_VOICES:
        samples, _ = synthesize("one", voice=voice)  # raises for a variant eSpeak NG does not have
        assert np.abs(samples).max() > 0.01, voice


def test_targets_are_the_spoken_digits_plus_one():
    split = ds.make_split(30, ds.TRAIN_VOICES, seed=1, n_workers=1)
    assert len(split) == 30
    for features, target, text in split:
        assert target == [ds.DIGITS.index(word) + 1 for word in text.split()]
        assert all(1 <= label <= 10 for label in target) and ds.BLANK not in target
        assert ds.MIN_DIGITS <= len(target) <= ds.MAX_DIGITS
        assert ds.labels_text(target) == text
        assert features.dtype == np.float32 and features.shape[1] == ds.N_MELS
        assert np.all(np.isfinite(features))
        assert len(features) > 10 * len(target)  # at 100 frames per second a digit lasts over 0.1 s
    assert {len(u.target) for u in split} == set(range(ds.MIN_DIGITS, ds.MAX_DIGITS + 1))
    assert ds.N_CLASSES == 11 and ds.digits_text([3, 1, 4]) == "three one four"


def test_a_split_is_repeatable_under_its_seed_whatever_the_number_of_workers():
    first = ds.make_split(8, STEADY_VOICES, seed=5, n_workers=1)
    again = ds.make_split(8, STEADY_VOICES, seed=5, n_workers=2)
    for a, b in zip(first, again, strict=True):
        assert a.text == b.text and a.target == b.target
        np.testing.assert_array_equal(a.features, b.features)
    other = ds.make_split(8, STEADY_VOICES, seed=6, n_workers=1)
    assert [u.text for u in other] != [u.text for u in first]


def test_speech_is_trimmed_and_noise_follows_the_snr():
    clean = ds.speak("seven", "en+Storm", rate=175, pitch=50, snr_db=200.0, rng=np.random.default_rng(0))
    assert clean.dtype == np.float32
    assert np.abs(clean[0]) > 1e-3 and np.abs(clean[-1]) > 1e-3   # no silence left at either end
    noisy = ds.speak("seven", "en+Storm", rate=175, pitch=50, snr_db=20.0, rng=np.random.default_rng(0))
    noise = noisy - clean
    snr_db = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert snr_db == pytest.approx(20.0, abs=0.5)


def test_mel_filterbank_pools_a_tone_into_the_band_centred_nearest_it():
    rate, n_fft = 16000, 400
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    bank = ds.mel_filterbank(40, freqs, rate)
    assert bank.shape == (40, len(freqs)) and bank.min() >= 0 and bank.max() <= 1
    centres = ds.mel_to_hz(np.linspace(0, ds.hz_to_mel(rate / 2), 42))[1:-1]
    assert np.all(np.diff(centres) > 0)
    tone = np.abs(np.fft.rfft(np.sin(2 * np.pi * 1000 * np.arange(n_fft) / rate) * np.hanning(n_fft))) ** 2
    assert np.argmax(bank @ tone) == np.argmin(np.abs(centres - 1000))
    assert ds.mel_to_hz(ds.hz_to_mel(440.0)) == pytest.approx(440.0)


def test_log_mel_has_one_normalised_row_per_frame():
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(16000) * np.linspace(0.01, 1, 16000)  # one second, getting louder
    features = ds.log_mel(samples, 16000)
    assert features.shape == (1 + (16000 - 400) // 160, ds.N_MELS) and features.dtype == np.float32
    np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(features.std(axis=0), 1, atol=1e-3)
    silence = ds.log_mel(np.zeros(8000), 16000)
    assert silence.shape == (48, ds.N_MELS) and np.all(np.isfinite(silence))


def test_the_model_keeps_enough_frames_for_the_longest_fastest_target():
    # Seven "two"s (the shortest digit) at the fastest rate, by two of the quickest voices; every
    # label needs a frame and repeated labels need a blank between them.
    utterances = []
    for voice in ("en+anika", "en-gb-x-rp+Andrea"):
        samples = ds.speak(" ".join(["two"] * ds.MAX_DIGITS), voice, rate=ds.RATE_RANGE[1], pitch=50, snr_db=30.0,
                           rng=np.random.default_rng(0))
        utterances.append(ds.Utterance(ds.log_mel(samples, ds.SAMPLE_RATE), [3] * ds.MAX_DIGITS, ""))
    x, lengths, _, _ = cr.pad_batch(utterances)
    log_probs, out_lengths = cr.CTCRecogniser()(x, lengths)
    assert log_probs.shape == (2, int(out_lengths.max()), ds.N_CLASSES)
    assert torch.equal(out_lengths, cr.output_lengths(lengths))
    assert torch.equal(out_lengths, (lengths + cr.SUBSAMPLING - 1) // cr.SUBSAMPLING)
    assert int(out_lengths.min()) >= 2 * ds.MAX_DIGITS + 1


def test_pad_batch_gives_what_ctc_loss_wants_and_frame_log_probs_are_distributions():
    split = ds.make_split(5, STEADY_VOICES, seed=2, n_workers=1)
    x, lengths, targets, target_lengths = cr.pad_batch(split)
    assert x.shape == (5, int(lengths.max()), ds.N_MELS) and x.dtype == torch.float32
    assert lengths.tolist() == [len(u.features) for u in split]
    assert targets.tolist() == [label for u in split for label in u.target]
    assert target_lengths.tolist() == [len(u.target) for u in split]
    shortest = int(lengths.argmin())
    assert torch.all(x[shortest, int(lengths[shortest]):] == 0)
    torch.manual_seed(0)
    per_utterance = cr.frame_log_probs(cr.CTCRecogniser(n_conv=8, n_a=8), split)
    for log_probs, u in zip(per_utterance, split, strict=True):
        assert log_probs.shape == (int(cr.output_lengths(torch.tensor(len(u.features)))), ds.N_CLASSES)
        np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1, rtol=1e-5)


def test_spec_augment_keeps_the_shape_and_is_repeatable():
    x = torch.randn(3, 50, ds.N_MELS)
    lengths = torch.tensor([50, 40, 30])
    first = cr.spec_augment(x, lengths, torch.Generator().manual_seed(0))
    again = cr.spec_augment(x, lengths, torch.Generator().manual_seed(0))
    assert first.shape == x.shape and torch.equal(first, again) and not torch.equal(first, x)
    assert torch.all(torch.isfinite(first))


@pytest.mark.parametrize(("hypotheses", "references", "expected"), [
    ([[1, 2, 3]], [[1, 2, 3]], 0.0),
    ([[1, 5, 3]], [[1, 2, 3]], 1 / 3),          # one substitution
    ([[1, 2, 2, 3]], [[1, 2, 3]], 1 / 3),       # one insertion
    ([[1, 3]], [[1, 2, 3]], 1 / 3),             # one deletion
    ([[]], [[4, 5]], 1.0),                      # nothing recognised: every digit deleted
    ([[2, 1]], [[1, 2]], 1.0),                  # a swap costs two edits
    ([[6, 6, 6]], [[6]], 2.0),                  # insertions can push the rate above 1
    ([[1], [4, 3, 5]], [[1], [2, 3]], 2 / 3),   # totals over utterances: (0 + 2) / (1 + 2)
])
def test_error_rate_is_edit_distance_over_reference_length(hypotheses, references, expected):
    assert cr.error_rate(hypotheses, references) == pytest.approx(expected)


def test_error_rate_needs_one_hypothesis_per_reference():
    with pytest.raises(ValueError):
        cr.error_rate([[1]], [[1], [2]])


def test_a_short_training_run_lowers_the_loss_and_repeats_under_its_seed():
    split = ds.make_split(24, STEADY_VOICES, seed=3, n_workers=1)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = cr.CTCRecogniser(n_conv=16, n_a=16)
        runs.append(cr.train_recogniser(model, split, epochs=6, batch_size=8, lr=1e-2, seed=0))
        assert not model.training
    losses = runs[0]
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0]
    assert runs[0] == runs[1]
