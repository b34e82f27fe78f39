"""An MkDocs hook (mkdocs.yml `hooks:`) that keeps the notebooks pages of the docs site.

mkdocs-jupyter makes each docs/notebooks/*.ipynb a page; mkdocs-static-i18n, which builds the
site once per language, then remakes every file as a plain one, and a notebook would be copied
as its raw JSON (an open incompatibility of the two plugins: ultrabug/mkdocs-static-i18n#198).
Running after both, this marks the notebooks as pages again, so mkdocs-jupyter renders them in
every language.
"""

from __future__ import annotations

from mkdocs.plugins import event_priority


def _is_page() -> bool:
    return True


@event_priority(-200)  # after mkdocs-static-i18n's on_files (-100) and mkdocs-jupyter's
def on_files(files, config):
    for file in files:
        if file.src_uri.endswith(".ipynb"):
            file.is_documentation_page = _is_page
    return files
