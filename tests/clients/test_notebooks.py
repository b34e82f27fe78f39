"""The notebooks in docs/notebooks run top to bottom in a real Jupyter kernel, as a learner would.

Each is executed with nbclient in its own empty folder (for the pictures it writes), and what it
shows must be what the file stores: the docs site renders the stored outputs (a stale one fails
here; `python scripts/refresh_notebooks.py` stores them anew). Numbers are compared to 1e-9
relative, so a libm that rounds a last bit differently is not a stale notebook. The second
notebook (and its Chinese edition) is the chapter's run written out cell by cell: its printed log
must be the chapter's (val lines equal as printed, train losses within 1e-12 relative). X.zh.ipynb
is X.ipynb in Chinese: the same cells and code, only the markdown, comments and strings
translated. The pictures inline are `draw_dot` graphs, which need Graphviz's `dot` (skipped
without it, failed under MICROGRAD_REQUIRE_TOOLS=1, see conftest.py).
"""

from __future__ import annotations

import ast
import math
import re
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPO_ROOT, assert_matches_chapter_log

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from refresh_notebooks import execute  # scripts/ is not a package: found through sys.path

NOTEBOOKS = sorted((REPO_ROOT / "docs" / "notebooks").glob("*.ipynb"))
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _shown(book: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """Per output: its kind and its text (streams, text/plain) or its picture types."""
    shown = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                shown.append((out.name, out.text))
            else:
                data = out.get("data", {})
                shown.append((",".join(sorted(data)), data.get("text/plain", "")))
    return shown


def _same_text(fresh: str, stored: str) -> bool:
    """Equal but for numbers that agree to 1e-9 relative."""
    if NUMBER.sub("#", fresh) != NUMBER.sub("#", stored):
        return False
    return all(math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-300)
               for a, b in zip(NUMBER.findall(fresh), NUMBER.findall(stored)))


def _run(path: Path, cwd: Path) -> list[str]:
    """Run the notebook; check it shows what its file stores; return its printed lines."""
    fresh = execute(path, str(cwd))
    stored = nbformat.read(path, as_version=4)
    ours, theirs = _shown(fresh), _shown(stored)
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs], (
        f"{path.name}: stale outputs; run python scripts/refresh_notebooks.py")
    for (kind, text), (_, kept) in zip(ours, theirs):
        assert _same_text(text, kept), (
            f"{path.name}: a {kind} output changed; run python scripts/refresh_notebooks.py")
    return "".join(text for kind, text in ours if kind == "stdout").splitlines()


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_backprop_by_hand.ipynb", "01_backprop_by_hand.zh.ipynb",
        "02_mlp_and_training.ipynb", "02_mlp_and_training.zh.ipynb",
        "03_your_own_op.ipynb", "03_your_own_op.zh.ipynb",
        "04_watch_it_train.ipynb", "04_watch_it_train.zh.ipynb"]


def _code_only(source: str) -> str:
    """The cell's syntax tree with every string emptied: comments and strings may be translated."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.suffixes == [".zh", ".ipynb"]],
                         ids=lambda p: p.stem)
def test_chinese_notebook_holds_the_english_code(path):
    english = nbformat.read(path.with_name(path.name.replace(".zh.", ".")), as_version=4)
    chinese = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in chinese.cells] == [c.cell_type for c in english.cells]
    for zh, en in zip(chinese.cells, english.cells):
        if en.cell_type == "code":
            assert _code_only(zh.source) == _code_only(en.source), zh.source
        else:
            assert zh.source != en.source, f"{path.name}: a markdown cell left in English"


@pytest.mark.needs_dot
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, chapter_log_path):
    lines = _run(path, tmp_path)
    assert lines, "the notebook printed nothing"
    if path.name.split(".")[0] != "02_mlp_and_training":  # and its Chinese edition, .zh.ipynb
        return
    steps = [line for line in lines if line.startswith("step ")]
    assert_matches_chapter_log(steps, chapter_log_path)
    assert (tmp_path / "boundary.png").stat().st_size > 10_000
