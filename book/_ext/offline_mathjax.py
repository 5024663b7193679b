"""Ship MathJax inside the built book, so its maths renders without a network connection.

The MathJax files come from the pinned ``jupyter-server-mathjax`` package; ``mathjax_path`` in
``_config.yml`` points the pages at the copy this extension puts under ``_static/mathjax``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_server_mathjax
from sphinx.application import Sphinx

MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
