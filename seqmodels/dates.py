"""Human-written dates and their ISO form, for the date-translation assignment: "Saturday 9 May 2018" -> "2018-05-09".

Dates are drawn with Faker and written out with Babel's date patterns, seeded, so the data set is
generated here and nothing is downloaded. Some formats are typed the way people type: lower case,
stray or missing spaces. Two formats never occur in training (``HELD_OUT_FORMATS``), and dates whose
day number is a multiple of 7 from 1 January 1950 (``is_held_out_date``) occur only in the
held-out set, so the test set measures what the model learned rather than what it memorised.

Inputs are lower-cased, cut or padded to ``T_X = 30`` characters; outputs are the ``T_Y = 10``
characters of YYYY-MM-DD. Two-digit years are read with the pivot of the date range: 50-99 are
19xx, 00-49 are 20xx.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from babel.dates import format_date
from faker import Faker

T_X, T_Y = 30, 10
FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)

# name -> Babel pattern (CLDR syntax: d day, MMM/MMMM month name, EEE/EEEE day name, yy/yyyy year).
FORMATS = {
    "short": "d/M/yy", "medium": "d MMM y", "long": "d MMMM y", "full": "EEEE d MMMM y",
    "us_medium": "MMM d, y", "us_long": "MMMM d, y", "us_full": "EEEE, MMMM d, y",
    "dotted": "dd.MM.yy", "dotted_long": "dd.MM.y", "slashed": "dd/MM/y", "iso_slashed": "y/MM/dd",
    "iso": "y-MM-dd", "day_month_short": "d MMM yy", "abbreviated_day": "EEE d MMM y",
    "comma": "d MMMM, y", "ordinal_free": "MMMM d y",
    # never in training:
    "hyphen_month": "dd-MMM-y", "day_first_comma": "EEEE, d. MMMM y",
}
HELD_OUT_FORMATS = ("hyphen_month", "day_first_comma")
TRAIN_FORMATS = tuple(name for name in FORMATS if name not in HELD_OUT_FORMATS)

PAD, UNK = "<pad>", "<unk>"
HUMAN_VOCAB = (PAD, UNK, " ", ",", "-", ".", "/", *"0123456789abcdefghijklmnopqrstuvwxyz")
MACHINE_VOCAB = tuple("-0123456789")


def is_held_out_date(day: dt.date) -> bool:
    """One date in seven belongs to the held-out set only."""
    return (day - FIRST).days % 7 == 0


def human_date(day: dt.date, pattern: str, rng: np.random.Generator) -> str:
    """``day`` written with a Babel pattern, then sometimes typed sloppily (lower case, spaces)."""
    text = format_date(day, pattern, locale="en")
    style = rng.random()
    if style < 0.25:
        text = text.lower()
    elif style < 0.35:
        text = text.replace(" ", "  ", 1)  # a doubled space
    elif style < 0.45:
        text = f" {text} "  # stray spaces around
    elif style < 0.5:
        text = text.replace(" ", "", 1)  # a missing space
    return text


def make_dates(count: int, seed: int, formats: tuple[str, ...] = TRAIN_FORMATS,
               held_out: bool = False) -> list[tuple[str, str]]:
    """``count`` pairs (human text, ISO date): from the training dates, or from the held-out dates only."""
    fake, rng = Faker(), np.random.default_rng(seed)
    fake.seed_instance(seed)
    pairs = []
    while len(pairs) < count:
        day = fake.date_between_dates(FIRST, LAST)
        if is_held_out_date(day) != held_out:
            continue
        pattern = FORMATS[formats[int(rng.integers(len(formats)))]]
        pairs.append((human_date(day, pattern, rng), day.isoformat()))
    return pairs


def encode_human(text: str) -> list[int]:
    """The T_X indices of ``text`` (lower-cased, cut to T_X characters, padded with PAD)."""
    index = {c: i for i, c in enumerate(HUMAN_VOCAB)}
    ids = [index.get(c, index[UNK]) for c in text.lower()[:T_X]]
    return ids + [index[PAD]] * (T_X - len(ids))


def encode_machine(iso: str) -> list[int]:
    """The T_Y indices of an ISO date."""
    return [MACHINE_VOCAB.index(c) for c in iso]


def decode_machine(ids: list[int]) -> str:
    return "".join(MACHINE_VOCAB[int(i)] for i in ids)
