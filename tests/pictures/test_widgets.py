"""micrograd.widgets in Python: the Walk's state and two-way step, the Playground's session and
messages, the page a cell carries whole, and the one line without the extra."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import pytest

from conftest import require_module
from micrograd import Value
from micrograd.walk import backprop_steps

pytestmark = pytest.mark.needs_dot


@pytest.fixture
def Walk():
    require_module("anywidget", "needs anywidget (pip install -e '.[test]')")
    from micrograd.widgets import Walk

    return Walk


def _loss():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    return (a * b + b**2).tanh()


def test_the_widget_holds_the_walk_and_its_step(Walk):
    loss = _loss()
    walk = Walk(loss, height=500)
    steps = backprop_steps(loss)
    assert (walk.steps, walk.step, walk.height, walk.current) == (len(steps), 0, 500, None)
    walk.go(3)
    assert walk.current == steps[2]
    walk.step = 10_000
    assert walk.step == len(steps) and walk.current == steps[-1]
    walk.step = -1
    assert walk.step == 0


def test_the_page_says_its_step_and_goes_where_it_is_told(Walk):
    page = Walk(_loss()).page
    assert "micrograd_walk_at" in page and "micrograd_walk_go" in page
    assert "ev.source === parent" in page  # only the widget around it moves it


def test_a_walk_needs_a_value_and_says_what_it_takes(Walk):
    with pytest.raises(TypeError, match="Walk needs a Value"):
        Walk(3.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'; it takes height"):
        Walk(_loss(), bogus=1)
    with pytest.raises(ValueError, match="height=-1"):
        Walk(_loss(), height=-1)
    assert Walk(_loss(), lang=None).steps == Walk(_loss()).steps  # None: English


def test_without_anywidget_the_import_says_what_to_install():
    code = ("import sys; sys.modules['anywidget'] = None\n"
            "from micrograd.widgets import Walk")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "pip install -e '.[notebooks]' in the clone" in proc.stderr.strip().splitlines()[-1]


@pytest.fixture
def Playground():
    require_module("anywidget", "needs anywidget (pip install -e '.[test]')")
    from micrograd.widgets import Playground

    return Playground


def _sent(widget):
    """What the widget sends its views, kept instead of sent (no front end here)."""
    out = []
    widget.send = lambda content, buffers=None: out.append(content)
    return out


def test_the_playground_trains_its_session_from_python(Playground):
    pg = Playground(engine="tape")
    sent = _sent(pg)
    weight = pg.model.parameters()[0]
    before = weight.data
    assert pg.step(12) == 12 and pg.session.step == 12
    assert weight is pg.model.parameters()[0] and weight.data != before  # trained in place
    frames = [m for m in (json.loads(t) for s in sent for t in s["texts"]) if m["type"] == "frame"]
    assert frames[-1]["step"] == 12
    assert pg.history["step"] == list(range(12))  # every step, as micrograd train logs it


def test_the_playground_answers_its_page_through_the_driver(Playground):
    pg = Playground(engine="tape")
    sent = _sent(pg)
    pg._on_msg(pg, {"kind": "hello", "view": "v1"}, None)
    assert sent[0]["open"] == "v1"
    assert [json.loads(t)["type"] for t in sent[0]["texts"]] == ["state", "frame"]
    pg._on_msg(pg, {"kind": "text", "text": json.dumps({"type": "configure", "lr": 0.05})}, None)
    state = json.loads(sent[-1]["texts"][0])
    assert state["type"] == "state" and state["config"]["lr"] == 0.05
    pg._on_msg(pg, {"kind": "text", "text": "not json"}, None)
    assert json.loads(sent[-1]["texts"][0])["type"] == "error"


def test_the_cell_page_carries_everything_it_loads():
    from micrograd.playground.assets import made_files
    from micrograd.widgets.page import BASE, widget_page

    page = widget_page("tape")
    assert not re.search(r'(?:from|import)\s*\(?\s*"\./', page)  # no module is fetched
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page).group(1))
    modules = {name: base64.b64decode(url.split(",", 1)[1]).decode()
               for name, url in imports["imports"].items()}
    wanted = {f"micrograd/{m}" for src in modules.values()
              for m in re.findall(r'"micrograd/([\w-]+\.js)"', src)}
    assert wanted <= set(modules) and "micrograd/main.js" in modules
    assert 'content="widget"' in page and f'<base href="{BASE}">' in page
    files = json.loads(re.search(r'id="micrograd-files">(.*?)</script>', page).group(1)
                       .replace("<\\/", "</"))
    assert files == made_files("tape")
    assert '<link rel="stylesheet"' not in page and "filenote.js" not in page
    assert 'src="/static/main.js"' not in page and 'import "micrograd/main.js"' in page


def test_step_takes_a_count_of_steps(Playground):
    pg = Playground(engine="tape")
    _sent(pg)
    for bad in (0, -1, 2.5, "3", True, 10_001):
        with pytest.raises(ValueError, match="number of steps"):
            pg.step(bad)
    assert pg.session.step == 0
    np = pytest.importorskip("numpy")
    assert pg.step(np.int64(3)) == 3  # a NumPy integer is a whole number too


def test_training_stops_with_the_widget_and_with_its_last_view(Playground):
    import asyncio

    async def scenario():
        pg = Playground(engine="tape")
        _sent(pg)
        for view in ("a", "b"):
            pg._on_msg(pg, {"kind": "hello", "view": view}, None)
        pg.play()
        assert pg._timer is not None and pg.driver.running
        pg._on_msg(pg, {"kind": "bye", "view": "a"}, None)
        assert pg.driver.running  # one view is still there
        pg._on_msg(pg, {"kind": "bye", "view": "b"}, None)
        assert pg._timer is None and not pg.driver.running
        pg.play()
        pg.close()
        assert pg._timer is None and not pg.driver.running

    asyncio.run(scenario())


def test_a_view_that_starts_later_gets_the_graph_too(Playground):
    pg = Playground(engine="tape")
    sent = _sent(pg)
    pg._on_msg(pg, {"kind": "hello", "view": "a"}, None)
    pg._on_msg(pg, {"kind": "text", "text": json.dumps({"type": "pick", "index": 1})}, None)
    pg._on_msg(pg, {"kind": "hello", "view": "b"}, None)
    kinds = [json.loads(t)["type"] for t in sent[-1]["texts"]]
    assert sent[-1]["open"] == "b" and "graph" in kinds


def test_the_playground_trains_the_notebooks_own_model_in_place(Playground):
    import random

    from micrograd.data import RNG, make_moons
    from micrograd.nn import MLP

    random.seed(1337)
    model = MLP(2, [8, 8, 2])  # 0.1.0's kind, as a lecture notebook builds it
    points = [p for part in make_moons(RNG(5), 80) for p in part]
    X, y = [x for x, _ in points], [c for _, c in points]
    pg = Playground(model, (X, y), engine="tape", lr=0.03, batch_size=10)
    sent = _sent(pg)
    assert pg.model is model and (pg.session.config.lr, pg.session.config.batch_size) == (0.03, 10)
    pg._on_msg(pg, {"kind": "hello", "view": "v"}, None)
    state = json.loads(sent[0]["texts"][0])
    assert state["sizes"] == [2, 8, 8, 2] and "hidden" in state["locked"] and state["own_points"]
    given = [p.data for p in model.parameters()]
    pg.step(20)
    assert [p.data for p in model.parameters()] != given and pg.history["step"] == list(range(20))
    pg._on_msg(pg, {"kind": "text", "text": json.dumps({"type": "reset"})}, None)
    assert [p.data for p in model.parameters()] == given


def test_a_setting_given_by_name_is_checked_as_the_pages(Playground):
    from micrograd.nn import MLP

    points = ([[0, 0], [1, 1], [1, 0]], [0, 1, 1])
    for kw, words in ((dict(lr=-1), "lr must be"), (dict(colour="red"), "unknown setting colour="),
                      (dict(model=MLP(2, [4, 1]), problem="classification"),
                       "problem='classification': your model makes it 'regression'"),
                      (dict(data=points, noise=0.3), "noise= does not apply to your own points"),
                      (dict(data=points, dataset="moons"), "dataset='moons': your points")):
        with pytest.raises(ValueError, match=re.escape(words)):
            Playground(**kw)
    assert Playground(MLP(2, [4, 2]), dataset="moons").session.config.dataset == "moons"
    assert Playground(problem="regression").session.config.dataset == "plane"


def test_the_walks_current_step_names_values_as_its_page_does(Walk):
    import random

    from micrograd.graph import trace_mlp
    from micrograd.nn import MLP

    random.seed(3)
    trace = trace_mlp(MLP(2, [2, 1]), [0.5, -1.0], 1.0, regression=True)
    walk = Walk(trace.loss, **trace.style())
    walk.go(3)
    assert json.dumps(walk.current.text)[1:-1] in walk.page  # the sentence the page shows
    assert walk.current.text.startswith("w1[0,")  # the trace's name, not v3


def test_in_an_event_loop_the_graph_is_laid_out_off_the_kernels_thread(Playground, monkeypatch):
    import asyncio
    import threading

    from micrograd.widgets import playground as widget

    where = []

    def layout(info, lay, missing):
        where.append(threading.current_thread() is threading.main_thread())
        return json.dumps({"type": "graph", "id": info["id"]})

    monkeypatch.setattr(widget, "graph_message", layout)

    async def scenario():
        pg = Playground(engine="tape")
        sent = _sent(pg)
        pg._on_msg(pg, {"kind": "hello", "view": "a"}, None)
        pg._on_msg(pg, {"kind": "text", "text": json.dumps({"type": "pick", "index": 2})}, None)
        for _ in range(200):
            if any("graph" in t for s in sent for t in s["texts"]):
                break
            await asyncio.sleep(0.01)
        return sent

    sent = asyncio.run(scenario())
    assert where and not any(where)  # laid out in a worker thread
    assert json.loads(sent[-1]["texts"][0])["type"] == "graph"


def test_the_walk_and_the_playground_speak_the_language_asked_for(Walk, Playground):
    loss = _loss()
    walk = Walk(loss, lang="zh")
    assert "反向传播，逐步演示" in walk.page and "\u21e4 开头" in walk.page
    words = json.loads(re.search(r'id="words"[^>]*>(.*?)</script>', walk.page).group(1))
    assert words["count"] == "第 {k} 步，共 {n} 步"
    first_back = next(i for i, s in enumerate(backprop_steps(loss)) if s.phase == "start")
    walk.go(first_back + 1)  # the backward pass's first step: a sentence, said in Chinese
    assert walk.current.text.endswith("输出对自身的导数就是 1")
    assert Walk(loss).current is None and "\u21e4 start" in Walk(loss).page
    assert '<meta name="micrograd-lang" content="zh">' in Playground(engine="tape", lang="zh").page
    assert "micrograd-lang" not in Playground(engine="tape").page  # the reader's browser decides
    for make in (lambda: Walk(loss, lang="fr"), lambda: Playground(lang="fr")):
        with pytest.raises(ValueError, match="lang='fr'"):
            make()


def test_the_widgets_history_is_micrograd_trains_log_for_the_same_model_and_points(
        Playground, tmp_path):
    """`micrograd train` run as a command; the widget handed the model and the points it builds:
    `pg.history` holds every step's train loss and every 10th step's val loss, the command's
    metrics.csv within 1e-12 (measured: the same bits)."""
    import csv
    from pathlib import Path

    from micrograd.config import TrainConfig
    from micrograd.data import RNG
    from micrograd.nn import chapter_mlp
    from micrograd.run import load_splits

    src = Path(__file__).resolve().parents[2] / "src"
    subprocess.run([sys.executable, "-m", "micrograd", "train", "--steps", "40", "--out",
                    str(tmp_path / "run"), "--no-plot", "--quiet"], check=True,
                   capture_output=True, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    with (tmp_path / "run" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    rng = RNG(42)
    train, val, _ = load_splits(TrainConfig(), rng)
    model = chapter_mlp([2, 16, 3], rng=rng)
    pg = Playground(model, ([x for x, _ in train], [y for _, y in train]),
                    val=([x for x, _ in val], [y for _, y in val]))
    _sent(pg)
    pg.step(25)
    pg.step(15)
    h = pg.history
    assert h["step"] == [int(r["step"]) for r in rows] == list(range(40))
    for loss, vloss, r in zip(h["train"], h["val"], rows):
        assert loss == pytest.approx(float(r["train_loss"]), rel=1e-12, abs=0)
        assert (vloss is None) == (r["val_loss"] == "")
        if vloss is not None:
            assert vloss == pytest.approx(float(r["val_loss"]), rel=1e-12, abs=0)
