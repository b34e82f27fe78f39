"""The exported page starts Python from a memory snapshot (memory.py), and from scratch without one.

The export makes Pyodide's memory after importing micrograd and preparing the page's session with
Node.js (when it finds Node 18+), and ships it as python/memory.gz; the page's worker restores it
instead of starting CPython. Without Node the page starts from scratch and saves its own memory in
the browser's cache for the next visit. Whichever way it started, the page must be the same page:
the same first state, the same numbers after training. A memory that cannot be restored (damaged,
another Pyodide's) must cost only time. The snapshot must hold nothing of the exporting machine.
How much time each way saves is benchmarks/export_page.py's business, never asserted here.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import offline_tab
from micrograd.playground import export as export_module
from micrograd.playground import memory
from test_playground_export import (  # noqa: F401 (fixtures)
    runtime_tarballs,
    static_server,
    wait_until,
)

MARKER = "micrograd-test-marker-5f1e0c9a"  # an environment variable's value while exporting
PYODIDE_MAGIC = b"\x00snp"  # the first word Pyodide writes into a memory snapshot


def manifest(folder: Path) -> dict:
    return json.loads((folder / "export.json").read_text())


@pytest.fixture(scope="module")
def with_memory(runtime_tarballs, tmp_path_factory):  # noqa: F811 (the imported fixture)
    """An export made with Node.js, while the environment and the folder's path hold a marker."""
    if memory.node_program() is None:
        pytest.skip("needs Node.js 18 or newer")  # the test's marker fails it under CI's variable
    mp = pytest.MonkeyPatch()
    mp.setenv("MICROGRAD_TEST_SECRET", MARKER)
    mp.setenv("TZ", "Asia/Kolkata")  # UTC+05:30, a zone Emscripten would name "UTC+0530"
    try:
        return export_module.export(tmp_path_factory.mktemp(MARKER) / "site")
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def without_node(runtime_tarballs, tmp_path_factory):  # noqa: F811
    """An export made as on a machine with no Node.js."""
    mp = pytest.MonkeyPatch()
    mp.setattr(memory, "node_program", lambda: None)
    try:
        return export_module.export(tmp_path_factory.mktemp("bare") / "site")
    finally:
        mp.undo()


@pytest.mark.needs_node
def test_the_export_ships_pythons_memory_and_nothing_of_this_machine(with_memory):
    folder = with_memory.folder
    path = manifest(folder)["memory"]
    assert path.startswith("python/memory-") and path in with_memory.files
    assert "start-up state" in with_memory.note
    raw = gzip.decompress((folder / path).read_bytes())
    assert raw[:4] == PYODIDE_MAGIC, raw[:16].hex()
    assert len(raw) > 10_000_000  # an interpreter's whole memory, not a stub
    # (not $HOME: Pyodide's own build paths hold /root)
    for secret in (MARKER, str(folder), "micrograd-memory-", "0530"):
        assert secret.encode() not in raw, secret
    download = manifest(folder)["download"]
    assert download > (folder / path).stat().st_size  # the progress note counts it


def test_without_node_the_export_says_so_and_the_page_needs_no_memory(without_node):
    assert manifest(without_node.folder)["memory"] is None
    assert not (without_node.folder / "python").exists()
    assert "Node.js" in without_node.note and "export again" in without_node.note


def test_a_node_that_fails_is_one_line_and_no_memory(tmp_path, monkeypatch):
    fake = tmp_path / "node"
    fake.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo v20.0.0; exit 0; }\n'
                    "echo boom >&2; exit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    made = memory.make_memory({"pyodide.mjs": b""}, b"wheel", "tape")
    assert made.data is None and "(boom)" in made.note and "\n" not in made.note


def test_an_old_node_is_not_used(tmp_path, monkeypatch):
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v16.20.2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert memory.node_program() is None


HAS_SAVED = """async () => {
  const key = new URL("python-memory", location.href);
  for (const name of await caches.keys()) {
    if (await (await caches.open(name)).match(key)) return true;
  }
  return false;
}"""


def visit(context, url: str) -> tuple[object, str]:
    """A tab once the model answered, and how its Python started."""
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(url)
    wait_until(lambda: tab.evaluate("() => playground.ready"), "the model's first state")
    return tab, tab.evaluate("() => document.body.dataset.python")


def trained(tab, steps: int = 25) -> dict:
    """The frame after `steps` steps of the default model."""
    tab.evaluate(f"() => playground.send({{type: 'step', count: {steps}}})")
    wait_until(lambda: tab.evaluate(f"() => playground.frame.step === {steps}"), "the steps")
    return tab.evaluate("() => playground.frame")


@pytest.mark.needs_chromium
@pytest.mark.needs_node
def test_a_page_restored_from_memory_is_the_page_started_from_scratch(
        browser, with_memory, without_node):
    frames = {}
    for name, done in (("export", with_memory), ("fresh", without_node)):
        with static_server(done.folder) as url:
            tab = offline_tab(browser, url, 1280, 800)
            tab.close()
            first, how = visit(tab.context, url)
            assert how == name
            frames[name] = trained(first)
            wait_until(lambda tab=first: tab.evaluate(HAS_SAVED), "the memory kept for next time")
            first.close()
            again, how = visit(tab.context, url)
            assert how == "saved"  # this browser's own copy, decompressed or made on the first
            assert trained(again) == frames[name]
            assert tab.blocked == [] and tab.problems == [], tab.problems
            tab.context.close()
    assert frames["export"] == frames["fresh"]


@pytest.mark.needs_chromium
@pytest.mark.needs_node
def test_a_damaged_memory_costs_only_time(browser, with_memory, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name in with_memory.files:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes((with_memory.folder / name).read_bytes())
    path = manifest(site)["memory"]
    raw = bytearray(gzip.decompress((site / path).read_bytes()))
    raw[8:40] = bytes(32)  # the build id Pyodide checks
    (site / path).write_bytes(gzip.compress(bytes(raw), compresslevel=1))
    with static_server(site) as url:
        tab = offline_tab(browser, url, 1280, 800)
        tab.goto(url)
        wait_until(lambda: tab.evaluate("() => playground.ready"), "a plain start")
        assert tab.evaluate("() => document.body.dataset.python") == "fresh"
        assert trained(tab, 5)["step"] == 5
        assert any("could not be used" in p for p in tab.problems), tab.problems
        tab.context.close()
