"""The functions of a JavaScript file and how many lines each holds itself, for the size budget.

Not a parser: a scanner that skips strings, template literals and comments, matches braces, and
calls a `{` a function body when `=>` precedes it, or a `)` whose `(` follows `function name`,
`function`, or a method name that is not a keyword (`if (...) {` is a block, not a function).
A function's own lines leave out the lines of the functions nested in it: a factory such as
`createPlane()` is a module's scope, its inner functions are measured one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = {"if", "for", "while", "switch", "catch", "with", "return", "typeof", "await"}
_NAME_BEFORE_PAREN = re.compile(r"(?:function\s*\*?\s*(\w*)|(\w+))\s*$")


@dataclass
class Function:
    name: str
    first: int  # line of the opening brace (1-based)
    last: int  # line of the closing brace
    own: int = 0  # lines, less those of nested functions


def _code_only(text: str) -> str:
    """`text` with strings, template literals and comments blanked (newlines kept)."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i) + 2 or n
        elif c in "'\"`":
            end = i + 1
            while end < n and text[end] != c:
                end += 2 if text[end] == "\\" else 1
            end += 1
        else:
            i += 1
            continue
        for k in range(i, min(end, n)):
            if out[k] != "\n":
                out[k] = " "
        if c == "`":  # a template literal's ${...} holds code: keep its braces balanced
            out[i], out[min(end, n) - 1] = "`", "`"
        i = end
    return "".join(out)


def _function_name(code: str, brace: int, parens: dict[int, int]) -> str | None:
    """The name of the function whose body opens at `brace`, "" if anonymous, None if a block."""
    before = code[:brace].rstrip()
    if before.endswith("=>"):
        return ""
    if not before.endswith(")") or len(before) - 1 not in parens:
        return None
    head = code[: parens[len(before) - 1]]
    match = _NAME_BEFORE_PAREN.search(head)
    if not match:
        return None
    if match.group(2) is not None:
        return None if match.group(2) in KEYWORDS else match.group(2)
    return match.group(1)


def functions(text: str) -> list[Function]:
    """Every function of `text`, with the lines it holds itself."""
    code = _code_only(text)
    parens, opened = {}, []
    for i, c in enumerate(code):
        if c == "(":
            opened.append(i)
        elif c == ")" and opened:
            parens[i] = opened.pop()
    found: list[Function] = []
    stack: list[Function | None] = []
    for i, c in enumerate(code):
        if c == "{":
            name = _function_name(code, i, parens)
            line = code.count("\n", 0, i) + 1
            stack.append(None if name is None else Function(name or "(anonymous)", line, line))
        elif c == "}" and stack:
            fn = stack.pop()
            if fn is not None:
                fn.last = code.count("\n", 0, i) + 1
                found.append(fn)
    for fn in found:
        nested = [g for g in found if g is not fn and fn.first < g.first and g.last <= fn.last]
        outer = [g for g in nested if not any(h is not g and h.first < g.first and g.last <= h.last
                                              for h in nested)]
        fn.own = fn.last - fn.first + 1 - sum(g.last - g.first + 1 for g in outer)
    return found
