"""The package's layering, read from the source: no import cycle, each module imports only from
its layer or below, and the core imports only the standard library.

Every module's imports are parsed with `ast` (nothing is imported to find them):

- An import inside a function counts as much as one at module level: it runs later, but the
  module still cannot work without the other, so both count for cycles and for layers. The
  only imports allowed to reach up a layer are lazy ones declared in `LAZY_UPWARD`, each with
  its reason; they cannot make an import-time cycle, and the cycle check still sees them.
- A module that writes into another module's state (`ops.TABLE.update(...)`, `TABLE[k] = v`,
  `ops.NAME = v` on a name it imported) is a dependency in the other direction as well: the
  module written to reads what was put there. It counts as an edge from the written module to
  the writer, which is how a registry filled behind the importer's back shows up as a cycle.
  Registering through a function the lower module offers (`ops.use_value_type(...)`,
  `backends.register(...)`) is the visible, one-way form and is not such an edge.
- Not counted: imports under `if TYPE_CHECKING:` (they never run); the parent packages Python
  imports before a submodule (`micrograd/__init__.py` runs before `micrograd.ops`: a property
  of packages, not a dependency of the code); and `importlib.import_module` by computed name,
  which only the engine registry uses, to load the plug-ins that import it.

The layer table is derived from docs/design.md's layout table. The loop's row is split in two:
a run's files and settings (`config`, `checkpoint`, ...) sit below the training loop, so a
checkpoint or a config can be read without loading the loop. `micrograd` (the package's
`__init__`) sits with the models: it re-exports `Value`, `grad`, `Op` and `gradcheck`.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "micrograd"
PACKAGE = "micrograd"

# layer: (its modules, the layers it rests on); a layer may import its own modules and those of
# every layer below it, transitively. engine and records rest on the standard library alone.
LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "engine": ("links ops persist collector engine compiled", ()),
    "records": ("data files errors history settings words", ()),
    "models": ("micrograd check nn losses optim torch_bridge", ("engine", "records")),
    "engines": ("backends backends.* arrays arraycode tape torch_engine", ("models",)),
    "run files": ("config checkpoint folder resume predict", ("engines",)),
    "loop": ("train run guard anomaly streams", ("run files",)),
    "pictures": ("plot animate graph walk walkview", ("loop",)),
    "playground": ("playground playground.*", ("pictures",)),
    "cli": ("cli cli.* __main__", ("playground",)),
    "notebook": ("widgets widgets.*", ("playground",)),
}
# the only imports that reach up a layer: inside a function, each for a reason
LAZY_UPWARD = {
    ("run", "plot"): "a run draws its pictures when it ends; matplotlib loads only then",
    ("run", "animate"): "the same for training.gif's frames",
    ("optim", "arrays"): "AdamW hands a wide model's update to NumPy, when it is installed",
}
# the core: at module level these import only the standard library and each other, so
# importing any of them loads nothing else
CORE = ("links", "ops", "persist", "collector", "compiled", "engine", "nn", "losses", "optim",
        "data", "files", "errors", "history", "settings", "words")
# modules that import no third-party package, not even inside a function
NO_THIRD_PARTY = (*CORE, "micrograd", "check", "train", "streams", "config", "checkpoint")
THIRD_PARTY_IN_CORE = {("ops", "numpy"): "numpy_math(), the rules' functions on arrays"}
MUTATORS = {"update", "setdefault", "append", "extend", "insert", "add", "pop", "popitem",
            "clear", "remove", "discard", "__setitem__"}


@dataclass(frozen=True)
class Edge:
    """`source` depends on `target`: an import (lazy: inside a function), or a write into it."""

    source: str
    target: str
    line: int
    lazy: bool = False
    writes: str = ""  # for a write: which of the target's names the source fills

    def __str__(self) -> str:
        if self.writes:
            return f"{self.target} writes into {self.source}'s {self.writes} (line {self.line})"
        where = "in a function" if self.lazy else "module level"
        return f"{self.source} imports {self.target} (line {self.line}, {where})"


def short(module: str) -> str:
    return module.removeprefix(f"{PACKAGE}.")


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package at `root`."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Imports(ast.NodeVisitor):
    """One module's import statements, and its writes into names it imported."""

    def __init__(self, module: str, is_package: bool, modules: set[str]):
        self.module, self.modules = module, modules
        self.package = module if is_package else module.rpartition(".")[0]
        self.lazy = False
        self.found: list[tuple[str, int, bool]] = []  # (imported module, line, lazy)
        self.objects: dict[str, str] = {}  # local name -> module it was imported from
        self.aliases: dict[str, str] = {}  # local name -> the module it names
        self.writes: list[Edge] = []

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
        else:
            for child in node.orelse:
                self.visit(child)

    def _function(self, node: ast.AST) -> None:
        was, self.lazy = self.lazy, True
        self.generic_visit(node)
        self.lazy = was

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._found(alias.name, node.lineno)
            if alias.asname and alias.name in self.modules:
                self.aliases[alias.asname] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            local = alias.asname or alias.name
            if f"{base}.{alias.name}" in self.modules:
                self._found(f"{base}.{alias.name}", node.lineno)
                self.aliases[local] = f"{base}.{alias.name}"
            else:
                self._found(base, node.lineno)
                if base in self.modules:
                    self.objects[local] = base

    def _found(self, name: str, line: int) -> None:
        ours = name == PACKAGE or name.startswith(f"{PACKAGE}.")
        self.found.append((name if ours else name.split(".")[0], line, self.lazy))

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            self._written(node.func.value, node.lineno)
        self.generic_visit(node)

    def _assigned(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> None:
        for target in getattr(node, "targets", None) or [node.target]:
            if isinstance(target, ast.Subscript):
                self._written(target.value, node.lineno)
            elif isinstance(target, ast.Attribute):
                self._written(target, node.lineno)
        self.generic_visit(node)

    visit_Assign = visit_AugAssign = visit_AnnAssign = _assigned

    def _written(self, node: ast.expr, line: int) -> None:
        """`node` is changed in place: a name imported from a module of ours, or `mod.NAME`."""
        if isinstance(node, ast.Name) and node.id in self.objects:
            owner, name = self.objects[node.id], node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            outer = node.value.id
            if outer in self.aliases:  # ops.NAME
                owner, name = self.aliases[outer], node.attr
            elif outer in self.objects:  # Value.attribute: a class of that module, patched
                owner, name = self.objects[outer], f"{outer}.{node.attr}"
            else:
                return
        else:
            return
        if owner != self.module:
            self.writes.append(Edge(owner, self.module, line, writes=name))


@dataclass
class Package:
    """The parsed package: its modules, their imports (ours and foreign) and the writes."""

    modules: dict[str, Path]
    edges: list[Edge]  # between modules of ours: imports, and writes (reversed, see above)
    foreign: list[Edge]  # imports of anything else (target: the top-level name)


def parse(root: Path = SRC) -> Package:
    modules = module_names(root)
    edges, foreign = [], []
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", set(modules))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for target, line, lazy in visitor.found:
            edge = Edge(name, target, line, lazy)
            if target in modules:
                if target != name:
                    edges.append(edge)
            elif not target.startswith(PACKAGE):
                foreign.append(edge)
        edges += visitor.writes
    return Package(modules, edges, foreign)


# ---- (a) cycles ----


def cycles(pkg: Package) -> list[list[Edge]]:
    """One cycle (as its edges) for every strongly connected group of modules."""
    graph: dict[str, dict[str, Edge]] = {m: {} for m in pkg.modules}
    for e in pkg.edges:
        graph[e.source].setdefault(e.target, e)
    found = []
    for group in _strongly_connected(graph):
        members, start = set(group), min(group)
        path = _path(graph, start, start, members)
        found.append(path)
    return found


def _strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Groups of more than one module that reach each other (Kosaraju, iterative)."""
    order, seen = [], set()
    for root in graph:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(graph[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                order.append(node)
                stack.pop()
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(graph[child])))
    reverse: dict[str, list[str]] = {m: [] for m in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    groups, assigned = [], set()
    for root in reversed(order):
        if root in assigned:
            continue
        group, todo = [], [root]
        assigned.add(root)
        while todo:
            node = todo.pop()
            group.append(node)
            for other in reverse[node]:
                if other not in assigned:
                    assigned.add(other)
                    todo.append(other)
        if len(group) > 1:
            groups.append(sorted(group))
    return groups


def _path(graph: dict[str, dict[str, Edge]], start: str, goal: str,
          within: set[str] | None = None) -> list[Edge]:
    """The shortest chain of edges from `start` to `goal` (breadth first), [] if none."""
    before: dict[str, Edge] = {}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        for target, edge in sorted(graph[node].items()):
            if within is not None and target not in within:
                continue
            if target == goal:
                chain = [edge]
                while chain[0].source != start:
                    chain.insert(0, before[chain[0].source])
                return chain
            if target not in before and target != start:
                before[target] = edge
                todo.append(target)
    return []


def test_no_import_cycle():
    found = cycles(parse())
    assert not found, "import cycles:\n" + "\n".join(
        " -> ".join(short(e.source) for e in c) + f" -> {short(c[0].source)}: "
        + "; ".join(map(str, c)) for c in found)


# ---- (b) layers ----


def layer_of(module: str) -> str:
    name = "micrograd" if module == PACKAGE else short(module)
    for layer, (members, _) in LAYERS.items():
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in members.split()):
            return layer
    raise KeyError(f"{module} is in no layer of LAYERS; add it where it belongs")


def allowed_layers(layer: str) -> set[str]:
    """The layer itself and every layer it rests on, directly or through others."""
    allowed, todo = {layer}, list(LAYERS[layer][1])
    while todo:
        below = todo.pop()
        if below not in allowed:
            allowed.add(below)
            todo += LAYERS[below][1]
    return allowed


def declared_upward(edge: Edge) -> bool:
    return edge.lazy and (short(edge.source), short(edge.target)) in LAZY_UPWARD


def layer_violations(pkg: Package) -> list[str]:
    """Every module that reaches (directly or through others) a module above its layer, with
    the shortest chain of imports that does it."""
    graph: dict[str, dict[str, Edge]] = {m: {} for m in pkg.modules}
    for e in pkg.edges:
        if not e.writes and not declared_upward(e):
            graph[e.source].setdefault(e.target, e)
    problems = []
    for module in sorted(pkg.modules):
        ok = allowed_layers(layer_of(module))
        for target in sorted(pkg.modules):
            if layer_of(target) not in ok and (chain := _path(graph, module, target)):
                route = " -> ".join([short(module), *(short(e.target) for e in chain)])
                problems.append(f"{short(module)} ({layer_of(module)}) reaches {short(target)} "
                                f"({layer_of(target)}): {route}; {chain[-1]}")
    return problems


def test_every_module_has_one_layer():
    modules = module_names(SRC)
    for module in modules:
        layer_of(module)  # raises for a module in no layer
    names = ["micrograd" if m == PACKAGE else short(m) for m in modules]
    unused = [p for members, _ in LAYERS.values() for p in members.split()
              if not fnmatch.filter(names, p)]
    assert not unused, f"LAYERS names modules that do not exist: {unused}"
    for layer, (_, below) in LAYERS.items():
        assert set(below) <= set(LAYERS), layer


def test_each_module_imports_only_its_layer_or_below():
    problems = layer_violations(parse())
    assert not problems, "imports above their layer:\n" + "\n".join(problems)


def test_declared_upward_imports_exist_and_are_lazy():
    pkg = parse()
    declared = {(short(e.source), short(e.target)) for e in pkg.edges if declared_upward(e)}
    assert declared == set(LAZY_UPWARD), "LAZY_UPWARD lists an import that is gone"
    eager = [str(e) for e in pkg.edges if not e.lazy
             and (short(e.source), short(e.target)) in LAZY_UPWARD]
    assert not eager, f"a declared upward import is made at module level: {eager}"


# ---- (c) the core: the standard library only ----


def core_problems(pkg: Package) -> list[str]:
    core = {f"{PACKAGE}.{name}" for name in CORE}
    problems = [f"{e} (not core)" for e in pkg.edges
                if e.source in core and not e.lazy and not e.writes and e.target not in core]
    quiet = {f"{PACKAGE}.{name}" if name != "micrograd" else PACKAGE for name in NO_THIRD_PARTY}
    for e in pkg.foreign:
        stdlib = e.target in sys.stdlib_module_names
        declared = e.lazy and (short(e.source), e.target) in THIRD_PARTY_IN_CORE
        if e.source in quiet and not stdlib and not declared:
            problems.append(f"{e} (not the standard library)")
        elif e.source in core and not e.lazy and not stdlib:
            problems.append(f"{e} (not the standard library)")
    return problems


def test_core_imports_only_the_standard_library():
    pkg = parse()
    assert {f"{PACKAGE}.{name}" for name in CORE} <= set(pkg.modules)
    problems = core_problems(pkg)
    assert not problems, "\n".join(problems)


# ---- the checker itself: it finds each kind of problem it is there for ----


def _package(tmp_path: Path, files: dict[str, str]) -> Package:
    root = tmp_path / PACKAGE
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return parse(root)


def test_checker_sees_a_cycle_through_a_function_level_import(tmp_path):
    pkg = _package(tmp_path, {
        "nn.py": "def to_torch():\n    from micrograd.torch_bridge import f\n    return f\n",
        "torch_bridge.py": "from micrograd.nn import MLP\n",
    })
    [cycle] = cycles(pkg)
    assert {short(e.source) for e in cycle} == {"nn", "torch_bridge"}
    assert any(e.lazy for e in cycle)


def test_checker_sees_a_table_filled_from_above_as_a_cycle(tmp_path):
    pkg = _package(tmp_path, {
        "ops.py": "TABLE = {}\n\ndef run():\n    return TABLE['Value']\n",
        "engine.py": "from micrograd.ops import TABLE\n\nclass Value: ...\n\n"
                     "TABLE.update(Value=Value)\n",
    })
    [cycle] = cycles(pkg)
    assert [str(e) for e in cycle] == [
        "micrograd.engine imports micrograd.ops (line 1, module level)",
        "micrograd.engine writes into micrograd.ops's TABLE (line 5)"]


def test_checker_sees_writes_through_a_module_alias(tmp_path):
    pkg = _package(tmp_path, {
        "ops.py": "TABLE = {}\n",
        "nn.py": "from micrograd import ops\nfrom micrograd.ops import Op\n\n"
                 "ops.TABLE['x'] = 1\nops.NAME = 2\nops.register(3)\nOp.rule = 4\n",
    })
    assert sorted(e.writes for e in pkg.edges if e.writes) == ["NAME", "Op.rule", "TABLE"]


def test_checker_sees_a_run_file_that_reaches_the_loop(tmp_path):
    pkg = _package(tmp_path, {
        "config.py": "from micrograd.checkpoint import Checkpoint\n",
        "checkpoint.py": "from micrograd.train import History\n",
        "train.py": "import math\n",
        "plot.py": "def f():\n    import numpy\n    from micrograd.train import History\n",
    })
    problems = layer_violations(pkg)
    assert any(p.startswith("config (run files) reaches train (loop): config -> checkpoint "
                            "-> train") for p in problems), problems
    assert len(problems) == 2  # config and checkpoint; plot may use the loop


def test_checker_sees_a_third_party_import_in_the_core(tmp_path):
    pkg = _package(tmp_path, {
        "engine.py": "import math\n\ndef f():\n    from numpy import array\n    return array\n",
        "data.py": "import numpy\nfrom micrograd.train import History\n",
        "train.py": "",
    })
    problems = core_problems(pkg)
    assert len(problems) == 3, problems  # engine's nested numpy; data's numpy and train


@pytest.mark.parametrize("text", ["from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                  "    from micrograd.train import History\n"])
def test_checker_ignores_imports_for_type_checking_only(tmp_path, text):
    pkg = _package(tmp_path, {"data.py": text, "train.py": ""})
    assert not [e for e in pkg.edges if short(e.source) == "data"]
