"""The baseline: PyPI `micrograd==0.1.0` (Karpathy's engine) running the chapter's training script.

micrograd 0.1.0 shares our import name, so it is never installed: `fetch_wheel()` downloads its
wheel into `benchmarks/.cache/` (`pip download micrograd==0.1.0 --no-deps`), and `load_engine()`
executes the wheel's `micrograd/engine.py` as the module `karpathy_micrograd_engine`. Its `Value`
has closures, a `set` of children and a recursive topological sort, the design the chapter uses; it
lacks `tanh`, `exp` and `log`, so `attach_chapter_ops()` adds them exactly as the chapter's
`Value` writes them (§4.1). The rest of the chapter's script (model, loss, optimizer, loop) is
written below in the chapter's style; only the data come from `micrograd.data`, bit-exact with
the chapter's.
This module imports only the standard library at the top, so the runner can use it.
"""

from __future__ import annotations

import gc
import hashlib
import math
import subprocess
import sys
import types
import zipfile
from pathlib import Path

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
WHEEL_NAME = "micrograd-0.1.0-py3-none-any.whl"
# sha256 of the wheel on PyPI: we execute code from it, so a different file is refused
WHEEL_SHA256 = "47d756d92043c7d7ef55372640dc1549780a8c22806b3a11cb3d4efc5937a4ae"
MODULE_NAME = "karpathy_micrograd_engine"


class WheelUnavailable(RuntimeError):
    """The baseline wheel is not cached and could not be downloaded."""


def fetch_wheel(cache_dir: Path = CACHE_DIR, download: bool = True, timeout: int = 30) -> Path:
    """The cached wheel, downloading it with pip first if it is missing; checks its sha256."""
    wheel = cache_dir / WHEEL_NAME
    if not wheel.is_file():
        if not download:
            raise WheelUnavailable(f"{wheel} is not cached (run python benchmarks/run.py once)")
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "micrograd==0.1.0", "--no-deps",
               "--only-binary=:all:", "--disable-pip-version-check", "--quiet",
               "--timeout", str(timeout), "--retries", "0", "-d", str(cache_dir)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * timeout)
        except subprocess.TimeoutExpired:
            raise WheelUnavailable(f"pip download micrograd==0.1.0 took over {3 * timeout} s "
                                   "(no network?)") from None
        if proc.returncode != 0 or not wheel.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise WheelUnavailable(f"pip download micrograd==0.1.0 failed (no network?): {last}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{wheel}: sha256 {digest} is not PyPI's {WHEEL_SHA256}; delete it "
                           "and run again to download it afresh")
    return wheel


def load_engine(wheel: Path) -> types.ModuleType:
    """micrograd 0.1.0's engine.py from the wheel, as its own module, plus the chapter's ops."""
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read("micrograd/engine.py").decode("utf-8")
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = f"{wheel}/micrograd/engine.py"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    attach_chapter_ops(module.Value)
    return module


def attach_chapter_ops(Value: type) -> None:
    """tanh, exp and log as the chapter's Value has them: closures, local derivative inside."""

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), 'tanh')

        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward

        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), 'exp')

        def _backward():
            self.grad += math.exp(self.data) * out.grad
        out._backward = _backward

        return out

    def log(self):
        out = Value(math.log(self.data), (self,), 'log')

        def _backward():
            self.grad += (1 / self.data) * out.grad
        out._backward = _backward

        return out

    Value.tanh, Value.exp, Value.log = tanh, exp, log


# ---- the chapter's script, in the chapter's style, on the baseline's Value ----

Value = None  # bound to micrograd 0.1.0's Value by prepare()


class Module:

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):

    def __init__(self, nin, rng, nonlin=True):
        self.w = [Value(rng.uniform(-1, 1) * nin**-0.5) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return [*self.w, self.b]


class Layer(Module):

    def __init__(self, nin, nout, rng, **kwargs):
        self.neurons = [Neuron(nin, rng, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):

    def __init__(self, nin, nouts, rng):
        sz = [nin, *nouts]
        self.layers = [Layer(sz[i], sz[i+1], rng, nonlin=i != len(nouts)-1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def cross_entropy(logits, target):
    # subtract the max for numerical stability (avoids overflow)
    max_val = max(val.data for val in logits)
    logits = [val - max_val for val in logits]
    # 1) evaluate elementwise e^x
    ex = [x.exp() for x in logits]
    # 2) compute the sum of the above
    denom = sum(ex)
    # 3) normalize by the sum to get probabilities
    probs = [x / denom for x in ex]
    # 4) log the probabilities at target
    logp = (probs[target]).log()
    # 5) the negative log likelihood loss (invert so we get a loss - lower is better)
    nll = -logp
    return nll


class AdamW:

    def __init__(self, parameters, lr=1e-1, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0):
        self.parameters = parameters
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.m = [0.0 for _ in self.parameters]
        self.v = [0.0 for _ in self.parameters]
        self.t = 0

    def step(self):
        self.t += 1
        for i, p in enumerate(self.parameters):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * p.grad
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * p.grad**2
            m_hat = self.m[i] / (1 - self.beta1**self.t)
            v_hat = self.v[i] / (1 - self.beta2**self.t)
            p.data -= self.lr * (m_hat / (v_hat**0.5 + 1e-8) + self.weight_decay * p.data)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0


def eval_split(model, split):
    # evaluate the loss of a split
    loss = Value(0)
    for x, y in split:
        logits = model([Value(x[0]), Value(x[1])])
        loss += cross_entropy(logits, y)
    loss = loss * (1.0/len(split))  # normalize the loss
    return loss.data


def prepare(n, wheel=None):
    """Set up the chapter's run on `n` points; return `loop(steps, log)`, its training loop."""
    global Value
    threshold = gc.get_threshold()
    from micrograd.data import RNG, gen_data  # the chapter's RNG and data, bit for bit

    gc.set_threshold(*threshold)  # 0.1.0 runs under Python's collector as its users' programs do

    Value = load_engine(fetch_wheel() if wheel is None else Path(wheel)).Value
    random = RNG(42)
    train_split, val_split, _test_split = gen_data(random, n=n)
    model = MLP(2, [16, 3], random)  # 2D inputs, 16 neurons, 3 outputs (logits)
    optimizer = AdamW(model.parameters(), lr=1e-1, betas=(0.9, 0.95), weight_decay=1e-4)

    def loop(steps, log):
        for step in range(steps):

            # evaluate the validation split every few steps
            if step % 10 == 0:
                val_loss = eval_split(model, val_split)
                log(f"step {step}, val loss {val_loss:.6f}")

            # forward the network (get logits of all training datapoints)
            loss = Value(0)
            for x, y in train_split:
                logits = model([Value(x[0]), Value(x[1])])
                loss += cross_entropy(logits, y)
            loss = loss * (1.0/len(train_split))  # normalize the loss
            # backward pass (deterministic function)
            loss.backward()
            # update
            optimizer.step()
            optimizer.zero_grad()

            log(f"step {step}, train loss {loss.data}")

    return loop
