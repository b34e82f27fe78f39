"""A node keeps its parents in its own slots: one object per op, `_prev`/`_local` as before."""

from __future__ import annotations

import copy
import gc
import pickle

import pytest

from micrograd import Op, Value
from micrograd.links import MANY


def test_an_op_allocates_one_object_for_the_cycle_collector():
    """The collector counts container allocations; a product is one (the node), not three."""
    a, b = Value(2.0), Value(3.0)
    keep = [None] * 1000
    was = gc.isenabled()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for i in range(1000):
            keep[i] = (a * b).relu()
        made = gc.get_count()[0] - before
    finally:
        if was:
            gc.enable()
    assert made <= 2000 + 10, f"{made} tracked objects for 2,000 nodes"


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_prev_and_local_read_back_as_tuples_for_any_count(n):
    parents = tuple(Value(float(i)) for i in range(n))
    node = Value(1.0, parents, "op")
    assert node._prev == parents and node._local is None
    node._local = tuple(float(10 + i) for i in range(n))
    assert node._prev == parents
    assert node._local == tuple(float(10 + i) for i in range(n))
    assert (node._b is MANY) == (n > 2)


def test_setting_parents_keeps_the_locals_and_a_set_is_accepted():
    a, b = Value(1.0), Value(2.0)
    node = a * b
    node._prev = (b, a)  # swapped by hand: the locals stay as they were
    assert node._prev == (b, a) and node._local == (2.0, 1.0)
    lecture = Value(3.0, {a}, "+")  # 0.1.0 passes a set
    assert lecture._prev == (a,) and lecture._local is None


def test_locals_of_another_length_pair_as_zip_pairs_them():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    node = a + b
    node._local = (5.0, 6.0, 7.0)  # one too many: the third has no parent
    assert node._prev == (a, b) and node._local == (5.0, 6.0, 7.0)
    node.backward()
    assert (a.grad, b.grad, c.grad) == (5.0, 6.0, 0.0)


def test_a_closure_set_by_hand_clears_the_locals_and_runs():
    x = Value(0.5)
    out = x * 2.0
    seen = []
    out._backward = lambda: seen.append(out.grad)
    assert out._local is None
    out.backward()
    assert seen == [1.0] and x.grad == 0.0


def test_wide_and_unary_ops_backpropagate_through_the_layout():
    xs = [Value(float(i)) for i in range(1, 6)]
    total = Value.sum(xs) * xs[0].tanh()
    assert len(total._prev[0]._prev) == 5 and total._prev[0]._b is MANY
    total.backward()
    t = xs[0].tanh().data
    assert xs[1].grad == t and xs[0].grad == pytest.approx(t + 15.0 * (1 - t * t))


def test_an_op_of_no_operands_is_a_leaf():
    constant = Op("one", lambda m: 1.0, lambda m, out: ())
    node = constant()
    assert node._prev == () and node._local == () and node.topo() == [node]


def test_copies_and_pickles_keep_the_layout():
    a, b = Value(1.5), Value(-2.0)
    loss = (a * b + Value.sum([a, b, a])).relu()
    for clone in (copy.deepcopy(loss), pickle.loads(pickle.dumps(loss))):
        nodes = clone.topo()
        assert [n.data for n in nodes] == [n.data for n in loss.topo()]
        assert [n._local for n in nodes] == [n._local for n in loss.topo()]
