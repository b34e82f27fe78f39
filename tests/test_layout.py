"""The size budget: no module of `src/` over 500 lines, no function over 80 (one screen), and no
script or style sheet of the playground's page over 300, so a newcomer can read any piece in one
sitting."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "micrograd"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 500, 80
PAGE = SRC / "playground" / "static"
MAX_PAGE_LINES = 300  # each .js module and .css sheet of the page


def test_modules_and_functions_fit_the_budget():
    too_long = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(SRC.parent)
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {lines} lines")
    assert not too_long, too_long


def test_the_pages_modules_and_styles_fit_the_budget():
    sizes = {path.name: path.read_text(encoding="utf-8").count("\n")
             for ext in ("*.js", "*.css") for path in sorted(PAGE.glob(ext))}
    assert len(sizes) > 5  # the page's files were found
    too_long = {name: n for name, n in sizes.items() if n > MAX_PAGE_LINES}
    assert not too_long, too_long
