"""The exported playground in Chromium: how soon it shows and trains, how fast, how big.

    python benchmarks/export_page.py [--repeats 3] [--seconds 10] [--without-node]

Exports the playground to a temporary folder (the runtime from the cache, else downloaded; with
Python's start-up memory when Node.js is found, see memory.py, unless --without-node), serves
it from a sub-folder by a thread on 127.0.0.1, and opens it in Debian's Chromium (headless,
every request to another origin aborted) `--repeats` times, each in a fresh browser. Per load,
from navigation: the first real frame (the export's snapshot of the initial state, drawn before
Python runs), ready to train on a first visit (nothing cached: Pyodide, viz.js, the wheel and the
memory loaded, the session built, its own state drawn; and a step asked for at that moment,
drawn) and on a second visit in the same browser (the service worker's cache, the memory this
browser kept); then, on the second visit, steps per second at speed "max" (the chapter's MLP
2-16-3 on its 80 points) and at the default 30 steps/s over `--seconds`, the longest gap between
the page's animation frames while training (the page's thread must stay free), and how long a
`pause` takes to be confirmed. Prints the
medians, the export's size and how each visit started Python. Not a test: numbers depend on the
machine and its load (targets on a quiet 2-core machine: first frame <= 1 s, ready <= 3 s first
visit and <= 1.5 s second visit, >= 300 steps/s at max).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GAPS = """() => { window.gaps = []; let last = performance.now();
  const tick = (t) => { window.gaps.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def serve(folder: Path) -> str:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def rate(page, speed: int, seconds: float) -> float:
    """Steps per second while playing at `speed` for `seconds`."""
    page.evaluate(f"playground.send({{type: 'configure', speed: {speed}}})")
    page.wait_for_function(f"playground.state.config.speed === {speed}")
    page.evaluate("playground.send({type: 'play'})")
    time.sleep(1.0)  # past the first slices
    s0, t0 = page.evaluate("playground.frame.step"), time.monotonic()
    time.sleep(seconds)
    s1, t1 = page.evaluate("playground.frame.step"), time.monotonic()
    return (s1 - s0) / (t1 - t0)


def visit(context, url: str) -> tuple[object, float, float, float]:
    """(tab, first real frame, ready to train, first step drawn): seconds from navigation; the
    step is asked for the moment the page is ready, so an answer held back shows here."""
    page = context.new_page()
    page.set_default_timeout(120_000)
    t0 = time.monotonic()
    page.goto(url)
    page.wait_for_function("window.playground && playground.frame !== null", polling=10)
    first = time.monotonic() - t0
    page.wait_for_function("playground.ready", polling=10)
    ready = time.monotonic() - t0
    page.evaluate("playground.send({type: 'step', count: 1})")
    page.wait_for_function("playground.frame.step >= 1", polling=10)
    stepped = time.monotonic() - t0
    print(f"  Python started: {page.evaluate('document.body.dataset.python')}", file=sys.stderr)
    return page, first, ready, stepped


def one_load(chromium, url: str, seconds: float) -> dict[str, float]:
    browser = chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 1250}, bypass_csp=True)
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url)
                      else r.abort())
        page, first, ready, stepped = visit(context, url)
        page.wait_for_function("navigator.serviceWorker.controller !== null")  # runtime kept
        page.close()
        page, first_again, ready_again, stepped_again = visit(context, url)
        page.evaluate(GAPS)
        fast = rate(page, 0, seconds)
        gap = max(page.evaluate("window.gaps.slice(5)"))
        page.evaluate("playground.send({type: 'pause'})")
        t = time.monotonic()
        page.wait_for_function("!document.body.classList.contains('running')")
        pause = time.monotonic() - t
        slow = rate(page, 30, seconds)
        return {"first real frame (s)": first, "ready to train, first visit (s)": ready,
                "first step drawn, first visit (s)": stepped,
                "first real frame, second visit (s)": first_again,
                "ready to train, second visit (s)": ready_again,
                "first step drawn, second visit (s)": stepped_again, "steps/s at max": fast,
                "longest page frame gap while training (ms)": gap,
                "pause confirmed after (ms)": 1000 * pause, "steps/s at 30": slow}
    finally:
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--without-node", action="store_true",
                        help="export as a machine without Node.js does: no start-up memory, "
                             "the page makes its own on the first visit")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from micrograd.playground import memory
    from micrograd.playground.export import export

    if args.without_node:
        memory.node_program = lambda: None
    with tempfile.TemporaryDirectory() as tmp:
        done = export(Path(tmp) / "site" / "class")  # served below the host's root
        sizes = {}
        for name in done.files:
            top = name.split("/")[0] if "/" in name else "page"
            sizes[top] = sizes.get(top, 0) + (done.folder / name).stat().st_size
        url = serve(done.folder.parent) + "class/"
        with sync_playwright() as p:
            runs = [one_load(p.chromium, url, args.seconds) for _ in range(args.repeats)]
    print(f"export: {done.note}")
    print(f"export: {len(done.files)} files, {done.size / 1e6:.1f} MB "
          f"({', '.join(f'{k} {v / 1e6:.2f}' for k, v in sorted(sizes.items()))})")
    print(f"| what | median of {args.repeats} | all |\n|---|---|---|")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"| {key} | {statistics.median(values):.2f} | "
              f"{', '.join(f'{v:.2f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
