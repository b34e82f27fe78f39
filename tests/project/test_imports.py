"""The core library is standard-library only; `import micrograd` pulls in no heavy dependency.

Checked twice: dynamically, in a fresh interpreter (what actually lands in `sys.modules`), and
statically, from the import statements of the source files (which also covers imports that
would only run inside a function).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = ["engine", "persist", "nn", "losses", "optim", "data", "train", "files", "settings",
        "streams"]
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


def _module_path(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    return Path(spec.origin)


def _imported_top_level_names(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every import statement in the file, nested ones included."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # a relative import (level > 0) stays inside the micrograd package
            top = "micrograd" if node.level else (node.module or "").split(".")[0]
            names.append((node.lineno, top))
    return names


@pytest.mark.parametrize("name", [*CORE, "__init__"])
def test_source_imports_name_only_stdlib_or_micrograd(name):
    module = "micrograd" if name == "__init__" else f"micrograd.{name}"
    path = _module_path(module)
    names = _imported_top_level_names(path)
    assert names, f"{path} has no imports at all? parsing went wrong"
    bad = [(line, m) for line, m in names
           if m not in sys.stdlib_module_names and m != "micrograd"]
    assert bad == [], f"{path}: non-stdlib imports (line, module): {bad}"


def test_static_check_sees_a_third_party_import(tmp_path):
    # the checker itself can fail: a nested third-party import is found
    src = tmp_path / "mod.py"
    src.write_text("import math\n\ndef f():\n    from numpy import array\n    return array\n")
    names = [m for _, m in _imported_top_level_names(src)]
    assert names == ["math", "numpy"]
    assert "numpy" not in sys.stdlib_module_names


# Modules with an optional dependency (NumPy for the tape's numpy backend, torch for the bridge):
# they may import it inside a function, never when the module itself is imported.
LAZY = ["tape", "torch_bridge", "plot", "cli", "optim"]


@pytest.mark.parametrize("name", LAZY)
def test_optional_dependencies_are_imported_lazily(name):
    out = _fresh_python(_NEW_MODULES.format(imports=f"import micrograd.{name}"))
    assert f"micrograd.{name}" in out["all"]
    loaded = {m.split(".")[0] for m in out["all"]}
    assert [m for m in HEAVY if m in loaded] == []
