"""Backprop step by step in the playground's graph panel, and its `walk` message.

The message is `micrograd.walk.backprop_steps` of the picked point's graph (the drawn part in
head mode), checked here without a browser: the same steps, the boxes' numbers, a reused value's
second contribution flagged, one-line refusals. In Debian's Chromium the mode walks the graph the
panel shows: each step lights the node the Python step names and writes the Python text, back
undoes, play advances, training pauses, and at the end every box's grad is `backward()`'s.
With MICROGRAD_PLAYGROUND_SHOTS=folder, screenshots at 1280 and 1024 px of a forward step, a
backward step and a reuse step are written there.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from micrograd.engine import Value
from micrograd.graph import fmt_number
from micrograd.playground import protocol
from micrograd.playground.server import encode
from micrograd.playground.session import Config, Session
from micrograd.playground.walkmsg import walk_message, walk_payload
from micrograd.walk import MAX_WALK_NODES, backprop_steps
from test_playground_browser import new_page, number, wait_until

SHOTS_ENV = "MICROGRAD_PLAYGROUND_SHOTS"
HIDDEN = [2]  # a 2-2-3 network: 55 values, 96 steps, small enough to click through


# ---- the message, in Python ----


def test_walk_is_a_message_without_fields():
    assert protocol.parse('{"type": "walk"}') == ("walk", {})
    with pytest.raises(protocol.ProtocolError, match='walk: unknown field "index"; allowed: none'):
        protocol.parse('{"type": "walk", "index": 3}')


def test_the_message_is_backprop_of_the_picked_point_on_the_weights_of_now():
    session = Session(Config(hidden=HIDDEN))
    session.train_steps(5)  # not the initial weights: the walk follows training
    session.pick(7)
    msg = json.loads(encode(walk_message(session)))  # strict JSON, as the server sends it
    trace, _ = session.trace()
    expected = backprop_steps(trace.loss, trace.names)
    assert (msg["type"], msg["id"], msg["step"], msg["mode"]) == ("walk", session.graph_id, 5,
                                                                  "full")
    assert [s["text"] for s in msg["steps"]] == [s.text for s in expected]
    assert [(s["node"], s["parent"]) for s in msg["steps"]] == \
        [(s.node, s.parent) for s in expected]
    shown = session.graph_values()  # what the boxes show outside the walk
    assert msg["data"] == shown["data"] and msg["grad"] == shown["grad"]
    final = {}
    for s in msg["steps"]:
        if s["phase"] != "forward":
            final[s["parent"] if s["phase"] == "backward" else s["node"]] = s["grad"]
    assert [fmt_number(final.get(i, 0.0)) for i in range(len(msg["grad"]))] == msg["grad"]


def test_regression_with_features_walks_the_graph_the_panel_draws():
    session = Session(Config(problem="regression", dataset="gauss", hidden=HIDDEN,
                             features=["x1", "x2", "x1x2"], regularization="L2", reg_rate=0.1))
    msg = walk_message(session)
    shown = session.graph_values()
    assert msg["grad"] == shown["grad"] and msg["data"] == shown["data"]
    assert len(msg["data"]) == session.graph_dot()["values"]


def test_a_reused_value_gets_a_second_contribution_flagged():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    b.backward()
    msg = walk_payload(b)
    into_a = [s for s in msg["steps"] if s["phase"] == "backward" and s["parent"] == 0]
    assert [s["contribution"] for s in into_a] == [1, 2]
    assert [s["grad"] for s in into_a] == [1.0, 2.0]
    assert into_a[0]["text"] == "a.grad += db/da × b.grad, contribution 1 of 2 (a is used 2 " \
                                "times): 1.0000 × 1.0000 = 1.0000; a.grad is now 1.0000"
    assert into_a[1]["text"].endswith("contribution 2 of 2 (a is used 2 times): 1.0000 × 1.0000 "
                                      "= 1.0000; a.grad is now 2.0000")
    assert msg["grad"] == ["2.0000", "1.0000"] and msg["data"] == ["3.0000", "6.0000"]


def test_head_mode_walks_the_drawn_part():
    session = Session(Config(hidden=[16, 16, 16]))
    msg = walk_message(session)
    drawn = session.graph_dot()
    assert msg["mode"] == drawn["mode"] == "head"
    assert len(msg["data"]) == drawn["values"] < 300  # the output layer and the loss only
    assert max(s["node"] for s in msg["steps"]) == len(msg["data"]) - 1  # the loss box
    assert any(s["text"].startswith("h3[0].grad += ") for s in msg["steps"])  # inputs to it


def test_walks_that_cannot_be_made_are_refused_in_one_line():
    session = Session(Config(hidden=HIDDEN))
    session.clear()
    msg = walk_message(session)
    assert msg["steps"] is None and msg["error"].startswith("there is no point to walk")
    x = Value(0.5)
    chain = x
    for _ in range(MAX_WALK_NODES):
        chain = chain * 1.0
    with pytest.raises(ValueError, match=f"too many to walk \\(at most {MAX_WALK_NODES}\\)"):
        walk_payload(chain)
    big = Value(1e300) * Value(1e300)
    with pytest.raises(ValueError, match="not finite"):
        walk_payload(big)
    for text in (msg["error"],):
        assert "\n" not in text


# ---- the mode, in Chromium ----


def small_graph_page(browser, url: str, width: int):
    """A tab whose graph panel shows the 2-2-3 network's graph of point 0, as Python makes it."""
    page = new_page(browser, url, width, 1000)
    page.wait_for_selector("body[data-connected='1']")
    # what "−" sends
    page.evaluate(f"() => playground.send({{type: 'configure', hidden: {HIDDEN}}})")
    wait_until(lambda: page.text_content("#graph-note") == "55 values", "the 2-2-3 graph")
    wait_until(lambda: page.evaluate("() => playground.graph.nodes.length") == 55, "its boxes")
    page.click("#graph-toggle")  # the graph's drawer, open
    return page


def enter_walk(page) -> list[dict]:
    page.click("#walk-toggle")
    wait_until(lambda: page.get_attribute("#walk-bar", "data-k") == "0", "the walk")
    assert "walking" in page.get_attribute("body", "class")
    return page.evaluate("() => playground.walk.steps")


def lit(page, cls: str) -> list[str]:
    """DOT titles of the walk picture's boxes (not op circles or edges) with class `cls`."""
    return page.eval_on_selector_all(
        f"#walk-view g.node.{cls} title",
        "els => els.map(e => e.textContent).filter(t => /^v\\d+$/.test(t))")


def box_grads(page) -> list[str]:
    """The graph panel's boxes' grads (the whole graph, outside the walk)."""
    return page.evaluate("() => playground.graph.nodes.map(n => n.grad.textContent.slice(5))")


WALK_BOXES = """view => Object.fromEntries([...view.querySelectorAll('g.node')].map(g => [
  g.querySelector('title').textContent, [...g.querySelectorAll('text')].map(t => t.textContent)])
  .filter(([t]) => /^v\\d+$/.test(t)))"""


def walk_boxes(page) -> dict[int, list[str]]:
    """The walk picture's value boxes: index -> their texts (name, data ..., grad ...)."""
    boxes = page.eval_on_selector("#walk-view", WALK_BOXES)
    return {int(t[1:]): texts for t, texts in boxes.items()}


def walk_grads(page) -> dict[int, str]:
    """The grads the walk picture's boxes show, by value index."""
    return {i: next(t[5:] for t in texts if t.startswith("grad "))
            for i, texts in walk_boxes(page).items()}


def assert_future(page, forward: list[dict], k: int) -> None:
    """Faded: exactly the shown boxes of the values the forward pass has not computed yet."""
    shown = set(walk_boxes(page))
    assert set(lit(page, "walk-future")) == {f"v{s['node']}" for s in forward[k:]
                                             if s["node"] in shown}


def shot(page, name: str) -> None:
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        page.locator("#graph-panel").screenshot(path=os.path.join(folder, name))


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_the_walk_steps_through_forward_then_backward(browser, playground_url):
    page = small_graph_page(browser, playground_url, 1280)
    session = Session(Config(hidden=HIDDEN))  # the server's session, made the same way
    expected = walk_message(session)["steps"]
    steps = enter_walk(page)
    assert steps == expected
    forward = [s for s in steps if s["phase"] == "forward"]
    assert page.text_content("#walk-count") == f"step 0 of {len(steps)}"
    assert_future(page, forward, 0)  # nothing computed yet
    for k, s in enumerate(forward, 1):  # the forward pass, node by node
        page.click("#walk-next")
        assert lit(page, "walk-cur") == [f"v{s['node']}"]
        assert page.text_content("#walk-text") == s["text"]
        assert_future(page, forward, k)
        if k == 4:
            shot(page, "walk-forward-1280.png")
    assert set(walk_grads(page).values()) == {"0.0000"}  # no gradient before the backward pass
    page.keyboard.press("ArrowRight")  # the backward pass's start
    assert page.text_content("#walk-text") == steps[len(forward)]["text"]
    assert walk_grads(page)[len(box_grads(page)) - 1] == "1.0000"
    for k in range(len(forward) + 1, len(steps)):  # backprop, edge by edge
        page.keyboard.press("ArrowRight")
        s = steps[k]
        assert lit(page, "walk-cur") == [f"v{s['node']}"]
        receiving = "walk-again" if s["contribution"] > 1 else "walk-recv"
        assert lit(page, receiving) == [f"v{s['parent']}"]
        assert page.text_content("#walk-text") == s["text"]
        assert walk_grads(page)[s["parent"]] == fmt_number(s["grad"])
        if k == len(forward) + 3:
            shot(page, "walk-backward-1280.png")
        if s["contribution"] == 2 and "again" not in page.get_attribute("#walk-text", "class"):
            raise AssertionError("a second contribution is not flagged")
    assert page.get_attribute("#walk-next", "disabled") is not None  # the end
    shown = session.graph_values()
    for i, grad in walk_grads(page).items():
        assert grad == shown["grad"][i]  # every grad is backward()'s
    assert shown["grad"] == page.evaluate("() => playground.graph.info.grad")  # the frames' too
    assert page.problems == []
    page.close()


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
@pytest.mark.parametrize("width", [1280, 1024])
def test_back_undoes_play_advances_and_reuse_is_visible(browser, playground_url, width):
    page = small_graph_page(browser, playground_url, width)
    steps = enter_walk(page)
    reuse = next(k for k, s in enumerate(steps) if s["contribution"] == 2)
    page.click("#walk-jump")  # straight to the backward pass's start
    start = int(page.get_attribute("#walk-bar", "data-k"))
    assert steps[start - 1]["phase"] == "start"
    for _ in range(reuse + 1 - start):
        page.click("#walk-next")
    s = steps[reuse]
    assert lit(page, "walk-again") == [f"v{s['parent']}"]
    before = next(t for t in reversed(steps[:reuse]) if t.get("parent") == s["parent"])
    assert walk_grads(page)[s["parent"]] == fmt_number(s["grad"])
    assert "contribution 2 of" in page.text_content("#walk-text")
    assert "again" in page.get_attribute("#walk-text", "class")
    shot(page, f"walk-reuse-{width}.png")
    page.click("#walk-back")  # undone: the step before, on its own part's picture
    prev = steps[reuse - 1]
    assert walk_grads(page)[prev["parent"]] == fmt_number(prev["grad"])
    if s["parent"] in walk_grads(page):  # the reused value, if shown: its first contribution
        assert walk_grads(page)[s["parent"]] == fmt_number(before["grad"])
    assert page.text_content("#walk-text") == steps[reuse - 1]["text"]
    assert lit(page, "walk-again") == []
    page.click("#walk-play")
    wait_until(lambda: int(page.get_attribute("#walk-bar", "data-k")) >= reuse + 2, "play")
    page.click("#walk-play")  # pause
    k = int(page.get_attribute("#walk-bar", "data-k"))
    time.sleep(0.7)
    assert int(page.get_attribute("#walk-bar", "data-k")) == k  # paused
    if width == 1024:
        page.click("#walk-first")
        for _ in range(4):
            page.click("#walk-next")
        shot(page, "walk-forward-1024.png")
        page.click("#walk-jump")
        for _ in range(3):
            page.click("#walk-next")
        shot(page, "walk-backward-1024.png")
        scroll = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width  # the bar fits: no sideways scrolling
    page.click("#walk-toggle")  # leave: the normal panel, the live numbers
    assert "walking" not in (page.get_attribute("body", "class") or "")
    assert not page.is_visible("#walk-bar")
    assert page.locator("#graph-view .walk-cur, #graph-view .walk-future").count() == 0
    assert box_grads(page) == page.evaluate("() => playground.graph.info.grad")
    assert page.problems == []
    page.close()


# Every step of the walk, taken in the page by the → key: per step its text, the lit boxes and
# edges outside #walk-view, and the names of the boxes the step is about (its node; the operand
# receiving gradient; the operands at the lit edges' other end).
WALK_ALL = """(n) => {
  const view = document.getElementById("walk-view"), out = [];
  const name = (t) => { const g = [...view.querySelectorAll("g.node")]
    .find((x) => x.querySelector("title").textContent === t);
    return g ? g.querySelector("text").textContent : null; };
  for (let k = 0; k < n; k++) {
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    const v = view.getBoundingClientRect(), lit = [...view.querySelectorAll(
      ".walk-cur, .walk-recv, .walk-again")];
    const outside = lit.filter((g) => { const r = g.getBoundingClientRect();
      return r.left < v.left - 1 || r.right > v.right + 1 || r.top < v.top - 1
        || r.bottom > v.bottom + 1; }).map((g) => g.querySelector("title").textContent);
    const ends = lit.filter((g) => g.classList.contains("edge")).map((g) =>
      g.querySelector("title").textContent.split("->")[0]).filter((t) => /^v\\d+$/.test(t));
    out.push({ text: document.getElementById("walk-text").textContent, outside,
      edges: lit.filter((g) => g.classList.contains("edge")).length, lit: lit.length,
      names: [...new Set(ends)].map(name), k: document.getElementById("walk-bar").dataset.k });
  }
  return out;
}"""


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_on_the_default_model_every_step_keeps_its_lit_edge_inside_the_panel_and_names_boxes(
        browser, playground_url):
    page = new_page(browser, playground_url, 1280, 800)
    page.wait_for_selector("body[data-connected='1']")
    page.click("#graph-toggle")  # the graph's drawer, open
    wait_until(lambda: page.text_content("#graph-note") == "293 values", "the 2-16-3 graph")
    steps = enter_walk(page)
    assert len(steps) == 544
    for mode in ("focus", "overview"):
        page.click(f"#walk-{mode}")
        if mode != "focus":
            page.click("#walk-first")
        seen = page.evaluate(WALK_ALL, len(steps))
        for k, (s, got) in enumerate(zip(steps, seen), 1):
            assert got["k"] == str(k) and got["text"] == s["text"]
            assert got["outside"] == [], f"{mode}, step {k}: {got['outside']} outside the panel"
            assert got["lit"] > 0
            if mode == "overview":  # neurons folded: a step inside one lights its box
                continue
            assert s["phase"] == "start" or got["edges"] > 0  # an edge is lit, and in view
            assert not re.search(r"\bv\d+\b", s["text"])  # no v285: every value has a name
            for name in got["names"]:  # the boxes at the lit edges' far end are named ...
                assert name and name in s["text"], (k, name, s["text"])  # ... as the text does
    assert page.problems == []
    page.close()


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_training_pauses_and_a_new_point_restarts_the_walk(browser, playground_url):
    page = small_graph_page(browser, playground_url, 1280)
    page.click("#play")
    wait_until(lambda: number(page, "#step-count") > 0, "training")
    enter_walk(page)
    wait_until(lambda: "running" not in (page.get_attribute("body", "class") or ""),
               "a pause")
    step = number(page, "#step-count")
    page.click("#walk-next")
    time.sleep(0.5)
    assert number(page, "#step-count") == step  # paused
    steps = page.evaluate("() => playground.walk.steps")
    assert page.evaluate("() => playground.walk.step") == step  # walked on the paused weights
    page.evaluate("() => playground.send({type: 'pick', index: 9})")  # what a point's click sends
    wait_until(lambda: page.evaluate("() => playground.walk && playground.walk.steps")
               not in (None, steps), "the new point's walk")
    wait_until(lambda: page.get_attribute("#walk-bar", "data-k") == "0", "it drawn")
    page.click("#walk-next")
    assert page.text_content("#walk-text") == page.evaluate("() => playground.walk.steps[0].text")
    page.click("#play")  # training again: the walk ends, the boxes are training's
    wait_until(lambda: "walking" not in (page.get_attribute("body", "class") or ""),
               "the walk ends")
    wait_until(lambda: number(page, "#step-count") > step, "training again")
    page.click("#play")
    assert page.locator("#graph-view .walk-cur").count() == 0
    page.click("#walk-toggle")
    wait_until(lambda: page.get_attribute("#walk-bar", "data-k") == "0", "the walk again")
    page.click("#graph-close")  # the data panel again, under the drawer
    page.click("#clear")  # no point, no graph: the walk ends and cannot start
    wait_until(lambda: page.is_disabled("#walk-toggle"), "a disabled walk button")
    assert "walking" not in (page.get_attribute("body", "class") or "")
    assert page.problems == []
    page.close()
