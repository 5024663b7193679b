"""Name lists for character-level language models (Dinosaurus Island).

A name is a lowercase string over a-z. The model reads it one character at a time and
must also predict where it ends, so the vocabulary has 27 symbols: the end-of-name
token ``"\\n"`` at index 0, then ``"a"`` ... ``"z"`` at indices 1 ... 26.
"""

import string
from pathlib import Path

import numpy as np

from seqmodels.datafiles import data_path

DINOS_PATH = data_path("dinos.txt")
EOS = "\n"  # end-of-name token: a name's last target is always this character
VOCAB = EOS + string.ascii_lowercase


def load_names(path: str | Path = DINOS_PATH) -> list[str]:
    """Names from a text file with one name per line, lowercased, blank lines skipped."""
    lines = Path(path).read_text().splitlines()
    names = [line.strip().lower() for line in lines if line.strip()]
    bad = sorted({c for name in names for c in name} - set(string.ascii_lowercase))
    if bad:
        raise ValueError(f"{path}: characters outside a-z: {bad}")
    return names


def vocabulary() -> tuple[dict[str, int], dict[int, str]]:
    """The 27-symbol vocabulary as ``(char_to_ix, ix_to_char)``; ``char_to_ix["\\n"] == 0``."""
    char_to_ix = {c: i for i, c in enumerate(VOCAB)}
    ix_to_char = {i: c for i, c in enumerate(VOCAB)}
    return char_to_ix, ix_to_char


def name_to_example(name: str, char_to_ix: dict[str, int]) -> tuple[list, list[int]]:
    """Inputs and targets for one name, both of length T = len(name) + 1.

    ``X[0]`` is ``None``: the first input x^{<1>} is the zero vector, so the model predicts
    the first letter from nothing. After that the input at step t is the target of step
    t - 1 (``X[t] == Y[t - 1]``), and the last target is the end-of-name index.
    """
    ix = [char_to_ix[c] for c in name]
    return [None] + ix, ix + [char_to_ix[EOS]]


def indices_to_name(indices: list[int], ix_to_char: dict[int, str]) -> str:
    """Text of a sampled index sequence, without the end-of-name token."""
    return "".join(ix_to_char[i] for i in indices).rstrip(EOS)


def unigram_loss(names: list[str], char_to_ix: dict[str, int]) -> float:
    """Per-character cross-entropy (nats) of the best model that ignores context.

    That model predicts every target with the targets' overall frequencies, so its loss
    is the entropy of those frequencies. The targets are every letter of every name plus
    one end-of-name token per name: the same characters the RNN is asked to predict.
    """
    counts = np.zeros(len(char_to_ix))
    for name in names:
        for c in name + EOS:
            counts[char_to_ix[c]] += 1
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
