"""The graph panel on a diverged model, through the `Driver` both the server
and the exported page's worker run, on both of their engines.

With lr 10 and weight decay 1, two steps push the chapter's logits hundreds apart; a picked point's
probability for its label then underflows to 0 in the graph's softmax, and −log 0 has no value.
The panel must say so in one line (no picture, no "internal error"), the walk too, and draw the
graph again once the weights allow it.
"""

from __future__ import annotations

import json
import logging

import pytest

from micrograd.playground.driver import Driver
from micrograd.playground.session import Session


def answers(driver: Driver, kind: str, **fields) -> list[dict]:
    return [json.loads(t) for t in driver.handle(kind, fields)]


def train_pending(driver: Driver) -> list[dict]:
    out: list[dict] = []
    now = 0.0
    while driver.busy:
        now += 1.0
        out += [json.loads(t) for t in driver.train_slice(now)]
    return out


@pytest.mark.parametrize("engine", ["numpy", "tape"])  # the server's and the worker's
def test_a_point_whose_loss_has_no_value_is_explained_not_an_internal_error(engine, caplog):
    pytest.importorskip("numpy") if engine == "numpy" else None
    driver = Driver(Session(None, engine))
    driver.hello()
    driver.take_layout()
    seen = answers(driver, "configure", lr=10, weight_decay=1)
    seen += answers(driver, "step") + answers(driver, "step") + train_pending(driver)
    with caplog.at_level(logging.ERROR, logger="micrograd.playground"):
        picked = answers(driver, "pick", index=20)
        layout = driver.take_layout()
        walk = answers(driver, "walk")[0]
        more = train_pending(driver) + answers(driver, "step") + train_pending(driver)
    errors = [m for m in [*seen, *picked, *more] if m["type"] == "error"]
    assert errors == [] and not caplog.records, (errors, caplog.text)
    assert [m["type"] for m in picked] == ["state", "frame"]
    # the panel's one line: no DOT text to draw, the bad value named, the fix given
    assert layout is not None and layout["dot"] is None
    note = layout["note"]
    assert "\n" not in note and "underflows to 0" in note and "lower the learning rate" in note
    assert picked[1]["graph"] == {"id": layout["id"], "loss": None, "data": [], "grad": []}
    assert walk["steps"] is None and walk["error"] == f"walk: {note}"
    # a reset makes the graph computable again: a new id, drawn
    reset = answers(driver, "reset")
    drawn = driver.take_layout()
    assert drawn["dot"] is not None and drawn["id"] > layout["id"]
    assert reset[1]["graph"]["id"] == drawn["id"] and reset[1]["graph"]["data"]


def test_the_message_names_a_non_finite_output():
    from micrograd.playground.graphview import unavailable_reason

    class Broken:
        def predict(self, x):
            return [float("nan"), 1.0, float("inf")]

    text = unavailable_reason(Broken(), [0.0, 0.0], 1, regression=False)
    assert "logit0 = nan" in text and "logit2 = inf" in text and "logit1" not in text


def test_the_exported_pages_worker_sends_the_line_as_its_graph_message():
    """`browser.Page` (what the exported page's worker runs) on the same sequence: the graph
    message carries the line and no picture."""
    from micrograd.playground.browser import Page

    laid_out: list[str] = []
    page = Page("tape", lambda dot: laid_out.append(dot) or "<svg></svg>")
    page.hello()
    page.layout()
    laid_out.clear()
    texts = page.receive(json.dumps({"type": "configure", "lr": 10, "weight_decay": 1}))
    texts += page.receive('{"type": "step", "count": 2}') + page.layout()
    now = 0.0
    while page.busy:
        now += 1.0
        texts += page.train_slice(now) + page.layout()
    texts += page.receive('{"type": "pick", "index": 20}') + page.layout()
    msgs = [json.loads(t) for t in texts]
    assert not [m for m in msgs if m["type"] == "error"], msgs
    graph = [m for m in msgs if m["type"] == "graph"][-1]
    assert graph["svg"] is None and "underflows to 0" in graph["note"] and "error" not in graph
