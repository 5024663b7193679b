"""A small English-like corpus about animals, weather and food, generated from a grammar.

Every sentence has a subject noun and a verb that must agree with it in number
("The cat ... was full.", "The cats ... were full."). An optional relative clause between
the two ("The cat, which already ate the fish in the kitchen, was full.") sets how far apart
they are: the long-range dependency that a vanilla RNN finds hard to carry (chapter 3).
The determiner agrees with the noun as well ("this cat", "these cats").

Words are drawn with Zipf-like weights (the k-th entry of a list has weight 1/k), so that, as in
real text, a few words are common and many are rare; cutting the vocabulary to its most
frequent words then leaves a realistic share of ``<UNK>`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqmodels.text import join_words

TOPICS = ("animal", "weather", "food")

# Determiners as (singular, plural) pairs that agree with the noun.
DETERMINERS = [("the", "the"), ("my", "my"), ("this", "these"), ("a", "some"), ("that", "those")]

# Per topic: (singular, plural) nouns, adjectives that may precede the noun, the heads of a
# relative clause (number-neutral: they read the same after "cat" and "cats"), and the
# predicates as (singular verb, plural verb, complements). Most common entries first.
NOUNS = {
    "animal": [("cat", "cats"), ("dog", "dogs"), ("kitten", "kittens"), ("bird", "birds"),
               ("mouse", "mice"), ("puppy", "puppies"), ("fox", "foxes"), ("rabbit", "rabbits"),
               ("goose", "geese"), ("hamster", "hamsters")],
    "weather": [("cloud", "clouds"), ("sky", "skies"), ("storm", "storms"), ("wind", "winds"),
                ("morning", "mornings"), ("night", "nights"), ("breeze", "breezes")],
    "food": [("soup", "soups"), ("cake", "cakes"), ("pie", "pies"), ("apple", "apples"),
             ("sandwich", "sandwiches"), ("pear", "pears"), ("biscuit", "biscuits"),
             ("peach", "peaches")],
}
ADJECTIVES = {
    "animal": ["little", "old", "black", "grey", "lazy", "fat", "young", "white", "striped"],
    "weather": ["dark", "cold", "long", "grey", "wet", "bright", "quiet"],
    "food": ["warm", "fresh", "sweet", "small", "hot", "spicy", "salty"],
}
FOODS = ["fish", "milk", "rice", "cheese", "chicken", "bread", "the apple and pear salad",
         "tuna", "carrots", "seeds", "pasta", "cream", "eggs", "porridge", "sausages", "plums"]
CLAUSE_HEADS = {
    "animal": [f"{verb} {obj}" for verb in ("ate", "chased", "watched", "found", "caught")
               for obj in ("the fish", "a mouse", "the birds", "a pair of birds", "the cheese",
                           "the apple and pear salad", "a pair of socks", "the ball")],
    "weather": ["came from the sea", "rolled over the hills", "woke us up", "followed the rain",
                "broke the old fence", "surprised everyone", "scared the birds"],
    "food": ["my mother made", "we bought at the market", "the cook left on the table",
             "nobody wanted", "the children shared", "grandma baked"],
}
PREDICATES = {
    "animal": [("was", "were", ["full", "hungry", "sleepy", "happy", "tired", "wet", "cold",
                                "quiet", "angry", "lost"]),
               ("is", "are", ["hungry", "sleepy", "happy", "full", "small", "friendly", "noisy"]),
               ("likes", "like", FOODS),
               ("sleeps", "sleep", ["on the mat", "in the garden", "under the table", "by the fire",
                                    "on the sofa", "in a box", "near the window", "in the barn"])],
    "weather": [("was", "were", ["dark", "grey", "cold", "clear", "warm", "heavy", "calm", "wild"]),
                ("brings", "bring", ["rain", "snow", "fog", "thunder", "hail", "sunshine"]),
                ("is", "are", ["cold", "grey", "clear", "lovely", "strange"])],
    "food": [("was", "were", ["delicious", "cold", "sweet", "burnt", "salty", "fresh", "perfect"]),
             ("tastes", "taste", ["good", "sweet", "sour", "strange", "like honey", "of lemon"]),
             ("smells", "smell", ["good", "lovely", "of cinnamon", "burnt"])],
}
# Phrases that lengthen a relative clause; they never mention the subject's number.
EXTENSIONS = ["in the kitchen", "this morning", "after the storm", "in the garden",
              "on a rainy day", "last night", "with great care", "near the old barn",
              "before breakfast", "every single day", "under the big table", "at the market"]
MAX_EXTENSIONS = 4  # distinct phrases at most, so clauses stay readable


@dataclass(frozen=True)
class Sentence:
    """One generated sentence and where its agreement lives.

    ``subject`` and ``verb`` index the tokens of ``word_tokenize(text)``.
    """

    text: str
    plural: bool
    subject: int
    verb: int


def _zipf_weights(items: list) -> np.ndarray:
    """Probabilities proportional to 1/k for the k-th entry of ``items``."""
    weights = 1.0 / np.arange(1, len(items) + 1)
    return weights / weights.sum()


def _zipf_pick(rng: np.random.Generator, items: list):
    """One entry of ``items``, drawn with :func:`_zipf_weights`."""
    return items[rng.choice(len(items), p=_zipf_weights(items))]


def _sentence(rng: np.random.Generator, p_clause: float, p_extend: float) -> Sentence:
    topic = TOPICS[rng.choice(len(TOPICS), p=[0.5, 0.25, 0.25])]
    plural = bool(rng.random() < 0.5)
    number = int(plural)  # 0 picks the singular form of a pair, 1 the plural

    words = [_zipf_pick(rng, DETERMINERS)[number]]
    if rng.random() < 0.3:
        words.append(_zipf_pick(rng, ADJECTIVES[topic]))
    subject = len(words)
    words.append(_zipf_pick(rng, NOUNS[topic])[number])

    if rng.random() < p_clause:
        words += [",", _zipf_pick(rng, ["which", "that"])]
        if topic == "animal" and rng.random() < 0.5:
            words.append("already")
        words += _zipf_pick(rng, CLAUSE_HEADS[topic]).split()
        n_ext = 0
        while n_ext < MAX_EXTENSIONS and rng.random() < p_extend:  # geometric: a long tail of gaps
            n_ext += 1
        for k in rng.choice(len(EXTENSIONS), size=n_ext, replace=False, p=_zipf_weights(EXTENSIONS)):
            words += EXTENSIONS[k].split()
        words.append(",")

    singular_verb, plural_verb, complements = _zipf_pick(rng, PREDICATES[topic])
    verb = len(words)
    words.append(plural_verb if plural else singular_verb)
    words += _zipf_pick(rng, complements).split() + ["."]

    text = join_words(words)
    return Sentence(text[0].upper() + text[1:], plural, subject, verb)


def generate(n: int, seed: int = 0, p_clause: float = 0.5, p_extend: float = 0.5) -> list[Sentence]:
    """``n`` sentences drawn from the grammar; the same seed always gives the same corpus.

    ``p_clause`` is the probability of a relative clause between subject and verb, and each
    clause grows by one more phrase with probability ``p_extend``, up to ``MAX_EXTENSIONS``
    distinct phrases (so the subject-verb gaps have a long tail).
    """
    rng = np.random.default_rng(seed)
    return [_sentence(rng, p_clause, p_extend) for _ in range(n)]
