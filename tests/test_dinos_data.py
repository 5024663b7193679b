"""data/dinos.txt is a clean name list, and seqmodels.names encodes it as Dinosaurus Island expects."""

import string

import pytest

from seqmodels.names import DINOS_PATH, indices_to_name, load_names, name_to_example, vocabulary


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return DINOS_PATH.read_text().split("\n")


def test_file_format(lines):
    assert lines[-1] == "", "the file ends with a single newline"
    names = lines[:-1]
    assert len(names) >= 1000
    assert all(name and set(name) <= set(string.ascii_lowercase) for name in names)
    assert len(set(names)) == len(names), "duplicates"
    assert names == sorted(names)


def test_load_names_reads_every_line(lines):
    assert load_names() == lines[:-1]


def test_every_letter_occurs():
    assert set("".join(load_names())) == set(string.ascii_lowercase)


def test_vocabulary_layout():
    char_to_ix, ix_to_char = vocabulary()
    assert char_to_ix["\n"] == 0
    assert [char_to_ix[c] for c in string.ascii_lowercase] == list(range(1, 27))
    assert all(ix_to_char[i] == c for c, i in char_to_ix.items()) and len(ix_to_char) == 27


def test_name_to_example_shifts_by_one():
    char_to_ix, ix_to_char = vocabulary()
    X, Y = name_to_example("zby", char_to_ix)
    assert X == [None, 26, 2, 25]
    assert Y == [26, 2, 25, 0]
    assert indices_to_name(Y, ix_to_char) == "zby"
