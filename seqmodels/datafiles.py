"""Where the course's small data files are (the folder ``data/`` of the repository), however the library was installed.

In a checkout, and with the editable install of requirements.txt, they are the files of ``data/`` beside the
package. A wheel, which is what the launch cell of a notebook installs on Colab, carries a copy of them inside
the package as ``seqmodels/data/`` (pyproject.toml maps the package ``seqmodels.data`` to the folder ``data/``),
so nothing is fetched at run time there either.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# The copy inside an installed wheel comes first: beside a package in site-packages there may be anything.
DATA_DIR = _PACKAGE / "data" if (_PACKAGE / "data").is_dir() else _PACKAGE.parent / "data"


def data_path(name: str) -> Path:
    """The path of ``data/<name>``, a file or a folder: ``data_path("dinos.txt")``, ``data_path("emojify")``."""
    return DATA_DIR / name
