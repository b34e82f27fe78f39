"""The tutorials run: every ```python block of docs/tutorial.md and docs/tutorial.zh.md, in order.

Each file gets one fresh namespace (the blocks build on each other, as in one Python session) and
its own empty working directory for the pictures it writes. Without Graphviz's `dot` the tutorial
still runs (it prints the DotNotFound message); only the check of its rendered neuron.svg is
skipped (failed under MICROGRAD_REQUIRE_TOOLS=1, see conftest.py). The Chinese tutorial must hold
the same code as the English one; only comments and docstrings may differ.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import require_dot

DOCS = Path(__file__).resolve().parents[2] / "docs"
FILES = ["tutorial.md", "tutorial.zh.md"]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", path.read_text(encoding="utf-8"),
                      flags=re.M | re.S)


def code_only(code: str) -> str:
    """The code's syntax tree without docstrings: comments and docstrings may be translated."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.mark.parametrize("name", FILES)
def test_every_python_block_runs_in_order(name, tmp_path, monkeypatch, capsys):
    blocks = python_blocks(DOCS / name)
    assert len(blocks) >= 12, f"{name}: only {len(blocks)} python blocks found"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__tutorial__"}
    for i, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{name}, python block {i}", "exec"), namespace)
        except Exception as e:  # name the block, so a failing tutorial is easy to fix
            raise AssertionError(f"{name}: python block {i} failed: {e!r}\n{code}") from e
    out = capsys.readouterr().out
    assert "f'(2) ≈ 10.0000" in out
    assert "step 0, val loss 0.917090" in out  # the chapter's first log line
    assert "test accuracy 100%" in out
    for picture in ("boundary.png", "neurons.png"):
        assert (tmp_path / picture).stat().st_size > 10_000, picture
    assert (tmp_path / "neuron.dot").is_file()  # written with or without Graphviz
    require_dot()  # the tutorial ran; only its rendered graph is left, and that needs `dot`
    assert (tmp_path / "neuron.svg").stat().st_size > 10_000, "neuron.svg"


def test_chinese_tutorial_has_the_same_code():
    en, zh = (python_blocks(DOCS / name) for name in FILES)
    assert len(en) == len(zh)
    for i, (a, b) in enumerate(zip(en, zh), start=1):
        assert code_only(a) == code_only(b), f"python block {i} differs"


@pytest.mark.parametrize("name", FILES)
def test_tutorial_pictures_exist(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((images/[^)]+)\)", text)
    assert len(pictures) >= 7
    for rel in pictures:
        assert (DOCS / rel).is_file(), f"{name} shows {rel}, which is not in docs/images"
