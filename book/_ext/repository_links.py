"""In the built book, a link from a chapter to a file outside the book goes to that file in the repository.

A chapter links to its assignment by a relative path (``../assignments/emojify/emojify.ipynb``), which works
wherever the notebook is opened from the repository: JupyterLab, Binder, a clone. The book does not build the
assignments (``_config.yml`` excludes them), so MyST would report such a link as a missing document, or copy
the file as a download. This extension turns it into a link to the file in the repository, at the
``repository.url`` and ``repository.branch`` of ``_config.yml``, which Jupyter Book passes to the theme: the
repository's address is written nowhere else. A link to a file that does not exist is left alone, so MyST
still reports it and the ``-W`` build fails.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx


def _file_outside_book(app: Sphinx, node: nodes.Element) -> Path | None:
    """The existing file, under the source folder, that a MyST link to something the book does not build names."""
    env = app.env
    if node.get("reftype") != "myst":
        return None
    if isinstance(node, addnodes.download_reference):
        candidates = [Path(env.relfn2path(node["reftarget"], env.docname)[1])]
    elif node.get("refdomain") == "doc" and node["reftarget"] not in env.found_docs:
        # MyST keeps only the document name of a link to a notebook or page: try the source suffixes.
        candidates = [Path(env.srcdir, node["reftarget"] + suffix) for suffix in app.config.source_suffix]
    else:
        return None
    source = Path(env.srcdir).resolve()
    return next((path.resolve() for path in candidates
                 if path.is_file() and path.resolve().is_relative_to(source)), None)


def link_to_repository(app: Sphinx, doctree: nodes.document) -> None:
    options = app.config.html_theme_options
    url = options.get("repository_url")
    if not url:
        return
    branch = options.get("repository_branch", "main")
    book = Path(options.get("path_to_docs", "") or ".")
    for node in list(doctree.findall(lambda n: isinstance(n, (addnodes.pending_xref, addnodes.download_reference)))):
        path = _file_outside_book(app, node)
        if path is None:
            continue
        in_repository = (book / path.relative_to(Path(app.env.srcdir).resolve())).as_posix()
        anchor = f"#{node['reftargetid']}" if node.get("reftargetid") else ""
        node.replace_self(nodes.reference("", "", *node.children,
                                          refuri=f"{url.rstrip('/')}/blob/{branch}/{in_repository}{anchor}"))


def setup(app: Sphinx) -> dict:
    # Before Sphinx's own reader of this event (priority 500) would register the file as a download.
    app.connect("doctree-read", link_to_repository, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
