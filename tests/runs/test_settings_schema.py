"""The settings schema is the one home of each setting: the page's settings.json, the playground's
`configure` checks and defaults, the `train` flags, TrainConfig and a checkpoint's checks are all
read from it, so they agree with it by construction; these tests hold them to that."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from micrograd import settings
from micrograd.settings import DATASETS, PAGE, RUN, SETTING, settings_json


def test_settings_json_describes_every_page_setting_and_table():
    doc = json.loads(settings_json())
    assert list(doc["settings"]) == list(PAGE)
    for name, entry in doc["settings"].items():
        s = PAGE[name]
        assert entry["type"] in ("int", "float", "bool", "choice", "list"), name
        assert entry["default"] == (list(s.default) if isinstance(s.default, tuple)
                                    else s.default)
        assert entry["help"]
        if entry["type"] in ("int", "float"):
            assert entry["min"] <= entry["default"] <= entry["max"], name
        if entry["type"] == "choice":
            assert entry["default"] in entry["choices"], name
        for value in entry.get("presets", []):  # a select's values: each one in range
            assert PAGE[name].problem(value) is None, (name, value)
        if "step" in entry:  # a slider: its range is a whole number of steps
            steps = (entry["max"] - entry["min"]) / entry["step"]
            assert abs(steps - round(steps)) < 1e-9, name
        shown = [str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
                 for v in entry.get("presets", entry.get("choices", []))]
        assert set(entry.get("labels", {})) <= set(shown), name
    assert doc["settings"]["lr"] == {"type": "float", "default": 0.1, "help": "AdamW learning rate",
                                     "min": 0.0, "max": 10.0, "min_open": True,
                                     "presets": [0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0,
                                                 3.0]}
    assert [d["label"] for d in doc["datasets"]][:2] == ["chapter", "yin-yang"]
    assert doc["settings"]["seed"]["max"] == 2**31 - 1  # a JavaScript number holds it exactly
    assert [d["name"] for d in doc["datasets"]] == doc["settings"]["dataset"]["choices"]
    assert {d["problem"] for d in doc["datasets"]} == set(doc["problems"])
    for problem, name in doc["problem_default"].items():
        assert next(d for d in doc["datasets"] if d["name"] == name)["problem"] == problem
    assert doc["activations"] == doc["settings"]["activation"]["choices"]
    assert [f["name"] for f in doc["features"]] == doc["settings"]["features"]["choices"]


def test_the_server_serves_settings_json_and_the_export_writes_it():
    from starlette.testclient import TestClient

    from micrograd.playground import server
    from micrograd.playground.export import page_files

    with TestClient(server.create_app()) as client:
        r = client.get("/static/settings.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.text == settings_json()
    assert page_files()["static/settings.json"] == settings_json().encode()


def test_each_page_setting_differs_from_the_run_only_where_its_entry_says():
    for name, page in PAGE.items():
        run = settings.SETTING[name]
        differ = {k for k in ("type", "default", "lo", "hi", "choices", "length", "help")
                  if getattr(page, k) != getattr(run, k)}
        assert differ <= set(run.page or {}), name


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_every_dataset_has_a_generator(dataset):
    from micrograd.data import DATASETS as GENERATORS
    from micrograd.playground.regression import REGRESSION_DATASETS

    owner = GENERATORS if dataset.problem == "classification" else REGRESSION_DATASETS
    assert dataset.name in owner


# the ways the learning rate's range (0, 10] can be written: a message or comment, a chained
# comparison, an argument list (Python's lo_open=True, JavaScript's numIn(0, 10, true)), a table
LR_RANGE = re.compile(r"\(0(\.0)?,\s*10(\.0)?\]|0(\.0)?\s*<\s*\S+\s*<=\s*10(\.0)?\b"
                      r"|\b0(\.0)?,\s*10(\.0)?,\s*(lo_open=)?[Tt]rue|lr\W{1,6}\(?0(\.0)?,\s*10")
SRC = Path(__file__).resolve().parents[2] / "src" / "micrograd"


def _lr_range_homes(suffix: str) -> list[str]:
    return [f"{path.relative_to(SRC)}:{n}" for path in sorted(SRC.rglob(f"*{suffix}"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if LR_RANGE.search(line)]


def test_the_learning_rates_range_is_written_once_in_the_python_source():
    for copy in ('if not 0.0 < opt["lr"] <= 10.0:', '"lr": (0.0, 10.0),  # lr > 0',
                 "lr: numIn(0, 10, true),", 'f"optimizer.lr {v!r} is not in (0, 10]"',
                 '_num("lr", 0.0, 10.0, lo_open=True)'):  # the copies there were
        assert LR_RANGE.search(copy), copy
    (home,) = _lr_range_homes(".py")
    assert home.startswith("settings.py:")


def test_the_page_holds_no_copy_of_the_learning_rates_range():
    assert _lr_range_homes(".js") == []


def test_the_train_flags_are_the_schemas():
    from micrograd.cli import build_parser
    from micrograd.config import FLAGGED

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = {a.dest: a for a in sub.choices["train"]._actions}
    for s in (s for s in RUN.values() if s.flag):
        action = actions[s.name]
        assert action.option_strings == [s.flag]
        assert s.help in action.help
        if s.choices:
            assert tuple(action.choices) == s.choices
        if s.type in ("int", "float"):  # the range is the schema's: its ends pass, beyond fail
            assert action.type(str(s.hi)) == s.hi
            with pytest.raises(argparse.ArgumentTypeError, match=r"must be in"):
                action.type(str(s.hi * 2 if s.hi else 1))
            if not s.lo_open:
                assert action.type(str(s.lo)) == s.lo
    assert [a.dest for a in sub.choices["train"]._actions if a.dest in FLAGGED] == list(FLAGGED)


def test_train_config_and_the_playground_config_take_the_schemas_defaults():
    from dataclasses import fields

    from micrograd.config import TrainConfig
    from micrograd.playground.session import Config

    run, page = TrainConfig(), Config()
    assert [f.name for f in fields(TrainConfig)] == [s.name for s in RUN.values() if s.saved]
    for f in fields(TrainConfig):
        assert getattr(run, f.name) == RUN[f.name].default, f.name
    assert {f.name for f in fields(Config)} == set(PAGE)
    for f in fields(Config):
        assert getattr(page, f.name) == PAGE[f.name].default, f.name


@pytest.mark.parametrize("name", [s.name for s in PAGE.values() if s.type in ("int", "float")])
def test_configure_holds_each_number_to_the_schemas_range(name):
    from micrograd.playground import protocol

    s = PAGE[name]
    assert protocol.LIMITS[name] == (s.lo, s.hi)
    check = protocol.CONFIGURE[name]
    assert check(s.hi) == s.hi
    with pytest.raises(protocol.ProtocolError, match=rf"^{name} must be in"):
        check(s.hi + 1)
    if s.lo_open:
        with pytest.raises(protocol.ProtocolError, match=rf"^{name} must be in \("):
            check(s.lo)
    else:
        assert check(s.lo) == s.lo


def test_configure_takes_exactly_the_pages_settings_and_their_choices():
    from micrograd.playground import protocol

    assert set(protocol.CONFIGURE) == set(PAGE)
    doc = json.loads(settings_json())["settings"]
    for name, entry in doc.items():
        for choice in entry.get("choices", []) if entry["type"] == "choice" else []:
            assert protocol.CONFIGURE[name](choice) == choice
    hidden = doc["hidden"]
    assert protocol.CONFIGURE["hidden"]([hidden["max"]] * hidden["max_length"])
    with pytest.raises(protocol.ProtocolError):
        protocol.CONFIGURE["hidden"]([hidden["max"] + 1])


@pytest.mark.parametrize("field", ["lr", "weight_decay", "eps", "betas"])
def test_a_checkpoints_optimizer_is_held_to_the_schemas_range(field):
    from micrograd.checkpoint import _check_optimizer_domains

    s = SETTING[field]
    opt = {"type": "AdamW", **{n: SETTING[n].default for n in ("lr", "weight_decay", "eps")},
           "betas": list(SETTING["betas"].default)}
    _check_optimizer_domains(opt, ValueError)
    bad = s.hi + 1
    opt[field] = [0.9, bad] if field == "betas" else bad
    with pytest.raises(ValueError, match=rf"^optimizer.{field} must be in .*, got {bad}"):
        _check_optimizer_domains(opt, ValueError)
