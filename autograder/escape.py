"""Text that came from a submission (file names, exception messages, notebook content), made inert where it is shown.

:func:`markdown` is the one escaping function for everything the grader writes as text for people:
every text field of results.json (which Gradescope is told to render as markdown) and summary.md,
which take their text from those fields. :func:`spreadsheet` keeps grades.csv free of formulas.
"""

from __future__ import annotations

import re

# Terminal control sequences: CSI (colours, cursor moves, clearing the screen), OSC (window titles, hyperlinks),
# the string sequences (DCS, SOS, PM, APC) and the two-character escapes.
_TERMINAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -~]?)")
# HTML's three special characters become entities; markdown's inline markup characters get a backslash
# (links and images need [ ], code needs `, tables |, headings #, emphasis * _ ~, math $).
_INLINE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                         **{c: "\\" + c for c in "\\`*_[]#|~$"}})
# What starts a block at the beginning of a line: list items, setext underlines, ordered lists.
_LINE_START = re.compile(r"^(?:([-+=])|\d+(?=[.)]))", re.MULTILINE)


def markdown(text: str) -> str:
    """``text`` as literal text in markdown or HTML: no markup, no links or images, no raw HTML, no terminal
    escapes or invisible controls (bidi overrides included). Lines stay lines, each without leading blanks
    (which would make a code block)."""
    text = _TERMINAL.sub("", text)
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
    text = "\n".join(line.strip() for line in text.translate(_INLINE).split("\n"))
    return _LINE_START.sub(lambda m: "\\" + m[0] if m[1] else m[0] + "\\", text)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet(cell: str) -> str:
    """A CSV cell that no spreadsheet takes for a formula (OWASP's rule: a leading ``'`` before = + - @ tab CR)."""
    return "'" + cell if cell.startswith(_FORMULA) else cell
