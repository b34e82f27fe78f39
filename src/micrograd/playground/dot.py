"""Graphviz's `dot` laying out the playground's graph, for every transport that runs it as a
program (the server, the notebook widget; the exported page has viz.js instead)."""

from __future__ import annotations

import subprocess

from micrograd.graph import INSTALL_HINT
from micrograd.playground.driver import LayoutError
from micrograd.words import said

DOT_TIMEOUT = 30.0  # seconds for `dot` to lay out one graph

DOT_MISSING = said("Graphviz's `dot` program was not found, so the graph cannot be drawn; to "
                   "see it, {how}, then restart the playground", how=said(INSTALL_HINT))


def run_dot(dot: str, text: str) -> str:
    """SVG text from DOT text, by Graphviz's `dot`."""
    try:
        proc = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise LayoutError(str(e)) from None
    if proc.returncode != 0:
        raise LayoutError(proc.stderr.decode(errors="replace").strip()
                          or f"exit {proc.returncode}")
    return proc.stdout.decode()
