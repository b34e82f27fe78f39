"""Screenshots of backprop step by step on the default 2-16-3 model, for the docs and for a look.

`python scripts/walk_screenshots.py FOLDER` (Graphviz's `dot`, Chromium and playwright installed)
writes, at 1280×800 and 1024×768, the standalone walk.html (`micrograd graph --walk`) and the
playground's graph panel during the walk, each in focus and in overview, at a step where a value
used three times receives its second contribution; the playground in English and in Chinese (a
zh-CN browser: `playground-zh-...`). docs/images/walk.png, docs/images/playground-walk.png and
docs/images/playground-walk-zh.png are its `walk-focus-1280.png`, `playground-focus-1280.png`
and `playground-zh-focus-1280.png`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

SIZES = [(1280, 800), (1024, 768)]
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]


def reuse_step(steps: list[dict]) -> int:
    """How many steps to take to stand on an h1 value's second contribution."""
    return next(k for k, s in enumerate(steps, 1) if s["contribution"] == 2
                and s["text"].startswith("h1["))


def standalone(browser, folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "micrograd", "graph", "--steps", "100", "--walk",
                        "--out", tmp], check=True, capture_output=True)
        page_file = Path(tmp) / "walk.html"
        for w, h in SIZES:
            page = browser.new_page(viewport={"width": w, "height": h})
            page.goto(page_file.as_uri())
            steps = page.evaluate("() => JSON.parse(document.getElementById('steps').textContent)")
            for _ in range(reuse_step(steps)):
                page.keyboard.press("ArrowRight")
            page.screenshot(path=str(folder / f"walk-focus-{w}.png"))
            page.click("#overview")
            page.screenshot(path=str(folder / f"walk-overview-{w}.png"))
            page.close()


def playground(browser, folder: Path, locale: str = "en-US") -> None:
    proc = subprocess.Popen([sys.executable, "-m", "micrograd", "playground", "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, text=True)
    try:
        url = re.match(r"micrograd playground: (http://\S+/) ", proc.stdout.readline()).group(1)
        name = "playground" if locale.startswith("en") else f"playground-{locale[:2]}"
        for w, h in SIZES:
            page = browser.new_page(viewport={"width": w, "height": h}, locale=locale)
            page.goto(url)
            page.wait_for_selector("body[data-connected='1']")
            page.click("#graph-toggle")  # the graph's drawer, open
            page.wait_for_function("() => playground.graph.nodes.length === 293", timeout=60_000)
            page.click("#walk-toggle")
            page.wait_for_function("() => document.getElementById('walk-bar').dataset.k === '0'",
                                   timeout=60_000)
            for _ in range(reuse_step(page.evaluate("() => playground.walk.steps"))):
                page.keyboard.press("ArrowRight")
            for mode in ("focus", "overview"):
                page.click(f"#walk-{mode}")
                page.locator("#graph-panel").scroll_into_view_if_needed()
                page.screenshot(path=str(folder / f"{name}-{mode}-{w}.png"))
            page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "walk-shots")
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium")
                                    or shutil.which("chromium-browser"), args=ARGS)
        try:
            standalone(browser, folder)
            playground(browser, folder)
            playground(browser, folder, "zh-CN")
        finally:
            browser.close()
    print(f"wrote {len(list(folder.glob('*.png')))} screenshots to {folder}")


if __name__ == "__main__":
    main()
