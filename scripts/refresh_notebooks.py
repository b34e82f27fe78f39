"""Run the notebooks of docs/notebooks and store their outputs in them, for the docs site.

The site shows each notebook as a page with its outputs (mkdocs-jupyter, which does not run
them), so the outputs are kept in the files. tests/clients/test_notebooks.py runs every notebook
and fails when what it prints differs from what is stored: then run this script
(`python scripts/refresh_notebooks.py`, Graphviz's `dot` installed) and commit the notebooks.
Each runs in a temporary folder, so the pictures it writes (boundary.png) land there.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def execute(path: Path, cwd: str) -> nbformat.NotebookNode:
    """The notebook at `path`, run top to bottom in a fresh kernel with `cwd` as its folder."""
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": cwd}}).execute()
    for cell in book.cells:  # what the kernel adds but a reader does not need
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
        for out in cell.get("outputs", []):
            plain = out.get("data", {}).get("text/plain")
            if plain:  # `<graphviz.graphs.Digraph at 0x7f...>`: a new address every run
                out["data"]["text/plain"] = ADDRESS.sub(">", plain)
    book.metadata.pop("widgets", None)
    return book


def merged_streams(outputs: list) -> list:
    """Consecutive prints to one stream as one output: the kernel cuts them where its flushes
    happened to fall, which differs from run to run."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.output_type == "stream" and last is not None and last.output_type == "stream"
                and last.name == out.name):
            last.text += out.text
        else:
            merged.append(out)
    return merged


def main() -> int:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        with tempfile.TemporaryDirectory() as cwd:
            book = execute(path, cwd)
        nbformat.write(book, path)
        print(f"refreshed {path.relative_to(NOTEBOOKS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
