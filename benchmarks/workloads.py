"""The chapter's workload on every engine: RNG(42) → gen_data(n) → MLP 2-16-3 → AdamW → the loop.

`prepare(name, n, sizes=...)` sets up one engine's run (data, weights, optimizer; `sizes` picks a
wider MLP, e.g. (2, 256, 256, 3), tanh hidden layers, weights drawn as the chapter's) and returns
`loop(steps, log)`, which trains and passes every log line to `log` in the chapter's format:
`step k, val loss X` every 10 steps (before the step) and `step k, train loss X` every step, and
returns its build time (`{"build_seconds": s}`: recording and compiling a tape), included in the
loop's time. The benchmark times `loop` from its call to its last log line. Each workload imports
what it needs inside `prepare`, so a process running one engine imports nothing of the others.

- `baseline`: PyPI micrograd 0.1.0 with the chapter's tanh/exp/log (see `baseline.py`).
- `eager`, `tape`, `numpy`, `torch`: `micrograd.train.train(..., engine=name)` (the torch
  engine on one thread, as the PyTorch rows: our run, data and weights, trained on tensors).
- `torch-sample`, `torch-batch`: PyTorch float64 on one thread, the same data and initial
  weights, `torch.optim.AdamW` with the chapter's hyper-parameters; one graph per sample summed as
  the chapter does, or one batched graph.
- `numpy-call`, `torch-call`: the whole `train()` call of the numpy engine, and PyTorch's
  full-batch loop doing the same (tensors, steps, three evaluations): `calls.py`.
- `numpy-hand`: the same model, forward and backward written by hand in NumPy (matrix products,
  tanh, log-softmax) and AdamW on arrays with `micrograd.optim.AdamW`'s operations: the limit of
  what a NumPy engine can reach on this stack.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

Loop = Callable[[int, Callable[[str], None]], dict[str, float] | None]
OURS = ("eager", "tape", "numpy", "torch")
WORKLOADS = ("baseline", *OURS, "numpy-hand", "torch-sample", "torch-batch")
CHAPTER_SIZES = (2, 16, 3)
LABELS = {
    "baseline": "baseline: micrograd 0.1.0 + chapter's tanh/exp/log",
    "eager": "ours: eager",
    "tape": "ours: tape",
    "numpy": "ours: numpy tape",
    "torch": "ours: torch engine (f64)",
    "numpy-hand": "hand-written NumPy (the limit)",
    "torch-sample": "PyTorch f64, one sample at a time",
    "torch-batch": "PyTorch f64, full batch",
}
# the chapter's hyper-parameters
LR, BETAS, EPS, WEIGHT_DECAY, EVAL_EVERY = 0.1, (0.9, 0.95), 1e-8, 1e-4, 10


def prepare(name: str, n: int = 100, wheel: str | None = None,
            sizes: tuple[int, ...] = CHAPTER_SIZES) -> Loop:
    """The training loop of workload `name` on the chapter's data with `n` points."""
    if name == "baseline":
        import baseline

        if tuple(sizes) != CHAPTER_SIZES:
            raise ValueError("the baseline runs the chapter's MLP 2-16-3 only")
        return baseline.prepare(n, wheel)
    if name in OURS:
        return prepare_ours(name, n, sizes)
    if name == "numpy-hand":
        import hand

        return hand.prepare(n, sizes)
    if name in ("torch-sample", "torch-batch"):
        return prepare_torch(n, batched=name == "torch-batch", sizes=sizes)
    if name == "numpy-call":
        return prepare_ours("numpy", n, sizes, whole_call=True)
    if name == "torch-call":
        return prepare_torch(n, batched=True, sizes=sizes, whole_call=True)
    raise ValueError(f"unknown workload {name!r}; use one of {WORKLOADS}")


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries this process imported (call after a run)."""
    import sys

    out = {"python": sys.version.split()[0]}
    for lib in ("numpy", "torch"):
        if lib in sys.modules:
            out[lib] = sys.modules[lib].__version__
    return out


def prepare_ours(engine: str, n: int, sizes: tuple[int, ...] = CHAPTER_SIZES,
                 whole_call: bool = False) -> Loop:
    import time

    from micrograd.data import RNG, gen_data
    from micrograd.nn import chapter_mlp
    from micrograd.optim import AdamW
    from micrograd.train import make_engine, train

    # imported here, not in the timed loop, as torch is: the loop's build is recording and
    # compiling, not loading modules
    if engine in ("tape", "numpy"):
        pass
    if engine == "numpy":
        import numpy  # noqa: F401

    if engine == "torch":
        import torch

        torch.set_num_threads(1)  # as the PyTorch rows

    rng = RNG(42)
    train_split, val_split, test_split = gen_data(rng, n=n)
    model = chapter_mlp(list(sizes), rng=rng)
    optimizer = AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)

    def loop(steps: int, log: Callable[[str], None]) -> dict[str, float]:
        start, start_cpu = time.perf_counter(), time.process_time()
        # what train() would build (the torch engine also takes over the optimizer's update)
        runner = make_engine(engine, model, len(train_split[0][0]), optimizer)
        built = time.perf_counter() - start
        # no test split in the loop rows: the chapter's loop never evaluates it
        train(model, optimizer, train_split, val_split, test_split if whole_call else (),
              steps=steps, eval_every=EVAL_EVERY, log=log, engine=runner)
        return {"build_seconds": built, "call_seconds": time.perf_counter() - start,
                "call_cpu_seconds": time.process_time() - start_cpu}

    return loop


def chapter_weights(rng, sizes: list[int]) -> list[list[list[float]]]:
    """Each layer's weight rows, drawn as the chapter's Neuron does: uniform(-1, 1) / sqrt(nin)."""
    return [[[rng.uniform(-1, 1) * nin**-0.5 for _ in range(nin)] for _ in range(nout)]
            for nin, nout in itertools.pairwise(sizes)]


def prepare_torch(n: int, batched: bool, sizes: tuple[int, ...] = CHAPTER_SIZES,
                  whole_call: bool = False) -> Loop:
    import torch
    import torch.nn.functional as F

    from micrograd.data import RNG, gen_data

    torch.set_num_threads(1)
    f64 = torch.float64
    rng = RNG(42)
    train_split, val_split, test_split = gen_data(rng, n=n)
    lins = [torch.nn.Linear(a, b, dtype=f64) for a, b in itertools.pairwise(sizes)]
    with torch.no_grad():
        for lin, rows in zip(lins, chapter_weights(rng, list(sizes))):
            lin.weight.copy_(torch.tensor(rows, dtype=f64))
            lin.bias.zero_()
    layers = [m for lin in lins[:-1] for m in (lin, torch.nn.Tanh())]
    model = torch.nn.Sequential(*layers, lins[-1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS,
                                  weight_decay=WEIGHT_DECAY)

    def tensors(split):
        return (torch.tensor([x for x, _ in split], dtype=f64),
                torch.tensor([y for _, y in split], dtype=torch.long))

    if whole_call:
        return lambda steps, log: whole_torch_call(model, optimizer, steps, log,
                                                   (train_split, val_split, test_split), tensors)
    X, Y = tensors(train_split)
    Xv, Yv = tensors(val_split)
    samples = list(zip(X.split(1), Y.split(1)))
    val_samples = list(zip(Xv.split(1), Yv.split(1)))

    def mean_loss(pairs):
        loss = F.cross_entropy(model(pairs[0][0]), pairs[0][1])
        for x, y in pairs[1:]:  # summed left to right, as the chapter's loop
            loss = loss + F.cross_entropy(model(x), y)
        return loss * (1.0 / len(pairs))

    def loop(steps: int, log: Callable[[str], None]) -> None:
        for step in range(steps):
            if step % EVAL_EVERY == 0:
                with torch.no_grad():
                    val_loss = (F.cross_entropy(model(Xv), Yv) if batched
                                else mean_loss(val_samples))
                log(f"step {step}, val loss {val_loss.item():.6f}")
            loss = F.cross_entropy(model(X), Y) if batched else mean_loss(samples)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            log(f"step {step}, train loss {loss.item()}")

    return loop


def whole_torch_call(model, optimizer, steps: int, log: Callable[[str], None], splits,
                     tensors) -> dict[str, float]:
    """What `train()` does, in PyTorch: tensors from the splits, the full-batch steps with
    their log lines, then each split's loss and accuracy; returns the call's seconds."""
    import time

    import torch
    import torch.nn.functional as F

    start, start_cpu = time.perf_counter(), time.process_time()
    (X, Y), (Xv, Yv), (Xt, Yt) = (tensors(s) for s in splits)
    for step in range(steps):
        if step % EVAL_EVERY == 0:
            with torch.no_grad():
                log(f"step {step}, val loss {F.cross_entropy(model(Xv), Yv).item():.6f}")
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        log(f"step {step}, train loss {loss.item()}")
    final = {}
    with torch.no_grad():
        for name, (A, B) in zip(("train", "val", "test"), ((X, Y), (Xv, Yv), (Xt, Yt))):
            logits = model(A)
            final[name] = (F.cross_entropy(logits, B).item(),
                           (logits.argmax(1) == B).double().mean().item())
    return {"call_seconds": time.perf_counter() - start,
            "call_cpu_seconds": time.process_time() - start_cpu}
