"""Python's garbage collector and the engine's graphs: an opt-in, and the bits unchanged.

Python's collector, as it comes, walks everything alive in a full collection every 10
collections of its middle generation, so while a step builds a graph of tens of thousands of
Values it walks the growing graph again and again (`benchmarks/demo_loop.py`). Importing micrograd
leaves it alone (a process-wide change would hold other cyclic garbage, matplotlib's figures in
a plotting loop, ten times longer); `micrograd.collector.fewer_full_collections()` is a loop's
opt-in. The speed work of the eager engine (nodes built inline, `+` and `*` unpacked in the chain
rule) must not change a bit: the last test pins three steps of the demo loop.
"""

from __future__ import annotations

import gc
import json
import random
import subprocess
import sys

import pytest

from micrograd import Value
from micrograd.collector import FULL_COLLECTION_AFTER, fewer_full_collections
from micrograd.engine import _node
from test_engine import recursive_topo


def test_importing_micrograd_leaves_the_collector_alone():
    code = ("import gc, json\nfirst = gc.get_threshold()\nimport micrograd, micrograd.nn, "
            "micrograd.data\nprint(json.dumps([first, gc.get_threshold()]))")
    first, after = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                             text=True, check=True).stdout)
    assert after == first


def test_a_loop_opts_in_and_gets_the_thresholds_back():
    before = gc.get_threshold()
    with fewer_full_collections():
        inside = gc.get_threshold()
    assert inside == (before[0], before[1], max(before[2], FULL_COLLECTION_AFTER))
    assert gc.get_threshold() == before
    with pytest.raises(ZeroDivisionError), fewer_full_collections(after=500):
        assert gc.get_threshold()[2] == max(before[2], 500)
        Value(1.0) / 0  # a loop that fails inside
    assert gc.get_threshold() == before


def test_an_op_builds_its_node_as_node_does():
    a, b = Value(2.0), Value(3.0)
    made, by_hand = a * b, _node(6.0, (a, b), (a * b)._op, (3.0, 2.0))
    slots = ("data", "grad", "_prev", "_local", "_op")
    assert [getattr(made, k) for k in slots] == [getattr(by_hand, k) for k in slots]
    assert type(made) is type(by_hand) is Value and not made.__dict__ and not by_hand.__dict__


def test_a_value_used_twice_by_one_node_gets_both_contributions():
    x = Value(3.0)
    y = x * x + x  # * with the same operand twice, then + with it once more
    y.backward()
    assert x.grad == 2 * 3.0 + 1.0


def test_the_demo_loop_gives_the_bits_it_gave_before_the_speed_work():
    """Three steps of micrograd 0.1.0's demo loop (moons, MLP(2, [16, 16, 1]), SVM loss + L2):
    every loss and all 337 gradients, bit for bit, as the engine computed them before the
    collector was tuned and the chain rule unpacked (recorded at commit 66c55be)."""
    import hashlib

    from micrograd.data import RNG, make_moons
    from micrograd.nn import MLP

    points = [[x, 2 * y - 1] for part in make_moons(RNG(7), n=100, noise=0.1) for x, y in part]
    state = random.getstate()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    random.setstate(state)
    out = []
    for k in range(3):
        scores = [model([Value(a), Value(b)]) for (a, b), _ in points]
        total = sum((1 + -y * s).relu() for (_, y), s in zip(points, scores)) \
            * (1.0 / len(points)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        out.append([total.data.hex(), [p.grad.hex() for p in model.parameters()]])
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert out[-1][0] == "0x1.cd562f87ae1b1p-2"
    digest = hashlib.sha256(json.dumps(out).encode()).hexdigest()
    assert digest == "f801662751e62abda48dad2b6dcbdd226d20b0c8e2f4c35e62c580a318457056"


def test_the_topological_order_is_a_recursive_depth_first_sorts():
    """On graphs that reuse values a lot; `leaves=False` keeps the interior nodes' order."""
    rng = random.Random(5)
    for _ in range(50):
        values = [Value(rng.uniform(-1, 1)) for _ in range(4)]
        for _ in range(30):  # operands drawn from everything so far: values used many times
            a, b = rng.choice(values), rng.choice(values)
            values.append(a * b if rng.random() < 0.5 else (a + b).tanh())
        root = values[-1]
        want = recursive_topo(root)
        assert root.topo() == want
        assert root.topo(leaves=False) == [v for v in want if v._prev]
