"""The page's input features are the server's (features.py): the page draws a feature's tile and
previews an unused feature on the plane from the formulas of static/features.js, so those must
give features.py's values at sample points, for the same names; the tiles' labels and order come
from settings.json. Run in Debian's Chromium (skipped like test_playground_browser.py when it is
missing)."""

from __future__ import annotations

import math

import pytest

from micrograd.playground import features
from test_playground_browser import new_page

pytestmark = pytest.mark.needs_chromium

POINTS = [(0.0, 0.0), (1.0, -1.0), (-2.2, 2.2), (0.3, 1.7), (-1.25, -0.5), (3.5, -4.75)]


def test_the_pages_features_are_the_servers(browser, playground_url):
    page = new_page(browser, playground_url)
    page.wait_for_selector("body[data-connected='1']")
    table = page.evaluate("""async (points) => {
        const { FORMULAS } = await import("./static/features.js");
        return Object.entries(FORMULAS).map(([name, fn]) =>
            [name, points.map(([x, y]) => fn(x, y))]); }""", POINTS)
    assert [name for name, _ in table] == list(features.FEATURES)  # the canonical order
    for name, values in table:
        for (x, y), v in zip(POINTS, values):
            assert math.isclose(v, features.FEATURES[name](x, y), rel_tol=1e-15, abs_tol=1e-15), (
                name, x, y)
    tiles = page.locator("#net canvas[data-feature]").evaluate_all(
        "els => els.map(e => e.dataset.feature)")
    labels = page.locator("#net .tile-label.in").all_text_contents()
    assert tiles == list(features.FEATURES) and labels == list(features.LABELS.values())
    assert page.problems == []
    page.close()
