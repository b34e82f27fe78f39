"""The benchmark's pieces (benchmarks/): each workload starts exactly as the chapter's log does, the
baseline engine loads from its wheel under another name, a worker process reports its numbers,
and the runner's bookkeeping (deviation, skipping) is right. The benchmark itself takes minutes
(`python benchmarks/run.py`) and is not a test. The baseline part needs micrograd 0.1.0's wheel:
it is taken from benchmarks/.cache/, or downloaded there (conftest's `micrograd010_wheel`); without
the cache and without a network, only that part is skipped (failed under MICROGRAD_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import math
import sys

import pytest

from conftest import REPO_ROOT

BENCH_DIR = REPO_ROOT / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import baseline  # noqa: E402  (benchmarks/ is not a package: its scripts run as files)
import demo_loop  # noqa: E402
import run as bench  # noqa: E402
import workloads  # noqa: E402

TOL = 1e-12


@pytest.fixture(scope="module")
def ref(chapter_log_path) -> list[str]:
    return chapter_log_path.read_text().splitlines()


def check_first_steps(lines: list[str], ref: list[str]) -> None:
    """Two steps print val 0, train 0, train 1: val as printed, train within 1e-12 relative."""
    assert len(lines) == 3, lines
    assert lines[0] == ref[0]
    for got, want in zip(lines[1:], ref[1:3]):
        head, _, value = got.rpartition(" ")
        want_head, _, want_value = want.rpartition(" ")
        assert head == want_head
        assert abs(float(value) - float(want_value)) <= TOL * abs(float(want_value)), (got, want)


@pytest.mark.parametrize("name", ["eager", "tape", "numpy", "torch", "numpy-hand",
                                  "torch-sample", "torch-batch"])
def test_workload_starts_as_the_chapter_log(name, ref):
    if name.startswith("numpy"):
        pytest.importorskip("numpy")
    if name.startswith("torch"):
        pytest.importorskip("torch")
    lines: list[str] = []
    workloads.prepare(name, 100)(2, lines.append)
    check_first_steps(lines, ref)


def test_baseline_loads_from_the_wheel_under_another_name(micrograd010_wheel, ref):
    wheel = micrograd010_wheel
    import micrograd.engine

    ours = micrograd.engine.Value
    module = baseline.load_engine(wheel)
    assert module.__name__ == "karpathy_micrograd_engine"
    assert "karpathy_micrograd_engine" not in sys.modules and "0.1.0" not in micrograd.__file__
    assert micrograd.engine.Value is ours and module.Value is not ours
    Value = module.Value
    x = Value(0.3)
    y = x.exp().log() + x.tanh()  # the chapter's closures: d/dx = exp(x)/exp(x) + 1 - tanh²
    assert isinstance(y._prev, set)  # Karpathy's design, children in a set
    y.backward()
    assert math.isclose(x.grad, 2 - math.tanh(0.3) ** 2, rel_tol=1e-15)
    lines: list[str] = []
    workloads.prepare("baseline", 100, str(wheel))(2, lines.append)
    check_first_steps(lines, ref)


def test_worker_process_reports_its_numbers(ref):
    run = bench.measure("eager", 100, 2, None, timeout=120)
    assert run.error is None, run.error
    assert 0 < run.loop_seconds < run.process_seconds
    assert 1024 < run.peak_kib < 1024 * 1024  # between 1 MiB and 1 GiB
    assert run.versions["python"] == sys.version.split()[0]
    check_first_steps(run.lines, ref)


def test_deviation(ref):
    exact = bench.deviation(ref, ref)
    assert exact == (0.0, True)
    off = [line.replace("0.9811897737392364", "0.9811897737392374") for line in ref]
    dev, equal = bench.deviation(off, ref)
    assert equal and math.isclose(dev, 1e-15 / 0.98118977373923, rel_tol=0.01)
    val_off = [line.replace("val loss 0.917090", "val loss 0.917091") for line in ref]
    assert bench.deviation(val_off, ref) == (0.0, False)
    assert bench.deviation(ref[:50], ref) == (math.inf, False)  # a run that stopped early


def test_scaling_skips_slow_rows_and_rows_past_a_recursion_error(monkeypatch):
    times = {"eager": 1.0, "baseline": 50.0, "tape": 100.0}

    def fake_measure(name, n, steps, wheel, timeout):
        if name == "baseline" and n >= 1000:
            return bench.Run(1.0, error="RecursionError")
        return bench.Run(2.0, loop_seconds=times[name] * n / 100, peak_kib=2048)

    monkeypatch.setattr(bench, "measure", fake_measure)
    seed = {name: bench.Row(name, [fake_measure(name, 100, 100, None, 0)]) for name in times}
    table = bench.scaling_table(list(times), seed, steps=100, repeats=3, budget=20.0,
                                limit=600.0, wheel=None, timeout=0)
    assert [len(table[1000][n].runs) for n in times] == [3, 1, 0]  # 10 s, error, est. 1000 s
    assert table[1000]["tape"].skipped == "skipped: est. 17 min"
    assert table[10_000]["baseline"].skipped == "skipped: RecursionError at 1,000 points"
    assert table[10_000]["tape"].skipped == "skipped: est. 167 min"  # from the chapter's run
    assert table[10_000]["eager"].loop == 100.0
    text = bench.render_scaling(table, 100)
    assert "RecursionError" in text and "10.0" in text  # eager grows linearly


@pytest.mark.parametrize("name", ["numpy", "numpy-hand"])
def test_wide_workloads_agree(name):
    """A wide model's run: the numpy tape and hand-written NumPy print the same losses (1e-12)."""
    pytest.importorskip("numpy")
    logs = {}
    for workload in ("numpy", name):
        lines: list[str] = []
        result = workloads.prepare(workload, 200, sizes=(2, 32, 8, 3))(3, lines.append)
        logs[workload] = [float(line.split()[-1]) for line in lines]
        if workload == "numpy":
            assert result["build_seconds"] > 0  # reported; how long is the benchmark's business
    for a, b in zip(logs["numpy"], logs[name], strict=True):
        assert abs(a - b) <= 1e-12 * abs(a)


def test_timings_measure_and_report(capsys):
    """benchmarks/timings.py (the suite's former timed asserts) runs: one repetition of each
    quick measurement, a table and a line per target (the --animate pair is left out: it runs
    the whole chapter run twice)."""
    pytest.importorskip("numpy")
    import timings

    assert timings.main(["--repeats", "1", "--only", "checkpoint,grid,wide"]) == 0
    out = capsys.readouterr().out
    for name in ("checkpoint write", "checkpoint load", "grid forward", "wide build"):
        assert f"| {name} " in out
    assert out.count("- ") == 3 and "train --animate" not in out
    lines = timings.render({"train --animate": 40.0, "train --no-plot": 0.5}, 3)
    assert "- train --animate < 30 s: MISSED (40.00 s)" in lines
    assert "- train --animate ÷ train --no-plot, same run: 80.0×" in lines


def test_playground_load_measures_and_reports(capsys):
    """benchmarks/playground_load.py runs against a real server (two short phases here), and
    its report states each target whatever the figures."""
    pytest.importorskip("websockets.asyncio.client")
    import playground_load

    assert playground_load.main(["--only", "idle,speed", "--scale", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "| idle " in out and "- speed max ≥ 30 steps/s" in out
    ping = {"pings": 100, "median": 5.0, "p99": 250.0, "max": 300.0}
    lines = playground_load.render({"idle": {"ping": {**ping, "median": 2.0}},
                                    "soak": {"ping": ping, "attacks": {}, "rss": (50, 80, None)}})
    assert "- soak: ping p99 < 200 ms: MISSED (250.0 ms)" in lines
    assert any("| soak " in line and "125×" in line for line in lines[0].splitlines())
    assert playground_load.ping_stats([0.001, 0.003, 0.002])["median"] == pytest.approx(2.0)


def test_the_demo_loop_benchmark_runs_both_packages_and_checks_the_numbers(micrograd010_wheel,
                                                                            capsys):
    """Two demo steps and a short chain, each in a fresh process of 0.1.0 and of ours."""
    assert demo_loop.main(["--steps", "2", "--repeats", "1", "--chain", "2000"]) == 0
    out = capsys.readouterr().out
    demo = out.split("Deep chain")[0]  # the demo's table (the chain's has rows of the same names)
    rows = {line.split("|")[1].strip(): line for line in demo.splitlines() if line.startswith("| ")}
    assert "| — |" in rows["micrograd 0.1.0"]
    assert rows["unchanged"].endswith("| yes |") and rows["fused"].endswith("| yes |")
    assert "micrograd-lab: build" in out


def test_the_demo_loops_check_sees_a_different_number():
    theirs = [[0.5, 0.75, []], [0.25, 0.8, []]]
    assert demo_loop.same_numbers([[0.5, 0.75, []], [0.25 * (1 + 1e-13), 0.8, []]], theirs) == "yes"
    assert demo_loop.same_numbers([[0.5, 0.75, []], [0.25 * (1 + 1e-11), 0.8, []]], theirs) == "NO"
    assert demo_loop.same_numbers([[0.5, 0.76, []], [0.25, 0.8, []]], theirs) == "NO"
