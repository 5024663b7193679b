"""A small CTC recogniser for spoken digit strings (``seqmodels.digit_speech``), in PyTorch.

The model reads log-mel frames x^<1..T_x> (100 per second) and gives, for every output frame t,
log P(k | x, t) over the classes k = 0 (blank) and 1..10 (the digits 0..9). A 1-D convolutional
front end looks at a few neighbouring frames and subsamples time by ``SUBSAMPLING`` (4: one output
frame every 40 ms); a bidirectional GRU gives every frame the context of the whole utterance; a
linear layer and a log-softmax give the class scores. It is trained with the CTC loss, which sums
over every alignment of the target to the frames. Outputs are batch first, (N, T, C); nn.CTCLoss
wants (T, N, C), and :func:`train_recogniser` transposes for it. Decoding (greedy and beam search over these
log-probabilities) is not here: the chapter and the assignment write it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from seqmodels.digit_speech import BLANK, N_CLASSES, N_MELS, Utterance

SUBSAMPLING = 4
_KERNEL = 5
# Augmentation while training (SpecAugment, Park et al. 2019, plus a warp of the mel axis). The
# test voices are new, so what the model must not learn is any one voice's spectrum.
MAX_WARP = 0.15      # the mel axis is stretched or squeezed by up to 15 %, like a longer or shorter vocal tract
MAX_BAND_MASK = 8    # one band of up to 8 of the 40 mel channels is blanked out
MAX_TIME_MASK = 10   # and N_TIME_MASKS stretches of up to 10 frames (100 ms, less than a fast digit)
N_TIME_MASKS = 3


def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """Frames after the front end for inputs of ``lengths`` frames: ceil(T_x / 4), shape as ``lengths``."""
    for _ in range(2):  # two convolutions of stride 2, padded by kernel // 2 on each side
        lengths = (lengths + 2 * (_KERNEL // 2) - _KERNEL) // 2 + 1
    return lengths


class CTCRecogniser(nn.Module):
    """Conv front end + bidirectional GRU + linear + log-softmax.

    forward(x (N, T_x, n_mels), lengths (N,)) -> (log_probs (N, T, C), out_lengths (N,)), batch first,
    with T = ceil(T_x / 4), C = ``n_classes``, and ``log_probs[n, t]`` summing (in probability) to 1.
    Frames t >= out_lengths[n] are padding: their values are meaningless and must be ignored.
    """

    def __init__(self, n_mels: int = N_MELS, n_conv: int = 64, n_a: int = 96, n_layers: int = 1,
                 n_classes: int = N_CLASSES):
        super().__init__()
        self.front_end = nn.Sequential(
            nn.Conv1d(n_mels, n_conv, _KERNEL, stride=2, padding=_KERNEL // 2), nn.ReLU(),
            nn.Conv1d(n_conv, n_conv, _KERNEL, stride=2, padding=_KERNEL // 2), nn.ReLU(),
        )
        self.rnn = nn.GRU(n_conv, n_a, num_layers=n_layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * n_a, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.front_end(x.transpose(1, 2)).transpose(1, 2)          # (N, T, n_conv)
        out_lengths = output_lengths(lengths)
        # Packing keeps the padding out of the backward direction, which reads each utterance from its end.
        packed = nn.utils.rnn.pack_padded_sequence(h, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
        a, _ = self.rnn(packed)
        a, _ = nn.utils.rnn.pad_packed_sequence(a, batch_first=True, total_length=h.shape[1])
        return torch.log_softmax(self.out(a), dim=-1), out_lengths


def pad_batch(utterances: Sequence[Utterance]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Utterances as nn.CTCLoss wants them.

    Returns ``x`` (N, T_max, n_mels) float32, zero after each utterance's end; ``lengths`` (N,)
    int64; ``targets`` (sum of the target lengths,) int64, all targets one after the other; and
    ``target_lengths`` (N,) int64.
    """
    lengths = torch.tensor([len(u.features) for u in utterances])
    x = torch.zeros(len(utterances), int(lengths.max()), utterances[0].features.shape[1])
    for n, u in enumerate(utterances):
        x[n, :len(u.features)] = torch.from_numpy(u.features)
    targets = torch.tensor([label for u in utterances for label in u.target], dtype=torch.int64)
    target_lengths = torch.tensor([len(u.target) for u in utterances])
    return x, lengths, targets, target_lengths


def spec_augment(x: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A randomly distorted copy of a batch x (N, T, n_mels) with ``lengths`` (N,): same shape.

    Each utterance's mel axis is resampled at m * alpha (linear interpolation, alpha uniform in
    1 +- MAX_WARP), then one band of mel channels and N_TIME_MASKS stretches of frames are set to 0,
    the mean of the normalised features.
    """
    N, T, M = x.shape
    alpha = 1 + (2 * torch.rand(N, generator=generator) - 1) * MAX_WARP
    position = (torch.arange(M) * alpha[:, None]).clamp(max=M - 1)           # (N, M)
    below = position.floor().long()
    above = (below + 1).clamp(max=M - 1)
    weight = (position - below)[:, None, :]
    x = (x.gather(2, below[:, None, :].expand(N, T, M)) * (1 - weight)
         + x.gather(2, above[:, None, :].expand(N, T, M)) * weight)
    width = torch.randint(0, MAX_BAND_MASK + 1, (N,), generator=generator)
    start = (torch.rand(N, generator=generator) * (M - width)).long()
    m = torch.arange(M)
    x = x.masked_fill(((m >= start[:, None]) & (m < (start + width)[:, None]))[:, None, :], 0.0)
    t = torch.arange(T)
    for _ in range(N_TIME_MASKS):
        width = torch.randint(0, MAX_TIME_MASK + 1, (N,), generator=generator)
        start = (torch.rand(N, generator=generator) * (lengths - width).clamp(min=1)).long()
        x = x.masked_fill(((t >= start[:, None]) & (t < (start + width)[:, None]))[:, :, None], 0.0)
    return x


def train_recogniser(model: CTCRecogniser, train_split: Sequence[Utterance], epochs: int, batch_size: int = 32,
                     lr: float = 3e-3, seed: int = 0, augment: bool = True, max_grad_norm: float = 5.0,
                     n_threads: int = 1) -> list[float]:
    """Adam on the CTC loss, the learning rate decaying along a cosine to 0; returns each epoch's mean loss.

    The loss of an utterance is -log P(target | x), summed over alignments, divided by the target's
    length (nn.CTCLoss's "mean"); with ``augment`` it is taken on :func:`spec_augment`'s copies.
    Gradients are clipped to norm ``max_grad_norm``. Training runs on ``n_threads`` CPU threads
    (the setting is restored afterwards): one is the default because on two cores shared with
    other work, two threads that wait for each other at every small matrix product ran up to
    three times slower. The result is repeatable for a given ``seed`` and ``n_threads``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    torch.manual_seed(seed)
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = -(-len(train_split) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    try:
        for _ in range(epochs):
            total = 0.0
            for rows in torch.randperm(len(train_split), generator=generator).split(batch_size):
                x, lengths, targets, target_lengths = pad_batch([train_split[i] for i in rows])
                if augment:
                    x = spec_augment(x, lengths, generator)
                log_probs, out_lengths = model(x, lengths)
                loss = ctc(log_probs.transpose(0, 1), targets, out_lengths, target_lengths)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                schedule.step()
                total += loss.item() * len(rows)
            losses.append(total / len(train_split))
    finally:
        model.eval()
        torch.set_num_threads(threads)
    return losses


@torch.no_grad()
def frame_log_probs(model: CTCRecogniser, utterances: Sequence[Utterance],
                    batch_size: int = 64) -> list[np.ndarray]:
    """The model's per-frame log-probabilities, for the decoders: one (T_n, C) float32 array per utterance.

    T_n = ceil(n_frames / 4) of utterance n: the padding is cut off.
    """
    model.eval()
    result = []
    for start in range(0, len(utterances), batch_size):
        x, lengths, _, _ = pad_batch(utterances[start:start + batch_size])
        log_probs, out_lengths = model(x, lengths)
        result += [log_probs[n, :int(out_lengths[n])].numpy() for n in range(len(out_lengths))]
    return result


def edit_distance(hypothesis: Sequence[int], reference: Sequence[int]) -> int:
    """Levenshtein distance: the fewest substitutions, insertions and deletions from ``hypothesis`` to ``reference``."""
    previous = list(range(len(reference) + 1))        # distances from the empty prefix of the hypothesis
    for i, h in enumerate(hypothesis, start=1):
        current = [i]
        for j, r in enumerate(reference, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (h != r)))
        previous = current
    return previous[-1]


def error_rate(hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]]) -> float:
    """Digit error rate: the total edit distance over the total reference length (can exceed 1)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    errors = sum(edit_distance(h, r) for h, r in zip(hypotheses, references))
    return errors / sum(len(r) for r in references)
