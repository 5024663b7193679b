"""The toy translation task (number words -> digits) and the GRU encoder-decoder of the Week 3 chapters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqmodels.number_words import SOURCE, TARGET, make_batch, number_to_words, sample_numbers
from seqmodels.seq2seq import SOS_INDEX, Seq2Seq, train_seq2seq


@pytest.mark.parametrize("n,words", [
    (0, "zero"), (7, "seven"), (40, "forty"), (312, "three hundred and twelve"),
    (2005, "two thousand and five"), (12_040, "twelve thousand and forty"),
    (100_000, "one hundred thousand"), (1_000_001, "one million and one"),
    (999_999_999, "nine hundred and ninety nine million nine hundred and ninety nine thousand nine hundred and ninety nine"),
])
def test_number_words(n, words):
    assert " ".join(number_to_words(n)) == words


def test_every_number_has_its_own_words_and_every_length_is_sampled():
    rng = np.random.default_rng(0)
    numbers = sample_numbers(3000, rng)
    assert {len(str(n)) for n in numbers} == set(range(1, 10))
    sentences = {" ".join(number_to_words(int(n))) for n in range(0, 3000)}
    assert len(sentences) == 3000


def test_batch_round_trips_to_the_numbers():
    batch = make_batch(np.array([5, 312, 2005]))
    assert batch.src.shape == (3, 4) and batch.tgt.shape == (3, 5)
    for row, length, n in zip(batch.src, batch.src_lengths, batch.numbers):
        assert SOURCE.decode(row.tolist()) == number_to_words(int(n)) and len(number_to_words(int(n))) == length
    assert ["".join(TARGET.decode(row.tolist())) for row in batch.tgt] == ["5", "312", "2005"]


def test_padding_does_not_change_the_encoding():
    """A source padded to a longer batch gets the same final state as on its own."""
    torch.manual_seed(0)
    model = Seq2Seq(len(SOURCE), len(TARGET), 8, 12)
    alone = make_batch(np.array([13]))
    padded = make_batch(np.array([13, 987_654_321]))
    with torch.no_grad():
        assert torch.allclose(model.start(alone.src, alone.src_lengths)[:, 0],
                              model.start(padded.src, padded.src_lengths)[:, 0], atol=1e-6)


def test_log_prob_is_the_sum_of_the_step_log_probabilities():
    """Two routes to log P(y|x): teacher-forced scoring at once, and the decoder run step by step."""
    torch.manual_seed(1)
    model = Seq2Seq(len(SOURCE), len(TARGET), 8, 12)
    batch = make_batch(np.array([7, 4021, 600_013]))
    with torch.no_grad():
        scores = model.log_prob(batch.src, batch.src_lengths, batch.tgt)
        state = model.start(batch.src, batch.src_lengths)
        y_prev, by_steps = torch.full((3,), SOS_INDEX), torch.zeros(3)
        for t in range(batch.tgt.shape[1]):
            log_p, state = model.step(y_prev, state)
            y = batch.tgt[:, t]
            by_steps += torch.where(y > 0, log_p.gather(1, y[:, None])[:, 0], torch.zeros(3))
            y_prev = y
    assert torch.allclose(scores, by_steps, atol=1e-5)


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = Seq2Seq(len(SOURCE), len(TARGET), 16, 32)
    losses = train_seq2seq(model, make_batch(sample_numbers(512, np.random.default_rng(2), 3)), epochs=8)
    assert losses[-1] < 0.6 * losses[0]
