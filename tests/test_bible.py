"""The King James Bible from the pinned package: read-only, in order, tokenised once."""

from __future__ import annotations

from collections import Counter

from seqmodels.bible import kjv_tokens, kjv_verses


def test_the_text_starts_at_genesis_and_is_long_enough_to_train_on():
    verses, tokens = kjv_verses(), kjv_tokens()
    assert "in the beginning god created" in verses[0].lower()
    assert len(tokens) > 700_000 and len(set(tokens)) > 10_000
    assert tokens[:4] == ("in", "the", "beginning", "god")


def test_tokens_are_lowercase_words_and_frequent_ones_are_function_words():
    tokens = kjv_tokens()
    assert all(t.islower() and t[0].isalpha() for t in tokens[:5000])
    assert {w for w, _ in Counter(tokens).most_common(3)} == {"the", "and", "of"}
    assert kjv_tokens() is tokens  # read once per process
