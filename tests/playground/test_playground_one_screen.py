"""The learner's first minute: the whole playground on one screen, one visual language.

At 1280×800 the controls, the data, the network and the output fit without scrolling and the
computation graph opens in a drawer beside the plane; at 1024 with four hidden layers the column
heads stay apart; every number (neuron outputs, weights, regression values) is drawn on one
diverging scale and the classes keep one palette; a weight shows its value on hover and a click
edits it in the model (training goes on from it); a neuron shows its bias on hover; the plane's
tick labels sit outside the plot. The browser tests are skipped like test_playground_browser.py
when chromium or playwright is missing (failed under MICROGRAD_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import json

import pytest

from micrograd.playground.driver import Driver
from micrograd.playground.session import Session
from micrograd.plot import class_colors
from test_playground_browser import number, wait_until
from test_playground_first_use_details import open_page, shot, train

chromium = pytest.mark.needs_chromium


def boxes(page, selector: str) -> list[dict]:
    return [page.locator(selector).nth(k).bounding_box()
            for k in range(page.locator(selector).count())]


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def scroll_size(page) -> tuple[int, int]:
    return tuple(page.evaluate("() => [document.documentElement.scrollHeight, "
                               "document.documentElement.scrollWidth]"))


@chromium
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1024, 768)])
def test_the_whole_playground_fits_one_screen(browser, playground_url, width, height):
    page = open_page(browser, playground_url, width, height)
    assert scroll_size(page) <= (height, width)
    # the held-out points: "test" in the metrics, the curve's key and the plane's legend
    assert page.locator(".metrics label").all_text_contents() == [
        "Train loss", "Test loss", "Train acc", "Test acc"]
    assert "test (20, hidden)" in page.text_content("#legend")
    panels = boxes(page, "main > section.panel:not(#graph-panel)")
    assert len(panels) == 3
    for k, box in enumerate(panels):  # whole in the window, side by side, apart
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        assert all(not overlap(box, other) for other in panels[k + 1:])
    for sel in ("#play", "#lr", "#n", "#net", "#boundary", "#legend", "#discretize"):
        box = page.locator(sel).bounding_box()
        assert box["y"] + box["height"] <= height, (sel, box)
    # the graph: a button away, in a drawer beside the plane, the page still one screen
    assert not page.is_visible("#graph-panel")
    page.click("#graph-toggle")
    wait_until(lambda: page.is_visible("#graph-view svg"), "the graph in its drawer")
    drawer, plane = (page.locator(s).bounding_box() for s in ("#graph-panel", "#boundary"))
    assert not overlap(drawer, plane) and drawer["y"] + drawer["height"] <= height
    assert scroll_size(page) <= (height, width)
    shot(page, f"drawer-{width}.png")
    page.reload()  # the drawer's state is kept
    page.wait_for_selector("body[data-connected='1']")
    assert page.is_visible("#graph-panel")
    assert page.get_attribute("#graph-toggle", "aria-expanded") == "true"
    page.click("#graph-close")
    assert not page.is_visible("#graph-panel")
    assert page.problems == []
    page.close()


@chromium
def test_column_heads_stay_apart_at_1024_with_four_hidden_layers(browser, playground_url):
    page = open_page(browser, playground_url, 1024, 768)
    page.evaluate("() => playground.send({type: 'configure', hidden: [16, 16, 16, 16]})")
    wait_until(lambda: page.locator("#net .col-head").count() == 6, "six columns")
    heads = boxes(page, "#net .col-head")
    for k, a in enumerate(heads):
        for b in heads[k + 1:]:
            assert not overlap(a, b), (a, b)
    texts = page.locator("#net .col-head").all_text_contents()
    assert sum("16" in t and "neurons" in t for t in texts) == 4
    tops = page.evaluate("() => playground.layout.columns.slice(1).map(c => c[0])")
    lowest = max(h["y"] + h["height"] for h in heads) - page.locator("#net").bounding_box()["y"]
    s = page.evaluate("() => playground.layout.s")
    assert min(tops) - s / 2 >= lowest  # the tiles start below the heads
    shot(page, "heads-1024.png")
    assert page.problems == []
    page.close()


# each weight of the frame in the order the lines are drawn, and a 1×1 tile painted with it
TILE_AND_LINE = """async () => {
  const { paintTile } = await import("/static/tiles.js");
  const f = playground.frame, sizes = playground.layout.sizes, out = [];
  const cv = document.createElement("canvas");
  cv.width = cv.height = 1;
  cv.getContext("2d", { willReadFrequently: true }); // paintTile draws on this context
  let k = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    for (let j = 0; j < sizes[l + 1]; j++) {
      for (let i = 0; i < sizes[l]; i++) {
        const w = f.weights[l][j * (sizes[l] + 1) + i];
        paintTile(cv, 1, () => w);
        const d = cv.getContext("2d").getImageData(0, 0, 1, 1).data;
        out.push([w, [d[0], d[1], d[2]], playground.linkColours[k++]]);
      }
    }
  }
  return out;
}"""


def rgb_of(css: str) -> list[int]:
    return [int(c) for c in css[css.index("(") + 1:-1].split(",")]


@chromium
def test_one_scale_for_numbers_and_one_palette_for_classes(browser, playground_url):
    page = open_page(browser, playground_url, 1280, 800)
    train(page, 40)
    rows = page.evaluate(TILE_AND_LINE)
    assert len(rows) == 2 * 16 + 16 * 3
    for w, tile, line in rows:  # a weight's line has the colour of a tile showing its value
        assert max(abs(a - b) for a, b in zip(tile, rgb_of(line))) <= 1, (w, tile, line)
    signs = {w > 0 for w, *_ in rows if abs(w) > 0.3}
    assert signs == {True, False}  # both ends of the scale are there
    # the classes: the same three colours in the legend, the network's key and on the plane
    expected = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in class_colors(3)]
    for sel in ("#legend i", "#net-classes .swatch"):
        got = page.eval_on_selector_all(sel, "els => els.map(e => getComputedStyle(e)"
                                             ".backgroundColor)")[:3]
        assert [tuple(rgb_of(c)) for c in got] == expected, sel
    on_plane = page.evaluate("""() => {
        const st = playground.state, cv = document.getElementById('boundary');
        const [x0, x1, y0, y1] = st.extent, S = playground.plane, dpr = devicePixelRatio;
        const img = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height), out = {};
        st.points.forEach((p, i) => {
          if (p[3] === 1 || i === st.picked || out[p[2]]) return;
          const px = (p[0] - x0) / (x1 - x0) * S, py = (y1 - p[1]) / (y1 - y0) * S;
          const near = st.points.some((q, k) => k !== i && Math.hypot(
            (q[0] - p[0]) / (x1 - x0) * S, (q[1] - p[1]) / (y1 - y0) * S) < 12);
          if (near) return;
          const k = 4 * (Math.round(py * dpr) * cv.width + Math.round(px * dpr));
          out[p[2]] = [img.data[k], img.data[k + 1], img.data[k + 2]];
        });
        return out; }""")
    assert {int(k): tuple(v) for k, v in on_plane.items()} == dict(enumerate(expected))
    shot(page, "one-scale.png")
    assert page.problems == []
    page.close()


def link_point(page, layer: int, j: int, i: int, t: float = 0.35) -> tuple[float, float]:
    """The page coordinates of the weight line from neuron i of column `layer` to neuron j of
    the next column, at t along it (as network.js draws it)."""
    L = page.evaluate("() => { const L = playground.layout; return {xs: L.xs, s: L.s, "
                      "columns: L.columns}; }")
    xa, xb = L["xs"][layer] + L["s"] / 2, L["xs"][layer + 1] - L["s"] / 2
    xm, ya, yb = (xa + xb) / 2, L["columns"][layer][i], L["columns"][layer + 1][j]
    u = 1 - t
    x = u ** 3 * xa + 3 * u * t * xm + t ** 3 * xb
    y = u ** 3 * ya + 3 * u * t * (u * ya + t * yb) + t ** 3 * yb
    box = page.locator("#net").bounding_box()
    return box["x"] + x, box["y"] + y


def weight(page, layer: int, j: int, i: int) -> float:
    return page.evaluate(f"() => {{ const f = playground.frame, n = f.sizes[{layer}]; "
                         f"return f.weights[{layer}][{j} * (n + 1) + {i}]; }}")


def fmt3(page, v: float) -> str:
    """`v` as the tips write it (3 decimals, as the page's numbers: format.js fmtNum)."""
    return page.evaluate(f"() => playground.fmtNum({v!r}, 3)")


@chromium
def test_a_weight_shows_its_value_and_a_click_changes_it(browser, playground_url):
    page = open_page(browser, playground_url, 1280, 800)
    layer, j, i = 1, 0, 0  # the top hidden neuron's weight into class 0's output
    page.mouse.move(*link_point(page, layer, j, i))
    wait_until(lambda: page.is_visible("#weight-tip"), "the weight's value")
    w = weight(page, layer, j, i)
    assert page.text_content("#weight-tip").startswith(f"weight {fmt3(page, w)}")
    shot(page, "weight-hover.png")
    page.mouse.click(*link_point(page, layer, j, i))
    page.wait_for_selector("#weight-edit")
    assert float(page.input_value("#weight-edit")) == w
    page.fill("#weight-edit", "0.5")
    page.press("#weight-edit", "Enter")
    wait_until(lambda: weight(page, layer, j, i) == 0.5, "the model's new weight")
    colours = page.evaluate("() => playground.linkColours")
    assert colours[16 * 2 + j * 16 + i] == "rgb(187,149,193)"  # redrawn: 0.5 on the scale
    page.evaluate("() => playground.send({type: 'step', count: 1})")
    wait_until(lambda: number(page, "#step-count") == 1, "a step")
    moved = weight(page, layer, j, i)
    assert moved != 0.5 and abs(moved - 0.5) < 0.2  # trained on from 0.5 (one Adam step)
    # a value the model refuses: its checker's words in the toast, the weight unchanged
    page.mouse.click(*link_point(page, layer, j, i))
    page.fill("#weight-edit", "1e6")
    page.press("#weight-edit", "Enter")
    wait_until(lambda: page.is_visible("#toast"), "the refusal")
    assert "value must be in [-100, 100]" in page.text_content("#toast")
    assert weight(page, layer, j, i) == moved
    page.close()


@chromium
def test_a_neuron_shows_its_bias_on_hover(browser, playground_url):
    page = open_page(browser, playground_url, 1280, 800)
    train(page, 30)
    tile = page.locator("#net canvas.tile[data-layer='1'][data-index='3']")
    tile.hover()
    wait_until(lambda: page.is_visible("#weight-tip"), "the bias")
    bias = weight(page, 0, 3, page.evaluate("() => playground.frame.sizes[0]"))
    assert bias != 0
    assert page.text_content("#weight-tip") == f"bias {fmt3(page, bias)}"
    page.locator("#net canvas.tile.out").first.hover()
    bias = weight(page, 1, 0, 16)
    wait_until(lambda: page.text_content("#weight-tip") == f"bias {fmt3(page, bias)}",
               "the output's bias")
    assert page.problems == []
    page.close()


@chromium
@pytest.mark.parametrize("extent", [[-2.2, 2.2, -2.2, 2.2], [-2, 2, -2, 2], [-1.1, 1.1, -1.1, 1.1]])
def test_tick_labels_sit_outside_the_plot(browser, playground_url, extent):
    page = open_page(browser, playground_url, 1280, 800)
    S = page.evaluate("() => playground.plane")
    ticks = page.evaluate("(e) => playground.ticksFor(e)", extent)
    labels = [(left, top, right, bottom) for _, left, right, top, bottom in ticks["x"]]
    labels += [(left, top, right, bottom) for _, top, bottom, left, right in ticks["y"]]
    for left, top, right, bottom in labels:  # none inside the plot square [0, S]²
        assert right <= 0 or top >= S, (left, top, right, bottom)
    for k, (l1, t1, r1, b1) in enumerate(labels):  # no two on each other (the corner's −2s)
        for l2, t2, r2, b2 in labels[k + 1:]:
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, ((l1, t1), (l2, t2))
    # the page's own plane draws its labels as ticksFor does
    assert page.evaluate("() => playground.ticks") == page.evaluate(
        "() => playground.ticksFor(playground.state.extent)")
    page.close()


def test_set_weight_is_checked_and_training_goes_on_from_it():
    driver = Driver(Session())
    driver.hello()

    def send(**msg):
        return [json.loads(t) for t in driver.receive(json.dumps(msg))]

    frame, = send(type="set_weight", layer=0, neuron=2, input=1, value=0.75)
    assert frame["type"] == "frame" and frame["weights"][0][2 * 3 + 1] == 0.75
    assert driver.session.model.layers[0].neurons[2].w[1].data == 0.75
    for bad, words in [("x", "value must be a number"), (1e9, "value must be in [-100, 100]"),
                       (float("nan"), "not a finite number")]:
        text = json.dumps({"type": "set_weight", "layer": 0, "neuron": 2, "input": 1,
                           "value": bad}, allow_nan=True)
        err, = [json.loads(t) for t in driver.receive(text)]
        assert err["type"] == "error" and words in err["message"], err
    err, = send(type="set_weight", layer=0, neuron=2, input=5, value=1)
    assert "has 2 inputs" in err["message"]
    err, = send(type="set_weight", layer=3, neuron=0, input=0, value=1)
    assert "layer 3 does not exist" in err["message"]
    assert driver.session.model.layers[0].neurons[2].w[1].data == 0.75
    send(type="step", count=3)
    driver.train_slice(0.0)
    assert driver.session.step == 3
    assert driver.session.model.layers[0].neurons[2].w[1].data != 0.75
    # the same seed and the same edit: the same run
    again = Driver(Session())
    again.hello()
    again.receive(json.dumps({"type": "set_weight", "layer": 0, "neuron": 2, "input": 1,
                              "value": 0.75}))
    again.receive(json.dumps({"type": "step", "count": 3}))
    again.train_slice(0.0)
    assert [p.data for p in again.session.params] == [p.data for p in driver.session.params]
