"""The docs: the README stays short and its code runs; the site builds with every link checked.

`mkdocs build --strict` (mkdocs.yml: every link and #anchor validated) must finish without a
warning. The README is not part of the site, so its links are checked here: each relative one
must name a file of the repository. `docs/cli.md` must document every flag the command has.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MAX_README_BYTES = 10 * 1024


def test_mkdocs_build_strict_has_no_warnings(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is a test dependency: pip install -e '.[test]'")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "WARNING" not in output, output[-3000:]
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "micrograd-lab" in index and "images/playground.png" in index
    check_chinese_site(tmp_path / "site")


# the pages the Chinese site must have in Chinese (docs/X.zh.md); the others show in English
CHINESE = ["index", "tutorial", "glossary", "playground", "pictures", "cli", "compatibility",
           "notebooks", "notebooks/01_backprop_by_hand", "notebooks/02_mlp_and_training",
           "notebooks/03_your_own_op"]


def check_chinese_site(site: Path) -> None:
    """Each Chinese page is built in Chinese, with the English page's heading anchors (a link
    to `playground.md#the-first-seconds` from any page must land on the Chinese one too)."""
    ids = re.compile(r'<h[1-6] id="([^"]+)"')
    for name in CHINESE:
        en = (site / ("" if name == "index" else name) / "index.html").read_text(encoding="utf-8")
        zh = (site / "zh" / ("" if name == "index" else name) / "index.html").read_text(
            encoding="utf-8")
        assert '<html lang="zh"' in zh, name
        assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > 100, f"{name}: not in Chinese"
        if not name.startswith("notebooks/"):
            assert set(ids.findall(zh)) == set(ids.findall(en)), name


def test_readme_is_short_and_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) <= MAX_README_BYTES, f"README.md is {len(text.encode())} bytes"
    first_block = text.split("```", 2)[1].splitlines()
    assert first_block[1:] == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/micrograd train",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]
    assert text.startswith("# micrograd-lab\n\n```bash\n")
    assert len(re.findall(r"!\[[^\]]*\]\(", text)) == 1, "one picture"


def test_readme_links_lead_to_files_of_the_repository():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) >= 10
    for link in links:
        if re.match(r"https?://", link):
            continue
        target = (REPO / link.split("#")[0]).resolve()
        assert target.is_relative_to(REPO), f"{link} points outside the repository"
        assert target.is_file(), f"README.md links {link}, which does not exist"


def test_readme_api_tour_runs(tmp_path, monkeypatch):
    (block,) = re.findall(r"^```python\n(.*?)^```$", README.read_text(encoding="utf-8"),
                          flags=re.M | re.S)
    assert len(block.strip().splitlines()) <= 13  # five imports and the ten-line tour
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    a, b, loss = namespace["a"], namespace["b"], namespace["loss"]
    assert a.grad != 0 and b.grad != 0 and loss.data > 0


def test_cli_reference_has_every_flag():
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert f"`micrograd {name}`" in text, name
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in text, f"docs/cli.md lacks micrograd {name} {flag}"
