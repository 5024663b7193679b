"""A small GRU encoder-decoder (Sutskever et al. 2014, Cho et al. 2014) for the Week 3 chapters.

The encoder reads the source x^<1..T_x> and its last hidden state starts the decoder, a language
model over the target conditioned on x. The model gives the decoder one step at a time
(:meth:`Seq2Seq.step`) and scores whole targets (:meth:`Seq2Seq.log_prob`, log P(y | x)), so that
the chapters can write greedy and beam search themselves, on top of it. Searches live in the
chapters and the assignments, not here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqmodels.number_words import Batch

SOS_INDEX, PAD_INDEX = 1, 0


class Encoder(nn.Module):
    """Embedding + GRU. forward(src (m, T_x), lengths (m,)) -> (a (m, T_x, n_a), state (1, m, n_a)).

    Padding never reaches the state: the sequences are packed, so ``state`` is a^<T_x> of each source
    and the outputs after a source's end are zeros.
    """

    def __init__(self, vocab_size: int, n_e: int, n_a: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, n_e, padding_idx=PAD_INDEX)
        self.rnn = nn.GRU(n_e, n_a, batch_first=True)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        outputs, state = self.rnn(packed)
        a, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=src.shape[1])
        return a, state


class Decoder(nn.Module):
    """Embedding + GRU + linear. forward(y_in (m, T_y), state (1, m, n_a)) -> (logits (m, T_y, V), state)."""

    def __init__(self, vocab_size: int, n_e: int, n_a: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, n_e, padding_idx=PAD_INDEX)
        self.rnn = nn.GRU(n_e, n_a, batch_first=True)
        self.out = nn.Linear(n_a, vocab_size)

    def forward(self, y_in: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, state = self.rnn(self.embedding(y_in), state)
        return self.out(s), state


def shifted_right(tgt: torch.Tensor) -> torch.Tensor:
    """The decoder's inputs under teacher forcing: <sos>, then the target without its last token."""
    return torch.cat([torch.full_like(tgt[:, :1], SOS_INDEX), tgt[:, :-1]], dim=1)


class Seq2Seq(nn.Module):
    """Encoder-decoder whose decoder starts from the encoder's last state (no attention)."""

    def __init__(self, src_vocab: int, tgt_vocab: int, n_e: int = 32, n_a: int = 64):
        super().__init__()
        self.encoder = Encoder(src_vocab, n_e, n_a)
        self.decoder = Decoder(tgt_vocab, n_e, n_a)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Logits (m, T_y, V) of every target step, with the true previous token as input (teacher forcing)."""
        _, state = self.encoder(src, lengths)
        logits, _ = self.decoder(shifted_right(tgt), state)
        return logits

    def start(self, src: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The decoder's initial state, (1, m, n_a): the encoder's summary of each source."""
        return self.encoder(src, lengths)[1]

    def step(self, y_prev: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder step: y_prev (m,) token indices -> (log P(y^<t> | x, y^<1..t-1>) (m, V), new state)."""
        logits, state = self.decoder(y_prev[:, None], state)
        return F.log_softmax(logits[:, 0], dim=-1), state

    def log_prob(self, src: torch.Tensor, lengths: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """log P(y | x) of each target (m,), summed over its tokens up to and including <eos>."""
        log_p = F.log_softmax(self(src, lengths, tgt), dim=-1).gather(2, tgt[..., None])[..., 0]
        return (log_p * (tgt != PAD_INDEX)).sum(dim=1)


def train_seq2seq(model: nn.Module, data: Batch, epochs: int, batch_size: int = 64, lr: float = 0.003,
                  seed: int = 0) -> list[float]:
    """Adam on the cross-entropy of every target token (padding ignored); returns the mean loss of each epoch.

    ``model(src, lengths, tgt)`` must return teacher-forced logits (m, T_y, V), as :class:`Seq2Seq` does.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(epochs):
        total, count = 0.0, 0
        for rows in torch.randperm(len(data.src), generator=order).split(batch_size):
            logits = model(data.src[rows], data.src_lengths[rows], data.tgt[rows])
            loss = F.cross_entropy(logits.flatten(0, 1), data.tgt[rows].flatten(), ignore_index=PAD_INDEX)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(rows), count + len(rows)
        losses.append(total / count)
    model.eval()
    return losses
