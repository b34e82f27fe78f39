"""The learner's first minute: the page draws the real initial state at once and says honestly
what it is waiting for.

The exported page's model is this package under Pyodide, which loads for seconds; meanwhile the
page draws `static/first.json` (snapshot.py: a new session's state and first frame, computed by
the export) and counts the runtime's download. These tests hold Pyodide's requests back with
Playwright's routing and look at the page meanwhile; a shared link must be on the very first
drawn state (served and exported page); a page opened from a file says, in plain text, how to
serve it. Timings are the benchmark's business (benchmarks/export_page.py), never asserted here.
"""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from conftest import offline_tab
from micrograd.playground.driver import Driver
from micrograd.playground.export import ENGINE
from micrograd.playground.session import Session
from micrograd.playground.snapshot import SNAPSHOT_PATH, snapshot_json
from micrograd.settings import settings_json
from test_playground_export import (  # noqa: F401 (fixtures)
    exported,
    runtime_tarballs,
    site_url,
    wait_until,
)

# run before the page's scripts: the config of the first state the page draws, as it draws it
FIRST_DRAWN = """
new MutationObserver((_, obs) => {
  if (document.body && document.body.dataset.drawn && !window.firstDrawn) {
    window.firstDrawn = JSON.stringify(window.playground.state.config);
    obs.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-drawn"] });
"""
LINK = "#dataset=moons&lr=0.03&speed=100&hidden=6"


def defaults() -> dict:
    return {k: s["default"] for k, s in json.loads(settings_json())["settings"].items()}


@pytest.fixture
def held_tab(browser, site_url):  # noqa: F811 (the imported fixture)
    """A tab on the exported site whose Python (Pyodide's WebAssembly) waits for `tab.release()`."""
    tab = offline_tab(browser, site_url, 1280, 800)
    waiting, released = [], threading.Event()

    def hold(route):
        if released.is_set():
            route.continue_()
        else:
            waiting.append(route)

    def release():
        released.set()
        while waiting:
            waiting.pop().continue_()

    tab.context.route("**/pyodide/pyodide.asm.wasm", hold)
    tab.release = release
    yield tab
    release()
    tab.context.close()


@pytest.mark.needs_chromium
def test_exported_page_shows_the_real_defaults_while_python_loads(held_tab, site_url):  # noqa: F811
    tab = held_tab
    tab.goto(site_url)
    wait_until(lambda: tab.evaluate("() => playground.frame !== null"), "the snapshot drawn")
    want = defaults()
    assert not tab.evaluate("() => playground.ready")  # Python is held back
    assert tab.is_disabled("#play")
    assert tab.input_value("#lr") == str(want["lr"])
    assert tab.input_value("#speed") == str(want["speed"])
    assert tab.input_value("#problem") == want["problem"]
    shown = tab.eval_on_selector_all(
        "#datasets button:not(.hidden)",
        "bs => bs.map(b => [b.dataset.dataset, b.dataset.problem])")
    assert [want["dataset"], want["problem"]] in shown
    assert {problem for _, problem in shown} == {want["problem"]}  # one kind of dataset
    key = " ".join(tab.text_content("#net-key").split())
    assert "()" not in key and "Engine: ." not in key and f"Engine: {ENGINE}." in key
    assert tab.is_visible("#net canvas") and tab.text_content("#train-loss") != "\u2013"
    # the runtime's download, counted
    wait_until(lambda: "MB downloaded" in tab.text_content("#starting"), "the download's progress")
    assert tab.is_visible("#starting")
    tab.release()
    wait_until(lambda: tab.evaluate("() => playground.ready"), "Python ready")
    assert tab.is_enabled("#play") and not tab.is_visible("#starting")
    assert tab.evaluate("() => playground.state.config") == snapshot_config()
    assert tab.blocked == [] and tab.problems == []


def snapshot_config() -> dict:
    return json.loads(snapshot_json(ENGINE))["messages"][0]["config"]


def test_the_snapshot_is_what_a_new_session_sends_first(exported):  # noqa: F811
    written = json.loads((exported.folder / SNAPSHOT_PATH).read_text())
    assert written["engine"] == ENGINE == json.loads(
        (exported.folder / "export.json").read_text())["engine"]
    want = [json.loads(text) for text in Driver(Session(None, ENGINE)).hello()]
    assert written["messages"] == want
    assert [m["type"] for m in want] == ["state", "frame"] and want[1]["step"] == 0


def open_with_link(browser, url: str):
    """A tab opened on the share link LINK; its first drawn state must already be the link's."""
    tab = offline_tab(browser, url, 1280, 800)
    tab.add_init_script(FIRST_DRAWN)
    tab.goto(url + LINK)
    wait_until(lambda: tab.evaluate("() => window.firstDrawn"), "the first drawn state")
    first = json.loads(tab.evaluate("() => window.firstDrawn"))
    assert (first["dataset"], first["lr"], first["speed"], first["hidden"]) == \
        ("moons", 0.03, 100, [6])
    return tab


@pytest.mark.needs_chromium
def test_a_shared_link_is_on_the_first_drawn_state_of_the_exported_page(
        browser, site_url):  # noqa: F811
    tab = open_with_link(browser, site_url)
    assert tab.input_value("#lr") == "0.03"
    wait_until(lambda: tab.evaluate("() => playground.ready"), "Python ready")
    assert tab.evaluate("() => playground.state.config.dataset") == "moons"
    assert tab.problems == []
    tab.context.close()


@pytest.mark.needs_chromium
def test_a_shared_link_is_on_the_first_drawn_state_of_the_served_page(browser, playground_url):
    tab = open_with_link(browser, playground_url)
    tab.wait_for_selector("body[data-connected='1']")
    assert tab.problems == []
    tab.context.close()


def test_the_served_page_has_a_snapshot_of_a_new_session(playground_url):
    with urllib.request.urlopen(f"{playground_url}{SNAPSHOT_PATH}") as reply:
        written = json.loads(reply.read())
    state, frame = written["messages"]
    assert (state["type"], frame["type"], frame["step"]) == ("state", "frame", 0)
    assert state["engine"] == written["engine"]
    assert {k: state["config"][k] for k in defaults()} == defaults()


@pytest.mark.needs_chromium
def test_opened_from_a_file_the_page_says_how_to_serve_it(browser, exported):  # noqa: F811
    tab = offline_tab(browser, "file://", 1280, 800)
    tab.goto((exported.folder / "index.html").as_uri())
    tab.wait_for_selector("body.offline")
    why = tab.text_content("#offline-why")
    assert "`" not in why and "python3 -m http.server" in why, why
    assert tab.is_visible("#offline-why") and not tab.is_visible("#reconnect")
    for sel in ("#starting", "#graph-view"):
        assert "`" not in tab.text_content(sel)
    tab.context.close()


@pytest.mark.needs_chromium
def test_a_second_visit_takes_the_runtime_from_the_browsers_cache(browser, site_url):  # noqa: F811
    tab = offline_tab(browser, site_url, 1280, 800)
    tab.goto(site_url)
    wait_until(lambda: tab.evaluate("() => playground.ready"), "Python ready")
    wait_until(lambda: tab.evaluate("() => navigator.serviceWorker.controller !== null"),
               "the service worker keeping the runtime")
    tab.close()
    refused = []
    tab.context.route("**/pyodide/**", lambda r: (refused.append(r.request.url), r.abort()))
    again = tab.context.new_page()
    again.goto(site_url)
    wait_until(lambda: again.evaluate("() => playground.ready"), "Python ready from the cache")
    assert refused == [] and tab.blocked == []
    tab.context.close()
