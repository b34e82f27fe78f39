"""The exported playground in Chromium: how long until it trains, how fast, how big.

    python benchmarks/export_page.py [--repeats 3] [--seconds 10]

Exports the playground to a temporary folder (the runtime from the cache, else downloaded),
serves it from a thread on 127.0.0.1, and opens it in Debian's Chromium (headless, every request
to another origin aborted) `--repeats` times, each in a fresh browser (nothing cached). Per load:
the time from navigation to the first frame (Pyodide, viz.js and the wheel loaded, the session
built), then steps per second at speed "max" (the chapter's MLP 2-16-3 on its 80 points) and at the
default 30 steps/s over `--seconds`, frames per second, the longest gap between the page's
animation frames while training (the page's thread must stay free), and how long a `pause` takes
to be confirmed. Prints the medians and the export's size. Not a test: numbers depend on the
machine and its load.
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


def rate(page, speed: int, seconds: float) -> tuple[float, float]:
    """(steps/s, frames/s) while playing at `speed` for `seconds`."""
    page.evaluate(f"send({{type: 'configure', speed: {speed}}})")
    page.wait_for_function(f"S.state.config.speed === {speed}")
    page.evaluate("if (window.frames_seen === undefined) { const h = HANDLERS.frame; "
                  "HANDLERS.frame = (f) => { window.frames_seen++; h(f); }; } "
                  "window.frames_seen = 0")
    page.evaluate("send({type: 'play'})")
    time.sleep(1.0)  # past the first slices
    s0, f0, t0 = page.evaluate("S.frame.step"), page.evaluate("window.frames_seen"), \
        time.monotonic()
    time.sleep(seconds)
    s1, f1, t1 = page.evaluate("S.frame.step"), page.evaluate("window.frames_seen"), \
        time.monotonic()
    return (s1 - s0) / (t1 - t0), (f1 - f0) / (t1 - t0)


def one_load(chromium, url: str, seconds: float) -> dict[str, float]:
    browser = chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 1250}, bypass_csp=True)
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url)
                      else r.abort())
        page = context.new_page()
        page.set_default_timeout(120_000)
        t0 = time.monotonic()
        page.goto(url)
        page.wait_for_function("S.frame !== null")
        first = time.monotonic() - t0
        page.evaluate(GAPS)
        fast, fps_fast = rate(page, 0, seconds)
        gap = max(page.evaluate("window.gaps.slice(5)"))
        page.evaluate("send({type: 'pause'})")
        t = time.monotonic()
        page.wait_for_function("!document.body.classList.contains('running')")
        pause = time.monotonic() - t
        slow, fps_slow = rate(page, 30, seconds)
        return {"first frame (s)": first, "steps/s at max": fast, "frames/s at max": fps_fast,
                "longest page frame gap while training (ms)": gap,
                "pause confirmed after (ms)": 1000 * pause, "steps/s at 30": slow,
                "frames/s at 30": fps_slow}
    finally:
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from micrograd.playground.export import export

    with tempfile.TemporaryDirectory() as tmp:
        done = export(Path(tmp) / "site")
        sizes = {}
        for name in done.files:
            top = name.split("/")[0] if "/" in name else "page"
            sizes[top] = sizes.get(top, 0) + (done.folder / name).stat().st_size
        url = serve(done.folder)
        with sync_playwright() as p:
            runs = [one_load(p.chromium, url, args.seconds) for _ in range(args.repeats)]
    print(f"export: {len(done.files)} files, {done.size / 1e6:.1f} MB "
          f"({', '.join(f'{k} {v / 1e6:.2f}' for k, v in sorted(sizes.items()))})")
    print(f"| what | median of {args.repeats} | all |\n|---|---|---|")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"| {key} | {statistics.median(values):.1f} | "
              f"{', '.join(f'{v:.1f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
