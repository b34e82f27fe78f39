"""The notebook widgets in a real JupyterLab (and the own-model test in Notebook 7 too), driven
in headless Chromium.

The test starts `jupyter lab` on a folder holding one notebook, opens it in Chromium, runs its
cells in the kernel the page started, and works the widget from both sides: buttons clicked in
the page move the step Python reads, and a step set in Python moves the page. Everything is
local: the lab's own files, anywidget's extension and the widget's page.
With MICROGRAD_WIDGET_SHOTS=DIR it keeps a screenshot of each state at 1280×800 and 1024×768.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import CHROMIUM_ARGS, require_chromium, require_module, wait_until

pytestmark = [pytest.mark.needs_chromium, pytest.mark.needs_dot]
WAIT_MS = 120_000  # a busy machine: a page in a cell can take seconds to show

WALK = [
    "from micrograd import Value\n"
    "from micrograd.widgets import Walk\n"
    "a, b = Value(2.0, label='a'), Value(-3.0, label='b')\n"
    "c = (a * b + b**2).tanh(); c.label = 'c'\n"
    "walk = Walk(c, height=420)\n"
    "walk",
    "print('STEP', walk.step, walk.current.phase if walk.current else None)",
    "walk.go(9)",
]


def _notebook(folder: Path, name: str, sources: list[str]) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": source} for source in sources]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# the two front ends: how each is started and where it opens a notebook
FRONT_ENDS = {
    "jupyterlab": (["--LabApp.expose_app_in_browser=True",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                   "/lab/workspaces/{stem}/tree/{name}"),  # a workspace per tab: none asks twice
    "notebook": (["--JupyterNotebookApp.expose_app_in_browser=True"], "/notebooks/{name}"),
}


@contextmanager
def _jupyter(folder: Path, app: str = "jupyterlab"):
    """`jupyter lab` (or Notebook 7) serving `folder` on a free local port: (its base URL, its
    token)."""
    port, token = _free_port(), secrets.token_hex(16)
    # every file Jupyter writes (config, runtime, workspaces, settings, IPython's profile) in
    # the test's folder, none in the user's home; the lab's news prompt answered "no"
    env = {**os.environ, **{name: str(folder / f".{name.lower()}") for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR",
        "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR")}}
    if app == "jupyterlab":  # Notebook 7 has no news (and fails on a setting of a plugin it lacks)
        settings = folder / ".jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    src = Path(__file__).resolve().parents[2] / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    log = (folder / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", app, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={folder}",
         "--ServerApp.allow_root=True", *FRONT_ENDS[app][0]],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{app} exited: {(folder / 'lab.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    return True
            except OSError:
                return False
        wait_until(up, f"{app} to answer", timeout=120)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _run_cell(tab, index: int) -> None:
    tab.evaluate("""(i) => { const app = window.jupyterapp;
        app.shell.currentWidget.content.activeCellIndex = i;
        return app.commands.execute('notebook:run-cell'); }""", index)


def _output(tab, index: int) -> str:
    return tab.evaluate("""(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
        return nb.widgets[i].node.querySelector('.jp-OutputArea')?.innerText ?? ''; }""", index)


def _run_view(tab, index: int, title: str):
    """Run cell `index`, which shows a widget: its page's frame (a kernel error fails at once)."""
    _run_cell(tab, index)
    frames = f".jp-OutputArea iframe[title^='{title}']"
    wait_until(lambda: tab.locator(frames).count() or "Error" in _output(tab, index),
               f"the {title} view", timeout=WAIT_MS / 1000)
    assert "Error" not in _output(tab, index), _output(tab, index)
    return frames


def _read(tab, index: int, text: str) -> None:
    """Run cell `index` until its output holds `text` (what the page did may still be on its
    way to the kernel when the cell first runs)."""
    def shows() -> bool:
        _run_cell(tab, index)
        try:
            wait_until(lambda: _output(tab, index).strip(), "the cell's output", timeout=30)
        except AssertionError:
            return False
        return text in _output(tab, index)
    wait_until(shows, f"cell {index} to print {text!r}", timeout=WAIT_MS / 1000)


def _click(tab, views: str, selector: str, at: tuple[float, float] | None = None) -> None:
    """A mouse click on `selector` in the (scaled, sandboxed) page of the first view, where the
    learner's pointer would be: the element's box in the page, times the view's scale, from the
    view's corner. (Playwright's own click aims wrong in a scaled frame of another origin.)"""
    view = tab.locator(views).first
    view.scroll_into_view_if_needed()
    frame = view.element_handle().content_frame()
    boxes = [view.bounding_box()]

    def settled() -> bool:  # the output area may still be growing or scaling the view
        time.sleep(0.1)
        boxes.append(view.bounding_box())
        return boxes[-1] == boxes[-2]
    wait_until(settled, "the view to keep its place", timeout=30)
    box = boxes[-1]
    x, y, w, h, inner = frame.evaluate("""(sel) => { const r = document.querySelector(sel)
        .getBoundingClientRect(); return [r.x, r.y, r.width, r.height, innerWidth]; }""", selector)
    scale = box["width"] / inner
    dx, dy = at if at is not None else (w / 2, h / 2)
    tab.mouse.click(box["x"] + (x + dx) * scale, box["y"] + (y + dy) * scale)


def _at_1024_and_close(tab, name: str, settle: float) -> None:
    """The tab at 1024×768, kept as a picture once the page has redrawn for its new size (a
    picture only: nothing is asserted of it); no page error all along; the tab closed."""
    tab.set_viewport_size({"width": 1024, "height": 768})
    time.sleep(settle)
    _shot(tab, name)
    assert tab.problems == []
    tab.close()


def _shot(tab, name: str) -> None:
    folder = os.environ.get("MICROGRAD_WIDGET_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (Playwright's sync API runs one at a time)."""
    require_module("anywidget", "needs anywidget (pip install -e '.[test]')")
    chromium_path = require_chromium()
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS,
                                    timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()  # its tabs too


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium):
    """One JupyterLab for the module's notebooks: open(name, cells)."""
    require_module("jupyterlab", "needs JupyterLab (pip install -e '.[test]')")
    yield from _front_end(tmp_path_factory, "jupyterlab", chromium)


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory, chromium):
    """The same in Jupyter Notebook 7."""
    require_module("notebook", "needs Jupyter Notebook 7 (pip install -e '.[test]')")
    yield from _front_end(tmp_path_factory, "notebook", chromium)


def _front_end(tmp_path_factory, app: str, browser):
    folder = tmp_path_factory.mktemp(app)
    with _jupyter(folder, app) as (base, token):
        own_errors: set[str] = set()  # what the front end reports on a notebook of no widget

        def open_notebook(name: str, cells: list[str]):
            """A tab on a new notebook of `cells`, its kernel idle; the page errors that are
            not the front end's own in .problems."""
            _notebook(folder, name, cells)
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.set_default_timeout(120_000)
            tab.problems = []
            tab.on("pageerror", lambda e: str(e) in own_errors or tab.problems.append(str(e)))
            where = FRONT_ENDS[app][1].format(stem=Path(name).stem, name=name)
            tab.goto(f"{base}{where}?token={token}")
            tab.wait_for_function(f"window.jupyterapp?.shell?.currentWidget?.content?.widgets"
                                  f"?.length === {len(cells)} && window.jupyterapp.shell"
                                  ".currentWidget.sessionContext?.session?.kernel?.status"
                                  " === 'idle'")
            return tab

        # Notebook 7 reports an error of its own while it loads any notebook (here: "Cannot
        # read properties of undefined (reading 'schema')"), before a cell runs: a notebook
        # without our widgets shows which, and only those are let pass
        blank = open_notebook("blank.ipynb", ["1 + 1"])
        blank.wait_for_timeout(2000)
        own_errors.update(blank.problems)
        blank.close()
        yield open_notebook


def test_the_walk_widget_steps_from_the_page_and_from_python(lab):
    from playwright import sync_api

    tab = lab("walk.ipynb", WALK)
    views = _run_view(tab, 0, "backpropagation")
    page = tab.frame_locator(views).first
    count = page.locator("#count")
    sync_api.expect(count).to_have_text("step 0 of 11", timeout=WAIT_MS)
    for _ in range(3):
        page.locator("#next").click()
    sync_api.expect(count).to_have_text("step 3 of 11", timeout=WAIT_MS)
    _shot(tab, "walk-step-3-1280")
    _read(tab, 1, "STEP 3 forward")  # the clicks reached Python
    _run_cell(tab, 2)  # walk.go(9): the page follows
    sync_api.expect(count).to_have_text("step 9 of 11", timeout=WAIT_MS)
    sync_api.expect(page.locator("#text")).to_contain_text(".grad", timeout=WAIT_MS)
    _at_1024_and_close(tab, "walk-step-9-1024", settle=0.3)


PLAYGROUND = [
    "from micrograd.widgets import Playground\n"
    "pg = Playground()\n"
    "pg",
    "print('STEP', pg.step(25))",
    "print('NOW', pg.session.step, pg.driver.running)",
]


def _playground(lab, name: str, cells: list[str]):
    """A notebook whose first cell shows a Playground, run until the kernel has answered the
    page (its play button is enabled then): (tab, the views' selector, the page, its counter)."""
    from playwright import sync_api

    tab = lab(name, cells)
    views = _run_view(tab, 0, "micrograd playground")
    page = tab.frame_locator(views).first
    sync_api.expect(page.locator("#play")).to_be_enabled(timeout=WAIT_MS)
    return tab, views, page, page.locator("#step-count")


def _play_past(tab, views: str, count, step: int):
    """The page's play until the kernel has trained past `step`, then its pause, answered: the
    page's frame."""
    frame = tab.locator(views).first.element_handle().content_frame()
    _click(tab, views, "#play")
    frame.wait_for_function("window.playground.running === true", timeout=WAIT_MS)  # the kernel's
    wait_until(lambda: int(count.inner_text() or 0) > step, "the kernel to train on",
               WAIT_MS / 1000)
    _click(tab, views, "#play")
    frame.wait_for_function("window.playground.running === false", timeout=WAIT_MS)
    return frame


def test_the_playground_widget_trains_in_the_kernel(lab):
    from playwright import sync_api

    tab, views, page, count = _playground(lab, "playground.ipynb", PLAYGROUND)
    sync_api.expect(count).to_have_text("0", timeout=WAIT_MS)
    _shot(tab, "playground-start-1280")
    _run_cell(tab, 1)  # 25 steps from Python: the page shows them
    wait_until(lambda: "STEP 25" in _output(tab, 1), "Python to train 25 steps", WAIT_MS / 1000)
    sync_api.expect(count).to_have_text("25", timeout=WAIT_MS)
    _play_past(tab, views, count, 60)  # the kernel trains between cells; the pause answered
    _shot(tab, "playground-trained-1280")
    _run_cell(tab, 2)
    wait_until(lambda: "NOW" in _output(tab, 2), "Python to read the step", WAIT_MS / 1000)
    now = int(_output(tab, 2).split()[1])
    assert now > 60 and "False" in _output(tab, 2)
    sync_api.expect(count).to_have_text(str(now), timeout=WAIT_MS)
    _click(tab, views, "#graph-toggle")  # the graph, laid out by `dot` in the kernel
    sync_api.expect(page.locator("#graph-view svg g.node").first).to_be_attached(timeout=WAIT_MS)
    _shot(tab, "playground-graph-1280")
    _at_1024_and_close(tab, "playground-graph-1024", settle=1.5)


OWN = [
    "import random\n"
    "from micrograd.data import RNG, make_moons\n"
    "from micrograd.nn import MLP\n"
    "from micrograd.widgets import Playground\n"
    "random.seed(1337)\n"
    "model = MLP(2, [8, 8, 1])  # the lecture's kind: ReLU, one output\n"
    "points = [p for part in make_moons(RNG(5), 100) for p in part]\n"
    "X, y = [x for x, _ in points], [1 if c else -1 for _, c in points]\n"
    "w = model.layers[0].neurons[0].w[0]\n"
    "start = w.data\n"
    "pg = Playground(model, (X, y))\n"
    "pg",
    "print('MOVED', w.data != start, pg.model is model, pg.session.step)",
]


@pytest.mark.parametrize("front_end", ["lab", "notebook7"])
def test_the_playground_widget_trains_the_notebooks_own_model(front_end, request):
    from playwright import sync_api

    tab, views, page, count = _playground(request.getfixturevalue(front_end), "own.ipynb", OWN)
    sync_api.expect(page.locator("#own-note")).to_have_text("Your notebook's model and points")
    for fixed in ("#activation", "#problem", "#layers-plus", "#neurons-plus-1", "#n"):
        sync_api.expect(page.locator(fixed)).to_be_disabled()
    sync_api.expect(page.locator("#lr")).to_be_enabled()
    frame = tab.locator(views).first.element_handle().content_frame()
    # a sandboxed page of its own origin: the notebook's page is out of its reach
    reach = "() => { try { return parent.document.title; } catch (e) { return 'blocked'; } }"
    assert frame.evaluate(reach) == "blocked"
    plane = "document.getElementById('boundary').toDataURL()"
    before = frame.evaluate(plane)
    _play_past(tab, views, count, 40)
    assert frame.evaluate(plane) != before  # the plane shows the trained model
    _shot(tab, "playground-own-1280")
    _read(tab, 1, "MOVED True True")  # the notebook's object holds the trained weights
    assert tab.problems == []
    tab.close()


@pytest.mark.parametrize("name, pictures, note, count", [
    ("04_watch_it_train.ipynb", "widget-own", "Your notebook's model and points",
     "step 240 of 567"),
    ("04_watch_it_train.zh.ipynb", "widget-own-zh", "你在笔记本里给的模型和数据点",
     "第 240 步，共 567 步")])
def test_the_docs_notebook_of_the_widgets_runs_in_jupyterlab(lab, name, pictures, note, count):
    """docs/notebooks/04_watch_it_train's code (each edition), cell by cell, in the lab: the
    playground shows the steps Python trained, in the notebook's language, and the walk the step
    Python chose. With MICROGRAD_WIDGET_SHOTS the two widgets are kept as pictures
    (docs/images/widget-own*.png, which the notebooks carry)."""
    import nbformat
    from playwright import sync_api

    book = nbformat.read(Path(__file__).resolve().parents[2] / "docs" / "notebooks" / name,
                         as_version=4)
    tab = lab(name.replace("04_", "run_").replace(".zh.", "_zh."), [c.source for c in book.cells
                                             if c.cell_type == "code"])
    _run_cell(tab, 0)
    wait_until(lambda: "105" in _output(tab, 0), "the model", WAIT_MS / 1000)
    views = _run_view(tab, 1, "micrograd playground")
    page = tab.frame_locator(views).first
    sync_api.expect(page.locator("#play")).to_be_enabled(timeout=WAIT_MS)
    sync_api.expect(page.locator("#own-note")).to_have_text(note)  # in the notebook's lang=
    _run_cell(tab, 2)
    wait_until(lambda: "True" in _output(tab, 2), "200 steps", WAIT_MS / 1000)
    sync_api.expect(page.locator("#step-count")).to_have_text("200", timeout=WAIT_MS)
    _click(tab, views, "#boundary", at=(120, 200))  # a point of value +1 more
    sync_api.expect(page.locator("#points-count")).to_have_text("101", timeout=WAIT_MS)
    _keep(tab.locator(views).first, pictures)
    walks = _run_view(tab, 3, "backpropagation")
    _run_cell(tab, 4)
    walk = tab.frame_locator(walks).first
    sync_api.expect(walk.locator("#count")).to_have_text(count, timeout=WAIT_MS)
    _keep(tab.locator(walks).first, pictures.replace("own", "own-walk"))
    assert tab.problems == []
    tab.close()


def _keep(element, name: str) -> None:
    """A picture of one widget's view, for the docs, when MICROGRAD_WIDGET_SHOTS is set."""
    folder = os.environ.get("MICROGRAD_WIDGET_SHOTS")
    if folder:
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(Path(folder) / f"{name}.png"))
