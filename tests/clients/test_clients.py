"""Programs written for other micrograds, run against ours: they must work and print the same.

Learners arrive with three kinds of code, and each test here does what one of them does (in our
own words; none of their code is copied):
- the video lecture's walkthrough: labelled nodes, gradients filled in by hand, one node's
  `_backward()` at a time, a node reused twice, a home-made op with its own `_backward` closure;
- micrograd 0.1.0's demo notebook: `MLP(2, [16, 16, 1])` with its defaults, an SVM loss with L2
  regularisation and plain SGD, compared step by step with PyPI micrograd 0.1.0 itself, run from
  its wheel in a separate interpreter;
- the LLM101n chapter's script: its own model and loop, AdamW state kept on the parameters
  (`p.m`, `p.v`), which must print the chapter's log.
"""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch

from conftest import REPO_ROOT, assert_matches_chapter_log
from micrograd.data import RNG, gen_data, gen_data_yinyang, make_moons, make_yinyang
from micrograd.engine import Value
from micrograd.graph import to_dot
from micrograd.nn import MLP, Module

# ---- the lecture: a walkthrough by hand -----------------------------------------------------


def test_lecture_expression_with_labels_and_backward():
    """L = (a*b + c) * f with every node labelled; the gradients the lecture derives by hand."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    assert (e.data, d.data, L.data) == (-6.0, 4.0, -8.0)
    L.backward()
    grads = {v.label: v.grad for v in (a, b, c, d, e, f, L)}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "d": -2.0, "e": -2.0, "f": 4.0, "L": 1.0}
    assert Value(1.0, (), "", "x").label == "x"  # the lecture's 4th positional argument
    picture = to_dot(L)
    assert all(f"<b>{name}</b>" in picture for name in "abcdefL")  # labels name the boxes
    assert "<b>" not in to_dot(Value(1.0) * 2)  # unlabelled nodes stay unnamed


def _lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")  # makes the output tanh(n) = 0.7071...
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    return (x1, x2, w1, w2, b), [o, n, s, x1w1, x2w2]


def test_manual_backprop_node_by_node_matches_backward_and_torch():
    """Set o.grad = 1, then call `_backward()` on each node from the output down."""
    leaves, interior = _lecture_neuron()
    o = interior[0]
    o.grad = 1.0
    for node in interior:  # o, n, s, x1*w1, x2*w2: a valid reverse topological order
        node._backward()
    for leaf in leaves:
        leaf._backward()  # a leaf has nothing below it: a no-op, as in the lecture
    by_hand = [v.grad for v in leaves]
    assert o.data == pytest.approx(math.sqrt(0.5), abs=1e-12)
    assert by_hand[0] == pytest.approx(-1.5) and by_hand[2] == pytest.approx(1.0)
    assert by_hand[1] == pytest.approx(0.5) and by_hand[3] == 0.0

    fresh, interior = _lecture_neuron()
    interior[0].backward()
    assert [v.grad for v in fresh] == by_hand  # the same rule in the same order: same bits

    x = torch.tensor([2.0, 0.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([-3.0, 1.0], dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(6.8813735870195432, dtype=torch.float64, requires_grad=True)
    torch.tanh((x * w).sum() + bt).backward()
    expected = [x.grad[0], x.grad[1], w.grad[0], w.grad[1], bt.grad]
    assert by_hand == pytest.approx([float(t) for t in expected], rel=1e-12, abs=1e-15)


def test_reused_nodes_accumulate():
    """`b = a + a` and `f = (a*b) * (a+b)`: a node used twice gets both contributions."""
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    assert a.grad == 2.0
    a, b = Value(-2.0), Value(3.0)
    f = (a * b) * (a + b)
    f.backward()
    assert (a.grad, b.grad) == (-3.0, -8.0)


def _home_made_tanh(x: Value) -> Value:
    """An op written the lecture's way: a node with parents and op name, and a closure."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), "tanh")

    def _backward():
        x.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def test_home_made_op_with_its_own_backward_closure():
    x = Value(0.7)
    y = _home_made_tanh(x * 2.0) + x
    y.backward()
    reference = Value(0.7)
    ((reference * 2.0).tanh() + reference).backward()
    assert x.grad == pytest.approx(reference.grad, rel=1e-12)
    assert y._op == "+" and y._prev[0]._op == "tanh"
    lazy = Value(1.0, (x,), "mystery")  # parents but no closure: contributes nothing, as 0.1.0
    x.grad = 0.0
    lazy.backward()
    assert x.grad == 0.0


def test_a_closure_set_on_any_node_is_what_backward_runs():
    """0.1.0's contract: `backward()` calls each node's `_backward`, whoever set it."""
    x = Value(3.0)
    y = x * 2.0
    calls = []

    def custom():
        calls.append(y.grad)
        x.grad += 10 * y.grad

    y._backward = custom
    y.backward()
    assert calls == [1.0] and x.grad == 10.0
    z = x * 2.0
    z._backward()  # the default step, by hand: d z / d x = 2
    assert x.grad == 10.0 and z.grad == 0.0  # z.grad was never seeded, so nothing flowed
    z.grad = 1.0
    z._backward()
    assert x.grad == 12.0


def test_a_fourth_positional_argument_is_a_label_not_local_derivatives():
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match="label"):
        Value(6.0, (a, b), "*", (3.0, 2.0))  # an older micrograd-lab signature: refused, loudly


def test_attributes_set_by_course_code_are_kept():
    """The course's pictures colour nodes (`_vis_color`); its AdamW keeps `m`, `v` on them."""
    model = MLP(2, [3, 1], rng=RNG(1))
    for p in model.parameters():
        p.m, p.v, p._vis_color = 0.0, 0.0, "lightgreen"
    out = model([Value(0.5), Value(-0.5)])
    out.backward()
    assert all(hasattr(p, "_vis_color") and p.m == 0.0 for p in model.parameters())
    assert not hasattr(out, "_vis_color")


# ---- the chapter's script: its own model and AdamW, our Value ---------------------------------


class ChapterNeuron(Module):
    """The chapter's neuron: tanh of the chain b + w0 x0 + ..., weights uniform/sqrt(nin)."""

    def __init__(self, nin: int, rng: RNG, nonlin: bool = True):
        self.w = [Value(rng.uniform(-1, 1) * nin**-0.5) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return [*self.w, self.b]


def _chapter_loss(neurons, split) -> Value:
    """Mean cross-entropy over `split`, softmax built from exp, sum and division as the chapter."""
    total = Value(0)
    for x, y in split:
        xs = [Value(x[0]), Value(x[1])]
        hidden = [n(xs) for n in neurons[0]]
        logits = [n(hidden) for n in neurons[1]]
        top = max(v.data for v in logits)
        ex = [(v - top).exp() for v in logits]
        denom = sum(ex)
        total += -(ex[y] / denom).log()
    return total * (1.0 / len(split))


def test_chapter_script_with_adamw_state_on_parameters_prints_the_log(chapter_log_path):
    rng = RNG(42)
    train, val, _ = gen_data(rng, n=100)
    neurons = [[ChapterNeuron(2, rng) for _ in range(16)],
               [ChapterNeuron(16, rng, nonlin=False) for _ in range(3)]]
    params = [p for layer in neurons for n in layer for p in n.parameters()]
    lr, beta1, beta2, decay = 0.1, 0.9, 0.95, 1e-4
    for p in params:
        p.m = 0.0  # optimizer state lives on the parameters, as in the chapter
        p.v = 0.0
    lines = []
    for step in range(100):
        if step % 10 == 0:
            lines.append(f"step {step}, val loss {_chapter_loss(neurons, val).data:.6f}")
        loss = _chapter_loss(neurons, train)
        loss.backward()
        for p in params:
            p.m = beta1 * p.m + (1 - beta1) * p.grad
            p.v = beta2 * p.v + (1 - beta2) * p.grad**2
            m_hat = p.m / (1 - beta1 ** (step + 1))
            v_hat = p.v / (1 - beta2 ** (step + 1))
            p.data -= lr * (m_hat / (v_hat**0.5 + 1e-8) + decay * p.data)
            p.grad = 0
        lines.append(f"step {step}, train loss {loss.data}")
    assert_matches_chapter_log(lines, chapter_log_path)


def test_course_dataset_names_draw_the_same_points():
    course = gen_data_yinyang(RNG(42), n=100)
    ours = make_yinyang(RNG(42), n=100)
    assert [len(s) for s in course] == [80, 10, 10]
    for c_split, o_split in zip(course, ours):
        assert [[list(x), y] for x, y in o_split] == c_split
    point = course[0][0]
    assert isinstance(point, list) and isinstance(point[0], list)
    point[0][0] += 1.0  # the course's points are plain lists: editable in place


# ---- micrograd 0.1.0's demo, side by side with 0.1.0 itself --------------------------------

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import demo_loop  # noqa: E402  (benchmarks/ is not a package: its scripts run as files)


# One training run in the demo notebook's manner (benchmarks/demo_loop.py's loop, the one its
# benchmark times), run once with 0.1.0 (its wheel first on sys.path, site-packages off) and
# once with this package.
def _demo_run(where: str, points: list, steps: int, kind: str = "plain") -> dict:
    return demo_loop.run(demo_loop.LOOP, where, [str(steps), kind], json.dumps(points),
                         timeout=300)


# unchanged, and with the one line `loss = micrograd.compile(loss)`
@pytest.mark.parametrize("kind", ["plain", "compiled"])
def test_demo_training_matches_micrograd_010_step_by_step(micrograd010_wheel, kind):
    train, val, test = make_moons(RNG(7), n=50, noise=0.1)
    points = [[x, 2 * y - 1] for x, y in [*train, *val, *test]]  # labels -1 / +1, as the demo
    theirs = _demo_run(str(micrograd010_wheel), points, steps=15)
    ours = _demo_run("ours", points, steps=15, kind=kind)
    # same repr (ReLUNeuron / LinearNeuron) and 337 parameters
    assert ours["repr"] == theirs["repr"] and ours["nparams"] == theirs["nparams"] == 337
    for k, (a, b) in enumerate(zip(ours["lines"], theirs["lines"])):
        (loss, acc, grads), (loss0, acc0, grads0) = a, b
        assert acc == acc0, f"step {k}"
        assert loss == pytest.approx(loss0, rel=1e-12), f"step {k}"
        assert grads == pytest.approx(grads0, rel=1e-10, abs=1e-15), f"step {k}"
    assert ours["lines"][-1][0] < ours["lines"][0][0] / 2  # it learns


def test_the_demos_model_and_arrays_handed_to_the_playground_widget():
    """The demo's model and NumPy arrays handed to `Playground(model, (X, y))`: the page trains
    that very object, so the demo's own hinge loss and accuracy, computed afterwards in the
    notebook, read the trained model; then the demo's SGD loop goes on from it."""
    import random

    import numpy as np

    from conftest import require_module

    require_module("anywidget", "needs anywidget (pip install -e '.[test]')")
    from micrograd.widgets import Playground

    train, val, test = make_moons(RNG(11), n=100, noise=0.1)
    X = np.array([x for x, _ in [*train, *val, *test]])
    y = np.array([2 * c - 1 for _, c in [*train, *val, *test]])  # int64, -1 / +1
    random.seed(1337)
    model = MLP(2, [16, 16, 1])

    def hinge():  # the demo's kind of loss: max-margin, plus an L2 term; and its accuracy
        scores = [model([Value(a), Value(b)]) for a, b in X]
        data = sum((1 + -int(t) * s).relu() for t, s in zip(y, scores)) * (1.0 / len(y))
        l2 = 1e-4 * sum(p * p for p in model.parameters())
        right = sum((t > 0) == (s.data > 0) for t, s in zip(y, scores))
        return data + l2, right / len(y)

    before, acc0 = hinge()
    pg = Playground(model, (X, y), engine="tape")
    pg.send = lambda *a, **k: None  # no front end here
    assert pg.session.config.problem == "regression" and pg.session.config.hidden == [16, 16]
    pg.step(300)
    after, acc = hinge()
    assert pg.model is model and after.data < before.data / 4 and acc > max(acc0, 0.95)
    for k in range(3):  # the demo's loop, on the trained model
        loss, _ = hinge()
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert math.isfinite(hinge()[0].data)
