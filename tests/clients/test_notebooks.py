"""The notebooks in docs/notebooks run top to bottom in a real Jupyter kernel, as a learner would.

Each is executed with nbclient in its own empty folder (for the pictures it writes). The second
notebook is the chapter's run written out cell by cell: its printed log must be the chapter's
(val lines equal as printed, train losses within 1e-12 relative). The pictures inline are
`draw_dot` graphs, which need Graphviz's `dot` (skipped without it, failed under
MICROGRAD_REQUIRE_TOOLS=1, see conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

from conftest import assert_matches_seed_log

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "docs" / "notebooks").glob("*.ipynb"))


def _run(path: Path, cwd: Path) -> list[str]:
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    texts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out["text"])
    return "".join(texts).splitlines()


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_backprop_by_hand.ipynb", "02_mlp_and_training.ipynb", "03_your_own_op.ipynb"]


@pytest.mark.needs_dot
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, seed_log_path):
    lines = _run(path, tmp_path)
    assert lines, "the notebook printed nothing"
    if path.stem != "02_mlp_and_training":
        return
    assert_matches_seed_log([line for line in lines if line.startswith("step ")], seed_log_path)
    assert (tmp_path / "boundary.png").stat().st_size > 10_000
