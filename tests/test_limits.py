"""Bounded resources (issue 18): YAML size and alias expansion, and a full disk, each a one-line error that
names the file and the limit (source and template limits: tests/data/test_source_safety.py,
tests/packs/test_sandbox_limits.py; a full disk: tests/packs/test_integrity.py)."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from project_fixtures import BASIC_CATALOGUE

from reporting._yaml import load_yaml
from reporting.errors import ConfigError
from reporting.limits import configure, current

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_text(BOMB)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 200  # MB
    text = str(info.value)
    assert text.startswith(f"{path}:") and "alias" in text and "limits.yaml_nodes" in text and "\n" not in text


def test_yaml_size_limit_and_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_text(BASIC_CATALOGUE)
    load_yaml(path)
    monkeypatch.setenv("REPORTING_LIMIT_YAML_BYTES", "100")
    with pytest.raises(ConfigError, match=r"over the limit of 100 for YAML \(limits.yaml_bytes"):
        load_yaml(path)
    monkeypatch.delenv("REPORTING_LIMIT_YAML_BYTES")
    try:
        configure(yaml_bytes=50)  # what schedules.yaml `limits:` does
        assert current().yaml_bytes == 50
        with pytest.raises(ConfigError, match="over the limit of 50"):
            load_yaml(path)
    finally:
        configure()
    monkeypatch.setenv("REPORTING_LIMIT_YAML_BYTES", "lots")
    with pytest.raises(ConfigError, match="REPORTING_LIMIT_YAML_BYTES='lots' is not a number"):
        current()


def test_schedules_yaml_limits_are_checked(tmp_path: Path) -> None:
    from reporting.schedule.config import LimitsConfig

    assert LimitsConfig(source_bytes=10).source_bytes == 10
    with pytest.raises(ValueError):
        LimitsConfig(source_bytes=0)
