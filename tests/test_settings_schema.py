"""The settings schema is the one home of each setting: the page's settings.json, the playground's
`configure` checks and defaults, the `train` flags, TrainConfig and a checkpoint's checks are all
read from it, so they agree with it by construction; these tests hold them to that."""

from __future__ import annotations

import json

import pytest

from micrograd import settings
from micrograd.settings import DATASETS, PAGE, settings_json


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
    assert doc["settings"]["lr"] == {"type": "float", "default": 0.1, "help": "AdamW learning rate",
                                     "min": 0.0, "max": 10.0, "min_open": True}
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
