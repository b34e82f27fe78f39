"""The core library is standard-library only; `import micrograd` pulls in no heavy dependency.

Checked here dynamically, in a fresh interpreter: what actually lands in `sys.modules`. The
static side, from the import statements of the source files (imports inside functions too), is
in test_layering.py with the rest of the layering.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = ["ops", "engine", "persist", "nn", "losses", "optim", "data", "train", "files", "errors",
        "history", "settings", "streams", "config", "checkpoint"]
HEAVY = ["matplotlib", "tqdm", "numpy", "torch"]


def _fresh_python(code: str) -> dict:
    """Run `code` in a new interpreter; it must print one JSON object as its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# Modules already loaded when the interpreter starts (e.g. `__main__`, or `_distutils_hack` from a
# setuptools .pth file) are not ours to judge, so the check is on what the imports add.
_NEW_MODULES = """
import json, sys
before = set(sys.modules)
{imports}
added = sorted({{m.split(".")[0] for m in set(sys.modules) - before}})
print(json.dumps({{"added": added, "all": sorted(sys.modules)}}))
"""


def test_core_modules_import_only_the_standard_library():
    imports = "\n".join(f"import micrograd.{name}" for name in CORE)
    out = _fresh_python(_NEW_MODULES.format(imports=imports))
    assert all(f"micrograd.{name}" in out["all"] for name in CORE)  # the imports did happen
    foreign = [m for m in out["added"] if m not in sys.stdlib_module_names and m != "micrograd"]
    assert foreign == [], f"core modules pulled in non-stdlib modules: {foreign}"


def test_import_micrograd_does_not_import_heavy_dependencies():
    out = _fresh_python(_NEW_MODULES.format(imports="import micrograd"))
    assert "micrograd" in out["all"]
    loaded = {m.split(".")[0] for m in out["all"]}
    assert [m for m in HEAVY if m in loaded] == []


# Modules with an optional dependency (NumPy for the tape's numpy backend, torch for the bridge):
# they may import it inside a function, never when the module itself is imported.
LAZY = ["tape", "torch_bridge", "plot", "cli", "optim"]


@pytest.mark.parametrize("name", LAZY)
def test_optional_dependencies_are_imported_lazily(name):
    out = _fresh_python(_NEW_MODULES.format(imports=f"import micrograd.{name}"))
    assert f"micrograd.{name}" in out["all"]
    loaded = {m.split(".")[0] for m in out["all"]}
    assert [m for m in HEAVY if m in loaded] == []
