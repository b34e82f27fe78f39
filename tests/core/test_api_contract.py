"""The API does what it says: the seed of `grad`/`backward`, the shape of a user op's local rule,
the graph a division by a number builds, and copies and pickles of whole graphs.

Oracles: PyTorch float64 for what a seed of None means, micrograd 0.1.0 (from its wheel, in a
separate interpreter) for the graph of Karpathy's README expression.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from micrograd import Op, Value, grad
from micrograd.data import RNG
from micrograd.nn import MLP

# ---- the seed: None means 1, an array is refused alike by grad and backward ----


def test_a_chapter_of_none_means_one_as_in_pytorch():
    x = Value(3.0)
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(t * t, t, grad_outputs=None)
    assert grad(x * x, x, gradient=None) == (expected.item(),) == (6.0,)
    (dy,) = grad(x * x, x, create_graph=True, gradient=None)
    assert dy.data == 6.0
    y = x * x
    y.backward(None)
    t2 = t.detach().clone().requires_grad_(True)
    (t2 * t2).backward(None)
    assert x.grad == t2.grad.item() == 6.0


@pytest.mark.parametrize("seed", [np.array([1.0, 2.0]), np.array(2.0), [2.0], "2", True])
def test_grad_and_backward_refuse_a_chapter_that_is_not_one_number_alike(seed):
    x = Value(3.0)
    with pytest.raises(TypeError) as by_grad:
        grad(x * x, x, gradient=seed)
    with pytest.raises(TypeError) as by_backward:
        (x * x).backward(seed)
    one_line = [str(e.value) for e in (by_grad, by_backward)]
    assert one_line[0].replace("grad:", "backward:").replace("grad()", "backward()") == one_line[1]
    assert "\n" not in one_line[0] and "pass a float such as 1.0" in one_line[0]
    assert x.grad == 0.0  # nothing was half done


def test_numeric_chapters_scale_both_alike():
    x = Value(3.0)
    assert grad(x * x, x, gradient=np.float64(2.0)) == (12.0,)
    assert type(grad(x * x, x, gradient=2)[0]) is float
    (x * x).backward(np.float64(2.0))
    assert x.grad == 12.0 and type(x.grad) is float


# ---- a user op's local rule: one derivative per operand, in a tuple ----


def test_a_local_rule_without_its_tuple_comma_is_refused_where_the_op_is_written():
    with pytest.raises(TypeError) as info:
        Op("double", lambda m, x: 2 * x, lambda m, out, x: (2 * x))
    message = str(info.value)
    assert "'double'" in message and "tuple of 1 derivative" in message
    assert "(2 * x)" in message and "(2*x,)" in message and "\n" not in message


def test_a_variadic_rule_of_the_wrong_shape_is_refused_at_first_use():
    op = Op("twice", lambda m, *xs: 2 * xs[0], lambda m, out, *xs: (2.0))
    with pytest.raises(TypeError, match=r"'twice'.*tuple of 1 derivative.*\(2\*x,\)"):
        op(Value(1.0))
    wrong_count = Op("prod", lambda m, *xs: xs[0] * xs[1], lambda m, out, *xs: (xs[1],))
    with pytest.raises(TypeError, match=r"'prod'.*tuple of 2 derivative.*got 1"):
        wrong_count(Value(1.0), Value(2.0))


def test_a_wide_op_run_interpreted_checks_its_rule_too():
    op = Op("wide", lambda m, *xs: xs[0], lambda m, out, *xs: (1.0,))
    with pytest.raises(TypeError, match=r"'wide'.*tuple of 100 derivative"):
        op(*[Value(1.0)] * 100)


def test_a_well_formed_user_op_still_works():
    double = Op("double", lambda m, x: 2 * x, lambda m, out, x: (2.0,))
    x = Value(1.5)
    y = double(x)
    y.backward()
    assert (y.data, x.grad, y._op) == (3.0, 2.0, "double")


# ---- division by a number: the number stays a number, as in 0.1.0 ----


def test_dividing_by_a_number_multiplies_by_its_float_inverse():
    x = Value(3.0)
    y = x / 2.0
    y.backward()
    assert y._op == "*" and y._prev[0] is x and not y._prev[1]._prev
    assert y._prev[1].data == 0.5 and y._prev[1].grad == 3.0  # the constant's own gradient
    assert (y.data, x.grad) == (1.5, 0.5)
    assert (Value(1.0) / 3).data == 1.0 * 3.0**-1.0  # the float the old **-1 node gave


def test_a_number_divided_by_a_value_inverts_the_value():
    x = Value(4.0)
    y = 2.0 / x
    y.backward()
    inverse, two = y._prev
    assert y._op == "*" and inverse._op == "**-1" and inverse._prev == (x,) and two.data == 2.0
    assert (y.data, x.grad) == (0.5, -0.125)


def test_dividing_by_zero_names_the_division():
    with pytest.raises(ZeroDivisionError, match=r"/: 1\.0 / 0 divides by zero"):
        Value(1.0) / 0


# Karpathy's README expression, its graph counted as trace_graph.ipynb's `trace` does (the set of
# Values and of (parent, child) edges) and as its `draw_dot` draws it (plus one box per op).
README_GRAPH = textwrap.dedent("""
    import json, sys
    if sys.argv[1] != "ours":
        sys.path.insert(0, sys.argv[1])
    from micrograd.engine import Value
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    seen, edges, todo = {}, set(), [g]
    while todo:
        v = todo.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            for p in v._prev:
                edges.add((id(p), id(v)))
                todo.append(p)
    ops = sum(1 for v in seen.values() if v._op)
    leaves = sorted(v.data for v in seen.values() if not v._prev)
    print(json.dumps({"values": len(seen), "edges": len(edges), "ops": ops, "leaves": leaves,
                      "g": g.data, "da": a.grad, "db": b.grad}))
""")


def _readme_graph(where: str) -> dict:
    flags = ["-S", "-I"] if where != "ours" else []
    proc = subprocess.run([sys.executable, *flags, "-c", README_GRAPH, where], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_readme_expression_draws_the_graph_of_micrograd_010(micrograd010_wheel):
    theirs, ours = _readme_graph(str(micrograd010_wheel)), _readme_graph("ours")
    assert (theirs["values"], theirs["edges"]) == (39, 51)
    assert (ours["values"], ours["edges"], ours["ops"]) == (39, 51, theirs["ops"])
    assert ours["leaves"] == theirs["leaves"]  # the 0.5 of `f / 2.0` among them, no 2.0
    for key in ("g", "da", "db"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-12)
    assert f"{ours['g']:.4f} {ours['da']:.4f} {ours['db']:.4f}" == "24.7041 138.8338 645.5773"


# ---- copies and pickles of graphs ----


def _model_and_loss():
    model = MLP(2, [4, 1], activation="tanh", rng=RNG(3))
    x = [Value(0.5, label="x0"), Value(-1.5, label="x1")]
    loss = (model(x) - 1.0) ** 2 / 2.0
    loss.label = "loss"
    loss.note = "kept"  # an attribute a user set
    return model, loss


def test_a_deep_copy_of_model_and_loss_backpropagates_on_its_own():
    model, loss = _model_and_loss()
    model_copy, loss_copy = copy.deepcopy((model, loss))
    assert (loss_copy.label, loss_copy.note, loss_copy._op) == ("loss", "kept", loss._op)
    assert loss_copy._op is loss._op  # ops are shared, never copied
    leaves = {id(n) for n in loss_copy.topo() if not n._prev}
    assert {id(p) for p in model_copy.parameters()} <= leaves  # the copy's loss uses its params
    assert not {id(n) for n in loss.topo()} & {id(n) for n in loss_copy.topo()}
    loss_copy.backward()
    assert all(p.grad == 0.0 for p in model.parameters())  # the original is untouched
    loss.backward()
    assert [p.grad for p in model_copy.parameters()] == [p.grad for p in model.parameters()]
    assert any(p.grad != 0.0 for p in model.parameters())
    shallow = copy.copy(loss)
    assert shallow is not loss and shallow._prev == loss._prev and shallow.data == loss.data


def test_a_pickled_model_and_loss_load_as_one_graph_that_backpropagates():
    model, loss = _model_and_loss()
    loss.backward()
    model_back, loss_back = pickle.loads(pickle.dumps((model, loss)))
    params = model_back.parameters()
    assert [p.data for p in params] == [p.data for p in model.parameters()]
    assert [p.grad for p in params] == [p.grad for p in model.parameters()]
    mine, theirs = loss.topo(), loss_back.topo()
    assert [(n.data, n.grad, str(n._op), len(n._prev)) for n in theirs] == \
        [(n.data, n.grad, str(n._op), len(n._prev)) for n in mine]
    assert loss_back._op is loss._op  # a built-in op is loaded as itself
    assert {id(p) for p in params} <= {id(n) for n in theirs}  # still the loss's leaves
    assert (loss_back.label, loss_back.note) == ("loss", "kept")
    for p in params:
        p.grad = 0.0
    loss_back.backward()
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    assert [p.grad for p in params] == [p.grad for p in model.parameters()]


def test_ops_made_by_factories_and_user_ops_pickle_by_what_they_are():
    x = Value(0.3)
    y = (x**3).leaky_relu(0.2)
    back = pickle.loads(pickle.dumps(y))
    assert back._op is y._op and back._prev[0]._op is y._prev[0]._op  # leaky_relu(0.2), **3
    cube = Op("cube_for_pickle", lambda m, x: x * x * x, lambda m, out, x: (3 * x * x,))
    z = cube(x)
    assert pickle.loads(pickle.dumps(z))._op is cube  # registered: loaded by its name


def test_an_op_whose_lambdas_cannot_be_pickled_still_pickles_its_graph():
    # an op made under a name already taken (here: a second "softplus"), so not the registered
    # one, whose rules are lambdas: the graph pickles, and floats still backpropagate
    mine = Op("softplus", lambda m, x: m.log(1 + m.exp(x)),
              lambda m, out, x: (1 / (1 + m.exp(-x)),))
    x = Value(0.5)
    y = mine(x * 3)
    back = pickle.loads(pickle.dumps(y))
    assert str(back._op) == "softplus" and back.data == y.data
    back.backward()
    y.backward()
    assert back.topo()[0].grad == x.grad
    with pytest.raises(TypeError, match="'softplus' was loaded from a pickle without its rules"):
        grad(back, back.topo()[0], create_graph=True)


def test_gradients_that_are_values_pickle_with_their_graphs():
    x = Value(0.7)
    y = x.tanh() * x
    y.backward(create_graph=True)
    x_back = pickle.loads(pickle.dumps(x))
    assert x_back.grad.data == x.grad.data
    (d2,) = grad(x_back.grad, x_back)
    assert d2 == grad(x.grad, x)[0]


def test_deep_chains_copy_and_pickle_without_recursion():
    x = Value(0.5)
    y = x
    for _ in range(100_000):  # 0.1.0's own recursion stops at about a thousand
        y = (y * 1.0000001).tanh()
    y_copy = copy.deepcopy(y)
    y_back = pickle.loads(pickle.dumps(y))
    for other in (y_copy, y_back):
        assert other.data == y.data
        other.backward()
    y.backward()
    assert y_copy.topo()[0].grad == y_back.topo()[0].grad == x.grad != 0.0


def test_a_node_with_a_lecture_style_closure_is_refused_by_pickle_with_the_fix():
    x = Value(2.0)
    out = Value(x.data * 3, (x,), "triple")

    def step():
        x.grad += 3 * out.grad

    out._backward = step
    with pytest.raises(TypeError, match=r"'triple'.*_backward closure.*Op"):
        pickle.dumps(out)
    assert pickle.loads(pickle.dumps(x)).data == 2.0  # nothing left half-registered
    assert copy.deepcopy(out).data == 6.0
