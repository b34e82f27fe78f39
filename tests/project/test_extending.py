"""A dataset or an activation is one row of the settings' table (settings.py) plus its
implementation (a generator in data.py or playground/regression.py; an op in engine.py): every
other consumer (the CLI, the config and checkpoint checks, the playground's protocol, the page's
picker and list, the share link, nn.py, the torch bridge and engine, the pictures) reads the
table. A dataset's label has its translation in the page's catalogue (playground/strings.py, the
English label as the key; a test there fails on a label without one). These tests find each
row's name written as a string in the source tree, so a hand copy of a table anywhere else (a
list of names, a dict keyed by them, an <option>) fails here."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from micrograd.settings import ACTIVATIONS, DATASETS

SRC = Path(__file__).resolve().parents[2] / "src" / "micrograd"
TABLE = "settings.py"
CATALOGUE = "playground/strings.py"  # the label's words in the page's other languages
DATASET_HOMES = {TABLE, "data.py", "playground/regression.py", CATALOGUE}
ACTIVATION_HOMES = {TABLE, "engine.py"}
# the word means something else there: the `seed` setting, nn's init and the walk's first
# backward step; "linear" is the identity, which has no op (nn.py's `nonlin=False`)
OTHER_MEANINGS = {"linear"}
# a single name with another job, never a list of the table's rows
ALLOWED = {
    ("arrays.py", "tanh"): "a function of the ops' math namespace NumPy rounds differently",
    ("arrays.py", "sigmoid"): "a function of the ops' math namespace NumPy rounds differently",
    ("nn.py", "relu"): "micrograd 0.1.0's default activation of Neuron and MLP",
    ("playground/session.py", "sigmoid"): "a class probability's tile is scaled as sigmoid's",
}


def python_strings(path: Path) -> set[str]:
    """Every string literal's value in a Python file (docstrings and comments are not code)."""
    out = set()
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING:
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):  # an f-string: its parts are not one name
                continue
            if isinstance(value, str):
                out.add(value)
    return out


def page_strings(path: Path, names: set[str]) -> set[str]:
    """The names a page file writes as a string or as an element's text (`"moons"`, `>tanh<`)."""
    text = path.read_text(encoding="utf-8")
    return {n for n in names if re.search(rf"""["'`>]{re.escape(n)}["'`<]""", text)}


def homes(names: set[str]) -> dict[str, set[str]]:
    """name -> the files (relative to src/micrograd) that write it as a string."""
    found: dict[str, set[str]] = {n: set() for n in names}
    for path in sorted(SRC.rglob("*")):
        if path.suffix == ".py":
            hits = python_strings(path) & names
        elif path.suffix in (".js", ".html", ".css"):
            hits = page_strings(path, names)
        else:
            continue
        for n in hits:
            found[n].add(path.relative_to(SRC).as_posix())
    return found


def test_a_dataset_is_named_only_in_the_table_and_its_generators_module():
    names = {d.name for d in DATASETS} - OTHER_MEANINGS
    for name, files in homes(names).items():
        assert TABLE in files, name
        assert files <= DATASET_HOMES, f"{name} is copied into {sorted(files - DATASET_HOMES)}"


def test_an_activation_is_named_only_in_the_table_and_the_engine():
    names = {a.name for a in ACTIVATIONS} - OTHER_MEANINGS
    for name, files in homes(names).items():
        extra = {f for f in files - ACTIVATION_HOMES if (f, name) not in ALLOWED}
        assert TABLE in files, name
        assert not extra, f"{name} is copied into {sorted(extra)}"


def test_every_activation_row_names_an_op_of_the_engine():
    from micrograd.engine import Value
    from micrograd.ops import REGISTERED

    for a in ACTIVATIONS:
        if a.op is not None:
            assert a.op in REGISTERED and callable(getattr(Value, a.name)), a.name


def test_the_newest_rows_touch_two_source_files_each_and_the_catalogue():
    found = homes({"gaussian", "silu"})
    assert found == {"gaussian": {TABLE, "data.py", CATALOGUE}, "silu": {TABLE, "engine.py"}}


def test_the_page_names_no_row_of_any_table():
    names = ({d.name for d in DATASETS} | {a.name for a in ACTIVATIONS}) - OTHER_MEANINGS
    static = SRC / "playground" / "static"
    for path in sorted(static.iterdir()):
        if path.suffix in (".js", ".html"):
            assert not page_strings(path, names), path.name


def test_the_scanner_finds_a_hand_copy(tmp_path):
    copy = tmp_path / "copy.py"
    copy.write_text('LABELS = {"moons": "Moons", "silu": "SiLU"}  # "circles" in a comment\n')
    assert python_strings(copy) >= {"moons", "silu"} and "circles" not in python_strings(copy)
    html = tmp_path / "copy.html"
    html.write_text('<option>silu</option><button data-dataset="moons">moons</button>')
    assert page_strings(html, {"silu", "moons", "xor"}) == {"silu", "moons"}
