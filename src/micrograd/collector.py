"""Python's garbage collector and the big graphs of Values a training loop builds: an opt-in.

Python's collector, as it comes, walks everything alive in a full collection, one every 10
collections of its middle generation (once the survivors grew by a quarter). While a step of a
learner's loop builds a graph of 65,000 nodes, it walks the growing graph again and again: on
Python 3.11 and 3.12, 3 to 4 times the time the graph takes to build (`benchmarks/demo_loop.py`).
Values make no reference cycles, so their graphs are freed without the collector.

Importing micrograd leaves the collector alone: a process-wide setting would also hold other
cyclic garbage ten times longer (matplotlib's figures in a plotting loop, closure-built nodes in
the lecture's style), which costs memory in a long notebook session. A loop opts in:

    with fewer_full_collections():
        for k in range(100):
            ...

Inside, full collections come after `FULL_COLLECTION_AFTER` collections of the middle generation
instead of 10; the thresholds are restored on the way out. Free-threaded builds and Python's
incremental collector (3.14) have no such generation count: there it changes nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_AFTER = 100  # collections of the middle generation (Python's default: 10)


@contextmanager
def fewer_full_collections(after: int = FULL_COLLECTION_AFTER) -> Iterator[None]:
    """Full collections ten times rarer inside (`after` middle collections), restored after."""
    threshold = gc.get_threshold()
    gc.set_threshold(threshold[0], threshold[1], max(threshold[2], after))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
