"""The page's controls are the settings schema's, in Debian's Chromium: the dataset picker is the
table of datasets (labels included), every select lists its setting's presets or choices, every
slider spans its setting's range in its step, so the "gaussian" dataset and the SiLU activation,
rows added to the tables only, appear and train. And a state that answers an earlier message
does not put a stale value back into a control the user has just changed (the share link once
lost `noise` so). Skipped like test_playground_browser.py when chromium or playwright is missing.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from micrograd.settings import settings_json
from test_playground_browser import wait_until
from test_playground_first_use_details import shot
from test_playground_parity_page import config, open_page

pytestmark = pytest.mark.needs_chromium
SCHEMA = json.loads(settings_json())


def text(value) -> str:
    """A value as the page's String() writes it (1.0 is "1")."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def pump_until(page, fn, what: str, timeout: float = 60.0) -> None:
    """`wait_until` for a test whose Playwright callbacks must run meanwhile: the sync API runs
    them only inside its own calls, so the wait is Playwright's."""
    for _ in range(int(timeout / 0.05)):
        if fn():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_controls_are_the_schemas(browser, playground_url):
    page = open_page(browser, playground_url, width=1280, height=800)
    buttons = page.eval_on_selector_all(
        "#datasets button",
        "bs => bs.map(b => [b.dataset.dataset, b.dataset.problem, b.textContent])")
    assert buttons == [[d["name"], d["problem"], d["label"]] for d in SCHEMA["datasets"]]
    # every select but the page's language (i18n.js), which is no setting
    for select in page.eval_on_selector_all("select[id]:not(#lang)", "els => els.map(e => e.id)"):
        s = SCHEMA["settings"][select]
        options = page.eval_on_selector_all(
            f"#{select} option", "os => os.map(o => [o.value, o.textContent])")
        values = [text(v) for v in s.get("presets", s.get("choices", []))]
        labels = s.get("labels", {})
        assert options == [[v, labels.get(v, v)] for v in values], select
    assert ["silu", "SiLU"] in page.eval_on_selector_all(
        "#activation option", "os => os.map(o => [o.value, o.textContent])")
    for slider in ("n", "noise", "train_frac"):
        s = SCHEMA["settings"][slider]
        attrs = page.eval_on_selector(f"#{slider}", "e => [e.min, e.max, e.step]")
        assert [float(a) for a in attrs] == [s["min"], s["max"], s["step"]], slider
    assert page.problems == []
    page.close()


def test_the_new_dataset_and_activation_train_on_the_page(browser, playground_url):
    page = open_page(browser, playground_url, width=1280, height=800)
    assert page.is_visible("#datasets [data-dataset='gaussian']")
    page.click("#datasets [data-dataset='gaussian']")
    wait_until(lambda: config(page)["dataset"] == "gaussian", "the gaussian dataset")
    wait_until(lambda: page.input_value("#noise") == "0.1", "its own noise on the slider")
    assert page.evaluate("() => playground.state.classes") == 2
    assert "active" in page.get_attribute("[data-dataset='gaussian']", "class")
    page.select_option("#activation", "silu")
    wait_until(lambda: config(page)["activation"] == "silu", "silu")
    for _ in range(3):
        page.click("#step")
    wait_until(lambda: page.evaluate("() => playground.frame.step") >= 3, "three steps")
    loss = page.evaluate("() => playground.frame.train_loss")
    assert loss is not None and math.isfinite(loss)
    wait_until(lambda: "dataset=gaussian" in page.evaluate("() => location.hash")
               and "activation=silu" in page.evaluate("() => location.hash"), "the link")
    shot(page, "gaussian-silu-1280.png")
    assert page.problems == []
    page.close()


def test_a_state_answering_an_earlier_change_keeps_the_users_newer_value(browser,
                                                                        playground_url):
    """The server's replies are held back and let through one at a time, as a busy machine
    delivers them: the reply to `n` (noise still 0) lands after noise was moved to 0.3."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(60_000)
    held, gate = [], {"closed": False}

    def route(ws):
        server = ws.connect_to_server()
        server.on_message(lambda m: held.append(m) if gate["closed"] else ws.send(m))
        ws.on_message(server.send)
        gate["ws"] = ws

    page.route_web_socket(re.compile(r"/ws$"), route)
    page.goto(playground_url)
    page.wait_for_selector("body[data-connected='1']")
    wait_until(lambda: page.evaluate("() => playground.frame !== null"), "a first frame")
    gate["closed"] = True
    states = lambda: [m for m in held if json.loads(m)["type"] == "state"]  # noqa: E731
    page.fill("#n", "200")  # fill sends input and change: one configure
    pump_until(page, lambda: len(states()) >= 1, "the reply to n, held")
    page.fill("#noise", "0.3")
    pump_until(page, lambda: len(states()) >= 2, "the reply to noise, held")
    first = held.index(states()[0])
    for m in held[: first + 1]:  # only the reply to n: its noise is still 0
        gate["ws"].send(m)
    del held[: first + 1]
    pump_until(page, lambda: config(page)["n"] == 200, "the reply to n")
    assert page.input_value("#noise") == "0.3"  # not the reply's stale 0
    page.dispatch_event("#noise", "change")  # what the slider sends now is the user's value
    gate["closed"] = False
    while held:
        gate["ws"].send(held.pop(0))
    pump_until(page, lambda: config(page)["noise"] == 0.3, "noise 0.3")
    page.wait_for_timeout(500)  # the reply to the last change, too
    assert config(page)["noise"] == 0.3 and page.input_value("#noise") == "0.3"
    page.close()
