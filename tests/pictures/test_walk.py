"""Backprop step by step (micrograd.walk): the steps, the page, and `micrograd graph --walk`.

The steps are checked against `backward()` (the same grads, bit for bit, in the same order) and
against what a learner must see: a node used twice receives two contributions. The page is
driven in Chromium: each click moves one step, lights the current node, and fills in grads.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from conftest import require_chromium
from micrograd.data import RNG
from micrograd.engine import Value
from micrograd.graph import fmt_number, trace_mlp
from micrograd.losses import cross_entropy
from micrograd.nn import chapter_mlp
from micrograd.walk import BackpropWalk, backprop_steps, step_count, walk_html


def _neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, (x1, x2, w1, w2, b)


def test_the_walk_ends_with_backwards_grads_bit_for_bit():
    model = chapter_mlp([2, 4, 3], rng=RNG(3))
    loss = cross_entropy(model([0.3, -1.2]), 2)
    steps = backprop_steps(loss)
    assert len(steps) == step_count(loss)
    order = loss.topo()
    final = {}
    for s in steps:
        if s.phase == "backward":
            final[s.parent] = s.grad
    loss.backward()
    for i, v in enumerate(order):
        if i in final:
            assert final[i] == v.grad  # the same additions in the same order: the same bits
    phases = [s.phase for s in steps]
    assert phases == sorted(phases, key=["forward", "start", "backward"].index)  # in that order


def test_a_reused_node_visibly_gets_a_second_contribution():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    steps = backprop_steps(b)
    into_a = [s for s in steps if s.phase == "backward" and s.parent == 0]
    assert [s.contribution for s in into_a] == [1, 2]
    assert [s.grad for s in into_a] == [1.0, 2.0]
    assert into_a[1].text == "a.grad += db/da × b.grad, contribution 2 of 2 (a is used 2 " \
                             "times): 1.0000 × 1.0000 = 1.0000; a.grad is now 2.0000"
    assert steps[0].text == "b = a + a = 3.0000 + 3.0000 = 6.0000"


def _default_trace():
    """The playground's default model, 2-16-3 (293 values, 544 steps), on one point."""
    return trace_mlp(chapter_mlp([2, 16, 3], rng=RNG(1)), [0.3, -0.5], 1)


def test_a_reused_value_shows_the_product_and_the_running_total_apart():
    trace = _default_trace()
    steps = backprop_steps(trace.loss, trace.names)
    order = trace.loss.topo()
    names = [trace.names[v] for v in order]
    again = [s for s in steps if s.phase == "backward" and s.contribution == 2
             and names[s.parent].startswith("h1[")]
    assert again
    for s in again:
        node, parent = order[s.node], order[s.parent]
        local = node._local[[id(p) for p in node._prev].index(id(parent))]
        before = next(t.grad for t in reversed(steps[:steps.index(s)])
                      if t.phase == "backward" and t.parent == s.parent)
        product = local * node.grad
        assert fmt_number(product) != fmt_number(s.grad)  # two numbers, not one
        assert f"contribution 2 of 3 ({names[s.parent]} is used 3 times): " \
               f"{fmt_number(local)} × {fmt_number(node.grad)} = {fmt_number(product)}; " \
               f"{names[s.parent]}.grad is now {fmt_number(s.grad)}" in s.text
        assert s.grad == before + product


def test_every_value_of_a_traced_model_has_a_name_the_steps_use():
    trace = _default_trace()
    assert len(trace.nodes()) == 293 and all(v in trace.names for v in trace.nodes())
    names = set(trace.names.values())
    for s in backprop_steps(trace.loss, trace.names):
        assert not re.search(r"\bv\d+\b", s.text), s.text
        lhs = s.text.split(" = ")[0] if s.phase == "forward" else s.text.split(".grad")[0]
        assert lhs.strip("()") in names, s.text


def test_numbers_are_never_rounded_to_a_whole_number_they_are_not():
    assert [fmt_number(x) for x in (0.99999, -0.999996, 1.0, 2.5, 3e-5, 0.0, 12.00004)] == [
        "0.99999", "-0.999996", "1.0000", "2.5000", "3.00e-05", "0.0000", "12.00004"]
    # nearer than 6 places can show: the whole number and the distance, short enough for a box
    assert [fmt_number(x) for x in (0.999999999997, -1.000000000003, 1.0000004, 0.9999996)] == [
        "1 \u2212 3.0e-12", "-1 \u2212 3.0e-12", "1 + 4.0e-07", "1 \u2212 4.0e-07"]


def test_nodes_with_only_a_closure_cannot_be_walked():
    x = Value(1.0)
    y = Value(2.0, (x,), "mystery")
    y._backward = lambda: None
    with pytest.raises(ValueError, match="its own _backward closure"):
        backprop_steps(y)


@pytest.mark.needs_dot
def test_the_page_is_standalone_and_leaves_the_graph_as_it_was():
    o, leaves = _neuron()
    o.backward()
    before = [v.grad for v in leaves]
    page = walk_html(o, title="a <neuron>")
    assert "<svg" in page and "a &lt;neuron&gt;" in page and "http" not in page.split("<svg")[0]
    assert [v.grad for v in leaves] == before  # drawn at grad 0, then restored
    assert 'srcdoc="' in BackpropWalk(o)._repr_html_()


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_the_page_steps_forward_and_back_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    o, _ = _neuron()
    page_file = tmp_path / "walk.html"
    page_file.write_text(walk_html(o), encoding="utf-8")
    steps = backprop_steps(o)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                "file://") else route.abort())  # a standalone page fetches nothing
            page.goto(page_file.as_uri())
            assert page.inner_text("#count") == f"step 0 of {len(steps)}"
            assert page.locator("g.node.walk-future").count() > 0  # nothing computed yet
            for _ in range(9):
                page.click("#next")
            assert page.inner_text("#text") == steps[8].text
            assert page.inner_text("#count") == f"step 9 of {len(steps)}"
            texts = "els => els.map(e => e.textContent)"  # SVG text has no innerText
            current = page.eval_on_selector_all("g.node.walk-cur title", texts)
            assert f"v{steps[8].node}" in current
            receiving = page.eval_on_selector_all("g.node.walk-recv text", texts)
            assert f"grad {steps[8].grad:.4f}" in receiving
            page.click("#back")
            assert page.inner_text("#text") == steps[7].text
            page.click("#first")
            assert page.inner_text("#count") == f"step 0 of {len(steps)}"
        finally:
            browser.close()


@pytest.mark.needs_dot
def test_micrograd_graph_walk_writes_the_page(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "micrograd", "graph", "--hidden", "2",
                           "--steps", "3", "--walk", "--out", str(tmp_path / "g")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "g" / "walk.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 and '"phase": "backward"' in page  # focus and overview
    assert "walk: MLP 2-2-3 after 3 training steps, step by step: 96 steps" in proc.stdout
    assert not math.isnan(float(proc.stdout.split("loss ")[1].split(",")[0]))


# the lit boxes and edges that lie outside #graph (a list of their DOT titles; [] when all are in)
OUTSIDE = """() => { const v = document.getElementById("graph").getBoundingClientRect();
  return [...document.querySelectorAll("#graph .walk-cur, #graph .walk-recv, #graph .walk-again")]
    .filter((g) => { const r = g.getBoundingClientRect();
      return r.left < v.left - 1 || r.right > v.right + 1 || r.top < v.top - 1
        || r.bottom > v.bottom + 1; })
    .map((g) => g.querySelector("title").textContent); }"""


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_the_default_models_page_fits_the_window_follows_the_walk_and_keys_do_not_scroll(
        tmp_path):
    from playwright.sync_api import sync_playwright

    trace = _default_trace()
    page_file = tmp_path / "walk.html"
    page_file.write_text(walk_html(trace.loss, **trace.style()), encoding="utf-8")
    steps = backprop_steps(trace.loss, trace.names)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_file.as_uri())
            size = "() => [document.documentElement.scrollWidth, document.documentElement." \
                   "scrollHeight, window.scrollX, window.scrollY]"
            assert page.evaluate(size) == [1280, 800, 0, 0]  # the page fits the window
            for k in range(1, len(steps) + 1):
                page.keyboard.press("ArrowRight")
                if k % 17 == 0 or k in (1, 96, 97, 98, len(steps)):
                    assert page.inner_text("#text") == steps[k - 1].text
                    assert page.evaluate(OUTSIDE) == [], f"step {k}: lit outside the window"
                    assert page.evaluate(size) == [1280, 800, 0, 0]  # keys scroll nothing
                    bar = page.locator("#bar").bounding_box()
                    assert bar["y"] >= 0 and bar["y"] + bar["height"] <= 800
            page.click("#overview")
            page.keyboard.press("ArrowLeft")
            assert page.evaluate(OUTSIDE) == [] and page.evaluate(size) == [1280, 800, 0, 0]
        finally:
            browser.close()


@pytest.mark.needs_dot
def test_the_overview_lists_each_layers_folded_neurons_in_order():
    """Graphviz orders a column to shorten edges (neurons 10-15 above 0-9); the overview keeps
    neuron 0 at the top, as the network panel and the names do."""
    from micrograd.walkview import walk_views

    trace = trace_mlp(chapter_mlp([2, 16, 3], rng=RNG(42)), [-0.6437, 1.129], 0)
    steps = backprop_steps(trace.loss)
    # a step in the loss and one inside hidden neuron 0 (open; the others folded)
    start = next(s for s in steps if s.phase == "start")  # the loss: every neuron folded
    views = walk_views(trace.loss, [start, steps[0]], **trace.style())["views"]
    assert len(views) == 2
    for view in views:
        svg = view["overview"]
        for kind in ("layer 1, neuron", "output neuron"):  # a folded box's title is bold
            found = re.findall(rf'<text[^>]*y="([-\d.]+)"[^>]*font-weight="bold"[^>]*>'
                               rf'{kind} (\d+)</text>', svg)
            ys = [float(y) for y, _ in sorted(found, key=lambda f: int(f[1]))]
            assert len(ys) >= 2 and ys == sorted(ys), (kind, found)
