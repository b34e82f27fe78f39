"""The playground page's TensorFlow-Playground controls, in Debian's Chromium.

Input feature tiles switch features on and off (the model's input size follows); hovering a neuron
shows its output on the big plane; "show test data" and "discretize output" change the plane and
are stored in the config; the regression problem trains (its loss falls) and takes points with a
value; L1/L2 regularization and its rate reach the model; and the link in the address bar restores
every setting on a fresh page, naming a bad field in one toast line. Skipped like
test_playground_browser.py when chromium or playwright is missing (failed under
MICROGRAD_REQUIRE_TOOLS=1). With MICROGRAD_PLAYGROUND_SHOTS=folder the screenshots land there.
"""

from __future__ import annotations

import time

import pytest

from test_playground_browser import new_page, wait_until
from test_playground_first_use_details import shot

pytestmark = pytest.mark.needs_chromium

# every pixel of the plane canvas as [r, g, b] triples, flattened
# (through a copy: reading the page's own canvas again and again makes Chromium warn)
PLANE_PIXELS = """() => { const cv = document.getElementById('boundary');
    const copy = document.createElement('canvas');
    copy.width = cv.width; copy.height = cv.height;
    const ctx = copy.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(cv, 0, 0);
    return Array.from(ctx.getImageData(0, 0, cv.width, cv.height).data
      .filter((_, i) => i % 4 !== 3)); }"""


def open_page(browser, url: str, width: int = 1280, height: int = 1000):
    page = new_page(browser, url, width, height)
    page.wait_for_selector("body[data-connected='1']")
    wait_until(lambda: page.evaluate("() => playground.frame !== null"), "a first frame")
    return page


def config(page) -> dict:
    return page.evaluate("() => playground.state.config")


def frame_step(page) -> int:
    return page.evaluate("() => playground.frame ? playground.frame.step : -1")


def train(page, steps: int) -> None:
    page.select_option("#speed", "300")
    wait_until(lambda: config(page)["speed"] == 300, "300 steps/s")
    page.click("#play")
    wait_until(lambda: frame_step(page) >= steps, f"{steps} steps", timeout=60)
    page.click("#play")
    wait_until(lambda: not page.evaluate("() => playground.running"), "pause")
    time.sleep(0.3)



def value_ends(px: list[int]) -> tuple[int, int]:
    """How many pixels (flat RGB) are near each end of the page's one scale: purple (+1) and the
    plane's mid grey (−1, lightened by REG_TINT)."""
    rgb = [px[i:i + 3] for i in range(0, len(px), 3)]
    purple = sum(r > g + 40 and b > g + 40 for r, g, b in rgb)
    grey = sum(100 < max(c) < 180 and max(c) - min(c) < 12 for c in rgb)
    return purple, grey

def differing(a: list[int], b: list[int]) -> float:
    """The share of pixels whose colour differs by more than 24 in some channel."""
    n = len(a) // 3
    return sum(any(abs(a[3 * i + c] - b[3 * i + c]) > 24 for c in range(3)) for i in range(n)) / n


def test_feature_tiles_switch_the_inputs(browser, playground_url):
    page = open_page(browser, playground_url)
    assert page.locator("#net canvas[data-feature]").count() == 7
    assert page.locator("#net canvas.tile.feature").count() == 2  # x1, x2 in use
    page.click("#net canvas[data-feature='x1_sq']")
    wait_until(lambda: config(page)["features"] == ["x1", "x2", "x1_sq"], "x1² on")
    assert page.evaluate("() => playground.state.sizes[0]") == 3
    wait_until(lambda: page.evaluate("() => playground.frame.sizes[0]") == 3,
               "a frame of the new model")
    assert page.locator("#net canvas.tile.feature").count() == 3
    assert len(page.evaluate("() => playground.linkWidths")) == 3 * 16 + 16 * 3
    page.click("#net canvas[data-feature='sin_x2']")
    wait_until(lambda: len(config(page)["features"]) == 4, "sin x2 on")
    page.click("#net canvas[data-feature='x1']")
    wait_until(lambda: config(page)["features"] == ["x2", "x1_sq", "sin_x2"], "x1 off")
    assert page.text_content("#param-count") == str(3 * 16 + 16 + 16 * 3 + 3)
    for name, n in [("x2", 2), ("x1_sq", 1)]:
        page.click(f"#net canvas[data-feature='{name}']")
        wait_until(lambda n=n: len(config(page)["features"]) == n, f"{name} off")
    wait_until(lambda: config(page)["features"] == ["sin_x2"], "one feature left")
    page.click("#net canvas[data-feature='sin_x2']")  # the last one stays
    wait_until(lambda: page.is_visible("#toast"), "the toast")
    assert "at least one input feature" in page.text_content("#toast")
    assert config(page)["features"] == ["sin_x2"]
    train(page, 20)
    shot(page, "features-1280.png")
    assert page.problems == []
    page.close()


@pytest.mark.parametrize("tile", ["[data-layer='1'][data-index='3']",
                                  "[data-layer='0'][data-index='1']",
                                  "[data-layer='2'][data-index='2']"],
                         ids=["hidden", "input", "output"])
def test_hovering_a_neuron_shows_it_on_the_plane(browser, playground_url, tile):
    page = open_page(browser, playground_url)
    train(page, 40)
    before = page.evaluate(PLANE_PIXELS)
    layer, index = page.locator(f"#net canvas{tile}").evaluate(
        "t => [Number(t.dataset.layer), Number(t.dataset.index)]")
    page.hover(f"#net canvas{tile}")
    wait_until(lambda: page.evaluate("() => { const f = playground.frame.focus; return f && "
                                     "[f.layer, f.index]; }") == [layer, index], "a focus frame")
    time.sleep(0.2)
    during = page.evaluate(PLANE_PIXELS)
    assert differing(before, during) > 0.3  # the plane shows the neuron, not the classes
    assert page.text_content("#plane-note").startswith("showing ")
    shot(page, f"hover-{layer}-1280.png")
    page.mouse.move(5, 5)  # mouseleave: the classes come back
    wait_until(lambda: page.evaluate("() => playground.frame.focus === null"), "focus cleared")
    time.sleep(0.2)
    assert differing(before, page.evaluate(PLANE_PIXELS)) < 0.02
    assert page.text_content("#plane-note") == ""
    assert page.problems == []
    page.close()


def test_show_test_data_and_discretize(browser, playground_url):
    page = open_page(browser, playground_url)
    plain = page.evaluate(PLANE_PIXELS)
    page.check("#show_test")
    wait_until(lambda: config(page)["show_test"] is True, "show_test stored")
    with_test = page.evaluate(PLANE_PIXELS)
    assert 0.002 < differing(plain, with_test) < 0.1  # 20 hollow markers appear
    assert "off" not in (page.get_attribute("#legend span:last-child", "class") or "")
    page.check("#discretize")
    wait_until(lambda: config(page)["discretize"] is True, "discretize stored")
    hard = page.evaluate(PLANE_PIXELS)
    # untrained, the probabilities are mixed; discretized, each cell is one class's tint
    tints = {tuple(round(255 - 0.55 * (255 - int(c[i:i + 2], 16))) for i in (1, 3, 5))
             for c in ("#4c72b0", "#dd8452", "#55a868")}

    def share(px):
        return sum(tuple(px[i:i + 3]) in tints for i in range(0, len(px), 3)) / (len(px) / 3)
    assert share(with_test) < 0.3 < 0.75 < share(hard)
    shot(page, "test-discretize-1280.png")
    page.uncheck("#show_test")
    page.uncheck("#discretize")
    wait_until(lambda: not config(page)["show_test"] and not config(page)["discretize"], "both off")
    assert page.problems == []
    page.close()


def open_regression_page(browser, url: str):
    """A tab switched to the regression problem (the server has answered the switch)."""
    page = open_page(browser, url)
    page.select_option("#problem", "regression")
    wait_until(lambda: config(page)["problem"] == "regression", "regression")
    return page


def test_regression_trains_and_takes_values(browser, playground_url):
    page = open_regression_page(browser, playground_url)
    assert config(page)["dataset"] == "plane"
    assert page.evaluate("() => playground.state.classes") == 0
    assert page.is_visible("#datasets [data-dataset='gauss']")
    assert not page.is_visible("#datasets [data-dataset='chapter']")
    assert page.is_visible("#add-value") and not page.is_visible("#add-class")
    assert page.locator("#legend .value-bar").count() == 1
    page.click("#datasets [data-dataset='gauss']")
    wait_until(lambda: config(page)["dataset"] == "gauss", "gauss")
    wait_until(lambda: page.evaluate("() => playground.values !== null && "
                                     "playground.frame.values !== undefined"),
               "a regression frame")
    train(page, 150)
    hist = page.evaluate("() => playground.history.train.filter(v => v !== null)")
    assert hist[-1] < 0.5 * hist[0], (hist[0], hist[-1])
    assert page.text_content("#train-acc") == "\u2013"
    px = page.evaluate(PLANE_PIXELS)
    purple, grey = value_ends(px)
    assert purple > 500 and grey > 500, (purple, grey)  # both ends of the scale on the plane
    shot(page, "regression-1280.png")
    before = page.evaluate("() => playground.state.points")
    page.fill("#add-value", "-0.5")
    page.dispatch_event("#add-value", "input")
    assert page.text_content("#add-value-out") == "\u22120.5"
    page.click("#boundary", position={"x": 12, "y": 200})
    wait_until(lambda: len(page.evaluate("() => playground.state.points")) == len(before) + 1,
               "a point")
    (added,) = [p for p in page.evaluate("() => playground.state.points") if p not in before]
    assert added[2] == -0.5
    page.select_option("#problem", "classification")
    wait_until(lambda: config(page)["problem"] == "classification", "back to classification")
    assert config(page)["dataset"] == "chapter"
    assert page.evaluate("() => playground.state.classes") == 3
    assert page.problems == []
    page.close()


def test_regularization_reaches_the_model(browser, playground_url):
    page = open_page(browser, playground_url)
    page.select_option("#regularization", "l2")
    page.select_option("#reg_rate", "0.3")
    wait_until(lambda: (config(page)["regularization"], config(page)["reg_rate"]) == ("l2", 0.3),
               "L2 at 0.3")
    page.click("#step")
    wait_until(lambda: frame_step(page) >= 1, "a step")
    assert page.evaluate("() => playground.frame.penalty") > 0
    page.select_option("#regularization", "none")
    wait_until(lambda: config(page)["regularization"] == "none", "none")
    page.click("#step")
    wait_until(lambda: frame_step(page) >= 2, "a second step")
    assert page.evaluate("() => playground.frame.penalty") == 0
    assert page.problems == []
    page.close()


def test_the_link_restores_every_setting(browser, playground_url):
    page = open_regression_page(browser, playground_url)
    page.click("#datasets [data-dataset='gauss']")
    wait_until(lambda: config(page)["dataset"] == "gauss", "gauss")
    # each click builds on the settings in force: wait for the server's answer before the next
    for name, n in [("x1_x2", 3), ("sin_x1", 4)]:
        page.click(f"#net canvas[data-feature='{name}']")
        wait_until(lambda n=n: len(config(page)["features"]) == n, f"feature {name}")
    page.click("#layers-plus")
    wait_until(lambda: config(page)["hidden"] == [16, 16], "two layers")
    page.click("#neurons-minus-1")
    wait_until(lambda: config(page)["hidden"] == [15, 16], "15 in the first")
    page.click("#regenerate")  # the data seed: 43
    wait_until(lambda: config(page)["seed"] == 43, "seed 43")
    # one control at a time, each waited for until the server has it (a state answering an
    # earlier change must not undo a newer one: test_playground_schema_page.py holds that)
    for sel, value in [("#activation", "relu"), ("#lr", "0.03"), ("#weight_decay", "0.001"),
                       ("#batch_size", "10"), ("#speed", "5"), ("#regularization", "l1"),
                       ("#reg_rate", "0.003")]:
        page.select_option(sel, value)
        wait_until(lambda sel=sel, value=value: str(config(page)[sel[1:]]) == value, sel)
    for box in ("#show_test", "#discretize"):
        page.check(box)
        wait_until(lambda box=box: config(page)[box[1:]] is True, box)
    for slider, value in [("#n", "200"), ("#noise", "0.3"), ("#train_frac", "0.6")]:
        page.fill(slider, value)
        page.dispatch_event(slider, "change")
        wait_until(lambda slider=slider, value=value: str(config(page)[slider[1:]]) == value,
                   slider)
    want = {"problem": "regression", "dataset": "gauss",
            "features": ["x1", "x2", "x1_x2", "sin_x1"], "hidden": [15, 16], "activation": "relu",
            "lr": 0.03, "weight_decay": 0.001,
            "batch_size": 10, "speed": 5, "regularization": "l1", "reg_rate": 0.003,
            "show_test": True, "discretize": True, "n": 200, "noise": 0.3, "train_frac": 0.6,
            "seed": 43}
    def still_off() -> dict:
        c = config(page)
        return {k: c.get(k) for k, v in want.items() if c.get(k) != v}

    try:
        wait_until(lambda: not still_off(), "every setting")
    except AssertionError:
        raise AssertionError(f"settings the page lost: {still_off()}") from None
    assert set(config(page)) == set(want)  # the test covers every field the server has
    wait_until(lambda: "train_frac=0.6" in page.evaluate("() => location.hash"), "the hash")
    link = page.evaluate("() => location.href")
    page.close()
    fresh = open_page(browser, link, width=1024)
    wait_until(lambda: config(fresh) == want, "the settings restored")
    assert fresh.evaluate("() => location.href") == link
    assert fresh.input_value("#activation") == "relu" and fresh.is_checked("#discretize")
    assert not fresh.is_visible("#toast")
    shot(fresh, "restored-1024.png")
    fresh.click("#copy-link")
    wait_until(lambda: fresh.text_content("#copy-link") == "link copied", "copied")
    assert fresh.problems == []
    fresh.close()


def test_a_bad_link_field_is_named_and_left_at_its_default(browser, playground_url):
    page = open_page(browser, f"{playground_url}#lr=abc&n=50&colour=red&features=x1,x9&hidden=3")
    wait_until(lambda: config(page)["n"] == 50, "the good fields applied")
    c = config(page)
    assert (c["lr"], c["features"], c["hidden"]) == (0.1, ["x1", "x2"], [3])
    text = page.text_content("#toast")
    assert "\n" not in text and text.startswith("link: ")
    assert "lr=abc" in text and '"colour"' in text and "features=x1,x9" in text
    assert "features=x1,x9 is not a list of distinct names from x1, x2," in text  # reads as English
    # the address bar now holds the settings in force
    wait_until(lambda: "lr=0.1&" in page.evaluate("() => location.hash"), "the hash rewritten")
    page.close()


def test_a_dataset_of_the_other_problem_falls_back(browser, playground_url):
    page = open_page(browser, f"{playground_url}#problem=regression&dataset=moons")
    wait_until(lambda: config(page)["problem"] == "regression", "regression")
    assert config(page)["dataset"] == "plane"
    assert "dataset=moons is for classification" in page.text_content("#toast")
    page.close()


@pytest.mark.parametrize("width", [1024, 1280])
def test_each_mode_fits_and_is_shot(browser, playground_url, width):
    link = (f"{playground_url}#problem=regression&dataset=gauss&features=x1,x2,x1_sq,x2_sq,x1_x2,"
            "sin_x1,sin_x2&hidden=8,8&show_test=1")
    page = open_page(browser, link, width=width)
    wait_until(lambda: config(page)["hidden"] == [8, 8], "the link's model")
    train(page, 60)
    page.hover("#net canvas[data-layer='2'][data-index='1']")
    wait_until(lambda: page.evaluate("() => Boolean(playground.frame.focus)"), "a focus frame")
    scroll, client = page.evaluate("() => [document.documentElement.scrollWidth, "
                                   "document.documentElement.clientWidth]")
    assert scroll <= client == width
    labels = page.locator("#net .tile-label.in").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().left)")
    net = page.locator("#network-panel").bounding_box()
    assert len(labels) == 7 and min(labels) >= net["x"]  # the features' names stay inside
    shot(page, f"regression-hover-{width}.png")
    assert page.problems == []
    page.close()
