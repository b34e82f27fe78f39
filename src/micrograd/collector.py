"""Python's garbage collector and the big graphs of Values a training step builds.

Python's collector, as it comes, walks everything alive in a full collection, one every 10
collections of its middle generation (once the survivors grew by a quarter). While a step of a
learner's loop builds a graph of 65,000 nodes, it walks the growing graph again and again: 3 to
4 times the time the graph takes to build (`benchmarks/demo_loop.py`). Values make no reference
cycles (no closures: a node holds its parents and floats), so a graph is freed as soon as it is
dropped, without the collector. Importing micrograd therefore makes full collections ten times
rarer, unless the program set its own thresholds or the environment has MICROGRAD_DEFAULT_GC=1;
and `backward()`, which allocates nothing that could form a cycle, pauses the collector.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_AFTER = 100  # collections of the middle generation (Python's default: 10)


def rarer_full_collections() -> None:
    """Full collections after `FULL_COLLECTION_AFTER` middle ones, where Python's default holds."""
    threshold = gc.get_threshold()
    if threshold[2] == 10 and not os.environ.get("MICROGRAD_DEFAULT_GC"):
        gc.set_threshold(threshold[0], threshold[1], FULL_COLLECTION_AFTER)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside; the collector as it was afterwards (paused stays paused)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
