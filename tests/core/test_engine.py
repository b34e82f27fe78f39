"""Tests for the scalar autograd engine `micrograd.engine.Value`.

Sections: finite-difference checks of every op, PyTorch float64 parity on random graphs, graph
semantics (diamonds, fan-out, deep chains, repeated backward), node structure, input validation,
error messages, determinism and topological order, the fused ops (sum, linear, detached_max,
pick), and micrograd-style sanity checks against torch.

Several tests are regressions for bugs found by this suite: a leaf root's backward accumulating,
division by NumPy scalars, pow slopes beyond float range, reflected ops with foreign types, and
`Value.linear` with mismatched lengths.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd.engine import Value

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """Combined check |a - b| <= atol + rtol·|b| (b is the reference)."""
    return abs(a - b) <= atol + rtol * abs(b)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats with lo <= |x| <= hi, either sign."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def grads_of(f: Callable[..., Value], xs: list[float]) -> tuple[float, list[float]]:
    """Forward value and d f / d x_i for every input, via our backward()."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def central_difference(f: Callable[..., Value], xs: list[float], i: int) -> float:
    """(f(x + h) - f(x - h)) / 2h in input i, with h = 1e-6·max(1, |x_i|)."""
    h = 1e-6 * max(1.0, abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    # divide by the step actually taken: x ± h is rounded, and that error would otherwise leak in
    return (f(*map(Value, up)).data - f(*map(Value, down)).data) / (up[i] - down[i])


# ---------------------------------------------------------------------------------------------
# 1. finite differences, every primitive and composite
# ---------------------------------------------------------------------------------------------

# (name, op on Values, reference forward on floats, strategy per input)
# Domains keep every function smooth and moderate over [x - h, x + h].
POS = floats(0.1, 10.0)
FD_CASES: list[tuple[str, Callable[..., Value], Callable[..., float], list]] = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [floats(-100, 100)] * 2),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [floats(-100, 100)] * 2),
    ("pow_int_2", lambda a: a**2, lambda a: a**2, [floats(-10, 10)]),
    ("pow_int_3", lambda a: a**3, lambda a: a**3, [floats(-10, 10)]),
    ("pow_int_0", lambda a: a**0, lambda a: 1.0, [floats(-10, 10)]),
    ("pow_int_1", lambda a: a**1, lambda a: a, [floats(-10, 10)]),
    ("pow_int_-1", lambda a: a**-1, lambda a: 1 / a, [away_from_zero(0.1, 10)]),
    ("pow_int_-3", lambda a: a**-3, lambda a: a**-3.0, [away_from_zero(0.1, 10)]),
    ("pow_float_0.5", lambda a: a**0.5, math.sqrt, [POS]),
    ("pow_float_2.5", lambda a: a**2.5, lambda a: a**2.5, [POS]),
    ("pow_float_-0.5", lambda a: a**-0.5, lambda a: a**-0.5, [POS]),
    ("pow_float_-1.7", lambda a: a**-1.7, lambda a: a**-1.7, [POS]),
    ("pow_float_2.0", lambda a: a**2.0, lambda a: a * a, [floats(-10, 10)]),
    ("pow_value", lambda a, b: a**b, math.pow, [POS, floats(-3, 3)]),
    ("rpow", lambda a: 2**a, lambda a: 2.0**a, [floats(-10, 10)]),
    ("exp", lambda a: a.exp(), math.exp, [floats(-20, 20)]),
    ("log", lambda a: a.log(), math.log, [floats(0.01, 1000)]),
    ("tanh", lambda a: a.tanh(), math.tanh, [floats(-5, 5)]),
    # |x| >= 1e-3 > h, so the difference never straddles the kink at 0
    ("relu", lambda a: a.relu(), lambda a: max(a, 0.0), [away_from_zero(1e-3, 100)]),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), [floats(-20, 20)]),
    (
        "fused_sum",
        lambda a, b, c: Value.sum([a, b, c, a]),
        lambda a, b, c: a + b + c + a,
        [floats(-100, 100)] * 3,
    ),
    (
        "fused_linear",
        lambda w0, w1, x0, x1, b: Value.linear([w0, w1], [x0, x1], b),
        lambda w0, w1, x0, x1, b: b + w0 * x0 + w1 * x1,
        [floats(-10, 10)] * 5,
    ),
    ("neg", lambda a: -a, lambda a: -a, [floats(-100, 100)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [floats(-100, 100)] * 2),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [floats(-100, 100), away_from_zero(0.1, 10)]),
    ("rsub", lambda a: 3 - a, lambda a: 3 - a, [floats(-100, 100)]),
    ("rdiv", lambda a: 3 / a, lambda a: 3 / a, [away_from_zero(0.1, 10)]),
    ("add_const", lambda a: a + 3, lambda a: a + 3, [floats(-100, 100)]),
    ("rmul", lambda a: 3 * a, lambda a: 3 * a, [floats(-100, 100)]),
]


@pytest.mark.parametrize(("name", "op", "ref", "domains"), FD_CASES, ids=[c[0] for c in FD_CASES])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_finite_difference(name, op, ref, domains, data):
    """backward() agrees with central differences of the op's own forward, at many points."""
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(domains)]
    value, grads = grads_of(op, xs)
    # forward: a few ulps of the plain-float formula (composites like a/b = a·b⁻¹ round twice)
    assert close(value, ref(*xs), rtol=1e-14, atol=0.0), (value, ref(*xs))
    for i, g in enumerate(grads):
        fd = central_difference(op, xs, i)
        # FD error: truncation h²|f'''|/6 <= ~1e-10·|f'| on these domains; rounding of f(x ± h)
        # ~ eps·|f|/h <= ~2e-10·|f| since h >= 1e-6. So rel 1e-6 plus abs 1e-8·max(1, |f|) has
        # >= 50x headroom while any wrong local derivative (off by a factor, sign, term) fails.
        assert close(g, fd, rtol=1e-6, atol=1e-8 * max(1.0, abs(value))), (name, i, g, fd)


# ---------------------------------------------------------------------------------------------
# 2. PyTorch float64 parity on random expression DAGs
# ---------------------------------------------------------------------------------------------

# Every op is written once and run on both Values and torch tensors, so both sides evaluate the
# same expression. Guards (x·x + 1, positive bases) keep log, pow and division defined.
UNARY_OPS: dict[str, Callable] = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 1).log(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "inverse": lambda a: (a * a + 1) ** -1,
    "sqrt": lambda a: (a * a + 1) ** 0.5,
    "pow_-1.5": lambda a: (a * a + 1) ** -1.5,
    "rpow": lambda a: 2**a,
    "radd": lambda a: 3 + a,
    "rsub": lambda a: 3 - a,
    "rmul": lambda a: 3 * a,
    "rdiv": lambda a: 3 / (a * a + 1),
    "sub_const": lambda a: a - 0.5,
    "div_const": lambda a: a / 4,
}


def _sum(xs: list):
    """Value.sum, or the same left-to-right chain of + on tensors."""
    return Value.sum(xs) if isinstance(xs[0], Value) else functools.reduce(operator.add, xs)


def _linear(w: list, x: list, b):
    """Value.linear, or b + w0·x0 + w1·x1 + ... on tensors."""
    if isinstance(b, Value):
        return Value.linear(w, x, b)
    return functools.reduce(operator.add, (wi * xi for wi, xi in zip(w, x)), b)


def _detached_max(xs: list):
    """Value.detached_max, or a constant (no-grad) tensor holding the max."""
    if isinstance(xs[0], Value):
        return Value.detached_max(xs)
    return torch.stack(xs).max().detach()


def _pick(xs: list, k: int):
    """Value.pick with a Value index, or plain indexing on tensors."""
    return Value.pick(xs, Value(k)) if isinstance(xs[0], Value) else xs[k]


BINARY_OPS: dict[str, Callable] = {
    "pick": lambda a, b: _pick([a, b, a * b], 2),
    "sum": lambda a, b: _sum([a, b, a]),  # a repeated operand of one fused node
    "linear": lambda a, b: _linear([a, b], [b, a.tanh()], a),  # a + a·b + b·tanh(a)
    "shift_max": lambda a, b: a - _detached_max([a, b]),
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,  # |b| >= 0.01 is assumed in run_program
    "div_guarded": lambda a, b: a / (b * b + 1),
    "pow_value": lambda a, b: (a * a + 1) ** b,
}
OPS = sorted(UNARY_OPS) + sorted(BINARY_OPS)

# A program: leaf values, then ops that each read any earlier node (leaf or op output), so
# fan-out, diamonds and reuse of interior nodes are common. The last node is the root.
Program = tuple[list[float], list[tuple[str, tuple[int, ...]]]]


@st.composite
def programs(draw, max_ops: int = 12) -> Program:
    leaves = draw(st.lists(floats(-3, 3), min_size=2, max_size=4))
    ops = []
    for _ in range(draw(st.integers(3, max_ops))):
        name = draw(st.sampled_from(OPS))
        arity = 1 if name in UNARY_OPS else 2
        n = len(leaves) + len(ops)
        args = tuple(draw(st.integers(0, n - 1)) for _ in range(arity))
        ops.append((name, args))
    return leaves, ops


def run_program(program: Program, make_leaf: Callable) -> list:
    """Build the program's nodes (leaves first) with make_leaf; Values reject undefined domains."""
    values, ops = program
    nodes = [make_leaf(x) for x in values]
    for name, args in ops:
        operands = [nodes[i] for i in args]
        if isinstance(operands[0], Value):
            if name == "div":
                assume(abs(operands[1].data) >= 0.01)
            try:
                out = (UNARY_OPS | BINARY_OPS)[name](*operands)
            except OverflowError:  # exp / pow overflow: tested on its own in section 6
                assume(False)
            assume(abs(out.data) <= 1e8)
        else:
            out = (UNARY_OPS | BINARY_OPS)[name](*operands)
        nodes.append(out)
    return nodes


def torch_leaf(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@settings(max_examples=500, deadline=None)
@given(program=programs())
def test_torch_parity_random_graphs(program):
    """Forward value, every leaf grad and every interior grad match torch float64 autograd."""
    ours = run_program(program, Value)
    ours[-1].backward()

    theirs = run_program(program, torch_leaf)
    for t in theirs[len(program[0]) :]:
        t.retain_grad()
    theirs[-1].backward()

    # Both sides do the same float64 ops; libm/SLEEF and summation order differ by ulps only.
    rtol, atol = 1e-10, 1e-12
    assert close(ours[-1].data, theirs[-1].item(), rtol, atol)
    for i, (v, t) in enumerate(zip(ours, theirs)):
        expected = 0.0 if t.grad is None else t.grad.item()  # torch: None if not in the graph
        assert close(v.grad, expected, rtol, atol), (i, v.grad, expected)


def _nan_or_equal(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize(
    ("build", "x0", "y0"),
    [
        (lambda x, y: x**0, 0.0, 0.0),  # d x⁰ = 0 even at 0
        (lambda x, y: x**0.5, 0.0, 0.0),  # d √x = inf at 0
        (lambda x, y: x**2, 0.0, 0.0),
        (lambda x, y: x**2.5, 0.0, 0.0),
        (lambda x, y: x.relu(), 0.0, 0.0),  # relu'(0) = 0
        (lambda x, y: x**y, 0.0, 2.0),  # base 0: d/db = 0 (limit along a = 0)
        (lambda x, y: x**y, 0.0, 0.0),  # 0⁰ = 1, both grads 0
        (lambda x, y: x**y, -2.0, 2.0),  # negative base: d/da real, d/db nan
    ],
    ids=[
        "pow0_at_0",
        "sqrt_at_0",
        "square_at_0",
        "pow2.5_at_0",
        "relu_at_0",
        "zero_pow_value",
        "zero_pow_zero",
        "neg_base_pow_value",
    ],
)
def test_edge_conventions_match_torch(build, x0, y0):
    """At kinks and boundaries the engine follows PyTorch's conventions (values, grads, nan)."""
    x, y = Value(x0), Value(y0)
    out = build(x, y)
    out.backward()
    tx, ty = torch_leaf(x0), torch_leaf(y0)
    build(tx, ty).backward()
    assert out.data == build(tx, ty).item()
    assert _nan_or_equal(x.grad, tx.grad.item())
    assert _nan_or_equal(y.grad, 0.0 if ty.grad is None else ty.grad.item())


# ---------------------------------------------------------------------------------------------
# 3. graph semantics
# ---------------------------------------------------------------------------------------------


def test_diamond_self_add():
    """b = a + a; c = b·b: the two edges a→b both count, so dc/da = 2·2b = 8a."""
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert (c.data, c.grad, b.grad, a.grad) == (36.0, 1.0, 12.0, 24.0)


def test_reused_interior_node():
    """d = a·b used three times in e = d·d + d: de/dd = 2d + 1 flows once into a and b."""
    a, b = Value(2.0), Value(3.0)
    d = a * b
    e = d * d + d
    e.backward()
    assert (e.data, d.grad, a.grad, b.grad) == (42.0, 13.0, 39.0, 26.0)


def test_deep_chain_no_recursion_limit():
    """A 200,000-deep chain backpropagates under the default recursion limit, exactly."""
    assert sys.getrecursionlimit() < 200_000  # the chain is deeper than any recursion allowed
    c = 1.0000001
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * c
    y.backward()
    expected = 1.0
    for _ in range(200_000):  # backward multiplies the same locals in the same order
        expected *= c
    assert x.grad == expected
    assert math.isclose(x.grad, c**200_000, rel_tol=1e-9)
    assert len(y.topo()) == 2 * 200_000 + 1  # x, the chain, and one constant leaf per step


def _fan_out_graph():
    """out = h·h + h·a with h = a·b: h is interior with fan-out 3, a is used directly too."""
    a, b = Value(2.0), Value(-3.0)
    h = a * b
    out = h * h + h * a
    return a, b, h, out


def test_fan_out_grads():
    """d out/dh = 2h + a = -10; d out/da = h + (2h + a)·b = 24; d out/db = (2h + a)·a = -20."""
    a, b, h, out = _fan_out_graph()
    out.backward()
    assert (out.data, h.grad, a.grad, b.grad) == (24.0, -10.0, 24.0, -20.0)


def test_repeated_backward_leaves_accumulate_interior_do_not():
    """As documented: each backward adds to leaves; interior grads stay those of one pass."""
    a, b, h, out = _fan_out_graph()
    interior = [n for n in out.topo() if n._prev]
    out.backward()
    once = {id(n): n.grad for n in interior}
    out.backward()
    assert (a.grad, b.grad) == (48.0, -40.0)
    assert h.grad == -10.0 and out.grad == 1.0
    assert {id(n): n.grad for n in interior} == once
    out.backward()
    assert (a.grad, b.grad, h.grad) == (72.0, -60.0, -10.0)


def test_backward_from_shared_interior_node_accumulates_leaves_only():
    """Two losses sharing h: leaves get the sum of both gradients, like two torch backward calls."""
    a, b = Value(2.0), Value(-3.0)
    h = a * b
    loss1 = h * h  # d/dh = 2h = -12
    loss2 = h + a  # d/dh = 1
    loss1.backward()
    loss2.backward()
    assert h.grad == 1.0  # interior: reset, then only loss2's pass
    assert a.grad == -12.0 * -3.0 + 1.0 * -3.0 + 1.0
    assert b.grad == -12.0 * 2.0 + 1.0 * 2.0


def test_backward_on_leaf_root_accumulates():
    """A leaf used as the root is still a leaf: its grad should accumulate like any other."""
    x = Value(3.0)
    (x * 2).backward()  # x.grad = 2
    x.backward()  # dx/dx = 1 more
    assert x.grad == 3.0


# ---------------------------------------------------------------------------------------------
# 4. node structure
# ---------------------------------------------------------------------------------------------


def test_prev_is_tuple_in_operand_order():
    """_prev holds the operands themselves, in order, as a tuple (fixed summation order)."""
    a, b = Value(1.0), Value(2.0)
    ab, ba, aa = a * b, b * a, a + a
    assert type(ab._prev) is tuple and len(ab._prev) == 2
    assert ab._prev[0] is a and ab._prev[1] is b
    assert ba._prev[0] is b and ba._prev[1] is a
    assert len(aa._prev) == 2 and aa._prev[0] is a and aa._prev[1] is a
    assert (a.exp())._prev[0] is a and len(a.exp()._prev) == 1
    assert a._prev == () and a._op == ""


def test_local_derivatives_stored_per_operand():
    """_local pairs up with _prev: (d ab/da, d ab/db) = (b, a)."""
    a, b = Value(3.0), Value(5.0)
    assert (a * b)._local == (5.0, 3.0)
    assert (a + b)._local == (1.0, 1.0)


@pytest.mark.parametrize(
    ("build", "label"),
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a**2, "**2"),
        (lambda a, b: a**-1, "**-1"),
        (lambda a, b: a**0.5, "**0.5"),
        (lambda a, b: a**b, "**"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a.log(), "log"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.relu(), "ReLU"),
        (lambda a, b: a.sigmoid(), "sigmoid"),
    ],
)
def test_op_labels(build, label):
    assert build(Value(2.0), Value(3.0))._op == label


def test_nodes_keep_attributes_users_set():
    """Course code keeps optimizer state and picture colours on Values (`p.m`, `_vis_color`)."""
    v = Value(1.0)
    v.m, v._vis_color = 0.5, "lightgreen"
    assert (v.m, v._vis_color) == (0.5, "lightgreen")
    assert Value(1.0).label == "" and Value(1.0, label="a").label == "a"
    with pytest.raises(AttributeError):
        Value(1.0).m  # noqa: B018  (only what was set exists)


def test_data_is_float_and_repr():
    v = Value(2)
    assert type(v.data) is float and type(v.grad) is float
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    w = v * 3
    w.backward()
    assert repr(v) == "Value(data=2.0, grad=3.0)"


# ---------------------------------------------------------------------------------------------
# 5. inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [2, 2.5, -0.0, np.float64(2.5), np.float32(0.1), np.int64(7), Fraction(1, 3), 10**20],
    ids=repr,
)
def test_accepts_real_numbers_stores_python_float(x):
    v = Value(x)
    assert type(v.data) is float
    assert v.data == float(x) and math.copysign(1, v.data) == math.copysign(1, float(x))


@pytest.mark.parametrize(
    ("x", "type_name"),
    [("a", "str"), (None, "NoneType"), ([1], "list"), (Value(1), "Value"), (1j, "complex")],
)
def test_rejects_non_numbers_naming_the_type(x, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(x)


@pytest.mark.parametrize(
    "expr",
    [
        lambda v: v + "a",
        lambda v: "a" + v,
        lambda v: v * "a",
        lambda v: "a" * v,
        lambda v: v - "a",
        lambda v: "a" - v,
        lambda v: v / "a",
        lambda v: "a" / v,
        lambda v: v ** "a",
        lambda v: "a" ** v,
        lambda v: v + None,
        lambda v: v * [1],
    ],
)
def test_arithmetic_with_non_numbers_raises_type_error(expr):
    with pytest.raises(TypeError):
        expr(Value(1.0))


@pytest.mark.parametrize(
    "method", ["__add__", "__mul__", "__sub__", "__truediv__", "__pow__", "__rpow__"]
)
def test_ops_return_not_implemented_for_strings(method):
    """NotImplemented (not a raise) lets Python try the other operand, then raise TypeError."""
    assert getattr(Value(1.0), method)("a") is NotImplemented


@pytest.mark.parametrize(
    ("method", "expr", "symbol"),
    [
        ("__radd__", lambda v: None + v, "+"),
        ("__rsub__", lambda v: None - v, "-"),
        ("__rmul__", lambda v: None * v, "*"),
        ("__rtruediv__", lambda v: None / v, "/"),
    ],
)
def test_reflected_ops_return_not_implemented(method, expr, symbol):
    """`None - v` should fail like any Python type: "for -: 'NoneType' and 'Value'"."""
    v = Value(1.0)
    with pytest.raises(TypeError) as info:
        expr(v)
    assert f"for {symbol}: 'NoneType' and 'Value'" in str(info.value)
    assert getattr(v, method)(None) is NotImplemented


@pytest.mark.parametrize(
    "scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)], ids=lambda s: type(s).__name__
)
def test_numpy_scalars_as_operands(scalar):
    """numpy scalars work on either side and become float constants in the graph."""
    x = Value(3.0)
    for out, grad in [
        (x * scalar, 2.0),
        (scalar * x, 2.0),
        (x + scalar, 1.0),
        (scalar + x, 1.0),
        (x - scalar, 1.0),
        (x**scalar, 6.0),
        (scalar**x, 8.0 * math.log(2.0)),
    ]:
        assert type(out) is Value and type(out.data) is float
        x.grad = 0.0
        out.backward()
        assert math.isclose(x.grad, grad, rel_tol=1e-15), (out, grad)


@pytest.mark.parametrize("scalar", [np.int64(3), np.float32(3.0)], ids=lambda s: type(s).__name__)
def test_divide_by_numpy_scalar(scalar):
    """x / s must equal x / Value(s): s is stored as a Python float like any other constant."""
    assert (Value(1.0) / scalar).data == (Value(1.0) / Value(scalar)).data == 1 / 3


# ---------------------------------------------------------------------------------------------
# 6. errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, -1.0, -1e-300])
def test_log_of_non_positive_raises_value_error(x):
    with pytest.raises(ValueError, match="log") as info:
        Value(x).log()
    assert repr(x) in str(info.value)


def test_zero_to_negative_power_raises():
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(0) ** -1
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(0.0) ** Value(-0.5)


def test_negative_base_fractional_power_raises_not_complex():
    """Python would return a complex number; the engine refuses instead."""
    with pytest.raises(ValueError, match="pow"):
        Value(-8) ** 0.5
    with pytest.raises(ValueError, match="pow"):
        Value(-8.0) ** Value(1 / 3)


def test_overflow_names_the_op():
    with pytest.raises(OverflowError, match="exp"):
        Value(1000).exp()
    with pytest.raises(OverflowError, match="pow"):
        Value(10.0) ** 400
    with pytest.raises(OverflowError, match="pow"):
        2 ** Value(5000.0)


def test_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError):
        Value(1) / 0
    with pytest.raises(ZeroDivisionError):
        Value(1) / 0.0
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(1) / Value(0)
    with pytest.raises(ZeroDivisionError, match="pow"):
        3 / Value(0.0)


@pytest.mark.parametrize(
    "build",
    [lambda x: x**-1, lambda x: 1 / x, lambda x: x ** Value(-1.0)],
    ids=["pow", "rdiv", "pow_value"],
)
def test_finite_forward_with_overflowing_derivative(build):
    """Forward is finite, so the op must succeed; the gradient is -inf like torch's."""
    x = Value(1e-200)
    y = build(x)
    assert math.isclose(y.data, 1e200, rel_tol=1e-15)
    y.backward()
    assert x.grad == -math.inf


# ---------------------------------------------------------------------------------------------
# 7. determinism and topological order
# ---------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(program=programs())
def test_same_graph_twice_bit_identical(program):
    """Fixed operand order means a fixed summation order: grads repeat to the last bit."""
    runs = []
    for _ in range(2):
        nodes = run_program(program, Value)
        nodes[-1].backward()
        runs.append([n.data.hex() for n in nodes] + [n.grad.hex() for n in nodes])
    assert runs[0] == runs[1]


def recursive_topo(root: Value) -> list[Value]:
    """Reference: micrograd's recursive DFS (operands in order, node after its parents)."""
    topo, seen = [], set()

    def build(v):
        if id(v) not in seen:
            seen.add(id(v))
            for p in v._prev:
                build(p)
            topo.append(v)

    build(root)
    return topo


def test_topo_order_small_graph():
    """First operand's subtree comes first; a shared node appears once, at its first visit."""
    c = Value(3.0)  # created first: creation order would put it first, DFS order does not
    a, b = Value(1.0), Value(2.0)
    ab = a + b
    bc = b * c
    unused = a * c  # not below d: must not appear
    d = ab * bc
    assert [id(n) for n in d.topo()] == [id(n) for n in (a, b, ab, c, bc, d)]
    assert id(unused) not in {id(n) for n in d.topo()}
    e = bc * ab  # operands swapped: bc's subtree first
    assert [id(n) for n in e.topo()] == [id(n) for n in (b, c, bc, a, ab, e)]


@settings(max_examples=200, deadline=None)
@given(program=programs())
def test_topo_matches_recursive_dfs(program):
    """The iterative topo() gives exactly the recursive DFS order, each node once, parents first."""
    root = run_program(program, Value)[-1]
    topo = root.topo()
    assert [id(n) for n in topo] == [id(n) for n in recursive_topo(root)]
    position = {id(n): i for i, n in enumerate(topo)}
    assert len(position) == len(topo)
    assert all(position[id(p)] < position[id(n)] for n in topo for p in n._prev)


# ---------------------------------------------------------------------------------------------
# 7b. fused ops: Value.sum, Value.linear, Value.detached_max, Value.pick
# ---------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(xs=st.lists(floats(-1e3, 1e3), min_size=1, max_size=10))
def test_sum_matches_left_to_right_chain_bitwise(xs):
    """Value.sum adds left to right, so it equals the chain v0 + v1 + ... to the last bit."""
    vs = [Value(x) for x in xs]
    fused = Value.sum(vs)
    chain = vs[0]
    for v in vs[1:]:
        chain = chain + v
    assert fused.data.hex() == chain.data.hex()
    assert fused._op == "sum" and all(p is v for p, v in zip(fused._prev, vs))
    fused.backward()
    assert [v.grad for v in vs] == [1.0] * len(vs)


def test_sum_repeated_operand_and_empty():
    a, b = Value(2.0), Value(5.0)
    s = Value.sum([a, b, a])
    s.backward()
    assert (s.data, a.grad, b.grad) == (9.0, 2.0, 1.0)  # a appears twice: two edges
    with pytest.raises(ValueError, match="sum"):
        Value.sum([])


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(0, 8))
def test_linear_matches_unfused_chain_bitwise(data, n):
    """Value.linear == b + w0 x0 + w1 x1 + ... built from + and *: same value and grads, bitwise."""
    w, x = ([data.draw(floats(-10, 10)) for _ in range(n)] for _ in range(2))
    b = data.draw(floats(-10, 10))

    def run(fused):
        ws, xs, bv = [Value(v) for v in w], [Value(v) for v in x], Value(b)
        if fused:
            out = Value.linear(ws, xs, bv)
        else:
            out = bv
            for wi, xi in zip(ws, xs):
                out = out + wi * xi
        (out * 1.5).backward()  # a non-unit upstream gradient
        return [v.hex() for v in [out.data, bv.grad] + [t.grad for t in ws + xs]]

    assert run(fused=True) == run(fused=False)


def test_linear_structure():
    """One node whose parents are b, every w_i and x_i, each with its own local derivative."""
    w0, w1, x0, x1, b = (Value(v) for v in (2.0, 3.0, 5.0, 7.0, 11.0))
    out = Value.linear([w0, w1], [x0, x1], b)
    assert out._op == "w·x+b" and out.data == 11.0 + 10.0 + 21.0
    expected_local = {id(b): 1.0, id(w0): 5.0, id(w1): 7.0, id(x0): 2.0, id(x1): 3.0}
    assert len(out._prev) == len(out._local) == 5
    assert {id(p): loc for p, loc in zip(out._prev, out._local)} == expected_local


def test_linear_rejects_mismatched_lengths():
    """len(w) != len(x) is a caller error; anything but an error gives some parent a wrong grad."""
    w0, w1, x0, b = Value(1.0), Value(2.0), Value(3.0), Value(0.0)
    with pytest.raises(ValueError):
        Value.linear([w0, w1], [x0], b)


def test_detached_max_passes_no_gradient():
    """The max is a node (for replay) with zero local grads: nothing flows through it."""
    a, b = Value(1.0), Value(4.0)
    m = Value.detached_max([a, b])
    assert m.data == 4.0 and m._op == "max" and m._prev == (a, b)
    (a - m + b * m).backward()
    assert (a.grad, b.grad, m.grad) == (1.0, 4.0, 3.0)  # b only via the b·m product


def test_pick_routes_gradient_to_the_picked_value_only():
    a, b, c = Value(2.0), Value(3.0), Value(5.0)
    label = Value(1)
    out = Value.pick([a, b, c], label)
    assert out.data == 3.0 and out._op == "pick"
    assert all(p is q for p, q in zip(out._prev, (a, b, c, label), strict=True))
    (out * 4).backward()
    assert (a.grad, b.grad, c.grad, label.grad) == (0.0, 4.0, 0.0, 0.0)


def test_pick_repeated_value_gets_one_edge():
    """[a, a] picked at 1: one local 1.0 and one 0.0, so a.grad is 1, not 2."""
    a = Value(2.0)
    Value.pick([a, a], Value(1.0)).backward()
    assert a.grad == 1.0


@pytest.mark.parametrize("index", [3, -1, 0.5, math.nan, math.inf, -math.inf])
def test_pick_rejects_bad_index(index):
    with pytest.raises(ValueError, match="pick"):
        Value.pick([Value(1.0), Value(2.0), Value(3.0)], Value(index))


@pytest.mark.parametrize("xs", [[1.0, 2.0, 3.0], [-5.0, 0.0, 5.0, 100.0], [700.0, 710.0]])
def test_shifted_logsumexp_matches_torch(xs):
    """log Σ exp(x - max) + max: the detached shift is safe from overflow and grads are softmax."""
    vs = [Value(x) for x in xs]
    m = Value.detached_max(vs)
    lse = Value.sum([(v - m).exp() for v in vs]).log() + m
    lse.backward()
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    torch.logsumexp(t, 0).backward()
    assert close(lse.data, torch.logsumexp(t, 0).item(), 1e-14, 0.0)
    # reference grad: torch.softmax, exp(x - max) / Σ, good to a few ulps. (torch's own logsumexp
    # grad, exp(x - lse), is off by ~ulp(710) ≈ 1e-13 relative for x ≈ 700, too loose for 1e-14.)
    softmax = torch.softmax(t.detach(), 0).tolist()
    assert all(close(v.grad, g, 1e-14, 0.0) for v, g in zip(vs, softmax))


# ---------------------------------------------------------------------------------------------
# 8. micrograd-style sanity checks against torch
# ---------------------------------------------------------------------------------------------


def _both(build, *xs):
    """Run build on Values and on float64 tensors; return (ours, torch) forward and grads."""
    vs = [Value(x) for x in xs]
    out = build(*vs)
    out.backward()
    ts = [torch_leaf(x) for x in xs]
    tout = build(*ts)
    tout.backward()
    return (out.data, [v.grad for v in vs]), (tout.item(), [t.grad.item() for t in ts])


def _relu_pow_mix(x):
    y = 3 * x - 1 + x * x
    z = y.relu() * x + (y * 0.5) ** 2
    w = (z - 20).relu() + z * y.relu()
    return w + w * x + (x * -2).relu()


def _many_ops(a, b):
    c = a * b + b**3
    c = c + c * 0.5 + (-a)
    d = (a - b).relu() + (b + a).relu() * 2
    d = d + 2 * d + c / 4
    e = (c - d) ** 2
    f = e / 3.0 + 7.0 / (e + 1) + (a * a + 1) ** -0.5
    return f + (a / b).tanh() - (b - 1).exp() / 10


@pytest.mark.parametrize("x", [-4.0, -0.5, 1.5, 3.0])
def test_sanity_relu_pow_mix(x):
    (ours, our_grads), (theirs, their_grads) = _both(_relu_pow_mix, x)
    assert close(ours, theirs, 1e-12, 1e-12)
    assert all(close(g, t, 1e-12, 1e-12) for g, t in zip(our_grads, their_grads))
    assert our_grads != [0.0]  # at these points the expression actually depends on x


@pytest.mark.parametrize(("a", "b"), [(-4.0, 2.0), (1.5, -0.75), (3.0, 2.5)])
def test_sanity_many_ops(a, b):
    (ours, our_grads), (theirs, their_grads) = _both(_many_ops, a, b)
    assert close(ours, theirs, 1e-12, 1e-12)
    assert all(close(g, t, 1e-12, 1e-12) for g, t in zip(our_grads, their_grads))
