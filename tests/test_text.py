"""Tokenisers and the Vocabulary: round trips, <UNK> and <EOS> handling, deterministic ids."""

import random

import pytest

from seqmodels.corpus import generate
from seqmodels.text import EOS, UNK, Vocabulary, char_tokenize, join_words, word_tokenize


def test_word_tokenize_separates_punctuation_and_lowercases():
    assert word_tokenize("The cats, which slept, were full.") == [
        "the", "cats", ",", "which", "slept", ",", "were", "full", "."]
    assert word_tokenize("It's 15 hours!", lower=False) == ["It's", "15", "hours", "!"]


def test_word_and_char_tokenisation_round_trip_on_the_corpus():
    for sentence in generate(300, seed=1):
        assert join_words(word_tokenize(sentence.text)) == sentence.text.lower()
        assert "".join(char_tokenize(sentence.text)) == sentence.text.lower()
        assert "".join(char_tokenize(sentence.text, lower=False)) == sentence.text


def test_specials_have_fixed_ids_and_are_not_duplicated():
    vocab = Vocabulary.build([["a", EOS, "b", UNK, "a"]])
    assert vocab.itos[:2] == [EOS, UNK]
    assert (vocab.eos_id, vocab.unk_id) == (0, 1)
    assert sorted(vocab.itos) == sorted([EOS, UNK, "a", "b"])
    with pytest.raises(ValueError):
        Vocabulary(["a", "a"])


def test_encode_appends_one_eos_and_decode_inverts_it():
    sentences = [word_tokenize(s.text) for s in generate(200, seed=2)]
    vocab = Vocabulary.build(sentences)
    for tokens in sentences:
        ids = vocab.encode(tokens)
        assert len(ids) == len(tokens) + 1
        assert ids[-1] == vocab.eos_id and vocab.eos_id not in ids[:-1]
        assert vocab.decode(ids) == tokens
        assert vocab.encode(tokens, add_eos=False) == ids[:-1]


def test_decode_stops_at_the_first_eos_unless_told_not_to():
    vocab = Vocabulary(["cat", "sat"])
    ids = [vocab.stoi["cat"], vocab.eos_id, vocab.stoi["sat"]]
    assert vocab.decode(ids) == ["cat"]
    assert vocab.decode(ids, stop_at_eos=False) == ["cat", EOS, "sat"]


def test_max_size_keeps_the_most_frequent_tokens_and_maps_the_rest_to_unk():
    sentences = [["the"] * 5 + ["cat"] * 3 + ["dog"] * 2 + ["emu"]]
    vocab = Vocabulary.build(sentences, max_size=4)
    assert len(vocab) == 4
    assert vocab.itos == [EOS, UNK, "the", "cat"]
    assert "dog" not in vocab
    assert vocab.encode(["the", "dog", "emu", "zebra"], add_eos=False) == [2, 1, 1, 1]
    assert vocab.decode(vocab.encode(["dog", "cat"])) == [UNK, "cat"]
    with pytest.raises(ValueError):
        Vocabulary.build(sentences, max_size=1)


def test_min_count_drops_rare_tokens():
    vocab = Vocabulary.build([["a", "a", "b"], ["a", "c", "c"]], min_count=2)
    assert vocab.itos == [EOS, UNK, "a", "c"]


def test_ids_do_not_depend_on_sentence_order():
    sentences = [word_tokenize(s.text) for s in generate(200, seed=3)]
    shuffled = sentences[:]
    random.Random(0).shuffle(shuffled)
    assert Vocabulary.build(sentences).itos == Vocabulary.build(shuffled).itos


def test_join_words_keeps_unk_as_a_word():
    assert join_words(["the", UNK, "was", "full", "."]) == "the <UNK> was full."
