"""The page's input features (static/features.js) are the server's (features.py): the same names
in the same order, the same labels, and the same values at sample points. The page draws a
feature's tile and previews an unused feature from these formulas, so the two must not drift.
Run in Debian's Chromium (skipped like test_playground_browser.py when it is missing)."""

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
        const f = await import("./static/features.js");
        return f.FEATURES.map(([name, label]) =>
            [name, label, points.map(([x, y]) => f.featureValue(name, x, y))]); }""", POINTS)
    assert [name for name, *_ in table] == list(features.FEATURES)  # the canonical order
    assert {name: label for name, label, _ in table} == features.LABELS
    assert page.evaluate("() => import('./static/features.js').then(f => f.DEFAULT_FEATURES)") \
        == list(features.DEFAULT)
    for name, _, values in table:
        for (x, y), v in zip(POINTS, values):
            assert math.isclose(v, features.FEATURES[name](x, y), rel_tol=1e-15, abs_tol=1e-15), (
                name, x, y)
    assert page.problems == []
    page.close()
