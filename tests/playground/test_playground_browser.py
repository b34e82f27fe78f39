"""The playground in a real browser: Debian's Chromium, driven headless by Playwright.

`micrograd playground --port 0 --no-browser` runs as a subprocess (the command a person types);
Playwright drives Debian's chromium, found on PATH (`.ci/run` installs it with apt-get; tests never
install anything, and `playwright install` is never used: it downloads a browser). Without chromium
or the playwright package every test here is skipped with a one-line reason (failed instead under
MICROGRAD_REQUIRE_TOOLS=1: the `needs_chromium` marker, see conftest.py). The page must load with
no console errors, train when play is pressed (step counter up, train loss down, the graph's
numbers changing), add a point where the plane is clicked, pick a point for the graph, and redraw
the boundary and the graph after a change of dataset and of layer count. A screenshot is saved;
with MICROGRAD_PLAYGROUND_SCREENSHOT=path, the mid-training one is also written there (that is
how docs/images/playground.png is made).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from conftest import wait_until
from micrograd.data import RNG, gen_data

PLANE = 400  # CSS pixels of the boundary canvas
SCREENSHOT_ENV = "MICROGRAD_PLAYGROUND_SCREENSHOT"


pytestmark = pytest.mark.needs_chromium  # skipped (or failed) before any server starts


@pytest.fixture
def page(browser, playground_url):
    tab = new_page(browser, playground_url)
    yield tab
    tab.close()


def new_page(browser, url: str, width: int = 1440, height: int = 1250):
    """A tab on `url`; its console errors and warnings and page errors gather in page.problems."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)  # generous: a busy machine slows Chromium down
    page.problems = []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.goto(url)
    return page


def number(page, selector: str) -> float:
    return float(page.text_content(selector).replace(",", ""))


def counter(page, selector: str, attr: str) -> int:
    return int(page.get_attribute(selector, attr) or 0)


def graph_loss_box(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('#graph-view g.node')]"
                         ".map(g => g.textContent).filter(t => t.includes('loss')).join('|')")


def to_pixel(x: float, y: float, extent=(-2.2, 2.2, -2.2, 2.2)) -> tuple[float, float]:
    x0, x1, y0, y1 = extent
    return (x - x0) / (x1 - x0) * PLANE, (y1 - y) / (y1 - y0) * PLANE


@pytest.mark.needs_dot  # the graph panel shows Graphviz's drawing
def test_playground_in_chromium(page, tmp_path):
    page.wait_for_selector("body[data-connected='1']")
    wait_until(lambda: counter(page, "#graph-view", "data-renders") >= 1, "the first graph")
    # the chapter's MLP 2-16-3 on one point: 293 value boxes and 188 op circles
    assert page.locator("#graph-view g.node").count() == 293 + 188
    assert page.text_content("#param-count") == "99"
    assert page.locator("#net canvas.tile").count() == 2 + 16 + 3
    wait_until(lambda: page.text_content("#train-loss") not in ("", "–"), "a first frame")
    loss0, step0 = number(page, "#train-loss"), number(page, "#step-count")
    box0 = graph_loss_box(page)
    assert step0 == 0 and loss0 > 0.5

    # a gentler learning rate (the chapter's 0.1 is done in 30 steps), then play: the step counter
    # rises, the train loss falls, the graph's numbers follow
    page.select_option("#lr", "0.01")
    wait_until(lambda: page.input_value("#lr") == "0.01" and number(page, "#step-count") == 0,
               "the new learning rate")
    page.click("#play")
    wait_until(lambda: number(page, "#step-count") >= 30, "30 training steps")
    assert number(page, "#train-loss") < loss0
    wait_until(lambda: counter(page, "#graph-view", "data-updates") > 10, "graph updates")
    assert graph_loss_box(page) != box0

    # click a point of another class near the middle: the graph is laid out for it
    train, _, _ = gen_data(RNG(42), n=100)
    index = min((i for i, (x, y) in enumerate(train) if y == 2),
                key=lambda i: abs(train[i][0][0]) + abs(train[i][0][1]))
    renders = counter(page, "#graph-view", "data-renders")
    page.click("#boundary", position=dict(zip("xy", to_pixel(*train[index][0]))))
    wait_until(lambda: counter(page, "#graph-view", "data-renders") > renders, "a new graph")
    assert f"point #{index} " in page.text_content("#graph-info")
    assert "class 2" in page.text_content("#graph-info")
    updates = counter(page, "#graph-view", "data-updates")
    wait_until(lambda: counter(page, "#graph-view", "data-updates") > updates + 3, "new values")
    if os.environ.get(SCREENSHOT_ENV):  # the README's picture: mid-training, at 1280×800
        page.set_viewport_size({"width": 1280, "height": 800})
        time.sleep(0.5)  # the views redrawn for the window
        page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=True)
        page.set_viewport_size({"width": 1440, "height": 1250})

    page.click("#play")  # pause
    wait_until(lambda: "running" not in (page.get_attribute("body", "class") or ""), "pause")
    step = number(page, "#step-count")
    time.sleep(0.3)
    assert number(page, "#step-count") == step

    # click an empty spot of the plane (the chapter's points lie in [-2, 2)²): a point is added
    draws = counter(page, "#boundary", "data-draws")
    page.click("#boundary", position={"x": PLANE - 6, "y": 6})
    wait_until(lambda: page.text_content("#points-count") == "101", "the added point")
    wait_until(lambda: counter(page, "#boundary", "data-draws") > draws, "a redrawn boundary")

    # another dataset: new points, a 2-class model, the boundary and the graph redrawn
    draws = counter(page, "#boundary", "data-draws")
    renders = counter(page, "#graph-view", "data-renders")
    page.click("[data-dataset=moons]")
    wait_until(lambda: "active" in (page.get_attribute("[data-dataset=moons]", "class") or ""),
               "moons")
    wait_until(lambda: counter(page, "#graph-view", "data-renders") > renders, "moons' graph")
    wait_until(lambda: counter(page, "#boundary", "data-draws") > draws, "moons' boundary")
    assert page.text_content("#param-count") == str(3 * 16 + 17 * 2)
    assert page.text_content("#step-count") == "0"

    # one more hidden layer: 2-16-16-2, too big a graph to draw whole, so its head is drawn
    renders = counter(page, "#graph-view", "data-renders")
    page.click("#layers-plus")
    wait_until(lambda: page.text_content("#layers-count") == "2", "two hidden layers")
    wait_until(lambda: counter(page, "#graph-view", "data-renders") > renders, "a new graph")
    assert page.text_content("#param-count") == str(3 * 16 + 17 * 16 + 17 * 2)
    assert page.locator("#net canvas.tile").count() == 2 + 16 + 16 + 2
    assert "output layer" in page.text_content("#graph-note")
    page.click("#neurons-minus-2")
    wait_until(lambda: page.text_content("#param-count") == str(48 + 17 * 15 + 16 * 2),
               "15 neurons in layer 2")
    draws = counter(page, "#boundary", "data-draws")
    page.click("#play")
    wait_until(lambda: number(page, "#step-count") >= 10, "training the new network")
    # the boundary redraws while it trains (waited for: a loaded machine draws later, not less)
    wait_until(lambda: counter(page, "#boundary", "data-draws") > draws + 5,
               "the boundary redrawing while it trains")
    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    assert (tmp_path / "playground.png").stat().st_size > 50_000
    assert page.problems == []


def test_graph_panel_without_graphviz_says_how_to_install(browser, tmp_path):
    """Graphviz hidden from PATH: the panel says how to install it; the rest still trains."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` here
    proc = subprocess.Popen([sys.executable, "-m", "micrograd", "playground", "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = re.match(r"micrograd playground: (\S+) ", proc.stdout.readline()).group(1)
        page = browser.new_page()
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(url)
        wait_until(lambda: "apt-get install graphviz" in
                   (page.text_content("#graph-view") or ""), "the install hint")
        page.click("#play")
        wait_until(lambda: number(page, "#step-count") >= 5, "training without Graphviz")
        page.close()
        assert problems == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)



def test_run_buttons_wait_for_the_model(browser, playground_url):
    # An exported page takes seconds to start Python: until the transport opens, play, step and
    # reset are disabled (a click would go nowhere); they enable once the model answers.
    tab = browser.new_page()
    tab.route("**/static/transport.js", lambda r: r.fulfill(
        content_type="text/javascript",
        body="export function openTransport() { return { send() {}, close() {} }; }"))
    tab.goto(playground_url)
    wait_until(lambda: tab.evaluate("() => document.readyState") == "complete", "page loaded")
    assert [tab.is_disabled(f"#{b}") for b in ("play", "step", "reset")] == [True] * 3
    assert not tab.is_visible("#offline")  # still starting, not offline
    tab.close()
    live = new_page(browser, playground_url)
    wait_until(lambda: live.is_enabled("#play") and live.is_enabled("#step"), "buttons enabled")
    assert live.problems == []
    live.close()
