"""The autograd engine: a scalar `Value`, the ops that build a graph of them, and `backward()`.

Each op computes its forward value and its local derivatives (d out / d operand) in one place and
stores them on the node it creates. `backward()` then applies the chain rule with one generic loop:
there is no per-node closure, so nodes hold no reference cycles and the garbage collector has
nothing to chase.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real


def _node(data: float, parents: tuple, op: str, local: tuple) -> Value:
    """The node an op returns: `data` is already a float, so `__init__`'s checks are skipped.

    This is the engine's hot path (one call per op); it is about 10 % faster than `Value(...)`.
    """
    node = object.__new__(Value)
    node.data = data
    node.grad = 0.0
    node._prev = parents
    node._local = local
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
    pictures, as in the lecture. The ops build their nodes with `_node`, which also stores the
    local derivatives. Any other attribute a user sets (`p.m`, `p._vis_color`) is kept in the
    instance's `__dict__`, which Python creates only for nodes that get one, so nodes stay small.
    """

    __slots__ = ("data", "grad", "_prev", "_local", "_op", "__dict__")
    label = ""  # a class default: only nodes given a label store one

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
        self._prev = tuple(_children)  # parents in operand order: summation order is fixed
        # d self / d parent, one per parent (set by the ops, see `_node`); None for a node built
        # by user code in the lecture's style, whose own `_backward` closure does the chain rule
        self._local = None
        self._op = _op  # the op that made this node, for pictures and debugging
        if label:
            self.label = label

    # ---- primitives: forward value and local derivative side by side ----

    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other)
        if other is None:
            return NotImplemented
        return _node(self.data + other.data, (self, other), "+", (1.0, 1.0))  # d(a+b) = 1, 1

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other)
        if other is None:
            return NotImplemented
        # d(ab)/da = b, d(ab)/db = a
        return _node(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __pow__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        if not isinstance(other, Real) or isinstance(other, bool):
            return NotImplemented
        x, p = self.data, float(other)
        # d x^p / dx = p x^(p-1)
        return _node(checked_pow(x, p), (self,), f"**{_fmt(other)}", (pow_local(x, p),))

    def _pow_value(self, other: Value) -> Value:
        """a ** b with both in the graph: d/da = b a^(b-1), d/db = a^b ln a."""
        a, b = self.data, other.data
        out = checked_pow(a, b)
        return _node(out, (self, other), "**", pow_value_locals(a, b, out))

    def __rpow__(self, other: float) -> Value:  # other ** self
        base = _as_value(other)
        return NotImplemented if base is None else base._pow_value(self)

    @staticmethod
    def sum(values: Sequence[Value]) -> Value:
        """v0 + v1 + ... as one node, added left to right (builtin sum may reorder floats)."""
        if not values:
            raise ValueError("sum: needs at least one Value")
        total = values[0].data
        for v in values[1:]:
            total = total + v.data
        return _node(total, tuple(values), "sum", (1.0,) * len(values))  # d/dv_i = 1

    @staticmethod
    def linear(w: Sequence[Value], x: Sequence[Value], b: Value) -> Value:
        """b + w0 x0 + w1 x1 + ... as one node: a neuron before its activation.

        Parents are (b, w0, w1, ..., x0, x1, ...); d/db = 1, d/dw_i = x_i, d/dx_i = w_i. The sum
        runs in the order of the unfused chain of `+` and `*`, so the value is the same float.
        """
        if len(w) != len(x):
            raise ValueError(f"linear: {len(w)} weights for {len(x)} inputs; pass one per input")
        wd = [wi.data for wi in w]
        xd = [xi.data for xi in x]
        act = b.data
        for wv, xv in zip(wd, xd):
            act = act + wv * xv
        return _node(act, (b, *w, *x), "w·x+b", (1.0, *xd, *wd))

    @staticmethod
    def detached_max(values: Sequence[Value]) -> Value:
        """max(values) with zero gradient: the shift that makes softmax safe from overflow.

        Softmax is unchanged by a constant shift, so no gradient flows through it (as in PyTorch's
        log_softmax). Being a node, not a float, lets a recorded tape recompute it on replay.
        """
        return _node(max(v.data for v in values), tuple(values), "max", (0.0,) * len(values))

    @staticmethod
    def pick(values: Sequence[Value], index: Value) -> Value:
        """values[index] where the index is itself a node (a label), so a tape can replay it.

        d/dv_i = 1 for the picked value, 0 for the rest and for the index.
        """
        k = pick_index(index.data, len(values))
        local = [0.0] * (len(values) + 1)
        local[k] = 1.0
        return _node(values[k].data, (*values, index), "pick", tuple(local))

    def exp(self) -> Value:
        out = checked_exp(self.data)
        return _node(out, (self,), "exp", (out,))  # d e^x = e^x

    def log(self) -> Value:
        x = self.data
        return _node(checked_log(x), (self,), "log", (1 / x,))  # d ln x = 1/x

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return _node(t, (self,), "tanh", (1 - t**2,))  # d tanh = 1 - tanh²

    def relu(self) -> Value:
        out = relu(self.data)
        return _node(out, (self,), "ReLU", (float(out > 0),))  # d relu = 1 if x > 0 else 0

    def sigmoid(self) -> Value:
        s = sigmoid(self.data)
        return _node(s, (self,), "sigmoid", (s * (1.0 - s),))  # d σ = σ(1-σ)

    # ---- composites: built from the primitives above ----

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

    def __truediv__(self, other: Value | float) -> Value:  # self / other
        other = _as_value(other)  # wrap first: b ** -1 is then always the engine's float pow
        if other is None:
            return NotImplemented
        return self * other**-1

    def __rtruediv__(self, other: float) -> Value:  # other / self
        if _as_value(other) is None:
            return NotImplemented
        return other * self**-1

    # ---- backpropagation ----

    def backward(self, gradient: float = 1.0) -> None:
        """Fill every node's `.grad` with d self / d node (times `gradient`, as in PyTorch).

        Leaves (nodes without parents: parameters, inputs, constants) accumulate with `+=`, as in
        PyTorch, so call `zero_grad()` between steps. Interior nodes are reset first, so a second
        `backward()` on the same graph adds the same gradient to the leaves once more and leaves the
        interior grads equal to those of a single pass (never compounded).
        """
        interior = self.topo(leaves=False)  # leaves pass nothing on: they only receive
        for node in interior:
            node.grad = 0.0
        self.grad += gradient  # d self/d self; a leaf root accumulates like any leaf
        for node in reversed(interior):
            locals_ = node._local
            if locals_ is None:  # a node built by user code: its own closure knows its rule
                node._backward()
                continue
            # chain rule (§2.1): d self/d parent += d self/d node · d node/d parent
            g = node.grad
            for parent, local in zip(node._prev, locals_):
                parent.grad += local * g

    def _backward(self) -> None:
        """One step of the chain rule at this node: each parent's grad += local derivative · grad.

        `backward()` does this for every node in reverse topological order; calling it by hand,
        node by node from the output, is the lecture's manual backprop. Code that builds its own
        op sets `out._backward = closure` (0.1.0's style) and `backward()` calls that closure.
        """
        if self._local is None:
            return  # a leaf, or a user-built node without a closure: nothing to pass on
        g = self.grad
        for parent, local in zip(self._prev, self._local):
            parent.grad += local * g

    def topo(self, leaves: bool = True) -> list[Value]:
        """The graph below this node, parents before children (iterative: no recursion limit).

        Depth-first from `self`, first operand first, as a recursive DFS would visit it. With
        `leaves=False` only the nodes that have parents are listed, in the same relative order.
        """
        topo: list[Value] = []
        visited: set[Value] = set()  # identity hashing: Value defines no __eq__/__hash__
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                if not node._prev:
                    if leaves:
                        topo.append(node)
                    continue
                stack.append((node, True))
                for parent in reversed(node._prev):  # pushed reversed: first operand pops first
                    if parent not in visited:
                        if parent._prev or leaves:
                            stack.append((parent, False))
                        else:
                            visited.add(parent)  # a leaf: nothing below it to visit
        return topo

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def relu(x: float) -> float:
    """max(0, x) on a float (nan stays nan, as the seed's `0 if x < 0 else x`)."""
    return 0.0 if x < 0 else x


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x) on a float, without overflow for very negative x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# ---- the float math of the ops, shared with micrograd.tape so a replay computes the same bits ----


def checked_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float") from None


def checked_log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: input must be > 0, got {x!r} (log is undefined there)")
    return math.log(x)


def pow_local(x: float, p: float) -> float:
    """d x^p / dx, with PyTorch's conventions where the formula breaks down."""
    if p == 0.0:
        return 0.0  # x**0 is constant, also at x = 0
    if x == 0.0 and p < 1.0:
        return math.inf  # the slope blows up at 0 for p < 1
    try:
        return p * x ** (p - 1)
    except OverflowError:  # a finite x^p whose slope is beyond float range, e.g. 1e-200 ** -1
        odd = float(p - 1).is_integer() and int(p - 1) % 2 == 1
        return math.copysign(math.inf, p) * (math.copysign(1.0, x) if odd else 1.0)


def pow_value_locals(a: float, b: float, out: float) -> tuple[float, float]:
    """(d a^b / da, d a^b / db) for out = a^b."""
    if a > 0.0:
        dlog = out * math.log(a)
    elif a == 0.0 and b >= 0.0:
        dlog = 0.0  # PyTorch's convention: the limit along a = 0
    else:
        dlog = math.nan  # a^b for a < 0 has no real derivative in b (PyTorch gives nan too)
    return pow_local(a, b), dlog


def pick_index(index: float, n: int) -> int:
    if not (math.isfinite(index) and index == int(index) and 0 <= index < n):
        raise ValueError(f"pick: index {index!r} is not an integer in 0..{n - 1}")
    return int(index)


def checked_pow(x: float, p: float) -> float:
    """x ** p as a real float, or an error that names the op instead of a complex result."""
    try:
        out = x**p
    except ZeroDivisionError:
        raise ZeroDivisionError(f"pow: {x!r} ** {p!r} divides by zero") from None
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {p!r} overflows a float") from None
    if isinstance(out, complex):
        raise ValueError(
            f"pow: {x!r} ** {p!r} is not a real number (negative base, non-integer exponent)"
        )
    return out


def _fmt(p: float) -> str:
    """Exponent label for pictures: `**2`, `**-1`, `**0.5`."""
    return str(int(p)) if float(p).is_integer() else repr(float(p))
