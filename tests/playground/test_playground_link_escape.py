"""A share link with a broken %-escape, in Debian's Chromium.

`#hidden=4,4&lr=0.03&%ZZ=1` made the page's link reader throw: nothing applied, nothing was
shown. The broken field must be named in the link's one toast line and the others applied. The
exported page ships the same `static/link.js` and the modules that use it (checked below), so
what the served page does here is what the exported page does. Skipped like
test_playground_browser.py when chromium or playwright is missing (failed under
MICROGRAD_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

from importlib import resources

import pytest

from test_playground_browser import new_page, wait_until

pytestmark = pytest.mark.needs_chromium


def config(page) -> dict:
    return page.evaluate("() => playground.state && playground.state.config")


def test_a_broken_escape_spoils_only_its_own_field(browser, playground_url):
    page = new_page(browser, f"{playground_url}#hidden=4,4&lr=0.03&%ZZ=1&n=%E0%A4%A")
    wait_until(lambda: (config(page) or {}).get("hidden") == [4, 4], "the good fields applied")
    assert config(page)["lr"] == 0.03 and config(page)["n"] != 0
    wait_until(lambda: page.is_visible("#toast"), "the toast")
    text = page.text_content("#toast")
    assert "\n" not in text and text.startswith("link: ")
    assert '"%ZZ"' in text and "n=%E0%A4%A" in text and "%-escape" in text
    # the address bar now holds the settings in force, the broken part gone
    wait_until(lambda: "%ZZ" not in page.evaluate("() => location.hash"), "the hash rewritten")
    assert "hidden=4,4" in page.evaluate("() => location.hash")
    assert not [p for p in page.problems if "URIError" in p or "page error" in p], page.problems
    page.close()


def test_the_exported_page_reads_links_with_the_same_code():
    from micrograd.playground.export import page_files

    files = page_files()
    static = resources.files("micrograd.playground").joinpath("static")
    for entry in static.iterdir():
        if entry.name.endswith(".js"):  # the service worker at the top, to serve the folder
            name = entry.name if entry.name == "sw.js" else f"static/{entry.name}"
            assert files[name] == entry.read_bytes(), entry.name


def test_a_link_made_before_a_dataset_was_renamed_still_opens_it(browser, playground_url):
    page = new_page(browser, f"{playground_url}#dataset=seed&hidden=5")
    wait_until(lambda: (config(page) or {}).get("hidden") == [5], "the link applied")
    assert config(page)["dataset"] == "chapter"
    wait_until(lambda: "dataset=chapter" in page.evaluate("() => location.hash"),
               "the hash rewritten with the name of now")
    assert not page.is_visible("#toast") or "dataset" not in page.text_content("#toast")
    page.close()
