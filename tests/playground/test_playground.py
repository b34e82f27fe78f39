"""The playground's session, message checks, server and command (no browser: see
test_playground_browser.py; load: test_playground_load.py).

Oracles: the session's training is `micrograd.train.train` (same data, same weights, same bits),
its frame's losses and accuracies are the engine's and `evaluate`'s, its graph values are
`trace_mlp`'s. Every message type is sent well-formed, malformed and out of bounds through
Starlette's TestClient; each bad one must come back as an `error` message on a connection that
still answers pings.
"""

from __future__ import annotations

import base64
import gc
import json
import math
import re
import subprocess
import sys
import time
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import anyio
import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from micrograd import cli
from micrograd.data import RNG, gen_data
from micrograd.graph import fmt_number, trace_mlp
from micrograd.losses import cross_entropy
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.playground import protocol, server
from micrograd.playground.session import (
    GRAPH_MAX_VALUES,
    GRID,
    TILE,
    Config,
    Diverged,
    Session,
    SessionError,
)
from micrograd.train import evaluate, make_engine, train

SVG = "{http://www.w3.org/2000/svg}"
REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- the session


def test_default_session_is_the_chapter_run():
    # same data, same initial weights, and 10 steps give the same bits as `micrograd train`'s loop
    s = Session()
    rng = RNG(42)
    tr, va, te = gen_data(rng, n=100)
    model = chapter_mlp([2, 16, 3], rng=rng)
    assert s.train == tr and s.val == va + te
    assert [p.data for p in s.params] == [p.data for p in model.parameters()]
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    train(model, opt, tr, va, steps=10, eval_every=0, log=lambda _: None, engine="numpy")
    assert s.train_steps(10) == 10 and s.step == 10
    assert [p.data for p in s.params] == [p.data for p in model.parameters()]


def test_tape_and_numpy_sessions_agree_with_minibatches():
    cfg = dict(dataset="moons", hidden=[8, 8], activation="relu", batch_size=10)
    a, b = Session(Config(**cfg), engine="numpy"), Session(Config(**cfg), engine="tape")
    a.train_steps(25)
    b.train_steps(25)
    for p, q in zip(a.params, b.params):
        assert p.data == pytest.approx(q.data, rel=1e-10, abs=1e-12)


def test_frame_losses_accuracies_and_probabilities():
    s = Session(Config(dataset="circles", hidden=[4], activation="tanh"))
    s.train_steps(30)
    f = s.frame()
    engine = make_engine("eager", s.model, 2)
    for split, loss, acc in ((s.train, f["train_loss"], f["train_acc"]),
                             (s.val, f["val_loss"], f["val_acc"])):
        ref = evaluate(s.model, split, engine)
        assert loss == pytest.approx(ref.loss, rel=1e-12)
        assert acc == ref.accuracy
    probs = np.frombuffer(base64.b64decode(f["probs"]), dtype=np.uint8)
    assert probs.size == GRID * GRID * 2 and f["grid"] == GRID
    sums = probs.reshape(-1, 2).sum(axis=1)
    assert np.all(np.abs(sums.astype(int) - 255) <= 1)  # each cell's probabilities sum to 1
    # the top-left cell is the plane's corner (x0, y1): its class-0 probability from the model
    x0, x1, y0, y1 = s.extent
    corner = [x0 + (x1 - x0) / GRID / 2, y1 - (y1 - y0) / GRID / 2]
    logits = s.model.predict(corner)
    p0 = 1 / (1 + math.exp(logits[1] - logits[0]))
    assert abs(probs[0] - p0 * 255) <= 0.51
    tiles = np.frombuffer(base64.b64decode(f["tiles"]), dtype=np.uint8)
    assert tiles.size == 4 * TILE * TILE
    h = s.model.layers[0].predict(corner)  # tile pixel (0, 0) is grid cell (0, 0)
    assert [tiles[k * TILE * TILE] for k in range(4)] == [round((v + 1) * 127.5) for v in h]
    assert [len(w) for w in f["weights"]] == [4 * 3, 2 * 5]
    json.dumps(f, allow_nan=False)  # what the server sends: strict JSON


def test_graph_values_are_trace_mlp_and_do_not_touch_training_grads():
    s = Session()
    s.train_steps(5)
    s.pick(3)
    for p in s.params:
        p.grad = 0.25  # as if mid-step: drawing must leave these alone
    f = s.frame()
    assert s.pending_render
    info = s.graph_dot()
    assert info["mode"] == "full" and not s.pending_render
    x, label = s.train[3]
    ref = trace_mlp(s.model, x, label)  # the oracle (this one does write the model's grads)
    nodes = ref.nodes()
    assert f["graph"]["data"] == [fmt_number(v.data) for v in nodes]
    assert f["graph"]["grad"] == [fmt_number(v.grad) for v in nodes]
    assert info["values"] == len(nodes) == 293
    assert f["graph"]["loss"] == pytest.approx(cross_entropy(s.model(x), label).data, rel=1e-12)
    s2 = Session()
    s2.train_steps(5)
    for p in s2.params:
        p.grad = 0.25
    s2.pick(3)
    s2.frame()
    assert all(p.grad == 0.25 for p in s2.params)


def test_big_graph_shows_output_layer_with_the_full_graphs_numbers():
    s = Session(Config(hidden=[16, 16]))
    s.train_steps(3)
    s.pick(7)
    info = s.graph_dot()
    assert info["mode"] == "head" and info["values"] <= GRAPH_MAX_VALUES
    assert "too many to read" in info["note"] and "output layer" in info["note"]
    head, _ = s.trace()
    full = trace_mlp(s.model, *s.train[7])
    assert len(full.nodes()) > GRAPH_MAX_VALUES
    by_name = {name: v for v, name in full.names.items()}
    for v, name in head.names.items():
        if re.fullmatch(r"[wb]3\[[\d,]+\]|h2\[\d+\]|loss", name):
            ref = by_name[name]  # same weight, or the same hidden output, in the whole graph
            assert v.data == pytest.approx(ref.data, rel=1e-12)
            assert v.grad == pytest.approx(ref.grad, rel=1e-9, abs=1e-15)
    assert any(name.startswith("h2[") for name in head.names.values())


def test_points_add_clear_pick():
    s = Session()
    n = len(s.train)
    s.pick(n + 2)  # a val point
    x1 = s.extent[1]
    s.add_point(0.5, -0.5, 2)
    assert s.train[-1] == ([0.5, -0.5], 2) and s.picked == n + 3  # still the same val point
    with pytest.raises(SessionError, match="off the plane"):
        s.add_point(x1 + 1, 0.0, 0)
    with pytest.raises(SessionError, match="not a class"):
        s.add_point(0.0, 0.0, 3)
    with pytest.raises(SessionError, match="does not exist"):
        s.pick(len(s.points()))
    s.clear()
    assert s.points() == [] and s.picked is None and s.graph_dot()["dot"] is None
    with pytest.raises(SessionError, match="no training points"):
        s.train_steps(1)
    s.add_point(0.1, 0.2, 1)
    assert s.picked == 0 and s.train_steps(2) == 2
    f = s.frame()
    assert f["val_loss"] is None and f["val_acc"] is None and f["train_acc"] is not None


def test_every_dataset_fits_its_plane_and_noise_jitters_seed():
    s = Session()
    for name in ("yinyang", "moons", "circles", "spiral", "xor", "chapter"):
        assert s.configure({"dataset": name}) == "data"
        x0, x1, y0, y1 = s.extent
        assert x1 - x0 == pytest.approx(y1 - y0)
        assert all(x0 <= x[0] <= x1 and y0 <= x[1] <= y1 for x, _ in s.train + s.val)
        assert {y for _, y in s.train} == set(range(s.classes))
    s.configure({"dataset": "chapter"})
    clean = [x for x, _ in s.train]
    s.configure({"noise": 0.3})
    assert [x for x, _ in s.train] != clean and s.config.noise == 0.3
    s.configure({"dataset": "moons"})
    assert s.config.noise == 0.1  # a new dataset brings its own noise


def test_configure_rebuilds_only_what_changed():
    s = Session()
    s.train_steps(3)
    assert s.configure({"lr": 0.01, "weight_decay": 0.0, "speed": 0, "batch_size": 5}) == "hyper"
    assert s.step == 3 and s.optimizer.lr == 0.01 and s.optimizer.weight_decay == 0.0
    assert s.configure({"hidden": [3, 2], "activation": "sigmoid"}) == "network"
    assert s.step == 0 and s.model.sizes == [2, 3, 2, 3] and s.param_count() == 9 + 8 + 9
    points = s.points()
    assert s.configure({"train_frac": 0.5}) == "data" and len(s.train) == 50
    assert s.configure({"train_frac": 0.5}) == "hyper"  # nothing changed
    s.new_seed()
    assert s.config.seed == 43 and s.points() != points


def test_reset_restarts_the_same_weights_and_divergence_stops_training():
    s = Session()
    start = [p.data for p in s.params]
    s.train_steps(5)
    s.params[0].data = math.nan
    with pytest.raises(Diverged, match="lower the learning rate"):
        s.train_steps(1)
    with pytest.raises(Diverged):
        s.train_steps(1)
    json.dumps(s.frame(), allow_nan=False)  # a NaN model still draws (as blanks)
    s.reset()
    assert [p.data for p in s.params] == start and s.step == 0 and s.train_steps(1) == 1


# ---------------------------------------------------------------- message checks


@pytest.mark.parametrize("text, match", [
    ("{", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"play"', "must be a JSON object"),
    ("{}", "unknown message type"),
    ('{"type": "explode"}', "unknown message type"),
    ('{"type": 7}', "unknown message type"),
    ('{"type": "play", "now": true}', "unknown field"),
    ('{"type": "configure"}', "at least one"),
    ('{"type": "configure", "lr": NaN}', "not valid JSON"),
    ('{"type": "configure", "lr": Infinity}', "not valid JSON"),
    ('{"type": "configure", "lr": 1e999}', "finite"),
    ('{"type": "configure", "lr": 0}', r"lr must be in \(0"),
    ('{"type": "configure", "lr": 11}', "lr must be in"),
    ('{"type": "configure", "lr": "0.1"}', "lr must be a number"),
    ('{"type": "configure", "lr": true}', "lr must be a number"),
    ('{"type": "configure", "n": 5}', "n must be in 10..1000"),
    ('{"type": "configure", "n": 100.5}', "n must be an integer"),
    ('{"type": "configure", "noise": -0.1}', "noise must be in"),
    ('{"type": "configure", "train_frac": 0.95}', "train_frac must be in"),
    ('{"type": "configure", "seed": 0}', "seed must be in"),
    ('{"type": "configure", "dataset": "mnist"}', "dataset must be one of"),
    ('{"type": "configure", "dataset": ["seed"]}', "dataset must be one of"),
    ('{"type": "configure", "activation": "gelu"}', "activation must be one of"),
    ('{"type": "configure", "hidden": [1, 2, 3, 4, 5]}', "0..4 layers"),
    ('{"type": "configure", "hidden": [17]}', "hidden layer size must be in 1..16"),
    ('{"type": "configure", "hidden": [0]}', "hidden layer size must be in 1..16"),
    ('{"type": "configure", "hidden": 16}', "must be a list"),
    ('{"type": "configure", "weight_decay": 2}', "weight_decay must be in"),
    ('{"type": "configure", "batch_size": -1}', "batch_size must be in"),
    ('{"type": "configure", "speed": 1001}', "speed must be in"),
    ('{"type": "add_point", "x": 0, "y": 0}', "exactly one of 'label'"),
    ('{"type": "add_point", "x": "0", "y": 0, "label": 0}', "x must be a number"),
    ('{"type": "add_point", "x": 1e6, "y": 0, "label": 0}', "x must be in"),
    ('{"type": "add_point", "x": 0, "y": 0, "label": -1}', "label must be in"),
    ('{"type": "add_point", "x": 0, "y": 0, "label": 10}', "label must be in"),
    ('{"type": "step", "count": 0}', "count must be in 1..1000"),
    ('{"type": "step", "count": 1001}', "count must be in 1..1000"),
    ('{"type": "pick"}', "missing field 'index'"),
    ('{"type": "pick", "index": -1}', "index must be in"),
    ('{"type": "pick", "index": null}', "index must be an integer"),
    ('{"type": "ping", "id": 1.5}', "id must be an integer"),
    ('{"type": "ping", "id": [1]}', "id must be an integer"),
    ("[" * 100_000, "characters; at most"),
    ("[" * 10_000 + "]" * 10_000, "characters; at most"),
    (b"\x00\x01", "not binary"),
])
def test_bad_messages_are_refused_with_a_reason(text, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        protocol.parse(text)


def test_deep_nesting_and_long_numbers_under_the_size_limit_are_refused():
    with pytest.raises(protocol.ProtocolError, match="not valid JSON"):
        protocol.parse("[" * 5000 + "]" * 5000)  # RecursionError inside json, not a crash
    with pytest.raises(protocol.ProtocolError):
        protocol.parse('{"type": "ping", "id": ' + "9" * 4400 + "}")  # int parsing limit


def test_good_messages_parse_to_typed_fields():
    assert protocol.parse('{"type": "configure", "n": 200.0, "lr": 1}') == \
        ("configure", {"n": 200, "lr": 1.0})
    assert protocol.parse('{"type": "ping", "id": "abc"}') == ("ping", {"id": "abc"})
    assert protocol.parse('{"type": "step"}') == ("step", {})
    assert protocol.parse('{"type": "configure", "hidden": []}') == ("configure", {"hidden": []})


# ---------------------------------------------------------------- the server


def recv(ws, timeout: float = 60.0) -> dict:
    """The next message from the server, or a failure after `timeout` seconds (never a hang)."""
    async def get():
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()
    msg = ws.portal.call(get)
    if msg["type"] == "websocket.close":
        raise WebSocketDisconnect(msg.get("code", 1000), msg.get("reason"))
    return json.loads(msg["text"])


def until(ws, kind: str, pred=lambda m: True, limit: int = 500) -> dict:
    """Read messages until one of type `kind` satisfies `pred`; errors fail the test."""
    for _ in range(limit):
        msg = recv(ws)
        if msg["type"] == kind and pred(msg):
            return msg
        assert msg["type"] != "error" or kind == "error", msg
    raise AssertionError(f"no {kind} message in {limit}")


def ping(ws, ident) -> None:
    ws.send_text(json.dumps({"type": "ping", "id": ident}))
    until(ws, "pong", lambda m: m["id"] == ident)


@pytest.fixture
def client():
    with TestClient(server.create_app()) as c:
        yield c


@pytest.fixture
def ws(client):
    with client.websocket_connect("/ws") as ws:
        first = recv(ws)
        assert first["type"] == "state" and first["step"] == 0 and first["sizes"] == [2, 16, 3]
        assert until(ws, "frame")["step"] == 0
        yield ws


def send(ws, **msg) -> None:
    ws.send_text(json.dumps(msg))


def test_static_files_and_nothing_else(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/main.js"' in page.text
    assert "https://" not in page.text
    for path, kind in (("/static/main.js", "javascript"), ("/static/style.css", "css")):
        r = client.get(path)
        assert r.status_code == 200 and kind in r.headers["content-type"] and len(r.text) > 1000
        assert "http://" not in r.text and "https://" not in r.text  # nothing from a CDN
    for path in ("/static/../session.py", "/static/session.py", "/static/static/main.js",
                 "/etc/passwd", "/static/%2e%2e/server.py", "/index.html", "/favicon.ico"):
        assert client.get(path).status_code == 404, path
    assert client.post("/").status_code == 405


def test_host_check_and_cross_origin_sockets_are_refused():
    host = {"host": "127.0.0.1:8765"}
    with TestClient(server.create_app(allowed_hosts=server.LOOPBACK_HOSTS),
                    base_url="http://127.0.0.1:8765") as c:
        assert c.get("/").status_code == 200
        # a DNS-rebinding page reaches us under its own name: refused
        assert c.get("/", headers={"host": "attacker.example"}).status_code == 400
        with pytest.raises(WebSocketDisconnect) as e, \
                c.websocket_connect("/ws", headers={"host": "attacker.example"}):
            pass
        assert e.value.status_code == 400
        # another site's page in the same browser: its Origin is not our host
        with pytest.raises(WebSocketDisconnect) as e, \
                c.websocket_connect("/ws", headers={**host, "origin": "http://attacker.example"}):
            pass
        assert e.value.code == 1008  # closed before accepting (uvicorn answers HTTP 403)
        with c.websocket_connect("/ws", headers={**host, "origin": "http://127.0.0.1:8765"}) as ws:
            assert recv(ws)["type"] == "state"
        with c.websocket_connect("/ws", headers=host) as ws:  # no Origin: not a browser
            assert recv(ws)["type"] == "state"


def test_ping_echoes_its_id(ws):
    send(ws, type="ping", id=7)
    assert until(ws, "pong") == {"type": "pong", "id": 7}
    send(ws, type="ping")
    assert until(ws, "pong") == {"type": "pong"}


def test_play_pause_step_reset(ws):
    send(ws, type="configure", speed=100)  # ~5 steps a frame: the loss is still falling fast
    until(ws, "state")
    send(ws, type="play")
    assert until(ws, "status")["running"] is True
    first = until(ws, "frame", lambda m: m["step"] > 0)
    later = until(ws, "frame", lambda m: m["step"] > first["step"] + 20)
    assert later["train_loss"] < first["train_loss"] and later["running"] is True
    send(ws, type="pause")
    paused = until(ws, "status", lambda m: not m["running"])
    ping(ws, "after-pause")
    send(ws, type="step", count=7)
    f = until(ws, "frame", lambda m: m["step"] >= paused["step"] + 7)
    assert f["step"] == paused["step"] + 7 and f["running"] is False
    send(ws, type="step")
    assert until(ws, "frame")["step"] == paused["step"] + 8
    send(ws, type="reset")
    st = until(ws, "state")
    assert st["step"] == 0 and st["history"]["step"] == []
    assert until(ws, "frame")["step"] == 0


def test_speed_limits_the_steps(ws):
    """At 5 steps per second, k steps take at least k / 5 seconds from the `play`: a lower bound
    holds on any machine, however busy (a stalled second is not made up, so no burst can beat
    it). How close to the speed training keeps is a benchmark (benchmarks/playground_load.py)."""
    send(ws, type="configure", speed=5)
    step = until(ws, "state")["step"]
    start = time.monotonic()  # before the server can have trained a step
    send(ws, type="play")
    t1 = until(ws, "frame", lambda m: m["step"] >= step + 5)
    elapsed = time.monotonic() - start  # after the server sent that frame
    send(ws, type="pause")
    until(ws, "status", lambda m: not m["running"])
    assert elapsed >= (t1["step"] - step) / 5 >= 1.0  # 5 steps or more at 5 per second


def test_configure_every_field(ws):
    fields = {"dataset": "xor", "noise": 0.2, "n": 60, "train_frac": 0.5, "seed": 7,
              "hidden": [3, 2], "activation": "relu", "lr": 0.03, "weight_decay": 0.001,
              "batch_size": 10, "speed": 100}
    send(ws, type="configure", **fields)
    st = until(ws, "state")
    assert {k: st["config"][k] for k in fields} == fields
    assert st["classes"] == 2 and st["sizes"] == [2, 3, 2, 2] and st["params"] == 9 + 8 + 6
    assert len(st["points"]) == 60 and sum(p[3] for p in st["points"]) == 30
    f = until(ws, "frame")
    assert f["classes"] == 2 and f["sizes"] == [2, 3, 2, 2]
    assert len(base64.b64decode(f["tiles"])) == 5 * TILE * TILE
    send(ws, type="configure", hidden=[])
    st = until(ws, "state")
    assert st["sizes"] == [2, 2] and st["params"] == 6
    assert until(ws, "frame")["tiles"] == ""


def test_points_messages(ws):
    send(ws, type="add_point", x=0.25, y=-0.5, label=2)
    st = until(ws, "state")
    assert len(st["points"]) == 101 and [0.25, -0.5, 2, 0] in st["points"]
    send(ws, type="pick", index=100)
    assert until(ws, "state")["picked"] == 100
    send(ws, type="clear")
    st = until(ws, "state")
    assert st["points"] == [] and st["picked"] is None
    assert until(ws, "graph")["svg"] is None
    send(ws, type="play")
    err = until(ws, "error")
    assert "no training points" in err["message"] and err["request"] == "play"
    assert until(ws, "status")["running"] is False
    send(ws, type="regenerate")
    st = until(ws, "state")
    assert len(st["points"]) == 100 and st["config"]["seed"] == 43 and st["picked"] == 0


@pytest.mark.parametrize("msg, match", [
    ({"type": "add_point", "x": 50.0, "y": 0.0, "label": 0}, "off the plane"),
    ({"type": "add_point", "x": 0.0, "y": 0.0, "label": 5}, "not a class"),
    ({"type": "pick", "index": 100}, "does not exist"),
    ({"type": "configure", "lr": -1}, "lr must be in"),
    ({"type": "configure", "hidden": [4, 4, 4, 4, 4]}, "0..4 layers"),
    ({"type": "nope"}, "unknown message type"),
    ({"type": "step", "count": 5000}, "count must be in"),
])
def test_bad_messages_get_an_error_and_the_connection_lives(ws, msg, match):
    send(ws, **msg)
    err = until(ws, "error")
    assert re.search(match, err["message"]), err
    assert "Traceback" not in err["message"]
    ping(ws, 1)
    send(ws, type="step")
    assert until(ws, "frame")["step"] == 1


def test_malformed_frames_on_the_socket(ws):
    for raw in ("not json", "[]", '{"type": "configure", "n": NaN}', "x" * 20_000):
        ws.send_text(raw)
        assert until(ws, "error")["request"] is None
    ws.send_bytes(b"\x00\xff")
    assert "binary" in until(ws, "error")["message"]
    ping(ws, "still-alive")


def test_flood_is_refused_not_queued_forever(ws):
    for _ in range(300):
        send(ws, type="reset")
    errors = states = 0
    while errors + states < 300:
        msg = recv(ws)
        if msg["type"] == "error":
            assert "messages are waiting; reset was dropped" in msg["message"]
            errors += 1
        states += msg["type"] == "state"
    assert errors > 0 and states >= 65  # the inbox held 64 while the first was handled
    ping(ws, "after-flood")


def svg_boxes(svg: str) -> dict[int, list[str]]:
    """Value node index -> the lines of text in its box."""
    boxes = {}
    for node in ET.fromstring(svg).iter(f"{SVG}g"):
        title = node.find(f"{SVG}title").text
        if node.get("class") == "node" and re.fullmatch(r"v\d+", title):
            boxes[int(title[1:])] = [t.text for t in node.iter(f"{SVG}text")]
    return boxes


@pytest.mark.needs_dot  # the server draws the graph's SVG with Graphviz
def test_graph_message_and_live_values(client):
    with client.websocket_connect("/ws") as ws:
        until(ws, "state")
        vals = until(ws, "frame")["graph"]
        g = until(ws, "graph")
        assert g["values"] == 293 and g["mode"] == "full" and g["svg"].startswith("<svg")
        assert g["id"] == vals["id"] and len(vals["data"]) == len(vals["grad"]) == 293
        boxes = svg_boxes(g["svg"])
        assert len(boxes) == 293
        for i, lines in boxes.items():  # the drawing shows the numbers the frame carried
            assert f"data {vals['data'][i]}" in lines and f"grad {vals['grad'][i]}" in lines
        assert vals["grad"][-1] == "1.0000"  # d loss / d loss
        send(ws, type="step", count=3)
        later = until(ws, "frame", lambda m: m["step"] == 3)["graph"]
        assert later["id"] == g["id"] and later["data"] != vals["data"]  # the weights moved
        send(ws, type="configure", hidden=[16, 16])
        g2 = until(ws, "graph")
        assert g2["id"] > g["id"] and g2["mode"] == "head" and "too many" in g2["note"]
        assert len(svg_boxes(g2["svg"])) == g2["values"]
        send(ws, type="step")
        f = until(ws, "frame", lambda m: m["graph"]["id"] == g2["id"])
        assert len(f["graph"]["data"]) == g2["values"]
        chapter_train = gen_data(RNG(42), n=100)[0]
        index = next(i for i, (_, y) in enumerate(chapter_train) if y != chapter_train[0][1])
        send(ws, type="pick", index=index)  # a point of another class: a new shape
        g3 = until(ws, "graph")
        assert g3["id"] > g2["id"] and f"label {chapter_train[index][1]}" in g3["svg"]


def test_missing_graphviz_says_how_to_install_and_the_rest_works():
    with TestClient(server.create_app(dot=None)) as c, c.websocket_connect("/ws") as ws:
        g = until(ws, "graph")
        assert g["svg"] is None and "apt-get install graphviz" in g["error"]
        send(ws, type="step", count=2)
        f = until(ws, "frame", lambda m: m["step"] == 2)
        assert f["train_loss"] > 0 and f["probs"]


def test_diverged_training_pauses_with_an_error(ws, monkeypatch):
    def boom(self, n, budget=math.inf):
        raise Diverged("the loss became nan at step 0; lower the learning rate and press reset")
    monkeypatch.setattr(Session, "train_steps", boom)
    send(ws, type="play")
    err = until(ws, "error")
    assert "lower the learning rate" in err["message"] and err["request"] == "play"
    assert until(ws, "status", lambda m: not m["running"])
    ping(ws, 2)


def test_internal_errors_are_logged_not_shown(ws, monkeypatch, caplog):
    monkeypatch.setattr(Session, "reset", lambda self: 1 / 0)
    send(ws, type="reset")
    err = until(ws, "error")
    assert err["message"] == "internal error while handling reset; see the server log"
    assert "ZeroDivisionError" in caplog.text
    ping(ws, 3)


def test_one_session_per_connection_freed_on_disconnect(client, monkeypatch):
    made = []

    class Tracked(Session):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(weakref.ref(self))

    monkeypatch.setattr(server, "Session", Tracked)
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        recv(a), recv(b)
        send(a, type="configure", hidden=[2])
        assert until(a, "state")["sizes"] == [2, 2, 3]
        send(b, type="play")
        until(b, "frame", lambda m: m["step"] > 3)
        ping(a, "a")
        assert len(made) == 2 and made[0]() is not made[1]()
    for _ in range(100):
        gc.collect()
        if all(ref() is None for ref in made):
            break
        time.sleep(0.05)
    assert [ref() for ref in made] == [None, None]


# ---------------------------------------------------------------- the command


def test_cli_help_and_bad_port(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["playground", "--help"])
    assert e.value.code == 0 and "--no-browser" in capsys.readouterr().out
    assert cli.main(["playground", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must be in 0..65535, got 70000" in err[0]


def test_cli_without_the_extra_says_how_to_install():
    code = ("import sys\n"
            "sys.modules['starlette'] = sys.modules['uvicorn'] = None  # not installed\n"
            "from micrograd.cli import main\n"
            "sys.exit(main(['playground', '--no-browser']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'micrograd-lab[playground]'" in lines[0]
    assert "pip install -e '.[playground]' in the clone" in lines[0]  # the README's install
    assert "starlette" in lines[0] and "uvicorn" in lines[0]


def test_importing_cli_and_playground_imports_no_server_or_numpy():
    code = ("import json, sys; import micrograd.cli, micrograd.playground; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded = set(json.loads(proc.stdout))
    assert "micrograd" in loaded
    assert loaded & {"starlette", "uvicorn", "websockets", "numpy", "anyio"} == set()


@pytest.fixture
def no_serving(monkeypatch):
    """`serve` up to the point where uvicorn would run; records what it would have done."""
    import webbrowser

    import uvicorn

    calls = {"run": [], "open": []}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: calls["run"].append(
        sockets[0].getsockname()))
    monkeypatch.setattr(webbrowser, "open", lambda url: calls["open"].append(url))
    return calls


def test_serve_prints_the_url_and_opens_the_browser(no_serving, capsys):
    assert server.serve("127.0.0.1", 0, open_browser=True) == 0
    out, err = capsys.readouterr()
    port = no_serving["run"][0][1]
    assert out == f"micrograd playground: http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"
    assert err == "" and port > 0
    for _ in range(1500):  # the browser opens from a timer thread: up to 30 s on a busy machine
        if no_serving["open"]:
            break
        time.sleep(0.02)
    assert no_serving["open"] == [f"http://127.0.0.1:{port}/"]


def test_serve_no_browser_and_non_loopback_warning(no_serving, capsys):
    assert server.serve("0.0.0.0", 0, open_browser=False) == 0
    out, err = capsys.readouterr()
    assert out.startswith("micrograd playground: http://127.0.0.1:")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("micrograd: warning: listening on 0.0.0.0")
    time.sleep(0.4)
    assert no_serving["open"] == []
    assert server.is_loopback("127.0.0.2") and server.is_loopback("::1")
    assert not server.is_loopback("0.0.0.0") and not server.is_loopback("example.org")


def test_serve_on_a_busy_port_is_one_line(no_serving, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert server.serve("127.0.0.1", busy.getsockname()[1], open_browser=False) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot listen" in err[0] and "--port 0" in err[0]
    assert no_serving["run"] == []



def test_the_server_serves_every_static_file_but_the_exports_worker():
    """Every file of static/ is served (the list is made from the folder), so a new module of the
    page cannot 404 on the served page while the export, which copies the whole folder, works;
    every file the page links or a module imports is among them."""
    from micrograd.playground.server import STATIC

    static = Path(__file__).resolve().parents[2] / "src" / "micrograd" / "playground" / "static"
    served = {name for name, _ in STATIC.values()}
    # the exported page's Web Worker (the server speaks WebSocket), the script that starts it
    # and its service worker
    assert {p.name for p in static.iterdir() if not p.name.startswith(".")} - served == {
        "worker.js", "boot.js", "sw.js"}
    index = (static / "index.html").read_text()
    for link in re.findall(r'(?:src|href)="(/static/[^"]+)"', index):
        assert link in STATIC, link
    for module in static.glob("*.js"):
        if module.name == "worker.js":
            continue
        for name in re.findall(r'^import .* from "\./([^"]+)";$', module.read_text(), re.M):
            assert f"/static/{name}" in STATIC, (module.name, name)
