"""The playground's details a first-time user tripped on, in Debian's Chromium.

Numbers as the graph's boxes write them (`graph.fmt_number`: e-notation when small), every axis
tick labelled and whole, a layout that fits from 1024 px, neuron colours no class uses and a
class key, weight lines scaled to the current weights, a toast that goes once its cause is gone,
and the offline state when the server stops. Skipped like test_playground_browser.py when
chromium or playwright is missing (failed under MICROGRAD_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import colorsys
import json
import os
import re
import signal
import time

import pytest

from conftest import running_playground
from micrograd.graph import fmt_number
from micrograd.plot import class_colors
from test_playground_browser import new_page, number, wait_until

pytestmark = pytest.mark.needs_chromium

SHOTS_ENV = "MICROGRAD_PLAYGROUND_SHOTS"  # a folder: the screenshots of these tests go there


def open_page(browser, url: str, width: int = 1440, height: int = 1100):
    """A tab on the playground once its first frame is shown."""
    page = new_page(browser, url, width, height)
    page.wait_for_selector("body[data-connected='1']")
    wait_until(lambda: page.text_content("#train-loss") not in ("", "–"), "a first frame")
    return page


def shot(page, name: str) -> None:
    if os.environ.get(SHOTS_ENV):
        page.screenshot(path=os.path.join(os.environ[SHOTS_ENV], name), full_page=True)


def train(page, steps: int) -> None:
    """Train at 300 steps/s for at least `steps` steps, then pause (at full speed the chapter's
    model soon fits so well that its losses round to exactly 0)."""
    page.select_option("#speed", "300")
    wait_until(lambda: page.input_value("#speed") == "300", "300 steps/s")
    page.click("#play")
    wait_until(lambda: number(page, "#step-count") >= steps, f"{steps} steps", timeout=60)
    page.click("#play")
    wait_until(lambda: "running" not in (page.get_attribute("body", "class") or ""), "pause")
    time.sleep(0.3)  # the last frame


def test_numbers_are_written_as_the_graph_writes_them(browser, playground_url):
    page = open_page(browser, playground_url)
    values = [0.0, -0.0, 7.08e-5, -7.08e-5, 0.0012345, 0.001, 0.00099996, -0.36214, 1.5,
              123.456789, 999999.99, 1.2345e7, 1e-300, -2.5e-12, 0.99999, 0.999999999997,
              -1.000000000003, 1.0000004, 12.00004, 2.0 - 1e-9]
    js = page.evaluate(f"() => {json.dumps(values)}.map(v => playground.fmtNum(v))")
    assert js == [fmt_number(v) for v in values]
    assert page.evaluate("() => [0.05, -0.644, 0.004].map(v => playground.fmtNum(v, 3))") == [
        "0.050", "-0.644", "4.00e-03"]

    # the chapter's model after exactly 120 steps: losses far below 1e-3 but not yet exactly 0 (a
    # run of play and pause can overshoot by hundreds of steps on a busy machine)
    page.evaluate("() => playground.send({type: 'step', count: 120})")
    wait_until(lambda: number(page, "#step-count") == 120, "120 steps")

    def loss_box() -> str:  # the loss box's own number, once the paused model's values came
        return page.evaluate("() => playground.graph.nodes.at(-1)?.data.textContent ?? ''")

    tiny = r"\d\.\d\de-\d\d"  # tiny, and not "0.0000"
    wait_until(lambda: re.fullmatch(rf"data {tiny}", loss_box()), "the trained loss in its box")
    shown = re.fullmatch(r"data (\S+)", loss_box()).group(1)
    assert re.fullmatch(tiny, shown)
    assert page.text_content("#graph-info").endswith(f"its loss {shown}")
    train_loss = page.text_content("#train-loss")
    assert re.fullmatch(r"\d\.\d\de-\d\d", train_loss) and 0 < float(train_loss) < 1e-3
    assert page.problems == []
    page.close()


def ticks_for(page, extent) -> dict:
    """The tick labels (text, box) the plane draws for data with this extent."""
    return page.evaluate("(e) => playground.ticksFor(e)", extent)


@pytest.mark.parametrize(("extent", "labels"), [
    ([-2.2, 2.2, -2.2, 2.2], ["\u22122", "\u22121", "0", "1", "2"]),  # the chapter's
    ([-2, 2, -2, 2], ["\u22122", "\u22121", "0", "1", "2"]),  # ticks on the very edges
    ([-1.1, 1.1, -1.1, 1.1], ["\u22121", "\u22120.5", "0", "0.5", "1"]),
])
def test_every_tick_is_labelled_whole(browser, playground_url, extent, labels):
    page = open_page(browser, playground_url)
    plane = page.evaluate("() => playground.plane")
    ticks = ticks_for(page, extent)
    assert [t for t, *_ in ticks["x"]] == labels, ticks  # left to right, minus signs kept
    assert [t for t, *_ in ticks["y"]] == labels, ticks  # bottom to top, the ends too
    for t, left, right, top, bottom in ticks["x"]:  # below the plot, whole in its box
        assert -30 <= left < right <= plane and plane <= top < bottom, (t, left, right, top)
    for t, top, bottom, left, right in ticks["y"]:  # left of the plot, within its height
        assert -30 <= left < right <= 0 and 0 <= top < bottom <= plane, (t, top, bottom, left)
    if extent == [-2, 2, -2, 2]:
        shot(page, "ticks.png")
    assert page.problems == []
    page.close()


@pytest.mark.parametrize("width", [1009, 1024, 1280, 1920])  # 1009: 1024 beside a scroll bar
def test_the_page_fits_from_1024_px(browser, playground_url, width):
    page = open_page(browser, playground_url, width=width)
    scroll, client = page.evaluate("() => [document.documentElement.scrollWidth, "
                                   "document.documentElement.clientWidth]")
    assert scroll <= client == width
    for panel in ("#data-panel", "#network-panel", "#output-panel"):
        box = page.locator(panel).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (panel, box)
    page.click("#graph-toggle")  # the graph's drawer: over the data and network panels only
    box, out = (page.locator(p).bounding_box() for p in ("#graph-panel", "#output-panel"))
    assert box["x"] >= 0 and box["x"] + box["width"] <= out["x"], box
    page.click("#graph-toggle")
    plane = page.locator("#boundary").bounding_box()
    out = page.locator("#output-panel").bounding_box()
    assert abs(plane["width"] - plane["height"]) < 1 and 300 <= plane["width"] <= 400
    assert plane["x"] + plane["width"] <= out["x"] + out["width"]
    net = page.locator("#net canvas.tile").evaluate_all("els => els.map(e => e.offsetLeft)")
    assert len(net) == 2 + 16 + 3 and min(net) >= 0
    shot(page, f"layout-{width}.png")
    # a click on the (smaller) plane still adds the point where it was clicked
    x0, x1, y0, y1 = page.evaluate("() => playground.state.extent")
    before = page.evaluate("() => playground.state.points.map(p => p.slice(0, 2))")
    page.click("#boundary", position={"x": plane["width"] - 6, "y": 6})
    wait_until(lambda: page.text_content("#points-count") == "101", "the added point")
    (x, y), = [p for p in page.evaluate("() => playground.state.points.map(p => p.slice(0, 2))")
               if p not in before]
    assert abs(x - (x0 + (1 - 6 / plane["width"]) * (x1 - x0))) < 0.03
    assert abs(y - (y1 - 6 / plane["width"] * (y1 - y0))) < 0.03
    assert page.problems == []
    page.close()


def hue(rgb) -> tuple[float, float]:
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return h * 360, s


def test_neuron_tiles_and_weights_use_no_class_colour(browser, playground_url):
    page = open_page(browser, playground_url)
    train(page, 60)
    pixels = page.evaluate("""() => playground.layout.tiles.slice(0, -1).flat().map(cv => {
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        const out = [];
        for (let k = 0; k < d.length; k += 4 * 7) out.push([d[k], d[k + 1], d[k + 2]]);
        return out; }).flat()""")
    classes = [hue(tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)))[0] for c in class_colors(3)]
    coloured = 0
    for rgb in pixels:
        h, s = hue(rgb)
        if s < 0.15 or min(rgb) > 200:  # grey or nearly white: no hue to confuse
            continue
        coloured += 1
        gap = min(min(abs(h - c), 360 - abs(h - c)) for c in classes)
        assert gap > 40, (rgb, h)
    assert coloured > 100  # the purple half of the tiles is there
    # the network panel's key names the class colours of the output tiles
    assert page.locator("#net-classes .swatch").count() == 3
    widths = page.evaluate("() => playground.linkWidths")
    assert len(widths) == 2 * 16 + 16 * 3
    assert max(widths) == pytest.approx(page.evaluate("() => playground.LINK_MAX"))
    thick = sum(w > 0.8 * max(widths) for w in widths)
    assert thick <= len(widths) // 4, sorted(widths)  # scaled to this frame's weights
    shot(page, "tiles.png")
    assert page.problems == []
    page.close()


def test_no_points_toast_goes_once_points_exist(browser, playground_url):
    page = open_page(browser, playground_url)
    page.click("#clear")
    wait_until(lambda: page.text_content("#points-count") == "0", "no points")
    page.click("#play")
    wait_until(lambda: page.is_visible("#toast"), "the toast")
    assert "no training points" in page.text_content("#toast")
    shot(page, "toast.png")
    page.evaluate("() => playground.keepToast()")  # not the 6 s timer of other toasts: the
    page.click("#boundary", position={"x": 100, "y": 100})  # point must be what hides it
    wait_until(lambda: not page.is_visible("#toast"), "the toast to go", timeout=60)
    assert page.text_content("#points-count") == "1"
    page.close()


def test_a_stopped_server_shows_offline(browser):
    with running_playground() as (url, pid):
        page = open_page(browser, url)
        page.click("#play")
        wait_until(lambda: "running" in (page.get_attribute("body", "class") or ""), "playing")
        assert page.is_visible("#play .icon-pause")
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: "offline" in (page.get_attribute("body", "class") or ""), "offline")
        assert page.is_visible("#play .icon-play") and not page.is_visible("#play .icon-pause")
        for button in ("#play", "#step", "#reset"):
            assert page.is_disabled(button), button
        assert page.is_visible("#conn-note") and page.text_content("#conn-note") == "offline"
        assert page.is_visible("#offline")
        shot(page, "offline.png")
        page.close()
