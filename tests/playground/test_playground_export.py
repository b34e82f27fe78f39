"""`micrograd playground --export DIR`: the playground as a static folder, running this package
under Pyodide in a Web Worker.

The folder is exported into a temporary directory, served by a plain static server on 127.0.0.1
(a thread of `http.server`, as a teacher's host would serve it: no WebSocket, no Python on the
server side) and opened in Debian's Chromium with every request to another origin aborted. The
page must train the chapter dataset to 95 % train accuracy with the graph panel drawn by viz.js, and
its numbers after N steps must be CPython's (the same `Driver` on the `tape` engine).

The runtime (Pyodide and viz.js, pinned npm tarballs) is an external dependency: the `runtime`
fixture takes it from the cache or downloads it once, else skips with one line (fails under
MICROGRAD_REQUIRE_TOOLS=1, as the other tools do). The bad-input tests need no runtime: they stop
before it is fetched, or get it from a folder of fake tarballs.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import io
import json
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import zipfile
from pathlib import Path

import pytest

from conftest import offline_tab, unavailable
from conftest import wait_until as wait_for
from micrograd import cli
from micrograd.config import UsageError
from micrograd.playground import export as export_module
from micrograd.playground import protocol, runtime
from micrograd.playground.browser import MAX_SLICE, Page
from micrograd.playground.driver import SLICE, Driver
from micrograd.playground.session import Session
from micrograd.playground.wheel import build_wheel

STEPS = 60  # steps for the CPython comparison


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("micrograd: error: ")
    return err[0]


# ---------------------------------------------------------------- the runtime, fetched once


@pytest.fixture(scope="session")
def runtime_tarballs() -> None:
    """Both pinned tarballs in the cache (downloaded once if need be), else skip or fail."""
    try:
        for tarball in runtime.TARBALLS:
            runtime.fetch(tarball)
    except UsageError as e:
        unavailable(f"the playground's browser runtime is not cached and cannot be downloaded: "
                    f"{str(e)[:160]}")


@pytest.fixture(scope="module")
def exported(runtime_tarballs, tmp_path_factory) -> export_module.Exported:
    return export_module.export(tmp_path_factory.mktemp("export") / "site")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def static_server(folder: Path):
    """`folder` on a plain static file server on 127.0.0.1 (a thread: nothing but files); yields
    the root URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url(exported):
    """The exported folder on a static server."""
    with static_server(exported.folder) as url:
        yield url


@pytest.fixture
def page(browser, site_url):
    """A tab on the exported page; requests to anywhere else are aborted and listed."""
    tab = offline_tab(browser, site_url, 1440, 1250)
    tab.goto(site_url)
    yield tab
    tab.context.close()


def wait_until(fn, what: str, timeout: float = 60.0):
    """conftest's `wait_until`, with time for Pyodide to start in a loaded browser."""
    return wait_for(fn, what, timeout)


def frame(tab) -> dict | None:
    return tab.evaluate("playground.frame")


# ---------------------------------------------------------------- the page in Chromium


@pytest.mark.needs_chromium
def test_exported_page_trains_the_chapter_dataset_offline(page, tmp_path):
    # while Python starts (seconds) the panels show the export's snapshot but are inert, and a
    # note says what is loading
    wait_until(lambda: page.is_visible("#starting") and "Python" in page.text_content("#starting"),
               "the note that Python is starting")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).pointerEvents") \
        == "none"
    wait_until(lambda: page.evaluate("playground.ready"), "the model's state (Pyodide started)")
    first = frame(page)
    wait_until(lambda: not page.is_visible("#starting"), "the note gone")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).opacity") == "1"
    assert first["step"] == 0 and first["train_loss"] > 0.5
    assert page.text_content("#engine") == "tape"
    wait_until(lambda: page.locator("#graph-view svg g.node").count() == 293 + 188,
               "the graph laid out by viz.js")
    page.select_option("#speed", "0")  # as fast as the worker goes
    wait_until(lambda: page.evaluate("playground.state.config.speed") == 0, "the new speed")
    page.click("#play")
    wait_until(lambda: (frame(page) or {}).get("train_acc", 0) >= 0.95, "95 % train accuracy")
    later = frame(page)
    assert later["step"] > 0 and later["train_loss"] < first["train_loss"]
    assert int(page.text_content("#step-count").replace(",", "")) >= later["step"]
    updates = int(page.get_attribute("#graph-view", "data-updates"))
    wait_until(lambda: int(page.get_attribute("#graph-view", "data-updates")) > updates + 3,
               "the graph's numbers following training")
    page.screenshot(path=str(tmp_path / "export-training.png"), full_page=True)
    page.click("#play")  # pause: answered between slices, the counter stops
    wait_until(lambda: "running" not in (page.get_attribute("body", "class") or ""), "pause")
    step = frame(page)["step"]
    time.sleep(0.3)
    assert frame(page)["step"] == step
    assert page.blocked == [] and page.problems == []


@pytest.mark.needs_chromium
def test_exported_page_numbers_are_cpythons(page):
    """STEPS steps in the page and in CPython (the same Driver and tape engine) agree: the
    same rounded weights, pictures and graph, the losses within 1e-12 (Pyodide's libm, musl,
    rounds a few tanh/exp/log results one ulp away from glibc's: bits cannot always agree)."""
    wait_until(lambda: frame(page), "the first frame")
    page.evaluate(f"playground.send({{type: 'step', count: {STEPS}}})")
    got = wait_until(lambda: (frame(page) or {}).get("step") == STEPS and frame(page), "steps")

    driver = Driver(Session(None, "tape"))
    driver.hello()
    driver.handle("step", {"count": STEPS})
    texts = []
    while driver.busy:
        texts += driver.train_slice(time.monotonic())
    want = json.loads(texts[-1])
    assert want["type"] == "frame" and want["step"] == STEPS
    for key in ("train_loss", "val_loss"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=0), key
    for key in ("train_acc", "val_acc", "sizes", "classes", "grid", "tile"):
        assert got[key] == want[key], key
    assert nearly(got["weights"], want["weights"], 1.0001e-4)
    for key in ("probs", "tiles"):  # bytes: one level apart at most (a rounding boundary)
        a, b = base64.b64decode(got[key]), base64.b64decode(want[key])
        assert len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) <= 1, key
    assert len(got["graph"]["data"]) == len(want["graph"]["data"]) == 293
    # a message the worker's code does not name reaches the same Python as on the server
    page.evaluate("playground.send({type: 'focus', layer: 1, index: 3})")
    focus = wait_until(lambda: (frame(page) or {}).get("focus"), "a focused frame")
    assert (focus["layer"], focus["index"]) == (1, 3) and len(focus["grid"]) > 0
    assert page.blocked == [] and page.problems == []


def nearly(a, b, tol: float) -> bool:
    return len(a) == len(b) and all(
        nearly(x, y, tol) if isinstance(x, list) else abs(x - y) <= tol for x, y in zip(a, b))


# ---------------------------------------------------------------- what the folder holds


def test_export_writes_the_page_the_runtime_and_the_wheel(exported):
    names = set(exported.files)
    assert {"index.html", "static/main.js", "static/transport.js", "static/worker.js",
            "static/style.css", "viz/viz.js", "export.json", "THIRD-PARTY.txt"} <= names
    assert {f"pyodide/{name}" for name in runtime.PYODIDE.files} <= names
    assert not [n for n in names if n.startswith("pyodide/") and n.endswith((".map", ".html"))]
    on_disk = {p.relative_to(exported.folder).as_posix()
               for p in exported.folder.rglob("*") if p.is_file()}
    assert on_disk == names
    index = (exported.folder / "index.html").read_text()
    assert export_module.TRANSPORT_META in index and export_module.CSP_META in index
    assert "\"/static/" not in index
    manifest = json.loads((exported.folder / "export.json").read_text())
    assert manifest["engine"] == "tape" and (exported.folder / manifest["wheel"]).is_file()
    for name in ("index.html", "static/main.js", "static/transport.js", "static/worker.js"):
        assert "http://" not in (exported.folder / name).read_text().replace(
            "http://127.0.0.1", ""), name  # nothing fetched from elsewhere
    assert exported.size == sum((exported.folder / n).stat().st_size for n in names)


def test_export_again_replaces_its_files_and_keeps_the_users(exported):
    folder = exported.folder
    (folder / "notes.txt").write_text("the teacher's")
    stale = folder / "static" / "old.js"
    stale.write_text("from an older export")
    manifest = json.loads((folder / "export.json").read_text())
    manifest["files"].append("static/old.js")
    manifest["files"].append("../outside.txt")  # a manifest never removes anything outside
    (folder.parent / "outside.txt").write_text("keep")
    (folder / "export.json").write_text(json.dumps(manifest))
    assert cli.main(["playground", "--export", str(folder)]) == 0
    assert not stale.exists() and (folder / "notes.txt").read_text() == "the teacher's"
    assert (folder.parent / "outside.txt").exists()
    assert "static/old.js" not in json.loads((folder / "export.json").read_text())["files"]


def test_the_wheel_is_the_installed_package_and_imports(tmp_path):
    name, data = build_wheel()
    assert name.startswith("micrograd_lab-") and name.endswith("-py3-none-any.whl")
    assert build_wheel()[1] == data  # reproducible bytes
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert "micrograd/engine.py" in names and "micrograd/playground/browser.py" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        record = zf.read(next(n for n in names if n.endswith("/RECORD"))).decode()
        assert "micrograd/engine.py,sha256=" in record
        zf.extractall(tmp_path)
    out = subprocess.run([sys.executable, "-I", "-c",
                          "import sys; sys.path.insert(0, sys.argv[1]); import micrograd.engine, "
                          "micrograd.playground.browser; print(micrograd.__file__)",
                          str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(str(tmp_path))


# ---------------------------------------------------------------- the driver both transports use


class FakeSession(Session):
    def highlight(self, index: int) -> None:  # a message type no transport knows
        self.highlighted = index


def test_driver_dispatches_a_new_message_type_to_the_session(monkeypatch):
    check = protocol._int("index", 0, 9)
    monkeypatch.setitem(protocol.MESSAGES, "highlight", ({"index": check}, {}))
    driver = Driver(FakeSession(None, "tape"))
    out = [json.loads(t) for t in driver.receive(json.dumps({"type": "highlight", "index": 3}))]
    assert [m["type"] for m in out] == ["state", "frame"] and driver.session.highlighted == 3
    bad = json.loads(driver.receive(json.dumps({"type": "highlight", "index": 30}))[0])
    assert bad["type"] == "error" and "index must be in 0..9" in bad["message"]


def test_browser_page_answers_in_the_servers_texts():
    layouts = []
    page = Page("tape", lambda dot: layouts.append(dot) or '<?xml?>\n<!-- c -->\n<svg>x</svg>')
    hello = [json.loads(t) for t in page.hello()]
    assert [m["type"] for m in hello] == ["state", "frame"] and not layouts  # viz.js waits
    graph = [json.loads(t) for t in page.layout()]
    assert [m["type"] for m in graph] == ["graph"] and graph[0]["svg"] == "<svg>x</svg>"
    assert layouts[0].startswith("digraph") and page.layout() == []  # once per shape
    assert [json.loads(t)["type"] for t in page.receive('{"type": "play"}')] == ["status"]
    assert page.busy
    texts = []
    for now in (0.0, 0.2):  # 6 steps owed at 30 per second after 0.2 s of the page's clock
        page.driver.slice = 3600.0  # time enough for them on any machine: the count is checked
        texts += page.train_slice(now)
    assert json.loads(texts[-1])["type"] == "frame" and json.loads(texts[-1])["step"] == 6
    broken = Page("tape", lambda dot: 1 / 0)
    broken.hello()
    graph = json.loads(broken.layout()[0])
    assert graph["svg"] is None and graph["error"].startswith("Graphviz's dot failed")


def test_browser_slices_grow_with_the_frames_cost(monkeypatch):
    """At full speed a slice lasts as long as its frame took (40 to 150 ms). The page's clock is
    a fake that each slice moves on by its training time plus a chosen frame cost, so the
    machine's speed and load play no part."""
    from types import SimpleNamespace

    from micrograd.playground import browser

    clock = [0.0]
    monkeypatch.setattr(browser, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    page = Page("tape", lambda dot: "<svg></svg>")
    page.hello()
    page.receive('{"type": "configure", "speed": 0}')
    page.receive('{"type": "play"}')
    train = page.driver.train_slice

    def costing(seconds: float):  # a slice's training, then a frame that took `seconds`
        def train_slice(now: float) -> list[str]:
            texts = train(now)
            clock[0] += page.driver.slice + seconds
            return texts
        return train_slice

    for cost, want in ((0.005, SLICE), (0.1, 0.1), (0.3, MAX_SLICE), (0.01, SLICE)):
        monkeypatch.setattr(page.driver, "train_slice", costing(cost))
        assert page.train_slice(clock[0])[-1].startswith('{"type":"frame"')
        assert page.driver.slice == pytest.approx(want), cost


# ---------------------------------------------------------------- bad input


def fake_tarballs(folder: Path) -> Path:
    """Tarballs under npm's names whose bytes are not the pinned ones."""
    folder.mkdir()
    for t in runtime.TARBALLS:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo("package/README.md")
            tar.addfile(info, io.BytesIO(b""))
        (folder / t.pack_name).write_bytes(buf.getvalue())
    return folder


def test_a_non_empty_folder_is_refused_and_untouched(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("mine")
    assert cli.main(["playground", "--export", str(tmp_path)]) == 2
    assert "not empty and holds no previous export" in one_error_line(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    assert cli.main(["playground", "--export", str(tmp_path / "mine.txt")]) == 2
    assert "a file of that name exists" in one_error_line(capsys)


def test_a_tampered_tarball_is_refused(tmp_path, capsys):
    tarballs = fake_tarballs(tmp_path / "npm")
    site = tmp_path / "site"
    assert cli.main(["playground", "--export", str(site), "--runtime-from", str(tarballs)]) == 2
    line = one_error_line(capsys)
    assert "is not pyodide 314.0.7 as published" in line and "sha512" in line
    # the user's own file: no advice to delete it (an export with --runtime-from never downloads)
    assert line.endswith("; fetch it again with `npm pack pyodide@314.0.7`")
    assert (tarballs / "pyodide-314.0.7.tgz").is_file()
    assert not site.exists() or not any(p.is_file() for p in site.rglob("*"))


def test_a_tampered_cached_tarball_is_deleted_by_the_user_and_fetched_again(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "cache" / "micrograd-lab").mkdir(parents=True)
    fake_tarballs(tmp_path / "cache" / "micrograd-lab" / "npm")
    assert cli.main(["playground", "--export", str(tmp_path / "site")]) == 2
    assert one_error_line(capsys).endswith("; delete it and export again")


def test_runtime_from_must_hold_the_tarballs(tmp_path, capsys):
    assert cli.main(["playground", "--export", str(tmp_path / "a"),
                     "--runtime-from", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in one_error_line(capsys)
    assert cli.main(["playground", "--export", str(tmp_path / "a"),
                     "--runtime-from", str(tmp_path)]) == 2
    assert "no pyodide-314.0.7.tgz there; fetch it with `npm pack pyodide@314.0.7`" in \
        one_error_line(capsys)
    assert cli.main(["playground", "--runtime-from", str(tmp_path)]) == 2
    assert "--runtime-from only goes with --export" in one_error_line(capsys)


def test_a_failed_download_says_how_to_work_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(runtime.urllib.request, "urlopen", offline)
    assert cli.main(["playground", "--export", str(tmp_path / "site")]) == 2
    line = one_error_line(capsys)
    assert "cannot download pyodide 314.0.7" in line and "no network" in line
    assert "--runtime-from" in line and "npm pack pyodide@314.0.7 @viz-js/viz@3.31.0" in line


def test_a_corrupt_cached_tarball_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = runtime.cache_dir()
    cache.mkdir(parents=True)
    (cache / runtime.PYODIDE.pack_name).write_bytes(b"truncated")
    assert cli.main(["playground", "--export", str(tmp_path / "site")]) == 2
    line = one_error_line(capsys)
    assert str(cache / runtime.PYODIDE.pack_name) in line and "delete it" in line


def test_an_unreadable_folder_or_tarball_is_one_line(tmp_path, monkeypatch, capsys):
    """A folder or a tarball the user may not read (chmod; simulated, as root reads anything)
    is a one-line error, not a PermissionError traceback."""
    site, tarballs = tmp_path / "site", fake_tarballs(tmp_path / "npm")
    site.mkdir()
    real_iterdir, real_read = Path.iterdir, Path.read_bytes

    def iterdir(self):
        if self == site:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    def read_bytes(self):
        if self.suffix == ".tgz":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert cli.main(["playground", "--export", str(site), "--runtime-from", str(tarballs)]) == 2
    assert f"--export {site}: cannot read it: Permission denied" in one_error_line(capsys)
    monkeypatch.setattr(Path, "iterdir", real_iterdir)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert cli.main(["playground", "--export", str(site), "--runtime-from", str(tarballs)]) == 2
    assert "cannot read" in one_error_line(capsys)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "cache" / "micrograd-lab").mkdir(parents=True)
    (tmp_path / "cache" / "micrograd-lab" / "npm").symlink_to(tarballs)
    assert cli.main(["playground", "--export", str(site)]) == 2
    assert "cannot read" in one_error_line(capsys)


def test_a_bug_while_training_is_an_error_message_not_the_end_of_the_worker(monkeypatch):
    """An unexpected exception in a training slice (a bug) stops training with an `error`
    message, as one while handling a message does: the exported page's worker loop, which has
    nothing around `train_slice`, would otherwise die and never answer the page again."""
    page = Page("tape", lambda dot: "<svg></svg>")
    page.hello()

    def broken(n, seconds):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(page.driver.session, "train_steps", broken)
    page.receive(json.dumps({"type": "step", "count": 3}))
    out = [json.loads(t) for t in page.train_slice(1.0)]
    assert out[0]["type"] == "error" and "internal error while training" in out[0]["message"]
    assert "browser's console" in out[0]["message"] and not page.busy
    assert [m["type"] for m in out[1:]] == ["status", "frame"]
