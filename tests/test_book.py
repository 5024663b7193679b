"""The book builds with warnings as errors, and every page in the table of contents exists.

The chapters are executed by nbval (book/ is a test path), not by this build."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_every_toc_entry_is_a_committed_file():
    for name in toc_files():
        matches = [p for p in (ROOT / f"{name}.ipynb", ROOT / f"{name}.md") if p.exists()]
        assert matches, f"{name} is in _toc.yml but has no .ipynb or .md file"


def test_chapters_are_committed_without_outputs():
    import nbformat

    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} has committed outputs"
                assert cell.execution_count is None, f"{path.name} has execution counts"


def test_book_builds_without_warnings(tmp_path):
    """The -W build of every page. It does not execute the chapters: nbval runs each of them, cell by cell,
    in the same session (testpaths include book/), so every chapter executes once per test run."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    extensions = config["sphinx"]["local_extensions"]  # relative to the config file: make them absolute
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in extensions.items()}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    result = subprocess.run(
        [jb, "build", str(ROOT), "-W", "-n", "--keep-going", "--config", str(tmp_path / "_config.yml"),
         "--path-output", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    for name in toc_files():
        assert (html / f"{name}.html").exists(), f"{name}.html was not built"
