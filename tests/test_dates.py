"""The date-translation data: every human date means its ISO date, and the held-out parts stay held out."""

from __future__ import annotations

import re

import pytest
from dateutil import parser

from seqmodels.dates import (FORMATS, HELD_OUT_FORMATS, MACHINE_VOCAB, T_X, TRAIN_FORMATS, decode_machine,
                             encode_human, encode_machine, is_held_out_date, make_dates)

import datetime as dt


def test_enough_formats_and_two_kept_out_of_training():
    assert len(TRAIN_FORMATS) >= 15
    assert set(HELD_OUT_FORMATS) <= set(FORMATS) and not set(HELD_OUT_FORMATS) & set(TRAIN_FORMATS)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_says_the_date_it_stands_for(name):
    """An independent parser (dateutil) reads each text back to the same day and month, and the year when it has 4 digits."""
    for text, iso in make_dates(40, seed=3, formats=(name,)):
        day = dt.date.fromisoformat(iso)
        parsed = parser.parse(text.replace(". ", " "), dayfirst=not text.strip()[:4].isdigit(),
                              yearfirst=text.strip()[:4].isdigit())
        assert (parsed.month, parsed.day) == (day.month, day.day), (text, iso)
        if re.search(r"\d{4}", text):
            assert parsed.year == day.year, (text, iso)


def test_held_out_dates_and_formats_never_reach_training():
    train = make_dates(3000, seed=0)
    held_out = make_dates(500, seed=1, formats=HELD_OUT_FORMATS, held_out=True)
    assert not {iso for _, iso in train} & {iso for _, iso in held_out}
    assert all(not is_held_out_date(dt.date.fromisoformat(iso)) for _, iso in train)
    assert all(is_held_out_date(dt.date.fromisoformat(iso)) for _, iso in held_out)
    assert not any(re.search(r"\d-[a-z]{3}-\d", text.lower()) for text, _ in train)  # the hyphen_month format


def test_seeded_lengths_and_encodings():
    pairs = make_dates(500, seed=7)
    assert pairs == make_dates(500, seed=7) and pairs != make_dates(500, seed=8)
    assert max(len(text) for text, _ in pairs) <= T_X + 1  # at most a stray trailing space is cut
    assert any(text != text.strip() for text, _ in pairs) and any(text.islower() for text, _ in pairs)
    for text, iso in pairs[:50]:
        assert len(encode_human(text)) == T_X
        assert decode_machine(encode_machine(iso)) == iso and set(iso) <= set(MACHINE_VOCAB)
