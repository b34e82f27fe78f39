"""The playground's frame with and without NumPy: `python benchmarks/playground_frame.py`.

The static export runs the session in Pyodide, where NumPy is missing and `playground/plane.py`
computes the plane on lists. This prints median milliseconds (of 30 runs) for the chapter's model
2-16-3 on the 50×50 grid: the forward pass with the class probabilities, and a whole frame
(losses, tiles, weights, the graph's numbers), on both paths in this CPython.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from micrograd.playground.plane import grid_rows, layer_lists
from micrograd.playground.session import GRID, Session


def median_ms(fn: Callable[[], object], runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    for use_numpy in (False, True):
        s = Session(engine="tape", use_numpy=use_numpy)
        s.train_steps(20)
        m, layers = s.math, layer_lists(s.model)
        rows = grid_rows(s.extent, GRID)

        def plane(m=m, layers=layers, rows=rows) -> None:
            acts = m.forward(layers, m.inputs(rows, 2))
            m.prob_bytes(m.softmax(acts[-1]), 3)

        name = "numpy" if use_numpy else "pure Python"
        print(f"{name:>12}: grid forward + probabilities {median_ms(plane):6.1f} ms, "
              f"whole frame {median_ms(s.frame):6.1f} ms")


if __name__ == "__main__":
    main()
