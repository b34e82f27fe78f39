"""Shared fixtures: the chapter's reference log, a PyTorch float64 twin of `micrograd.nn.MLP`, and
the external tools some tests need.

The chapter's log is `tests/data/chapter_log.txt` (the LLM101n chapter micro_grad's printed run, see
tests/data/README.md); $MICROGRAD_CHAPTER_LOG names another copy.

External tools: Graphviz's `dot` program, Debian's Chromium (driven by the `playwright` package;
`playwright install` is never used) and PyPI's micrograd 0.1.0 wheel (benchmarks/.cache/, else
downloaded there). A test that needs one says so with a marker or a fixture:

    @pytest.mark.needs_dot        # Graphviz's `dot` on PATH
    @pytest.mark.needs_chromium   # `chromium` (or `chromium-browser`) on PATH and playwright
    @pytest.mark.needs_node       # Node.js 18+ (the export makes Python's start-up memory with it)
    def test_...(dot_program, chromium_path, micrograd010_wheel): ...  # their paths

or calls `require_tool(name, reason)` / `require_module(name, reason)` itself. When the tool is
missing the test is SKIPPED with a one-line reason, e.g. "Graphviz `dot` not found (apt-get
install graphviz)", so the suite passes on a bare machine. With MICROGRAD_REQUIRE_TOOLS=1 in the
environment (`.ci/run` sets it) the same test FAILS with the same line instead: there, a missing
tool is a broken machine, not a reason to pass. Tests never install system packages.

torch is imported lazily (inside the twin) so test files that never use it do not pay for it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis times nothing here: no per-example deadline and no "too slow" verdict on data
# generation, which a busy machine would turn into failures (a test's own @settings adds to this)
settings.register_profile("any machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("any machine")

REPO_ROOT = Path(__file__).resolve().parent.parent  # the parent of tests/
CHAPTER_LOG = REPO_ROOT / "tests" / "data" / "chapter_log.txt"  # the chapter's printed run
CHAPTER_LOG_ENV = "MICROGRAD_CHAPTER_LOG"
REQUIRE_TOOLS_ENV = "MICROGRAD_REQUIRE_TOOLS"

DOT_MISSING = "Graphviz `dot` not found (apt-get install graphviz)"
CHROMIUM_MISSING = "Chromium not found on PATH (apt-get install chromium)"
NODE_MISSING = "Node.js 18 or newer not found on PATH (apt-get install nodejs)"
PLAYWRIGHT_MISSING = "the playwright package is not installed (pip install -e '.[test]')"


@pytest.fixture(scope="session")
def chapter_log_path() -> Path:
    """Path of the chapter's printed log: the file named by $MICROGRAD_CHAPTER_LOG, else
    `tests/data/chapter_log.txt`. Missing is a failure, never a skip: the reproduction test is the
    point of the suite and must not pass silently."""
    env = os.environ.get(CHAPTER_LOG_ENV)
    if env:
        from_env = Path(env).expanduser()
        if from_env.is_file():
            return from_env
        pytest.fail(f"${CHAPTER_LOG_ENV}={env!r} is not a file", pytrace=False)
    if CHAPTER_LOG.is_file():
        return CHAPTER_LOG
    pytest.fail(f"the chapter's log not found at {CHAPTER_LOG}", pytrace=False)


def assert_matches_chapter_log(lines: list[str], chapter_log_path: Path,
                               rel: float = 1e-12) -> None:
    """`lines` are the chapter's log: the same 110 lines in order, val lines equal as printed,
    train losses within `rel` relative (bit-for-bit equality is impossible: the chapter's own
    engine sums gradients in set order, which changes from run to run)."""
    reference = chapter_log_path.read_text().splitlines()
    assert len(lines) == len(reference) == 110
    for ours, theirs in zip(lines, reference):
        if " val loss " in theirs:
            assert ours == theirs
            continue
        (head, value), (their_head, their_value) = ours.rsplit(" ", 1), theirs.rsplit(" ", 1)
        assert head == their_head
        assert float(value) == pytest.approx(float(their_value), rel=rel)


# ---- external tools: skip when missing, fail instead under MICROGRAD_REQUIRE_TOOLS=1 ----


def tools_required() -> bool:
    """True when $MICROGRAD_REQUIRE_TOOLS is set to anything but "" or "0"."""
    return os.environ.get(REQUIRE_TOOLS_ENV, "").strip() not in ("", "0")


def unavailable(reason: str) -> NoReturn:
    """Skip the current test with `reason` (one line), or fail with it when tools are required."""
    if tools_required():
        pytest.fail(f"{reason} [{REQUIRE_TOOLS_ENV}=1]", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, reason: str) -> str:
    """The full path of program `name` on PATH, else `unavailable(reason)`."""
    path = shutil.which(name)
    if path is None:
        unavailable(reason)
    return path


def require_module(name: str, reason: str) -> ModuleType:
    """`import name`, else `unavailable(reason)` (pytest.importorskip, but obeying the variable)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(reason)


def require_dot() -> str:
    return require_tool("dot", DOT_MISSING)


def require_chromium() -> str:
    """Chromium's path (looked up on PATH, so hiding it from PATH hides it), playwright imported."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        unavailable(CHROMIUM_MISSING)
    require_module("playwright.sync_api", PLAYWRIGHT_MISSING)
    return path


def require_micrograd010_wheel() -> Path:
    """PyPI's micrograd 0.1.0 wheel, from benchmarks/.cache/ or downloaded there (at most ~60 s)."""
    bench_dir = str(REPO_ROOT / "benchmarks")
    if bench_dir not in sys.path:
        sys.path.insert(0, bench_dir)  # benchmarks/ is not a package: its scripts run as files
    import baseline

    try:
        return baseline.fetch_wheel(download=True, timeout=20)
    except baseline.WheelUnavailable as e:
        unavailable(f"micrograd 0.1.0's wheel is not in benchmarks/.cache/ and could not be "
                    f"downloaded: {e}")


def require_node() -> str:
    """Node.js 18+ on PATH, as the export looks for it (micrograd.playground.memory)."""
    from micrograd.playground.memory import node_program

    path = node_program()
    if path is None:
        unavailable(NODE_MISSING)
    return path


MARKERS = {
    "needs_dot": (require_dot, "needs Graphviz's `dot` program"),
    "needs_chromium": (require_chromium, "needs Chromium and the playwright package"),
    "needs_node": (require_node, "needs Node.js 18 or newer"),
}


def pytest_configure(config):
    for name, (_, what) in MARKERS.items():
        config.addinivalue_line(
            "markers", f"{name}: {what}; skipped when missing, failed if ${REQUIRE_TOOLS_ENV}=1")


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up (a server, a rendered graph)
def pytest_runtest_setup(item):
    for name, (check, _) in MARKERS.items():
        if item.get_closest_marker(name) is not None:
            check()


@pytest.fixture(scope="session")
def dot_program() -> str:
    """Path of Graphviz's `dot` (skip or fail as above)."""
    return require_dot()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Chromium for Playwright's `executable_path` (skip or fail as above)."""
    return require_chromium()


# Debian's Chromium headless as root on a closed network: no sandbox, no GPU, no background calls
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One headless Chromium per test module (Playwright drives it; never `playwright install`)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def playground_url():
    """A served playground (`running_playground()`) shared by a test module's tabs."""
    with running_playground() as (url, _):
        yield url


def wait_until(fn, what: str, timeout: float = 60.0):
    """Poll `fn` (from Python: the page's CSP rightly forbids eval'd predicates)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def offline_tab(browser, allowed: str, width: int = 1280, height: int = 1000,
                locale: str | None = None):
    """A tab whose requests outside `allowed` (a URL prefix) are aborted and listed in
    tab.blocked; console errors and warnings and page errors gather in tab.problems. `locale`:
    the browser's language (e.g. "zh-CN")."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  **({"locale": locale} if locale else {}))
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.problems, tab.blocked = [], blocked
    tab.on("console", lambda m: tab.problems.append(f"{m.type}: {m.text}")
           if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
    return tab


@pytest.fixture(scope="session")
def micrograd010_wheel() -> Path:
    """Path of the cached micrograd 0.1.0 wheel (skip or fail as above when it cannot be had)."""
    return require_micrograd010_wheel()


class TorchMLP:
    """An independent float64 PyTorch computation of an MLP whose weights are copied from ours.

    Layer l is `act(x @ W_l.T + b_l)` with `act` the hidden activation for every layer but the
    last, which is linear: that is the specification of `micrograd.nn.MLP`, written with torch's
    own matmul, activations and autograd rather than our graph.
    """

    def __init__(self, model, activation: str = "tanh"):
        import torch

        self.torch = torch
        self.activation = activation
        self.weights = []  # [(W, b)] per layer; W is (nout, nin)
        for layer in model.layers:
            w = [[wi.data for wi in n.w] for n in layer.neurons]
            b = [n.b.data for n in layer.neurons]
            self.weights.append(
                (
                    torch.tensor(w, dtype=torch.float64, requires_grad=True),
                    torch.tensor(b, dtype=torch.float64, requires_grad=True),
                )
            )

    def parameters(self) -> list:
        return [t for wb in self.weights for t in wb]

    def _act(self, z):
        torch = self.torch
        return {
            "tanh": torch.tanh,
            "relu": torch.relu,
            "sigmoid": torch.sigmoid,
            "linear": lambda t: t,
        }[self.activation](z)

    def __call__(self, x):
        """x: an (N, nin) float64 tensor; returns the (N, nout) logits."""
        for i, (w, b) in enumerate(self.weights):
            x = x @ w.T + b
            if i != len(self.weights) - 1:
                x = self._act(x)
        return x

    def grads_in_our_order(self) -> list[float]:
        """Parameter grads flattened as `MLP.parameters()` lists them: per neuron, w then b."""
        out = []
        for w, b in self.weights:
            for j in range(w.shape[0]):
                out.extend(w.grad[j].tolist())
                out.append(b.grad[j].item())
        return out


@pytest.fixture(scope="session")
def torch_mlp():
    """The `TorchMLP` class (build it as `torch_mlp(model, activation)`)."""
    return TorchMLP


@contextlib.contextmanager
def running_playground(host: str = "127.0.0.1", stderr: Path | None = None):
    """`micrograd playground --host HOST --port 0 --no-browser` in a subprocess: yields (http URL,
    pid). HOST must be a loopback address; `stderr` names a file for the server's log."""
    err = open(stderr, "w") if stderr is not None else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "micrograd", "playground", "--host", host,
                             "--port", "0", "--no-browser"], stdout=subprocess.PIPE, stderr=err,
                            text=True)
    try:
        line = proc.stdout.readline()  # printed once it listens; blocks until then
        match = re.match(r"micrograd playground: (http://\S+/) ", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield match.group(1), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if stderr is not None:
            err.close()
