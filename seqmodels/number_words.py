"""A toy translation task for the Week 3 chapters: English number words to digits.

"three hundred and twelve" -> "312". The source side is a sequence of words from a vocabulary of
32, the target a sequence of digits, and the input length varies from 1 word to 17 (up to
999,999,999), so the task has the two things a translation model must handle: reordering (in
"twelve thousand and five", the zeros are never said) and inputs of very different lengths.
Everything is generated here, seeded; nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = [(1_000_000, "million"), (1_000, "thousand")]
PAD, SOS, EOS = "<pad>", "<sos>", "<eos>"


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
        if n:
            words.append("and")
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
        if n:
            words.append(ONES[n])
    elif n or not words:
        words.append(ONES[n])
    return words


def number_to_words(n: int) -> list[str]:
    """British English words for 0 <= n < 10**9: 312 -> ['three', 'hundred', 'and', 'twelve']."""
    if not 0 <= n < 1_000_000_000:
        raise ValueError(f"{n} is outside 0..999,999,999")
    words: list[str] = []
    for scale, name in SCALES:
        if n >= scale:
            words += _below_thousand(n // scale) + [name]
            n %= scale
    if n or not words:
        if words and n < 100:
            words.append("and")  # "two thousand and five"
        words += _below_thousand(n)
    return words


def sample_numbers(count: int, rng: np.random.Generator, max_digits: int = 9) -> np.ndarray:
    """``count`` numbers whose digit counts are uniform over 1..max_digits, so every length is common."""
    digits = rng.integers(1, max_digits + 1, size=count)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    return rng.integers(low, 10 ** digits)


@dataclass(frozen=True)
class Vocab:
    """Tokens by index; index 0 is padding, 1 the start of a target, 2 its end."""

    tokens: tuple[str, ...]

    @classmethod
    def of(cls, words: list[str]) -> Vocab:
        return cls((PAD, SOS, EOS, *words))

    def __len__(self) -> int:
        return len(self.tokens)

    def index(self, token: str) -> int:
        return self.tokens.index(token)

    def encode(self, tokens: list[str], length: int, eos: bool = False) -> list[int]:
        """Indices of ``tokens`` (then EOS if asked), padded with PAD up to ``length``."""
        ids = [self.tokens.index(t) for t in tokens] + ([self.tokens.index(EOS)] if eos else [])
        return ids + [0] * (length - len(ids))

    def decode(self, ids: list[int]) -> list[str]:
        """Tokens up to (not including) the first EOS, skipping PAD and SOS."""
        out = []
        for i in ids:
            token = self.tokens[int(i)]
            if token == EOS:
                break
            if token not in (PAD, SOS):
                out.append(token)
        return out


SOURCE = Vocab.of(ONES + TENS[2:] + ["hundred", "thousand", "million", "and"])
TARGET = Vocab.of([str(d) for d in range(10)])


@dataclass(frozen=True)
class Batch:
    """A padded batch: src (m, T_x) word indices, src_lengths (m,), tgt (m, T_y) digit indices ending in EOS."""

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt: torch.Tensor
    numbers: np.ndarray


def make_batch(numbers: np.ndarray) -> Batch:
    """The source words and target digits of ``numbers``, padded to the longest of each."""
    sources = [number_to_words(int(n)) for n in numbers]
    targets = [list(str(int(n))) for n in numbers]
    T_x, T_y = max(map(len, sources)), max(map(len, targets)) + 1
    src = torch.tensor([SOURCE.encode(s, T_x) for s in sources])
    tgt = torch.tensor([TARGET.encode(t, T_y, eos=True) for t in targets])
    return Batch(src, torch.tensor([len(s) for s in sources]), tgt, np.asarray(numbers))
