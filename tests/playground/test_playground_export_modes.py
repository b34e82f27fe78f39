"""The exported playground's modes: backprop step by step and the TensorFlow-Playground controls,
in the static page, served from a sub-path as a teacher's site would (`/class/`).

test_playground_walk.py and test_playground_parity_page.py check these on the served page, whose
graph is drawn by the `dot` program and whose model runs in the server; here the graph comes from
viz.js and the model runs under Pyodide in a Web Worker. One export and one Chromium serve the
module; every request outside `http://127.0.0.1:PORT/class/` (another origin, or the host's root:
a root-absolute link in the page) is aborted and named. The walk's steps must be the served
page's Python steps (the same `walk_message`), lighting the same boxes; regression must train
(its loss falls), a feature tile must change the model's input size, the hover heat map, show
test data, discretize and L1 must reach the page, and a copied link must restore every setting
on a fresh page. With MICROGRAD_PLAYGROUND_SHOTS=folder, 1280 px screenshots land there.
"""

from __future__ import annotations

import html.parser
import os
import re
import time

import pytest

from conftest import offline_tab
from micrograd.playground import export as export_module
from micrograd.playground.session import Config, Session
from micrograd.playground.walkmsg import walk_message
from test_playground_export import (  # noqa: F401 (runtime_tarballs: a fixture)
    runtime_tarballs,
    static_server,
    wait_until,
)
from test_playground_parity_page import PLANE_PIXELS, differing, value_ends
from test_playground_walk import (
    HIDDEN,
    SHOTS_ENV,
    WALK_ALL,
    assert_future,
    box_grads,
    enter_walk,
    lit,
    walk_grads,
)

SUB_PATH = "class/"  # where the teacher copied the folder on their site


@pytest.fixture(scope="module")
def class_url(runtime_tarballs, tmp_path_factory):  # noqa: F811 (the imported fixture)
    """An export copied into a sub-folder of a static site, served by a plain file server."""
    root = tmp_path_factory.mktemp("site")
    export_module.export(root / SUB_PATH)
    (root / "index.html").write_text("<p>the teacher's own site</p>")
    with static_server(root) as url:
        yield f"{url}{SUB_PATH}"


def open_page(browser, url: str, allowed: str):
    """A 1280 px tab on `url` once the model answered (Pyodide started); requests outside
    `allowed` are aborted and listed in tab.blocked, console problems in tab.problems."""
    tab = offline_tab(browser, allowed)
    blocked = tab.blocked
    tab.goto(url)
    wait_until(lambda: tab.evaluate("() => playground.ready") or blocked,
               "the model's first state")
    assert blocked == []
    return tab


def close(tab) -> None:
    assert tab.blocked == [] and tab.problems == []
    tab.context.close()


def config(tab) -> dict:
    return tab.evaluate("() => playground.state.config")


def shot(tab, name: str, full: bool = True) -> None:
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        tab.screenshot(path=os.path.join(folder, name), full_page=full)


def data_k(tab) -> int:
    return int(tab.get_attribute("#walk-bar", "data-k"))


# ---------------------------------------------------------------- links, without a browser


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_every_link_of_the_exported_page_is_relative_and_exported():
    files = export_module.page_files()
    parser = Links()
    parser.feed(files["index.html"].decode())
    assert len(parser.urls) >= 4  # the stylesheets and scripts
    for url in parser.urls:
        if url.startswith("data:"):
            continue
        assert not url.startswith("/") and ":" not in url, url  # below any path of any host
        assert url in files, url
    for name, body in files.items():  # and what the page's modules import, beside them
        if name.startswith("static/") and name.endswith(".js"):
            for module in re.findall(r'^import .* from "\./([^"]+)";$', body.decode(), re.M):
                assert f"static/{module}" in files, (name, module)
    # a root-absolute link a later page adds is made relative too (a protocol-relative one is
    # another host's: the page's CSP refuses it, it is not rewritten into a local file)
    page = export_module.worker_page("<head><script src='/static/new.js'></script>"
                                     '<link href="/favicon.ico"><img src="//cdn.example/x.png">'
                                     "</head>")
    assert "src='static/new.js'" in page and 'href="favicon.ico"' in page
    assert 'src="//cdn.example/x.png"' in page


# ---------------------------------------------------------------- the walk, drawn by viz.js


@pytest.mark.needs_chromium
def test_the_walk_in_the_exported_page_is_the_served_pages(browser, class_url):
    tab = open_page(browser, f"{class_url}#hidden={HIDDEN[0]}", class_url)
    wait_until(lambda: config(tab)["hidden"] == HIDDEN and tab.evaluate(
        "() => playground.graph.nodes.length") == 55, "the 2-2-3 graph, from the link")
    session = Session(Config(hidden=HIDDEN), "tape")  # the served page's session, made the same
    expected = walk_message(session)["steps"]
    titles = tab.eval_on_selector_all("#graph-view g.node title", "e => e.map(t => t.textContent)")
    assert {f"v{i}" for i in range(55)} <= set(titles)  # viz.js keeps dot's node names
    tab.click("#graph-toggle")  # the graph's drawer, open
    tab.click("#walk-toggle")
    wait_until(lambda: tab.get_attribute("#walk-bar", "data-k") == "0", "the walk")
    steps = tab.evaluate("() => playground.walk.steps")
    assert same_steps(steps, expected)
    forward = [s for s in steps if s["phase"] == "forward"]
    assert_future(tab, forward, 0)
    for k, s in enumerate(forward, 1):
        tab.click("#walk-next")
        assert lit(tab, "walk-cur") == [f"v{s['node']}"]
        assert tab.text_content("#walk-text") == s["text"]
        assert_future(tab, forward, k)
    tab.keyboard.press("ArrowRight")  # the backward pass's start
    assert walk_grads(tab)[len(box_grads(tab)) - 1] == "1.0000"
    reuse = None
    for k in range(len(forward) + 1, len(steps)):  # backprop, edge by edge
        tab.keyboard.press("ArrowRight")
        s = steps[k]
        receiving = "walk-again" if s["contribution"] > 1 else "walk-recv"
        assert lit(tab, "walk-cur") == [f"v{s['node']}"]
        assert lit(tab, receiving) == [f"v{s['parent']}"]
        assert tab.text_content("#walk-text") == s["text"]
        if s["contribution"] == 2 and reuse is None:
            reuse = k
            shot(tab, "export-walk-reuse-1280.png")
    assert reuse is not None
    final = session.graph_values()["grad"]
    assert all(g == final[i] for i, g in walk_grads(tab).items())  # every grad is backward()'s
    tab.click("#walk-first")
    tab.click("#walk-jump")
    for _ in range(reuse + 1 - data_k(tab)):
        tab.click("#walk-next")
    assert lit(tab, "walk-again") == [f"v{steps[reuse]['parent']}"]
    tab.click("#walk-back")  # the first contribution alone again: its colour, its text
    assert lit(tab, "walk-again") == [] and data_k(tab) == reuse
    assert tab.text_content("#walk-text") == steps[reuse - 1]["text"]
    tab.click("#walk-play")
    wait_until(lambda: data_k(tab) >= reuse + 2, "play")
    tab.click("#walk-play")  # pause
    k = data_k(tab)
    time.sleep(0.7)
    assert data_k(tab) == k
    tab.click("#walk-toggle")  # leave: the live numbers again
    assert tab.locator("#graph-view .walk-cur, #graph-view .walk-future").count() == 0
    close(tab)


@pytest.mark.needs_chromium
def test_the_exported_walk_on_the_default_model_keeps_every_lit_edge_in_view(browser, class_url):
    """The 2-16-3 model's 544 steps, laid out by viz.js: each step's text is Python's, and the
    lit boxes and edges stay inside the panel in the focus view, as on the served page."""
    tab = open_page(browser, class_url, class_url)
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.click("#graph-toggle")
    wait_until(lambda: tab.evaluate("() => playground.graph.nodes.length") == 293, "2-16-3")
    steps = enter_walk(tab)
    assert same_steps(steps, walk_message(Session(Config(), "tape"))["steps"])
    tab.click("#walk-focus")
    for k, (s, got) in enumerate(zip(steps, tab.evaluate(WALK_ALL, len(steps))), 1):
        assert got["k"] == str(k) and got["text"] == s["text"]
        assert got["outside"] == [], f"step {k}: {got['outside']} outside the panel"
        assert s["phase"] == "start" or got["edges"] > 0
    shot(tab, "export-walk-focus-1280.png", full=False)
    close(tab)


def same_steps(got: list[dict], want: list[dict]) -> bool:
    """The same steps and texts; grads within 1e-12 (Pyodide's libm rounds a few tanh and exp
    results one ulp away from glibc's, see test_playground_export.py)."""
    def rest(s: dict) -> dict:
        return {k: v for k, v in s.items() if k != "grad"}

    return len(got) == len(want) and all(
        rest(a) == rest(b) and (a["grad"] is None) == (b["grad"] is None)
        and (a["grad"] is None or a["grad"] == pytest.approx(b["grad"], rel=1e-12, abs=1e-300))
        for a, b in zip(got, want))


# ---------------------------------------------------------------- the parity controls, the link


def train_to(tab, steps: int) -> None:
    tab.click("#play")
    wait_until(lambda: tab.evaluate("() => playground.frame.step") >= steps, f"{steps} steps", 120)
    tab.click("#play")
    wait_until(lambda: not tab.evaluate("() => playground.running"), "pause")
    time.sleep(0.3)


@pytest.mark.needs_chromium
def test_regression_features_and_the_link_in_the_exported_page(browser, class_url):
    tab = open_page(browser, f"{class_url}#problem=regression&dataset=gauss&hidden=8,8&speed=0",
                    class_url)
    wait_until(lambda: (config(tab)["dataset"], config(tab)["hidden"]) == ("gauss", [8, 8]),
               "the link's settings")
    tab.click("#net canvas[data-feature='x1_sq']")
    wait_until(lambda: config(tab)["features"] == ["x1", "x2", "x1_sq"], "x1² on")
    # the tile, rebuilt under the mouse, is now an input neuron: the plane shows it, and no
    # longer the preview of an unused x1² (its old tile never got a mouseleave)
    wait_until(lambda: tab.text_content("#plane-note") == "showing input x₁²", "focus")
    assert tab.evaluate("() => playground.preview") is None
    tab.mouse.move(5, 5)
    wait_until(lambda: tab.text_content("#plane-note") == "", "the model on the plane again")
    wait_until(lambda: tab.evaluate("() => playground.frame.sizes[0]") == 3,
               "a frame of the new model")
    assert tab.text_content("#param-count") == str(3 * 8 + 8 + 8 * 8 + 8 + 8 + 1)
    train_to(tab, 150)
    hist = tab.evaluate("() => playground.history.train.filter(v => v !== null)")
    assert hist[-1] < 0.5 * hist[0], (hist[0], hist[-1])
    before = tab.evaluate(PLANE_PIXELS)
    px = before
    purple, grey = value_ends(px)
    assert purple > 500 and grey > 500, (purple, grey)  # both ends of the scale
    tab.hover("#net canvas[data-layer='1'][data-index='3']")  # the heat map of one neuron
    wait_until(lambda: tab.evaluate("() => { const f = playground.frame.focus; "
                                    "return f && [f.layer, f.index]; }") == [1, 3], "the focus")
    time.sleep(0.2)
    assert differing(before, tab.evaluate(PLANE_PIXELS)) > 0.3
    tab.mouse.move(5, 5)
    wait_until(lambda: tab.evaluate("() => playground.frame.focus === null"), "focus cleared")
    for box in ("#show_test", "#discretize"):
        tab.check(box)
        wait_until(lambda box=box: config(tab)[box[1:]] is True, box)
    time.sleep(0.2)
    assert differing(before, tab.evaluate(PLANE_PIXELS)) > 0.02  # hard colours, test markers
    for sel, value in [("#regularization", "l1"), ("#reg_rate", "0.3")]:
        tab.select_option(sel, value)
        wait_until(lambda sel=sel, value=value: str(config(tab)[sel[1:]]) == value, sel)
    step = tab.evaluate("() => playground.frame.step")
    tab.click("#step")
    wait_until(lambda: tab.evaluate("() => playground.frame.step") > step, "a step with L1")
    assert tab.evaluate("() => playground.frame.penalty") > 0
    points = tab.evaluate("() => playground.state.points")
    tab.fill("#add-value", "-0.5")
    tab.dispatch_event("#add-value", "input")
    tab.click("#boundary", position={"x": 12, "y": 200})
    wait_until(lambda: len(tab.evaluate("() => playground.state.points")) == len(points) + 1,
               "a point")
    (added,) = [p for p in tab.evaluate("() => playground.state.points") if p not in points]
    assert added[2] == -0.5
    shot(tab, "export-regression-1280.png")
    want = config(tab)
    wait_until(lambda: "reg_rate=0.3" in tab.evaluate("() => location.hash"), "the hash")
    link = tab.evaluate("() => location.href")
    assert link.startswith(class_url + "#")
    close(tab)
    fresh = open_page(browser, link, class_url)
    wait_until(lambda: config(fresh) == want, "every setting restored")
    assert fresh.evaluate("() => location.href") == link and not fresh.is_visible("#toast")
    assert fresh.input_value("#regularization") == "l1" and fresh.is_checked("#discretize")
    close(fresh)


@pytest.mark.needs_chromium
def test_a_weight_edited_in_the_exported_page_trains_on(browser, class_url):
    # the same Driver under Pyodide: a click on a weight line sets it, a step trains on from it
    from test_playground_one_screen import link_point, weight

    tab = open_page(browser, class_url, class_url)
    tab.mouse.click(*link_point(tab, 1, 2, 5))
    tab.wait_for_selector("#weight-edit")
    tab.fill("#weight-edit", "-0.25")
    tab.press("#weight-edit", "Enter")
    wait_until(lambda: weight(tab, 1, 2, 5) == -0.25, "the model's new weight")
    step = tab.evaluate("() => playground.frame.step")
    tab.click("#step")
    wait_until(lambda: tab.evaluate("() => playground.frame.step") > step, "a step")
    assert weight(tab, 1, 2, 5) != -0.25 and abs(weight(tab, 1, 2, 5) + 0.25) < 0.2
    close(tab)
