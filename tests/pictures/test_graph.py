"""Computation-graph pictures: DOT text, the rendered SVG/PNG, `micrograd graph`, missing `dot`.

The SVG is checked against the graph it draws: one box per value, each box showing that value's
data and grad (4 decimals, e-notation where that would hide them), one circle per op. Rendering
needs Graphviz's `dot`: those tests are marked `needs_dot` and skip without it (fail under
MICROGRAD_REQUIRE_TOOLS=1, as `.ci/run` runs them after installing the Debian package; see
conftest.py). The missing-`dot` case is made by
hiding `dot` from PATH, not by skipping.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from micrograd import cli
from micrograd.data import RNG, gen_data
from micrograd.engine import Value
from micrograd.graph import ROLES, DotNotFound, draw_dot, fmt_number, render, to_dot, trace_mlp
from micrograd.losses import cross_entropy
from micrograd.nn import MLP, chapter_mlp

REPO = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def chapter_model(hidden=(16,)) -> MLP:
    rng = RNG(42)
    gen_data(rng, n=100)  # data first, then weights: the chapter's order
    return chapter_mlp([2, *hidden, 3], rng=rng)


def small_expr():
    a, b = Value(2.0), Value(-3.0)
    c = (a * b + b**2).tanh()
    d = (c + 1.5).exp().log() - a / b
    d.backward()
    return a, b, d


def svg_nodes(path: Path) -> dict[str, list[str]]:
    """DOT node id -> the text lines drawn in its shape, from a rendered SVG."""
    root = ET.parse(path).getroot()
    nodes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title").text
            nodes[title] = [t.text or "" for t in g.iter(f"{SVG}text")]
    return nodes


def check_svg_against_graph(path: Path, root: Value) -> None:
    """Exactly one box per value with its data and grad; one op circle per non-leaf value."""
    order = root.topo()
    nodes = svg_nodes(path)
    boxes = {k: v for k, v in nodes.items() if re.fullmatch(r"v\d+", k)}
    ops = {k: v for k, v in nodes.items() if re.fullmatch(r"v\d+op", k)}
    assert len(boxes) == len(order)
    assert len(ops) == sum(1 for v in order if v._prev)
    assert len(nodes) == len(boxes) + len(ops)  # nothing else is drawn as a node
    for i, v in enumerate(order):
        lines = boxes[f"v{i}"]
        data = [ln for ln in lines if ln.startswith("data ")]
        grad = [ln for ln in lines if ln.startswith("grad ")]
        assert len(data) == 1 and len(grad) == 1, lines
        # the label's number is the node's, as fmt_number writes it (SVG writes '-' as a hyphen)
        assert math.isclose(float(data[0][5:]), v.data, abs_tol=5.1e-5), (lines, v)
        assert math.isclose(float(grad[0][5:]), v.grad, abs_tol=5.1e-5), (lines, v)
        assert data[0] == f"data {fmt_number(v.data)}" and grad[0] == f"grad {fmt_number(v.grad)}"
        if v._prev:
            assert ops[f"v{i}op"] == [{"*": "×"}.get(v._op, v._op)]


# ---- DOT text, no dependency ----


def test_dot_text_is_stable_and_names_nodes_by_topological_index():
    texts = [to_dot(small_expr()[2]) for _ in range(3)]  # three separate graphs, same maths
    assert texts[0] == texts[1] == texts[2]
    _, _, d = small_expr()
    ids = re.findall(r"^\t(v\d+) \[shape=box", texts[0], flags=re.M)
    assert ids == [f"v{i}" for i in range(len(d.topo()))]
    assert "0x" not in texts[0] and str(id(d)) not in texts[0]


def test_dot_has_one_box_per_value_one_circle_per_op_and_every_edge():
    a, b, d = small_expr()
    text = to_dot(d, params=[a], inputs=[b], names={a: "a", b: "b"}, title="an expression")
    order = d.topo()
    assert len(re.findall(r"\[shape=box ", text)) == len(order)
    interior = [v for v in order if v._prev]
    assert len(re.findall(r"\[shape=circle ", text)) == len(interior)
    edges = re.findall(r"^\t(v\d+(?:op)?) -> (v\d+(?:op)?)$", text, flags=re.M)
    assert len(edges) == sum(len(v._prev) + 1 for v in interior)
    index = {id(v): i for i, v in enumerate(order)}
    for v in interior:  # operand edges in operand order, then op -> result
        i = index[id(v)]
        ins = [src for src, dst in edges if dst == f"v{i}op"]
        assert ins == [f"v{index[id(p)]}" for p in v._prev]
        assert (f"v{i}op", f"v{i}") in edges
    assert "<b>a</b>" in text and "an expression" in text
    assert 'fillcolor="#fde2b8"' in text and 'fillcolor="#d4e6f7"' in text  # param, input
    assert 'fillcolor="#f6c4c4"' in text  # the root: loss colour
    assert ">parameter<" in text and ">input<" in text and ">loss / output<" in text  # legend


def test_negative_zero_is_printed_as_zero():
    assert fmt_number(-0.0) == "0.0000" and fmt_number(0.0) == "0.0000"
    assert fmt_number(-0.36214) == "-0.3621" and fmt_number(2.0) == "2.0000"
    assert fmt_number(7.08e-5) == "7.08e-05" and fmt_number(-1e-7) == "-1.00e-07"  # not hidden
    assert fmt_number(1.234e7) == "1.23e+07" and fmt_number(float("nan")) == "nan"


def test_to_dot_needs_no_dependency_and_import_is_light():
    code = (
        "import sys; sys.modules['graphviz'] = None\n"  # `import graphviz` now fails
        "import micrograd, micrograd.graph, micrograd.plot, micrograd.animate\n"
        "from micrograd.engine import Value\n"
        "from micrograd.graph import to_dot\n"
        "x = Value(1.0); y = (x * 2).tanh(); y.backward()\n"
        "assert to_dot(y).startswith('digraph')\n"
        "heavy = [m for m in ('matplotlib', 'numpy', 'PIL') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_draw_dot_is_a_graphviz_digraph_with_the_same_source():
    graphviz = pytest.importorskip("graphviz")  # a runtime dependency: always installed
    a, _, d = small_expr()
    g = draw_dot(d, params=[a], names={a: "a"})
    assert isinstance(g, graphviz.Digraph)
    assert g.source == to_dot(d, params=[a], names={a: "a"})


@pytest.mark.needs_dot
def test_draw_dot_displays_as_svg_in_jupyter():
    a, _, d = small_expr()
    assert "<svg" in draw_dot(d, params=[a])._repr_image_svg_xml()  # what Jupyter shows inline


def test_to_dot_rejects_what_is_not_a_value():
    with pytest.raises(TypeError, match="Value"):
        to_dot(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(Value(1.0), rankdir="sideways")


# ---- tracing a model on one point ----


def test_trace_equals_the_model_forward_loss_and_grads():
    model = chapter_model()
    x, y = [0.7, -1.3], 2
    model.zero_grad()
    loss = cross_entropy(model([Value(v) for v in x]), y)  # the model's own (maybe fused) path
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    trace = trace_mlp(model, x, y)
    assert math.isclose(trace.loss.data, loss.data, rel_tol=1e-12)
    for g_trace, g_model in zip([p.grad for p in model.parameters()], grads):
        assert math.isclose(g_trace, g_model, rel_tol=1e-9, abs_tol=1e-15)


def test_trace_shows_the_chapters_fine_grained_ops():
    trace = trace_mlp(chapter_model(), [0.0, 0.0], 0)
    ops = Counter(v._op for v in trace.nodes() if v._prev)
    # per neuron: one * and one + per input, then tanh (hidden); softmax: 3 exp, 2 + for the
    # sum, 3 + for the max shift, **-1 and * for the division, log, * -1 for the minus
    assert ops == {"*": 2 * 16 + 16 * 3 + 2, "+": 2 * 16 + 16 * 3 + 2 + 3, "tanh": 16,
                   "exp": 3, "**-1": 1, "log": 1}
    assert math.isclose(trace.loss.data, math.log(3), rel_tol=1e-15)  # all logits 0 at init
    assert trace.names[trace.loss] == "loss" and trace.loss.grad == 1.0


@pytest.mark.parametrize("hidden", [(16,), (2,), (), (3, 5), (1, 1, 1)])
def test_trace_size_predicts_the_number_of_values(hidden):
    from micrograd.graph import trace_size

    trace = trace_mlp(chapter_mlp([2, *hidden, 3], rng=RNG(5)), [0.3, -0.2], 1)
    assert trace_size([2, *hidden, 3]) == len(trace.nodes())


def test_trace_errors_name_the_problem():
    with pytest.raises(ValueError, match="label 3"):
        trace_mlp(chapter_model(), [0.0, 0.0], 3)
    with pytest.raises(ValueError, match="2 inputs"):
        trace_mlp(chapter_model(), [0.0, 0.0, 1.0], 0)


# ---- rendering with Graphviz's dot ----


@pytest.mark.needs_dot
def test_rendered_svg_has_a_box_per_value_with_its_data_and_grad(tmp_path):
    a, b, d = small_expr()
    written = render(to_dot(d, params=[a], inputs=[b]), tmp_path / "expr")
    assert [Path(p).name for p in written] == ["expr.dot", "expr.svg", "expr.png"]
    check_svg_against_graph(tmp_path / "expr.svg", d)


def test_missing_dot_writes_the_dot_file_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere on PATH
    _, _, d = small_expr()
    with pytest.raises(DotNotFound, match="apt-get install graphviz"):
        render(to_dot(d), tmp_path / "g")
    assert (tmp_path / "g.dot").read_text() == to_dot(d)
    assert not (tmp_path / "g.svg").exists()


# ---- `micrograd graph` ----


@pytest.fixture(scope="module")
def graph_run(tmp_path_factory, dot_program):  # dot_program (conftest): skip or fail without dot
    out = tmp_path_factory.mktemp("graph") / "run"
    proc = subprocess.run([sys.executable, "-m", "micrograd", "graph", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.needs_dot
def test_graph_command_draws_the_chapter_model_before_and_after_training(graph_run):
    out, proc = graph_run
    names = sorted(p.name for p in out.iterdir())
    assert names == ["graph-init.dot", "graph-init.png", "graph-init.svg",
                     "graph.dot", "graph.png", "graph.svg"]
    lines = proc.stdout.splitlines()
    # the default point is the run's first training point (not (0, 0), the three-class junction)
    (x1, x2), label = gen_data(RNG(42), 100)[0][0]
    where = f"(point ({x1:.4g}, {x2:.4g}), label {label} (the first training point))"
    assert lines[0].startswith("graph-init: MLP 2-16-3 at initialisation: loss 0.9615, ")
    assert lines[0].endswith(where)
    assert lines[1].startswith("graph: MLP 2-16-3 after 100 training steps: loss ")
    assert proc.stderr.startswith("wrote ") and proc.stderr.count("\n") == 1

    # the untrained graph, rebuilt here, is exactly what the SVG shows
    untrained = trace_mlp(chapter_model(), [x1, x2], label)
    check_svg_against_graph(out / "graph-init.svg", untrained.loss)
    # the trained one: same shape, other numbers, the final loss (as small as the run's) shown
    trained = svg_nodes(out / "graph.svg")
    assert len([k for k in trained if re.fullmatch(r"v\d+", k)]) == 293
    loss = float(proc.stdout.splitlines()[1].split("loss ")[1].split(",")[0])
    assert 0 < loss < 1e-4
    assert f"data {fmt_number(loss)}" in trained["v292"]
    assert (out / "graph.dot").read_text() != (out / "graph-init.dot").read_text()

    from PIL import Image, ImageStat

    for name in ("graph-init.png", "graph.png"):
        with Image.open(out / name) as im:
            assert im.width > 2000 and im.height > 2000  # a 293-value graph, readable when zoomed
            assert ImageStat.Stat(im.convert("L")).stddev[0] > 10  # not blank


@pytest.mark.needs_dot
def test_graph_command_is_deterministic_and_matches_the_committed_picture(graph_run, tmp_path):
    out, _ = graph_run
    assert cli.main(["graph", "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert (tmp_path / "again" / "graph.dot").read_text() == (out / "graph.dot").read_text()
    committed = REPO / "docs" / "images" / "graph.dot"
    assert committed.read_text() == (out / "graph.dot").read_text(), (
        "docs/images/graph.* are stale: regenerate them as docs/pictures.md says")


@pytest.mark.needs_dot
def test_graph_command_small_model_point_and_label(tmp_path, capsys):
    code = cli.main(["graph", "--hidden", "2", "--point=-1,0.5", "--label", "2", "--steps", "0",
                     "--out", str(tmp_path / "s")])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "graph.dot", "graph.png", "graph.svg"]
    trace = trace_mlp(chapter_model(hidden=(2,)), [-1.0, 0.5], 2)
    check_svg_against_graph(tmp_path / "s" / "graph.svg", trace.loss)
    assert "point (-1, 0.5), label 2" in capsys.readouterr().out


def test_graph_command_without_dot_writes_dot_files_and_one_line(tmp_path):
    env = {"PATH": str(tmp_path / "nothing-here")}  # python is called by its full path
    proc = subprocess.run([sys.executable, "-m", "micrograd", "graph", "--hidden", "2",
                           "--out", str(tmp_path / "g")], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("micrograd: Graphviz's `dot` program was not found")
    assert "apt-get install graphviz" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["graph-init.dot", "graph.dot"]


def test_a_failing_dot_gives_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: out of crayons' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    code = cli.main(["graph", "--hidden", "2", "--steps", "0", "--out", str(tmp_path / "g")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert "dot could not draw" in err and "out of crayons" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--point", "1"], "two numbers"),
    (["--point", "1,x"], "two numbers"),
    (["--point", "nan,0"], "finite"),
    (["--label", "3"], "--label"),
    (["--steps", "-1"], "--steps"),
    (["--hidden", "1024,1024"], "too many to draw"),
    # the label's probability underflows to 0 far from the data: log(0), before or after training
    (["--hidden", "none", "--point=1e5,0", "--label", "1"], "cannot be computed there"),
    (["--hidden", "none", "--point=-1e5,1e5", "--label", "1", "--steps", "0"],
     "MLP 2-3 at initialisation cannot be computed there"),
])
def test_graph_command_mistakes_give_one_line_and_exit_2(args, message, tmp_path, capsys):
    assert cli.main(["graph", *args, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("micrograd: error:") and message in err, err
    assert not (tmp_path / "r").exists()


def test_a_learners_own_expression_draws_its_named_leaves_as_inputs():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + 2) * Value(0.5)  # two unnamed constants
    fills = re.findall(r'fillcolor="(#[0-9a-f]+)"[^\n]*<b>(\w+)</b>', to_dot(out))
    assert dict((name, fill) for fill, name in fills) == {"a": ROLES["input"][0],
                                                          "b": ROLES["input"][0]}
    leaves = re.findall(r'^\tv\d+ \[shape=box[^\n]*fillcolor="(#[0-9a-f]+)"', to_dot(out), re.M)
    assert leaves.count(ROLES["const"][0]) == 2
    # a graph that names its parameters and inputs keeps every other leaf a constant
    assert ROLES["input"][0] not in to_dot(out, params=[a])


def test_size_scales_a_drawing_and_is_checked():
    a = Value(1.0, label="a")
    assert ' size="10,6"]' in to_dot(a.tanh(), size="10,6")
    assert " size=" not in to_dot(a.tanh())
    for bad in ("10", "0,5", "a,b", "1e9,1"):
        with pytest.raises(ValueError, match="size must be"):
            to_dot(a.tanh(), size=bad)


@pytest.mark.needs_dot
def test_a_chinese_name_is_drawn_with_a_font_that_has_it():
    """A learner following the chapter in Chinese names nodes in Chinese: the SVG keeps the text
    and asks for a CJK font after the Latin ones (a browser without one still shows the
    numbers)."""
    from micrograd.graph import render_svg

    a, b = Value(2.0, label="输入"), Value(-3.0, label="权重")
    loss = a * b
    loss.label = "损失"
    loss.backward()
    svg = render_svg(to_dot(loss))
    assert "损失" in svg and "权重" in svg
    families = set(re.findall(r'font-family="([^"]+)"', svg))
    assert families and all("Noto Sans CJK SC" in f and f.startswith("Helvetica") for f in families)
