"""conftest's tool checks: a missing tool skips with its one-line reason, and fails with the same
line when MICROGRAD_REQUIRE_TOOLS=1 (as `.ci/run` sets it)."""

from __future__ import annotations

import pytest

from conftest import DOT_MISSING, REQUIRE_TOOLS_ENV, require_dot, require_tool, tools_required


@pytest.mark.parametrize(("value", "required"), [(None, False), ("", False), ("0", False),
                                                  ("1", True), ("yes", True)])
def test_the_variable(monkeypatch, value, required):
    if value is None:
        monkeypatch.delenv(REQUIRE_TOOLS_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_TOOLS_ENV, value)
    assert tools_required() is required


def test_a_missing_tool_skips_with_its_reason(monkeypatch, tmp_path):
    monkeypatch.delenv(REQUIRE_TOOLS_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_dot()
    assert str(skipped.value) == DOT_MISSING


def test_a_missing_tool_fails_when_tools_are_required(monkeypatch, tmp_path):
    monkeypatch.setenv(REQUIRE_TOOLS_ENV, "1")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception) as failed:
        require_dot()
    assert str(failed.value).startswith(DOT_MISSING) and "\n" not in str(failed.value)


def test_a_present_tool_gives_its_path(monkeypatch, tmp_path):
    tool = tmp_path / "sometool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_TOOLS_ENV, "1")
    assert require_tool("sometool", "sometool missing") == str(tool)
