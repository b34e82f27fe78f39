"""The package as a user gets it: `python -m build` makes an sdist and a wheel (the wheel built
from the sdist, so the sdist is complete), `twine check` passes on both, and the wheel, installed
into a fresh virtual environment (not editable; dependencies from the package index), runs
`micrograd train` and prints the chapter's log.

One build and one install for the whole module (about a minute, most of it pip installing
matplotlib and NumPy into the new environment).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP = ("*.egg-info", "__pycache__", ".venv", ".git", "runs", "build", "dist", "site",
        ".pytest_cache", ".ruff_cache", ".hypothesis", ".cache")


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          timeout=600, **kwargs)
    assert proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel of a copy of the repository (the build writes egg-info next to src/)."""
    tmp = tmp_path_factory.mktemp("package")
    shutil.copytree(REPO, tmp / "src-tree", ignore=shutil.ignore_patterns(*SKIP))
    _run([sys.executable, "-m", "build", "--outdir", tmp / "dist", tmp / "src-tree"])
    return tmp / "dist"


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (not editable) and nothing else."""
    env = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", env])
    (wheel,) = dist.glob("*.whl")
    _run([env / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    return env


def test_sdist_and_wheel_pass_twine_check(dist):
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"], files
    proc = _run([sys.executable, "-m", "twine", "check", "--strict", *files])
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_wheel_ships_the_static_files_the_license_and_the_version(dist):
    """A non-editable install must carry the playground's page (package data) and LICENSE."""
    from micrograd import __version__

    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"micrograd_lab-{__version__}-py3-none-any")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("index.html", "main.js", "style.css"):
        assert f"micrograd/playground/static/{name}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)


def test_installed_wheel_runs_the_seed(venv, tmp_path, chapter_log_path):
    python = venv / "bin" / "python"
    where = _run([python, "-c", "import micrograd; print(micrograd.__file__)"], cwd=tmp_path)
    assert str(venv) in where.stdout and "site-packages" in where.stdout  # not this checkout
    from micrograd import __version__

    version = _run([venv / "bin" / "micrograd", "--version"], cwd=tmp_path).stdout
    assert version == f"micrograd-lab {__version__}\n"
    proc = _run([venv / "bin" / "micrograd", "train", "--no-plot", "--quiet", "--out",
                 tmp_path / "run"], cwd=tmp_path)
    ours, ref = proc.stdout.splitlines(), chapter_log_path.read_text().splitlines()
    assert len(ours) == len(ref) == 110
    for mine, theirs in zip(ours, ref):
        label, _, value = theirs.rpartition(" ")
        assert mine.rpartition(" ")[0] == label
        if " val loss " in theirs:
            assert mine == theirs  # printed with 6 decimals: equal as text
        else:
            assert math.isclose(float(mine.rpartition(" ")[2]), float(value), rel_tol=1e-12)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "checkpoint.json", "config.json", "metrics.csv"]


def test_no_source_file_is_ignored_by_git():
    """A file that .gitignore hides is never committed, so a fresh clone would lack it (a
    `runs/` pattern once hid the whole tests/runs folder from `git add`)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "ls-files", "--ignored", "--others", "--exclude-standard",
                           "src", "tests", "docs", "scripts", "benchmarks"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    hidden = [p for p in proc.stdout.splitlines()
              if "__pycache__" not in p and not p.endswith(".pyc")
              and not p.startswith(("benchmarks/.cache/", "src/micrograd_lab.egg-info/"))]
    assert hidden == []
