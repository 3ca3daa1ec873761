"""Pack text is sandboxed, bounded and text-only (issue 18): include/import/extends refused in one line,
no internal object rendered, and render time / output size / range() limited, each a one-line ConfigError
naming the template file, its line and the limit. The escapes refused before keep their tests in
test_assemble.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from project_fixtures import assemble_pack, text_pack_project

from reporting.errors import ConfigError
from reporting.packs.tree import Pack, Text
from reporting.project import Project


def _assemble(project: Project) -> Pack:
    return assemble_pack(project, "t", org="RJ1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% include 'x.html' %}", "'{% include %}' is not allowed in pack text"),
        ("{% import 'x.html' as x %}", "'{% import %}' is not allowed"),
        ("{% from 'x.html' import y %}", "'{% import %}' is not allowed"),
        ("{% extends 'base.html' %}", "'{% extends %}' is not allowed"),
        ("{{ '%s'|format(narrative) }}", "format() takes only text"),
        ("{{ '%s' % narrative }}", "'%' formatting takes only text"),
        ("{{ narrative }}", "cannot be shown as text"),
        ("{{ value }}", "cannot be shown as text"),
        ("{{ 'a' * 10**9 }}", "longer than 1,000,000 characters (limits.template_output_chars"),
        ("{{ 'abc'.ljust(10**8) }}", "longer than 1,000,000 characters"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "range() of 100,000 items is over the limit of 10,000 (limits.template_range",
        ),
        ("{{ 9 ** 99999999 }}", "exponent over 1000"),
    ],
)
def test_refused_in_one_line_naming_file_and_line(
    demo_project: Project, tmp_path: Path, text: str, message: str
) -> None:
    project = text_pack_project(demo_project, tmp_path, text)
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        _assemble(project)
    assert time.monotonic() - started < 30
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(str(project.root / "templates" / "packs" / "t.yaml") + ":8")


def test_objects_never_render_as_their_internals(demo_project: Project, tmp_path: Path) -> None:
    for text in (
        "{{ narrative ~ '' }}",
        "{{ [narrative, value]|join(',') }}",
        "{{ narrative|string }}",
        "{{ narrative|pprint }}",
    ):
        project = text_pack_project(demo_project, tmp_path / str(abs(hash(text))), text)
        (block,) = _assemble(project).sections[0].blocks
        assert isinstance(block, Text)
        shown = " ".join(block.paragraphs)
        assert "Assembly" not in shown and "DataFrame" not in shown and "snapshot" not in shown.lower()
        assert "<function narrative>" in shown


def test_render_time_is_limited(demo_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTING_LIMIT_TEMPLATE_SECONDS", "1")
    project = text_pack_project(
        demo_project, tmp_path, "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"took longer than 1 s to render \(limits.template_seconds"):
        _assemble(project)
    assert time.monotonic() - started < 10


def test_include_is_one_line_exit_2_from_the_cli(demo_project: Project, tmp_path: Path) -> None:
    project = text_pack_project(demo_project, tmp_path, "{% include 'x.html' %}")
    exe = str(Path(sys.executable).with_name("reporting"))
    result = subprocess.run(
        [exe, "--project", str(project.root), "build", "t"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "500"},
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "include" in lines[0] and "t.yaml:8" in lines[0], result.stderr
