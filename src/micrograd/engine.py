"""The autograd engine: a scalar `Value`, the rules of its ops, and `backward()`.

Every op is defined once, in the table below: its forward value and its local derivatives
(d out / d operand), written as rules that run on floats, NumPy arrays, `Value`s and symbols
(`micrograd.ops` says how). An op stores its local derivatives on the node it creates;
`backward()` then applies the chain rule with one generic loop. There is no per-node closure, so
nodes hold no reference cycles and the garbage collector has nothing to chase.

`grad(output, inputs)` returns gradients without touching `.grad`, and with `create_graph=True`
the gradients are `Value`s with graphs of their own (the local rules run on Values), so they can
be differentiated again: Newton's method, curvature, Hessian-vector products.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from types import SimpleNamespace
from typing import Any

from micrograd import links, persist
from micrograd.links import MANY, link, locals_of, parents_of, set_locals, set_parents
from micrograd.ops import Op, checked_gradient, checked_pow, use_value_type

# ---- the rules: one line per op (m: the math of whatever numbers run them, see micrograd.ops) ----
# Op(name,  forward(m, operands...),           local(m, out, operands...): d out / d each operand)

ADD = Op("+", lambda m, a, b: a + b, lambda m, out, a, b: (1.0, 1.0))
MUL = Op("*", lambda m, a, b: a * b, lambda m, out, a, b: (b, a))
POW = Op("**", lambda m, a, b: m.pow(a, b), lambda m, out, a, b: m.pow_value_locals(a, b, out))
EXP = Op("exp", lambda m, x: m.exp(x), lambda m, out, x: (out,))
LOG = Op("log", lambda m, x: m.log(x), lambda m, out, x: (m.recip(x),))
TANH = Op("tanh", lambda m, x: m.tanh(x), lambda m, out, x: (1 - out**2,))
SIGMOID = Op("sigmoid", lambda m, x: m.sigmoid(x), lambda m, out, x: (out * (1.0 - out),))
RELU = Op("ReLU", lambda m, x: m.relu(x), lambda m, out, x: (m.if_positive(out, 1.0, 0.0),))
SIN = Op("sin", lambda m, x: m.sin(x), lambda m, out, x: (m.cos(x),))
COS = Op("cos", lambda m, x: m.cos(x), lambda m, out, x: (-m.sin(x),))
RECIP = Op("recip", lambda m, x: m.recip(x), lambda m, out, x: (-(out * out),))  # 1/x, ±inf at 0
SQRT = Op("sqrt", lambda m, x: m.sqrt(x), lambda m, out, x: (0.5 * m.recip(out),))  # inf at 0
# |x|: PyTorch's slope at 0 is 0 (the sign function)
ABS = Op("abs", lambda m, x: m.abs(x),
         lambda m, out, x: (m.if_positive(x, 1.0, m.if_positive(-x, -1.0, 0.0)),))
# log(1 + e^x) as PyTorch computes it: x itself above 20, and without overflow below
SOFTPLUS = Op("softplus",
              lambda m, x: m.if_positive(x - 20.0, x, m.relu(x) + m.log1p(m.exp(-m.abs(x)))),
              lambda m, out, x: (m.if_positive(x - 20.0, 1.0, m.sigmoid(x)),))
# max/min of two: at a tie each operand gets half the gradient (PyTorch's maximum/minimum)
MAXIMUM = Op("maximum", lambda m, a, b: m.if_positive(a - b, a, b),
             lambda m, out, a, b: (m.if_positive(a - b, 1.0, m.if_positive(b - a, 0.0, 0.5)),
                                   m.if_positive(b - a, 1.0, m.if_positive(a - b, 0.0, 0.5))))
MINIMUM = Op("minimum", lambda m, a, b: m.if_positive(b - a, a, b),
             lambda m, out, a, b: (m.if_positive(b - a, 1.0, m.if_positive(a - b, 0.0, 0.5)),
                                   m.if_positive(a - b, 1.0, m.if_positive(b - a, 0.0, 0.5))))
GELU_BETA, GELU_KAPPA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5, 0.044715


def _gelu(m: Any, x: Any) -> Any:
    """GELU, tanh form: 0.5 x (1 + tanh(β (x + κ x³))), PyTorch's `approximate="tanh"`."""
    return 0.5 * x * (1 + m.tanh(GELU_BETA * (x + GELU_KAPPA * (x * x * x))))


def _gelu_local(m: Any, out: Any, x: Any) -> tuple:
    t = m.tanh(GELU_BETA * (x + GELU_KAPPA * (x * x * x)))
    return (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (GELU_BETA * (1 + 3 * GELU_KAPPA * (x * x))),)


GELU = Op("gelu", _gelu, _gelu_local)
# SiLU: x·σ(x), PyTorch's nn.SiLU; d/dx = σ(x)(1 + x(1 - σ(x))), the form of PyTorch's backward
SILU = Op("silu", lambda m, x: x * m.sigmoid(x),
          lambda m, out, x: (m.sigmoid(x) * (1 + x * (1 - m.sigmoid(x))),))


def _chain_sum(m: Any, *xs: Any) -> Any:
    total = xs[0]
    for x in xs[1:]:
        total = total + x  # left to right: the float the chain of `+` nodes computes
    return total


def _linear(m: Any, b: Any, *wx: Any) -> Any:
    n = len(wx) // 2  # operands (b, w0, ..., w(n-1), x0, ..., x(n-1))
    act = b
    for i in range(n):
        act = act + wx[i] * wx[n + i]  # the order of 0.1.0's sum((wi*xi ...), b)
    return act


SUM = Op("sum", _chain_sum, lambda m, out, *xs: (1.0,) * len(xs))
# d/db = 1, d/dw_i = x_i, d/dx_i = w_i
LINEAR = Op("w·x+b", _linear,
            lambda m, out, b, *wx: (1.0, *wx[len(wx) // 2 :], *wx[: len(wx) // 2]))
# the max that shifts softmax: no gradient flows through it (softmax ignores a constant shift)
DETACHED_MAX = Op("max", lambda m, *xs: m.max(*xs), lambda m, out, *xs: (0.0,) * len(xs))
# values[index] with the index (a label) as the last operand, so one graph serves every label
PICK = Op("pick", lambda m, *a: m.pick(a[-1], *a[:-1]),
          lambda m, out, *a: (*(m.onehot(a[-1], i) for i in range(len(a) - 1)), 0.0))

_POWERS: dict[float, Op] = {}
_LEAKY: dict[float, Op] = {}


def power(p: float) -> Op:
    """x ** p for a constant p: one op per exponent, named as pictures show it (`**2`)."""
    op = _POWERS.get(p)
    if op is None:
        op = _POWERS[p] = Op(f"**{_fmt(p)}", lambda m, x: m.pow(x, p),
                             lambda m, out, x: (m.pow_slope(x, p),))
        op.recipe = (power, (p,))  # how a pickle names it
    return op


def leaky_relu(negative_slope: float = 0.01) -> Op:
    """x if x > 0 else slope·x, one op per slope (PyTorch's default slope 0.01)."""
    op = _LEAKY.get(negative_slope)
    if op is None:
        name = "leaky_relu" if negative_slope == 0.01 else f"leaky_relu({negative_slope!r})"
        op = _LEAKY[negative_slope] = Op(
            name, lambda m, x: m.if_positive(x, x, x * negative_slope),
            lambda m, out, x: (m.if_positive(x, 1.0, negative_slope),))
        op.recipe = (leaky_relu, (negative_slope,))
    return op


def _node(data: float, parents: tuple, op: str, local: tuple) -> Value:
    """The node an op returns: `data` is already a float, so `__init__`'s checks are skipped.

    The ops compiled for floats build their node inline, the same way (`ops.Op._compile`); this
    is the wide ops' and the interpreted rules' way.
    """
    node = object.__new__(Value)
    node.data = data
    node.grad = 0.0
    link(node, parents, local)
    node._op = op
    return node


def _as_value(other: object) -> Value | None:
    """Wrap a plain real number as a constant leaf; None for anything that is not a number."""
    if isinstance(other, Value):
        return other
    if isinstance(other, Real) and not isinstance(other, bool):
        return Value(other)
    return None


class Value:
    """One scalar in a computation graph: its data, its gradient, and how it was made.

    `Value(data, _children, _op)` is micrograd 0.1.0's signature; `label=` names the node in
    pictures, as in the lecture. The ops build their nodes as `_node` does, storing also the
    local derivatives. Any other attribute a user sets (`p.m`, `p._vis_color`) is kept in the
    instance's `__dict__`: its slot costs every node 16 bytes (88 instead of 72), a dict is
    allocated only for nodes that get an attribute.
    """

    __slots__ = ("data", "grad", "_a", "_b", "_da", "_db", "_op", "__dict__")  # see `links`
    label = ""  # a class default: only nodes given a label store one
    _prev = property(parents_of, set_parents, doc="The parents, in operand order (a tuple).")
    _local = property(locals_of, set_locals, doc="d self / d parent, one per parent, or None.")

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = ""):
        if type(data) is not float:
            if not isinstance(data, Real) or isinstance(data, bool):
                raise TypeError(
                    f"Value needs a real number, got {type(data).__name__} {data!r}; "
                    "pass an int or float (e.g. Value(2.0))"
                )
            data = float(data)
        self.data = data
        self.grad = 0.0
        # d self / d parent, one per parent (set by the ops, see `_node`); None for a node built
        # by user code in the lecture's style, whose own `_backward` closure does the chain rule
        self._da = None
        if _children:
            self._prev = _children  # parents in operand order: summation order is fixed
        else:
            self._a = self._b = None
        self._op = _op  # the op that made this node, for pictures and debugging
        if label:
            if not isinstance(label, str):
                raise TypeError(f"Value's 4th argument is its label, a str, got "
                                f"{type(label).__name__}; local derivatives are made by ops "
                                "(see micrograd.Op)")
            self.label = label

    # ---- the ops: each one is its rule from the table above, compiled for floats ----

    __add__ = ADD.eager(2, binary_method=True)
    __mul__ = MUL.eager(2, binary_method=True)
    exp = EXP.eager(1)
    log = LOG.eager(1)
    tanh = TANH.eager(1)
    sigmoid = SIGMOID.eager(1)
    relu = RELU.eager(1)
    sin = SIN.eager(1)
    cos = COS.eager(1)
    sqrt = SQRT.eager(1)
    abs = __abs__ = ABS.eager(1)
    softplus = SOFTPLUS.eager(1)
    gelu = GELU.eager(1)  # tanh form
    silu = SILU.eager(1)
    maximum = MAXIMUM.eager(2, binary_method=True)  # max of two Values
    minimum = MINIMUM.eager(2, binary_method=True)

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        return leaky_relu(negative_slope).eager(1)(self)

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return POW.eager(2)(self, other)
        if not isinstance(other, Real) or isinstance(other, bool):
            return NotImplemented
        return power(float(other)).eager(1)(self)

    def __rpow__(self, other: float) -> Value:  # other ** self
        base = _as_value(other)
        return NotImplemented if base is None else POW.eager(2)(base, self)

    @staticmethod
    def sum(values: Sequence[Value]) -> Value:
        """v0 + v1 + ... as one node, added left to right (builtin sum may reorder floats)."""
        if not values:
            raise ValueError("sum: needs at least one Value")
        return SUM.eager(len(values))(*values)

    @staticmethod
    def linear(w: Sequence[Value], x: Sequence[Value], b: Value) -> Value:
        """b + w0 x0 + w1 x1 + ... as one node: a neuron before its activation.

        Operands are (b, w0, w1, ..., x0, x1, ...); the sum runs in the order of the unfused
        chain of `+` and `*`, so the value is the same float.
        """
        if len(w) != len(x):
            raise ValueError(f"linear: {len(w)} weights for {len(x)} inputs; pass one per input")
        return LINEAR.eager(1 + 2 * len(w))(b, *w, *x)

    @staticmethod
    def detached_max(values: Sequence[Value]) -> Value:
        """max(values) with zero gradient: the shift that makes softmax safe from overflow.

        Being a node, not a float, lets a recorded tape recompute it on replay.
        """
        return DETACHED_MAX.eager(len(values))(*values)

    @staticmethod
    def pick(values: Sequence[Value], index: Value) -> Value:
        """values[index] where the index is itself a node (a label), so a tape can replay it."""
        return PICK.eager(len(values) + 1)(*values, index)

    # ---- composites: built from the ops above ----

    def __neg__(self) -> Value:  # -self
        return self * -1

    def __radd__(self, other: float) -> Value:  # other + self
        if _as_value(other) is None:
            return NotImplemented
        return self + other

    def __sub__(self, other: Value | float) -> Value:  # self - other
        if _as_value(other) is None:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other: float) -> Value:  # other - self
        if _as_value(other) is None:
            return NotImplemented
        return other + (-self)

    def __rmul__(self, other: float) -> Value:  # other * self
        if _as_value(other) is None:
            return NotImplemented
        return self * other

    def __truediv__(self, other: Value | float) -> Value:  # self * other**-1
        if isinstance(other, Value):
            return self * other**-1
        if not isinstance(other, Real) or isinstance(other, bool):
            return NotImplemented
        if other == 0:
            raise ZeroDivisionError(f"/: {self.data!r} / {other!r} divides by zero")
        # a number is inverted as a float before it is wrapped (0.1.0's graph: `self * 0.5`,
        # one constant leaf); it is the float the `**-1` node would compute, so results agree
        return self * checked_pow(float(other), -1.0)

    def __rtruediv__(self, other: float) -> Value:  # other / self
        if _as_value(other) is None:
            return NotImplemented
        return other * self**-1

    # ---- backpropagation ----

    def backward(self, gradient: float | None = 1.0, create_graph: bool = False) -> None:
        """Fill every node's `.grad` with d self / d node (times `gradient`, as in PyTorch).

        Leaves (nodes without parents: parameters, inputs, constants) accumulate with `+=`, as in
        PyTorch, so call `zero_grad()` between steps. Interior nodes are reset first, so a second
        `backward()` on the same graph adds the same gradient to the leaves once more and leaves the
        interior grads equal to those of a single pass (never compounded). With `create_graph`
        the grads are `Value`s that can be differentiated again (PyTorch's `create_graph=True`).
        `gradient=None` means 1.0, as PyTorch's for a scalar output.
        """
        gradient = checked_gradient(gradient, "backward")
        interior = self.topo(leaves=False)  # leaves pass nothing on: they only receive
        if create_graph:
            _store_graph_grads(self, interior, float(gradient))
            return
        for node in interior:
            node.grad = 0.0
        self.grad += gradient  # d self/d self; a leaf root accumulates like any leaf
        for node in reversed(interior):  # the parents' slots read directly (see `links`)
            da = node._da
            if da is None:  # a node built by user code: its own closure knows its rule
                node._backward()
                continue
            # chain rule (§2.1): d self/d parent += d self/d node · d node/d parent
            g = node.grad
            b = node._b
            if b is None:
                node._a.grad += da * g
            elif b is MANY:
                for parent, local in zip(node._a, da):
                    parent.grad += local * g
            else:
                node._a.grad += da * g
                b.grad += node._db * g

    def _chain_rule_step(self) -> None:
        """One step of the chain rule at this node: each parent's grad += local derivative · grad.

        `backward()` does this for every node in reverse topological order; calling it by hand
        (`v._backward()`), node by node from the output, is the lecture's manual backprop.
        """
        if self._local is None:
            return  # a leaf, or a user-built node without a closure: nothing to pass on
        g = self.grad
        for parent, local in zip(self._prev, self._local):
            parent.grad += local * g

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's step of the chain rule, or the closure user code gave it (0.1.0's style:
        `out._backward = closure`). Setting one clears `_local`, so `backward()` calls it."""
        return getattr(self, "_closure", None) or self._chain_rule_step

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        self._closure = closure
        self._local = None

    def topo(self, leaves: bool = True) -> list[Value]:
        """The graph below this node, parents before children (iterative: no recursion limit).

        Depth-first from `self`, first operand first, as a recursive DFS would visit it. With
        `leaves=False` only the nodes that have parents are listed, in the same relative order.
        """
        return links.topo(self, leaves)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # ---- copies and pickles of the whole graph below a node, without recursion ----

    def __copy__(self) -> Value:
        return persist.shallow_copy(self)

    def __deepcopy__(self, memo: dict) -> Value:
        return persist.deepcopy_graph(self, memo)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return persist.reduce_node(self)

    def __setstate__(self, state: tuple) -> None:
        persist.restore(self, state)


use_value_type(Value, _node, _as_value)  # the ops' eager forms make Values from here on


# ---- gradients as Values: the local rules run on the graph's own nodes ----


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _value_pow_locals(a: Value, b: Value, out: Value) -> tuple[Any, Any]:
    if a.data > 0.0:
        dlog: Any = out * a.log()
    else:  # the float rule's conventions: 0 along a = 0 (b >= 0), else no real derivative
        dlog = 0.0 if a.data == 0.0 and b.data >= 0.0 else math.nan
    # at b = 0 the slope in a is the constant 0 (pow_local's convention, and PyTorch's, whose
    # second derivative there is 0 as well)
    return (0.0 if b.data == 0.0 else b * a ** (b - 1)), dlog


VALUE_MATH = SimpleNamespace(
    exp=lambda x: x.exp(), log=lambda x: x.log(), log1p=lambda x: (1 + x).log(),
    sqrt=lambda x: x.sqrt(), tanh=lambda x: x.tanh(), sigmoid=lambda x: x.sigmoid(),
    sin=lambda x: x.sin(), cos=lambda x: x.cos(), abs=lambda x: x.abs(), relu=lambda x: x.relu(),
    recip=lambda x: RECIP(x), pow=lambda x, p: x**p,
    pow_slope=lambda x, p: 0.0 if p == 0.0 else p * x ** (p - 1),
    pow_value_locals=_value_pow_locals,
    max=lambda *xs: Value.detached_max(xs), pick=lambda k, *xs: Value.pick(xs, k),
    onehot=lambda k, i: 1.0 if int(_data(k)) == i else 0.0,
    if_positive=lambda x, then, otherwise: then if _data(x) > 0 else otherwise,
)
VALUE_MATH.__doc__ = "The rules' functions on Values: derivatives that are graphs themselves."


def _local_values(node: Value) -> tuple:
    """The node's local derivatives as Values (its rule run on the nodes themselves)."""
    if not isinstance(node._op, Op) or node._local is None:
        raise TypeError(no_local_rule("create_graph", node))
    return tuple(node._op.local(VALUE_MATH, node, *node._prev))


def no_local_rule(who: str, node: Value) -> str:
    """Why `who` cannot run through `node`, a node without local derivatives, and what to do."""
    return (f"{who}: node {str(node._op)!r} has no local derivatives: a model call inside "
            "micrograd.compile (call the model outside it) or a node with its own _backward "
            "closure (use backward(), or make it with an Op, micrograd.Op)")


def gradients(root: Value, gradient: Any = 1.0, create_graph: bool = False) -> dict[Value, Any]:
    """d root / d node for every node below `root` (times `gradient`), without touching `.grad`.

    The same chain rule as `backward()`, in the same order, so float gradients are the same bits;
    with `create_graph` the local derivatives are Values and so is every gradient.
    """
    interior = root.topo(leaves=False)
    grads: dict[Value, Any] = {root: Value(gradient) if create_graph else gradient}
    for node in reversed(interior):
        g = grads.get(node)
        if g is None:
            continue
        if create_graph:
            locals_ = _local_values(node)
        elif node._local is None:
            raise TypeError(no_local_rule("grad", node))
        else:
            locals_ = node._local
        for parent, local in zip(node._prev, locals_):
            before = grads.get(parent)
            if before is None:  # 0.0 + c, as backward's reset interior grads and zeroed leaves
                grads[parent] = local * g if create_graph else 0.0 + local * g
            else:
                grads[parent] = before + local * g
    return grads


def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: bool = False,
    gradient: float = 1.0,
) -> tuple[Any, ...]:
    """(d output / d input for each input), like `torch.autograd.grad`; `.grad` is not touched.

    With `create_graph=True` each gradient is a `Value` with its own graph, so `grad` can be
    applied to it again: `grad(grad(y, x, create_graph=True)[0], x)` is d²y/dx². An input that
    `output` does not depend on gets 0.0 (a `Value(0.0)` with `create_graph`). `gradient` is
    `backward()`'s: a real number (None means 1.0), as PyTorch's `grad_outputs` for a scalar.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    xs = [inputs] if isinstance(inputs, Value) else list(inputs)
    grads = gradients(output, checked_gradient(gradient, "grad"), create_graph)
    zero = Value(0.0) if create_graph else 0.0
    return tuple(grads.get(x, zero) for x in xs)


def _store_graph_grads(root: Value, interior: list[Value], gradient: float) -> None:
    """`backward(create_graph=True)`: interior grads set, leaf grads accumulated, all Values."""
    grads = gradients(root, gradient, create_graph=True)
    inside = set(interior)
    for node, g in grads.items():
        node.grad = g if node in inside else node.grad + g


def _fmt(p: float) -> str:
    """Exponent label for pictures: `**2`, `**-1`, `**0.5`."""
    return str(int(p)) if float(p).is_integer() else repr(float(p))
