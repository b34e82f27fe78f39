"""The playground in Chinese, state by state: no English word left for the reader.

A zh-CN browser opens the served page and the exported one and goes through the main states: the
start, trained, a neuron hovered, the graph drawer, the walk (its start, a forward step, the
backward pass, a value that receives a second contribution, the overview), the regression
problem, an error from the model and one from a bad link. In each, every visible text, title,
select option and picture text is read. A word of Latin letters left in them must be the
program's own (a value's name or field: data, grad, loss...), a proper name (strings.SAME, the
engines, Python), or a setting's name as the link writes it. With MICROGRAD_PLAYGROUND_SHOTS set
to a folder, each state's screenshot goes there.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import offline_tab, wait_until
from micrograd.playground.strings import SAME
from micrograd.settings import settings_json
from test_playground_export import (  # noqa: F401 (fixtures)
    exported,
    runtime_tarballs,
    site_url,
)

SHOTS_ENV = "MICROGRAD_PLAYGROUND_SHOTS"
# the program's names, as the chapter's code writes them: they read the same in Chinese
CODE = {"data", "grad", "loss", "log", "exp", "tanh", "dloss", "backward", "sin", "max", "out",
        "softmax", "logit"}
NAMES = SAME | {"numpy", "tape", "python", "torch", "Python", "Pyodide", "Graphviz", "MB"}
SETTINGS = set(json.loads(settings_json())["settings"])

# every text a reader sees: text nodes, titles, the selects' options, the pictures' texts
VISIBLE_TEXTS = """() => {
  const out = [];
  const shown = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
    && el.getBoundingClientRect().width > 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el && !el.closest("code, script, style, title") && shown(el)) out.push(n.nodeValue);
  }
  for (const el of document.querySelectorAll("[title], [aria-label]")) {
    if (shown(el)) out.push(el.getAttribute("title") || "", el.getAttribute("aria-label") || "");
  }
  for (const s of document.querySelectorAll("select")) {
    const options = [...s.options].filter((o) => !("noI18n" in o.dataset));
    if (shown(s)) out.push(...options.map((o) => o.text));
  }
  return out;
}"""


def english_words(tab) -> list[str]:
    """The Latin words of the visible texts that are not code or names (a setting's name only
    as a link writes it, `lr=99`). Latin letters beside Chinese ones count as a word of their
    own: Python's `\\b` would see none between 于 and c."""
    found = set()
    for text in tab.evaluate(VISIBLE_TEXTS):
        for m in re.finditer(r"(?<![A-Za-z0-9_])([A-Za-z]{2,})(?![A-Za-z0-9_])(=?)", text):
            word, linked = m.groups()
            if word not in CODE | NAMES and not (linked and word in SETTINGS):
                found.add(word)
    return sorted(found)


def test_the_word_finder_sees_english_glued_to_chinese():
    class Page:
        def evaluate(self, _):
            return ["lr=99 用于classification，noise h1[0] 的 grad", "x₁ 第 2 类 logit0"]
    assert english_words(Page()) == ["classification", "noise"]


def chinese_tab(browser, url: str, allowed: str | None = None):
    """A 1280×800 zh-CN tab on `url`, once the model answered (`allowed`: other origins blocked)."""
    if allowed:
        tab = offline_tab(browser, allowed, 1280, 800, locale="zh-CN")
    else:
        tab = browser.new_context(viewport={"width": 1280, "height": 800},
                                  locale="zh-CN").new_page()
        tab.set_default_timeout(60_000)
    tab.goto(url)
    wait_until(lambda: tab.evaluate("() => playground.ready"), "the model's first state")
    return tab


def check(tab, where: str, state: str) -> None:
    if os.environ.get(SHOTS_ENV):
        tab.screenshot(path=os.path.join(os.environ[SHOTS_ENV], f"zh-{where}-{state}.png"))
    assert english_words(tab) == [], f"English on the {where} page, {state}"


def go_through_the_main_states(tab, where: str) -> None:
    check(tab, where, "start")
    for _ in range(5):
        tab.click("#step")
    wait_until(lambda: tab.evaluate("() => playground.frame.step") >= 5, "five steps")
    check(tab, where, "trained")
    tab.hover("#net canvas.tile[data-layer='1'][data-index='0']")
    wait_until(lambda: tab.text_content("#plane-note"), "the hovered neuron's note")
    check(tab, where, "hover")
    tab.mouse.move(2, 2)
    tab.keyboard.press("g")
    wait_until(lambda: tab.locator("#graph-view svg g.node").count() > 0, "the graph")
    check(tab, where, "graph")
    walk_states(tab, where)
    tab.keyboard.press("g")
    tab.select_option("#problem", "regression")
    wait_until(lambda: tab.evaluate("() => playground.state.config.problem") == "regression",
               "the regression problem")
    check(tab, where, "regression")
    tab.evaluate("() => playground.keepToast()")
    tab.click("#clear")
    tab.click("#step")  # no training points: the model refuses
    wait_until(lambda: tab.is_visible("#toast"), "the model's error")
    assert "没有训练点" in tab.text_content("#toast")
    check(tab, where, "error")
    tab.evaluate("() => { location.hash = 'lr=99'; }")  # a link with a value out of range
    wait_until(lambda: "lr=99" in tab.text_content("#toast"), "the link's error")
    check(tab, where, "link-error")


def walk_states(tab, where: str) -> None:
    tab.click("#walk-toggle")
    wait_until(lambda: tab.get_attribute("#walk-bar", "data-k") == "0", "the walk")
    check(tab, where, "walk-start")
    tab.click("#walk-next")
    check(tab, where, "walk-forward")
    tab.click("#walk-jump")
    tab.click("#walk-next")
    assert tab.get_attribute("#walk-text", "data-phase") == "backward"
    check(tab, where, "walk-backward")
    for _ in range(400):  # on to a value's second contribution (a hidden output, used 3 times)
        if "again" in (tab.get_attribute("#walk-text", "class") or ""):
            break
        tab.keyboard.press("ArrowRight")
    assert "第 2 份贡献" in tab.text_content("#walk-text")
    check(tab, where, "walk-again")
    tab.click("#walk-overview")
    check(tab, where, "walk-overview")
    tab.click("#walk-toggle")


@pytest.mark.needs_dot
@pytest.mark.needs_chromium
def test_the_served_page_in_chinese_has_no_english_left(browser, playground_url):
    tab = chinese_tab(browser, playground_url)
    go_through_the_main_states(tab, "served")
    tab.context.close()


@pytest.mark.needs_chromium
def test_the_exported_page_in_chinese_has_no_english_left(browser, site_url):  # noqa: F811
    tab = chinese_tab(browser, site_url, allowed=site_url)
    go_through_the_main_states(tab, "exported")
    assert tab.problems == [] and tab.blocked == []
    tab.context.close()
