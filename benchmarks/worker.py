"""One benchmark process: `python benchmarks/worker.py WORKLOAD N STEPS [MODEL [WHEEL]]`.

Runs one workload of `workloads.py` on `n` points for `steps` steps with the MLP `MODEL` (sizes
such as `2-256-256-3`, default the chapter's `2-16-3`), printing the chapter's log lines to stdout,
then one line `BENCH {json}` with the loop's wall and CPU seconds, its build time (tapes: the
recording and compiling, part of the loop), this process's own peak memory and the library
versions. NumPy's BLAS runs on one thread, as PyTorch does. `run.py` starts one of these per
measurement, so every engine runs in a fresh interpreter and imports only what it needs. A
RecursionError (the baseline's recursive topological sort on large data) is reported in the
JSON, not as a crash.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

# one thread for NumPy's BLAS, as PyTorch gets (`torch.set_num_threads(1)`): on a shared machine
# OpenBLAS's threads mostly wait for each other (2-256-256-3 ran 4× slower with them)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB, since its exec.

    Linux's VmHWM counts only this program's memory; ru_maxrss would also count the memory of
    the parent at the time of the fork (Linux carries it over the exec), so it is the fallback.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss  # bytes on macOS, KiB elsewhere


def main(argv: list[str]) -> int:
    name, n, steps = argv[0], int(argv[1]), int(argv[2])
    sizes = tuple(int(k) for k in argv[3].split("-")) if len(argv) > 3 else (2, 16, 3)
    wheel = argv[4] if len(argv) > 4 else None
    import workloads

    loop = workloads.prepare(name, n, wheel, sizes)
    last = [0.0, 0.0]  # wall and CPU clocks at the last log line

    def log(line: str) -> None:
        print(line)
        last[:] = time.perf_counter(), time.process_time()

    result: dict[str, object] = {}
    start, start_cpu = time.perf_counter(), time.process_time()
    try:
        result.update(loop(steps, log) or {})
        result["loop_seconds"] = last[0] - start
        result["loop_cpu_seconds"] = last[1] - start_cpu
    except RecursionError:
        result["error"] = "RecursionError"
    result["peak_rss_kib"] = peak_rss_kib()
    result["versions"] = workloads.versions()
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
