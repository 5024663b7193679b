"""A toy named-entity tagging task whose labels need the future, and small torch helpers for it.

Every sentence holds the word "teddy" once. Whether "teddy" is part of a person's name is
decided only by the word ``lag`` steps later: a surname ("teddy roosevelt") makes it a name,
an object ("teddy bears") does not. Surnames are always names; every other word is not.
A tagger that reads left to right has seen nothing that tells the two cases apart when it
must label "teddy", so the best it can do there is guess; a bidirectional one can look ahead.

Token ids are stored like the course's batches with the one-hot axis dropped: ``x`` of shape
(n_x, m, T_x) becomes integer ids of shape (m, T_x). Torch models take them as they are
(``batch_first=True``) and return logits of shape (m, T_x, 2).
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

FILLERS = ("he", "she", "said", "saw", "that", "a", "the", "was", "great", "big",
           "are", "on", "sale", "today", "in", "town", "and", "we", "liked", "president")
SURNAMES = ("roosevelt", "kennedy", "wilson")
OBJECTS = ("bears", "toys", "dolls")
AMBIGUOUS_WORD = "teddy"
VOCAB = (AMBIGUOUS_WORD,) + SURNAMES + OBJECTS + FILLERS
WORD_TO_ID = {word: i for i, word in enumerate(VOCAB)}
NAME, OTHER = 1, 0

SURNAME_IDS = np.array([WORD_TO_ID[w] for w in SURNAMES])
OBJECT_IDS = np.array([WORD_TO_ID[w] for w in OBJECTS])
FILLER_IDS = np.array([WORD_TO_ID[w] for w in FILLERS])


@dataclass
class TaggingData:
    """A batch of tagged sentences; every array has shape (m, T_x)."""

    x: np.ndarray          # token ids, int64
    y: np.ndarray          # NAME (1) or OTHER (0), int64
    ambiguous: np.ndarray  # True where the token is "teddy", bool


def make_tagging_data(m: int, T_x: int, lag: int = 1,
                      rng: np.random.Generator | None = None) -> TaggingData:
    """Generate m sentences of T_x words, each with one "teddy" resolved ``lag`` words later.

    Half of the sentences (in expectation) make "teddy" a name. Everything else is drawn
    independently of that choice, so no word before the cue carries information about it.
    """
    if not 1 <= lag < T_x:
        raise ValueError(f"need 1 <= lag < T_x, got lag={lag}, T_x={T_x}")
    rng = np.random.default_rng(0) if rng is None else rng
    rows = np.arange(m)
    x = rng.choice(FILLER_IDS, size=(m, T_x))
    p = rng.integers(0, T_x - lag, size=m)          # position of "teddy"
    is_name = rng.random(m) < 0.5
    cue = np.where(is_name, rng.choice(SURNAME_IDS, size=m), rng.choice(OBJECT_IDS, size=m))
    x[rows, p] = WORD_TO_ID[AMBIGUOUS_WORD]
    x[rows, p + lag] = cue

    y = np.isin(x, SURNAME_IDS).astype(np.int64)    # surnames are names wherever they stand
    y[rows, p] = np.where(is_name, NAME, OTHER)
    ambiguous = x == WORD_TO_ID[AMBIGUOUS_WORD]
    return TaggingData(x=x.astype(np.int64), y=y, ambiguous=ambiguous)


def to_words(ids: np.ndarray) -> list[str]:
    """Turn one sentence of token ids, shape (T_x,), back into words."""
    return [VOCAB[i] for i in ids]


RNN_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per cell: tanh only, 2 gates + c~, 3 gates + c~


def recurrent_param_count(cell: str, n_x: int, n_a: int, num_layers: int = 1,
                          bidirectional: bool = False) -> int:
    """Number of parameters of a stacked (bi)directional recurrent layer, counted as torch does.

    Layer l of direction d has, per weight block, W^{[l]} of shape (n_a, n_in + n_a) and a bias
    b^{[l]} of n_a entries, where n_in is n_x for l = 1 and (directions * n_a) above it.
    Torch keeps two bias vectors per block (b_ih and b_hh); their sum acts as the single b.
    """
    k = GATE_BLOCKS[cell]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(1, num_layers + 1):
        n_in = n_x if layer == 1 else directions * n_a
        total += directions * k * (n_a * (n_in + n_a) + 2 * n_a)
    return total


class Tagger(nn.Module):
    """Embedding -> recurrent layer(s) -> per-step linear classifier over {OTHER, NAME}.

    With ``bidirectional=True`` torch concatenates the forward and backward states, so the
    classifier computes y_hat<t> = W_y [a_fwd<t>, a_bwd<t>] + b_y (softmax left to the loss).
    """

    def __init__(self, n_a: int = 16, n_e: int = 8, bidirectional: bool = False,
                 cell: str = "gru", num_layers: int = 1):
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), n_e)
        self.rnn = RNN_CELLS[cell](n_e, n_a, num_layers=num_layers, batch_first=True,
                                   bidirectional=bidirectional)
        self.head = nn.Linear((2 if bidirectional else 1) * n_a, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: token ids (m, T_x) -> logits (m, T_x, 2)."""
        a, _ = self.rnn(self.embed(x))  # a: (m, T_x, directions * n_a)
        return self.head(a)


@torch.no_grad()
def evaluate(model: nn.Module, data: TaggingData) -> dict[str, float]:
    """Accuracy over all tokens and over the ambiguous ("teddy") tokens only."""
    model.eval()
    pred = model(torch.from_numpy(data.x)).argmax(-1).numpy()
    correct = pred == data.y
    return {"all": float(correct.mean()), "ambiguous": float(correct[data.ambiguous].mean())}


def train_tagger(model: nn.Module, train: TaggingData, val: TaggingData, epochs: int = 10,
                 batch_size: int = 64, lr: float = 1e-2, seed: int = 0) -> dict[str, list[float]]:
    """Train with Adam on the per-token cross-entropy; return validation accuracy per epoch.

    The returned lists have epochs + 1 entries: entry 0 is before any update.
    """
    gen = torch.Generator().manual_seed(seed)  # fixes the batch order, not the initial weights
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(train.x), torch.from_numpy(train.y)
    history = {key: [value] for key, value in evaluate(model, val).items()}
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x), generator=gen).split(batch_size):
            logits = model(x[batch])
            loss = loss_fn(logits.reshape(-1, 2), y[batch].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for key, value in evaluate(model, val).items():
            history[key].append(value)
    return history
