"""The size budget: no module of `src/` over 500 lines, no function over 60 (one screen), no
script or style sheet of the playground's page over 300 and no function of it over 60, so a
newcomer can read any piece in one sitting.

A JavaScript function's lines are its own: the functions nested in it are measured on their own
(`jsfunctions.py`), so a factory such as `createPlane()` is held to what it does itself."""

from __future__ import annotations

import ast
from pathlib import Path

from jsfunctions import functions

SRC = Path(__file__).resolve().parents[2] / "src" / "micrograd"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 500, 60
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


def test_the_pages_functions_fit_the_budget():
    counted, too_long = 0, []
    for path in sorted(PAGE.glob("*.js")):
        for fn in functions(path.read_text(encoding="utf-8")):
            counted += 1
            if fn.own > MAX_FUNCTION_LINES:
                too_long.append(f"{path.name}:{fn.first} {fn.name}: {fn.own} lines")
    assert counted > 100  # the scanner found the page's functions
    assert not too_long, too_long


def test_the_function_scanner_measures_what_it_should():
    body = "\n".join(f"  step{i}();" for i in range(61))
    text = (
        "export function createThing() {\n"  # a factory: its own lines are few
        f"  function long() {{\n{body}\n  }}\n"
        "  const s = '{ not a brace }'; // nor { this\n"
        "  if (s) { s.trim(); }\n"
        "  const t = `${s}{`;\n"
        "  return { long, short: (x) => { return x; } };\n"
        "}\n"
    )
    found = {fn.name: fn for fn in functions(text)}
    assert sorted(found) == ["(anonymous)", "createThing", "long"]
    assert found["long"].own == 63  # its braces' lines and 61 statements
    assert found["createThing"].own == 5  # header, three statements, the closing brace
    assert found["(anonymous)"].own == 1
