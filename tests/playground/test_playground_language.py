"""The playground in the chapter's language: the words come from one catalogue (strings.py).

The page is written in English; static/i18n.js translates its texts through strings.json, picks
the language from the link (`lang=zh`), else the one chosen before, else the browser's, and a
text the catalogue lacks stays English. These tests hold the catalogue to the page (every text
of index.html has its Chinese, no entry translates a text the page no longer has) and check, in
Chromium, that a Chinese browser gets the Chinese page, that the link keeps the language and
restores it, and that the header's switch changes the words back and forth.
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import pytest

from micrograd.playground.strings import LANGUAGES, ZH, strings_json
from test_playground_browser import wait_until

STATIC = Path(__file__).resolve().parents[2] / "src" / "micrograd" / "playground" / "static"
SKIPPED = ("code", "script", "style", "title", "select", "option", "output")


class _Texts(html.parser.HTMLParser):
    """The texts and title/aria-label values of a page, as i18n.js reads them."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("input", "meta", "link", "br", "img"):
            self.open.append(tag)
        self.texts += [v for k, v in attrs if k in ("title", "aria-label") and v]

    def handle_endtag(self, tag):
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data):
        text = re.sub(r"\s+", " ", data).strip()
        if text and re.search(r"[A-Za-z]", text) and not set(self.open) & set(SKIPPED):
            self.texts.append(text)


def page_texts() -> set[str]:
    parser = _Texts()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return set(parser.texts) - {"micrograd"}  # the package's name stays as it is


def test_every_text_of_the_page_has_its_chinese():
    missing = sorted(page_texts() - set(ZH))
    assert missing == [], f"add these to strings.ZH: {missing}"


def test_the_catalogue_translates_only_texts_the_page_has():
    """An entry whose English the page no longer writes (in index.html or a module) is stale."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in STATIC.glob("*.js"))
    known = page_texts()
    stale = [en for en in ZH if en not in known and f'"{en}"' not in sources]
    assert stale == []


def test_the_catalogue_is_what_the_page_reads():
    view = json.loads(strings_json())
    assert view["languages"] == LANGUAGES and view["zh"] == ZH
    assert all(isinstance(v, str) for v in ZH.values())


def open_tab(browser, url: str, locale: str):
    """A 1280×800 tab of a browser whose language is `locale`, once the model answered."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(url)
    wait_until(lambda: tab.evaluate("() => playground.ready"), "the model's first state")
    return tab


@pytest.mark.needs_chromium
def test_a_chinese_browser_gets_the_chinese_page_and_the_link_keeps_it(browser, playground_url):
    tab = open_tab(browser, playground_url, "zh-CN")
    assert tab.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert tab.text_content("#output-panel h2") == "输出"
    assert tab.text_content("#data-panel h2") == "数据"
    assert tab.get_attribute("#play", "title") == ZH["Play / pause (space)"]
    # texts the modules build with values in them: the keys, a column's head
    legend = tab.text_content("#legend")
    assert "第 0 类" in legend and "训练（80）" in legend and "测试（20，已隐藏）" in legend
    assert "16 个神经元" in tab.text_content("#net")
    wait_until(lambda: "lang=zh" in tab.evaluate("() => location.hash"), "lang=zh in the link")
    link = tab.evaluate("() => location.href")
    tab.select_option("#lang", "en")  # the switch: English again, and out of the link
    assert tab.text_content("#output-panel h2") == "Output"
    wait_until(lambda: "lang=" not in tab.evaluate("() => location.hash"), "lang out of the link")
    tab.context.close()
    english = open_tab(browser, link, "en-US")  # the link wins over the browser's language
    assert english.text_content("#output-panel h2") == "输出"
    assert english.evaluate("() => playground.state.config.lr") == 0.1  # and sets nothing else
    english.context.close()


@pytest.mark.needs_chromium
def test_an_english_browser_gets_english_and_a_text_without_chinese_stays_english(
        browser, playground_url):
    tab = open_tab(browser, playground_url, "en-US")
    assert tab.text_content("#output-panel h2") == "Output"
    assert "lang=" not in tab.evaluate("() => location.hash")
    tab.select_option("#lang", "zh")
    assert tab.text_content("#output-panel h2") == "输出"
    # a text the page writes later is translated as it comes; one the catalogue lacks stays
    tab.evaluate("""() => { const p = document.createElement("p"); p.id = "probe";
      p.innerHTML = "<span>Output</span> <span>not in the catalogue</span>";
      document.body.append(p); }""")
    wait_until(lambda: tab.text_content("#probe") == "输出 not in the catalogue", "the probe")
    tab.goto("about:blank")
    tab.goto(playground_url)  # no link: the choice made here is remembered
    wait_until(lambda: tab.evaluate("() => playground.ready"), "ready again")
    assert tab.text_content("#output-panel h2") == "输出"
    tab.context.close()
