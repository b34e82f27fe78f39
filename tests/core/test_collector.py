"""Python's garbage collector and the engine: full collections rarer, none during `backward()`.

A step of a learner's loop builds a graph of tens of thousands of Values. Python's collector, as
it comes, walks everything alive in a full collection every 10 collections of its middle
generation, so it walks the growing graph again and again: 3 to 4 times the time the graph takes
to build (`benchmarks/demo_loop.py`). Values make no reference cycles, so importing micrograd
makes full collections ten times rarer, unless the program chose its own thresholds or sets
MICROGRAD_DEFAULT_GC=1, and `backward()` pauses the collector while it runs. These tests read the
thresholds in fresh interpreters and the collector's state around `backward()`.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys

import pytest

from micrograd import Value
from micrograd.collector import FULL_COLLECTION_AFTER


def thresholds(before: str = "", env: dict | None = None) -> tuple[list, list]:
    """The collector's thresholds in a fresh interpreter before and after `import micrograd`."""
    code = ("import gc, json\n" + before + "\nfirst = gc.get_threshold()\nimport micrograd\n"
            "print(json.dumps([first, gc.get_threshold()]))")
    environ = {k: v for k, v in os.environ.items() if k != "MICROGRAD_DEFAULT_GC"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**environ, **(env or {})}).stdout
    return tuple(json.loads(out))


def test_importing_micrograd_makes_full_collections_rarer():
    first, after = thresholds()
    if first[2] != 10:
        pytest.skip(f"this Python's collector has other defaults: {first}")
    assert after == [first[0], first[1], FULL_COLLECTION_AFTER]


def test_a_programs_own_thresholds_and_the_opt_out_are_left_alone():
    first, after = thresholds("gc.set_threshold(5000, 20, 30)")
    assert first == after == [5000, 20, 30]
    first, after = thresholds(env={"MICROGRAD_DEFAULT_GC": "1"})
    assert after == first


def test_backward_pauses_the_collector_and_gives_it_back_as_it_was():
    x = Value(3.0)
    seen = []

    def closure():  # a node's own rule, run inside backward()
        seen.append(gc.isenabled())
        x.grad += 1.0

    y = x * x
    y._backward = closure
    assert gc.isenabled()
    y.backward()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        (x * x).backward()
        assert not gc.isenabled()  # a program that paused it keeps it paused
    finally:
        gc.enable()


def test_the_collector_comes_back_when_backward_fails():
    y = Value(2.0) * Value(3.0)

    def broken():
        raise RuntimeError("a user's rule failed")

    y._backward = broken
    with pytest.raises(RuntimeError, match="a user's rule failed"):
        y.backward()
    assert gc.isenabled()


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
