"""Tokenisation and vocabularies for word-level and character-level language models.

A language model reads a sentence as a sequence of tokens y^<1>, ..., y^<T_y> and ends it
with the special token ``<EOS>``. Words that did not make it into the (size-limited)
vocabulary are all read as one special token, ``<UNK>``. Both special tokens sit at fixed
indices, so a model trained with one vocabulary can always find them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

EOS = "<EOS>"
UNK = "<UNK>"

# A word is a run of letters, digits or apostrophes; every other visible character
# (comma, full stop, ...) is a token of its own.
_WORD_OR_MARK = re.compile(r"[a-z0-9']+|[^\sa-z0-9']", re.IGNORECASE)


def word_tokenize(sentence: str, lower: bool = True) -> list[str]:
    """Split a sentence into words and punctuation marks.

    >>> word_tokenize("The cats, which slept, were full.")
    ['the', 'cats', ',', 'which', 'slept', ',', 'were', 'full', '.']
    """
    if lower:
        sentence = sentence.lower()
    return _WORD_OR_MARK.findall(sentence)


def char_tokenize(sentence: str, lower: bool = True) -> list[str]:
    """Split a sentence into its characters, spaces included.

    >>> char_tokenize("Cat.")
    ['c', 'a', 't', '.']
    """
    if lower:
        sentence = sentence.lower()
    return list(sentence)


def join_words(tokens: Iterable[str]) -> str:
    """Inverse of :func:`word_tokenize` up to case: spaces between words, none before marks.

    >>> join_words(['the', 'cat', ',', 'which', 'slept', ',', 'was', 'full', '.'])
    'the cat, which slept, was full.'
    """
    text = ""
    for token in tokens:
        glue = "" if not text or re.fullmatch(r"[^\w<]", token) else " "
        text += glue + token
    return text


class Vocabulary:
    """A bijection between tokens and integer ids, with ``<EOS>`` and ``<UNK>`` built in.

    Ids 0 and 1 are ``<EOS>`` and ``<UNK>``; the remaining ids go to ordinary tokens, most
    frequent first (ties broken alphabetically, so the same corpus always gives the same ids).
    Any token outside the vocabulary encodes to the id of ``<UNK>``.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        """Make a vocabulary from an explicit list of ordinary tokens, in id order."""
        self.itos: list[str] = [EOS, UNK] + [t for t in tokens if t not in (EOS, UNK)]
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("tokens must be distinct")
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int | None = None,
              min_count: int = 1) -> Vocabulary:
        """Count tokens over tokenised sentences and keep the most frequent ones.

        ``max_size`` bounds the total size, the two special tokens included;
        tokens seen fewer than ``min_count`` times are dropped as well.
        """
        counts = Counter(t for sentence in sentences for t in sentence)
        for special in (EOS, UNK):
            counts.pop(special, None)
        ranked = sorted((t for t, c in counts.items() if c >= min_count),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            if max_size < 2:
                raise ValueError("max_size must leave room for <EOS> and <UNK>")
            ranked = ranked[: max_size - 2]
        return cls(ranked)

    @property
    def eos_id(self) -> int:
        return self.stoi[EOS]

    @property
    def unk_id(self) -> int:
        return self.stoi[UNK]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Iterable[str], add_eos: bool = True) -> list[int]:
        """Token ids of a tokenised sentence, unknown tokens as ``<UNK>``, then ``<EOS>``."""
        ids = [self.stoi.get(t, self.unk_id) for t in tokens]
        return ids + [self.eos_id] if add_eos else ids

    def decode(self, ids: Iterable[int], stop_at_eos: bool = True) -> list[str]:
        """Tokens of a list of ids; by default everything from the first ``<EOS>`` on is dropped."""
        tokens = []
        for i in ids:
            token = self.itos[int(i)]
            if stop_at_eos and token == EOS:
                break
            tokens.append(token)
        return tokens
