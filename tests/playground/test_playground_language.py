"""The playground in the chapter's language: the words come from one catalogue (strings.py).

The page is written in English; static/i18n.js translates its texts through strings.json, picks
the language from the link (`lang=zh`), else the one chosen before, else the browser's, and a
text the catalogue lacks stays English. These tests hold the catalogue to the page (every text
of index.html has its Chinese, no entry translates a text the page no longer has) and check, in
Chromium, that a Chinese browser gets the Chinese page, that the link keeps the language and
restores it, and that the header's switch changes the words back and forth.
"""

from __future__ import annotations

import ast
import html.parser
import importlib
import json
import re
from pathlib import Path

import pytest

from micrograd.graph import INSTALL_HINT
from micrograd.playground.strings import LANGUAGES, SAME, ZH, strings_json
from micrograd.settings import settings_json
from test_playground_browser import wait_until

STATIC = Path(__file__).resolve().parents[2] / "src" / "micrograd" / "playground" / "static"
SKIPPED = ("code", "script", "style", "select", "option", "output")


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


# the calls through which a module writes words (i18n.js's, and the helpers that pass theirs on)
SAYING = re.compile(r"\b(say|sayTitle|t|words|progress|refused|button)\(")


def module_sentences() -> set[str]:
    """The English of every sentence the page's modules say: the string literals at the top
    level of those calls (adjacent literals joined by `+`), JavaScript's escapes read."""
    found = set()
    for path in set(STATIC.glob("*.js")) - {STATIC / "i18n.js"}:  # i18n.js: the calls' home
        text = path.read_text(encoding="utf-8")
        for call in SAYING.finditer(text):
            found |= set(_top_level_literals(text, call.end()))
    # not words: an element's id (`button("walk-next", ...)`), a text passed on as it reads
    return {s for s in found if re.search(r"[A-Za-z]", s) and s != "{text}"
            and not re.fullmatch(r"[a-z]+(-[a-z]+)+", s)}


def _top_level_literals(text: str, i: int) -> list[str]:
    depth, out, joining = 1, [], False
    while depth:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in "\"'`":
            end = i + 1
            while text[end] != c:
                end += 2 if text[end] == "\\" else 1
            if depth == 1 and c != "`":
                literal = json.loads('"' + text[i + 1:end].replace("\\'", "'") + '"')
                out[-1:] = [out[-1] + literal] if joining and out else [*out[-1:], literal]
            i = end
        elif not c.isspace():
            joining = c == "+"
        i += 1
    return out


def python_sentences() -> set[str]:
    """The templates of every `said(...)` in the package (micrograd.words): what the page
    receives as a sentence to say. A name passed as the template is read from its module."""
    found = set()
    for path in (STATIC.parents[1]).rglob("*.py"):
        name = ".".join(path.relative_to(STATIC.parents[2]).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "said":
                arg = node.args[0]
                found.add(arg.value if isinstance(arg, ast.Constant)
                          else getattr(importlib.import_module(name), arg.id))
    return found


def schema_labels() -> set[str]:
    """The settings schema's words on the page: the dataset buttons, each select's options."""
    schema = json.loads(settings_json())
    labels = {d["label"] for d in schema["datasets"]}
    for setting in schema["settings"].values():  # a list (the features) is not a select
        if setting["type"] != "list":
            labels |= set(setting.get("labels", {}).values())
            labels |= {str(c) for c in setting.get("choices", ()) if str(c) not in
                       setting.get("labels", {})}
    return {label for label in labels if re.search(r"[A-Za-z]", label)}


def all_sentences() -> set[str]:
    """What the page may show: its texts, its modules', the model's sentences, the schema's
    labels, and the texts it reads back to their sentence (strings.json's `found`)."""
    found = set(json.loads(strings_json())["found"])
    return page_texts() | module_sentences() | python_sentences() | schema_labels() | found


def test_every_sentence_the_modules_and_the_model_say_has_its_chinese():
    missing = sorted(all_sentences() - set(ZH) - SAME)
    assert missing == [], f"add these to strings.ZH (or to SAME if they read alike): {missing}"


def test_the_finder_of_sentences_sees_each_way_of_saying():
    """The sentence finders, on examples of each call: they must not read nothing."""
    code = 'say(el, "a " + "b", { k: fmt("c") }); t(x ? "d" : "e"); button("i", "\\u25b6 f", "g");'
    assert _top_level_literals(code, code.index("(") + 1) == ["a b"]
    found = module_sentences()
    assert {"step {k} of {n}", "\u25b6 play", "play the walk", "1 or 0"} <= found
    assert any(s.startswith("Training is paused") and s.endswith("folded.") for s in found)
    said_here = python_sentences()
    assert "{n} values" in said_here and INSTALL_HINT in said_here
    assert {"moons", "full", "regression", "5 steps/s", "Linear", "none"} <= schema_labels()


def test_the_catalogue_translates_only_texts_the_page_has():
    """An entry whose English nothing writes any more (index.html, a module, the model, the
    schema) is stale."""
    stale = sorted({en for en in ZH if re.search(r"[A-Za-z]", en)} - all_sentences())
    assert stale == []


def test_each_translation_fills_in_the_values_its_english_has():
    def names(text):
        return sorted(re.findall(r"\{(\w+)\}", text))
    wrong = [en for en, zh in ZH.items() if set(names(en)) != set(names(zh))]
    assert wrong == []


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
    # what the modules wrote with values is said again, though no new state came
    assert "class 0" in tab.text_content("#legend") and "16 neurons" in tab.text_content("#net")
    assert tab.title() == "micrograd playground"
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
    assert "第 0 类" in tab.text_content("#legend") and "16 个神经元" in tab.text_content("#net")
    assert tab.title() == "micrograd 演练场"
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
