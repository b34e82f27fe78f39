"""A learner's own loop, unchanged: micrograd 0.1.0's demo notebook against micrograd-lab.

`python benchmarks/demo_loop.py` (about 10 minutes; `--steps 20 --repeats 1` for a quick look).

The demo notebook's training loop, written here in our words: 100 moons points (our generator,
labels −1/+1), `MLP(2, [16, 16, 1])`, a `loss()` returning the SVM loss with L2
regularization and the accuracy read from the scores' `.data`, learning rate
1.0 − 0.9·k/100, each step building the whole batch's graph (65,818 nodes) and calling
`backward()`. Every run is a fresh process, the variants alternate (so another program's load
hits all alike), and each row is the median:

- `micrograd 0.1.0`: PyPI's wheel on `sys.path` (`python -S -I`: nothing else importable), as a
  learner runs it;
- `unchanged`: the same script on micrograd-lab, not a character changed;
- `unchanged, fewer full collections`: the loop inside `with fewer_full_collections():`
  (`micrograd.collector`), Python's full collections ten times rarer while it runs;
- `loss = micrograd.compile(loss)`: the one line added, the model's calls replayed as a program
  (`micrograd.compiled`);
- `fused`: `MLP(2, [16, 16, 1], fused=True)`, one `w·x+b` node per neuron (the same floats).

The deep chain: 200,000 `*`/`+` ops on one value, built then `backward()`; 0.1.0's recursive
topological sort runs in a thread with a large stack and a raised recursion limit.

It checks, too, that every variant prints 0.1.0's numbers: the same accuracies, losses
within 1e-12 relative. This script imports only the standard library; timings are medians of
fresh processes, ratios to 0.1.0 in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import baseline

SRC = Path(__file__).resolve().parents[1] / "src"
# (row, where its micrograd comes from, the model): 0.1.0's wheel, or this checkout
VARIANTS = (("micrograd 0.1.0", "wheel", "plain"), ("unchanged", "ours", "plain"),
            ("unchanged, fewer full collections", "ours", "collector"),
            ("loss = micrograd.compile(loss)", "ours", "compiled"), ("fused", "ours", "fused"))

UNCHANGED, COMPILED = VARIANTS[1][0], VARIANTS[3][0]

# the demo's loop, run by `python -c LOOP WHERE STEPS plain|fused` with the points on stdin;
# tests/clients/test_clients.py runs it too, step by step against 0.1.0
LOOP = textwrap.dedent("""
    import json, random, sys, time
    from contextlib import nullcontext
    where, steps, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if where != "ours":
        sys.path.insert(0, where)
    import micrograd
    from micrograd.engine import Value
    from micrograd.nn import MLP
    points = json.loads(sys.stdin.read())
    random.seed(1337)
    model = MLP(2, [16, 16, 1], fused=True) if kind == "fused" else MLP(2, [16, 16, 1])
    lines, model_is = [], {"repr": repr(model), "nparams": len(model.parameters())}
    def loss():
        inputs = [list(map(Value, x)) for x, _ in points]
        scores = list(map(model, inputs))
        losses = [(1 + -y * s).relu() for (_, y), s in zip(points, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        accuracy = [(y > 0) == (s.data > 0) for (_, y), s in zip(points, scores)]
        return total, sum(accuracy) / len(accuracy)
    if kind == "compiled":
        loss = micrograd.compile(loss)
    scope = nullcontext()
    if kind == "collector":
        from micrograd.collector import fewer_full_collections
        scope = fewer_full_collections()
    start = time.perf_counter()
    with scope:
      for k in range(steps):
        total, acc = loss()
        model.zero_grad()
        total.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        lines.append([total.data, acc, [p.grad for p in model.parameters()[:5]]])
        if k == 0:
            first = time.perf_counter() - start
    print(json.dumps({"seconds": time.perf_counter() - start, "first": first, "lines": lines,
                      **model_is}))
""")

CHAIN = textwrap.dedent("""
    import json, sys, threading, time
    where, n = sys.argv[1], int(sys.argv[2])
    if where != "ours":
        sys.path.insert(0, where)
    from micrograd.engine import Value
    out = {}
    def run():
        x = Value(0.5)
        start = time.perf_counter()
        y = x
        for i in range(n // 2):
            y = y * 0.999999 + 0.000001
        out["build"] = time.perf_counter() - start
        start = time.perf_counter()
        y.backward()
        out["backward"] = time.perf_counter() - start
    sys.setrecursionlimit(10 * n)  # 0.1.0's topological sort recurses once per node
    threading.stack_size(1 << 29)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(json.dumps(out))
""")


def run(script: str, where: str, args: list[str], stdin: str = "",
        timeout: float | None = None) -> dict:
    """One fresh process: 0.1.0 isolated (-S -I, its wheel alone), ours from this checkout."""
    flags = ["-S", "-I"] if where != "ours" else []
    env = None if where != "ours" else {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, *flags, "-c", script, where, *args], input=stdin,
                          capture_output=True, text=True, env=env, check=False, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{where} {args} failed:\n{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def points() -> list:
    sys.path.insert(0, str(SRC))
    from micrograd.data import RNG, make_moons

    splits = make_moons(RNG(7), n=100, noise=0.1)
    return [[x, 2 * y - 1] for part in splits for x, y in part]  # labels −1 / +1, as the demo's


def same_numbers(ours: list, theirs: list) -> str:
    """Does the unchanged script print 0.1.0's numbers (accuracies equal, losses to 1e-12)?"""
    if len(ours) != len(theirs):
        return "NO"
    for (loss, acc, _), (loss0, acc0, _) in zip(ours, theirs):
        if acc != acc0 or abs(loss - loss0) > 1e-12 * abs(loss0):
            return "NO"
    return "yes"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="demo steps per run (100)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each variant (3)")
    ap.add_argument("--chain", type=int, default=200_000, help="ops in the deep chain")
    args = ap.parse_args(argv)
    wheel = str(baseline.fetch_wheel())
    data = json.dumps(points())
    loops: dict[str, list] = {name: [] for name, _, _ in VARIANTS}
    chains: dict[str, list] = {"micrograd 0.1.0": [], "unchanged": []}
    for _ in range(args.repeats):
        for name, where, kind in VARIANTS:
            where = wheel if where == "wheel" else where
            loops[name].append(run(LOOP, where, [str(args.steps), kind], data))
        for name, where in (("micrograd 0.1.0", wheel), ("unchanged", "ours")):
            chains[name].append(run(CHAIN, where, [str(args.chain)]))
    print(report(loops, chains, args))
    return 0


def report(loops: dict, chains: dict, args: argparse.Namespace) -> str:
    secs = {k: statistics.median(r["seconds"] for r in v) for k, v in loops.items()}
    base = secs["micrograd 0.1.0"]
    out = [f"Python {sys.version.split()[0]}. Demo loop, {args.steps} steps (median of "
           f"{args.repeats} fresh processes):", "",
           "| variant | seconds | × micrograd 0.1.0 | prints 0.1.0's numbers |",
           "|---|---|---|---|"]
    theirs = loops["micrograd 0.1.0"][0]["lines"]
    for name, s in secs.items():
        same = "—" if name == "micrograd 0.1.0" else same_numbers(loops[name][0]["lines"], theirs)
        out.append(f"| {name} | {s:.2f} | {base / s:.1f}× | {same} |")
    firsts = {k: statistics.median(r["first"] for r in loops[k]) for k in (UNCHANGED, COMPILED)}
    out += ["", f"The first step, where the compiled loss records the model's program: "
            f"{firsts[COMPILED]:.3f} s compiled, {firsts[UNCHANGED]:.3f} s unchanged."]
    out += ["", f"Deep chain, {args.chain:,} ops:", "", "| | build s | backward s |",
            "|---|---|---|"]
    for name, runs in chains.items():
        build = statistics.median(r["build"] for r in runs)
        back = statistics.median(r["backward"] for r in runs)
        out.append(f"| {name} | {build:.3f} | {back:.3f} |")
    c0, c1 = chains["micrograd 0.1.0"], chains["unchanged"]
    ratio = {k: statistics.median(r[k] for r in c0) / statistics.median(r[k] for r in c1)
             for k in ("build", "backward")}
    out.append(f"\nmicrograd-lab: build {ratio['build']:.1f}×, backward {ratio['backward']:.1f}× "
               "micrograd 0.1.0")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
