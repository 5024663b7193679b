"""The generated corpus: determinism under a seed, and subject-verb agreement in every sentence."""

from seqmodels.corpus import generate
from seqmodels.text import word_tokenize

# Written from English grammar, not read from the generator's tables.
SINGULAR_VERBS = {"was", "is", "likes", "sleeps", "brings", "tastes", "smells"}
PLURAL_VERBS = {"were", "are", "like", "sleep", "bring", "taste", "smell"}
SINGULAR_DETERMINERS = {"this", "that", "a"}
PLURAL_DETERMINERS = {"these", "those", "some"}


def noun_is_plural(noun: str) -> bool:
    return noun.endswith("s") or noun in {"mice", "geese"}


def test_same_seed_same_corpus_and_different_seed_different_corpus():
    assert generate(100, seed=7) == generate(100, seed=7)
    assert generate(100, seed=7) != generate(100, seed=8)


def test_subject_and_verb_agree_in_number():
    sentences = generate(2000, seed=0)
    for s in sentences:
        tokens = word_tokenize(s.text)
        assert noun_is_plural(tokens[s.subject]) == s.plural, s.text
        verb = tokens[s.verb]
        assert verb in (PLURAL_VERBS if s.plural else SINGULAR_VERBS), s.text
        determiner = tokens[0]
        assert determiner not in (SINGULAR_DETERMINERS if s.plural else PLURAL_DETERMINERS), s.text
    assert 0.4 < sum(s.plural for s in sentences) / len(sentences) < 0.6


def test_verb_position_found_by_parsing_the_text():
    for s in generate(1000, seed=4):
        tokens = word_tokenize(s.text)
        if "," in tokens:  # the verb follows the comma that closes the relative clause
            commas = [i for i, t in enumerate(tokens) if t == ","]
            assert len(commas) == 2, s.text
            assert s.verb == commas[1] + 1
            assert s.subject == commas[0] - 1
        else:
            assert s.verb == s.subject + 1
        # Nothing between subject and verb gives away the subject's number.
        between = set(tokens[s.subject + 1:s.verb])
        assert not between & (SINGULAR_VERBS | PLURAL_VERBS), s.text
        assert tokens[-1] == "." and "." not in tokens[:-1]


def test_clause_probability_controls_the_gap():
    assert all(s.verb == s.subject + 1 for s in generate(200, seed=5, p_clause=0.0))
    with_clause = generate(200, seed=5, p_clause=1.0, p_extend=0.0)
    assert all("," in s.text for s in with_clause)
    longer = generate(200, seed=5, p_clause=1.0, p_extend=0.9)
    mean_gap = lambda ss: sum(s.verb - s.subject for s in ss) / len(ss)
    assert mean_gap(longer) > mean_gap(with_clause) + 4
