"""Shared fixtures: small real projects on disk (catalogue + data files), built per test."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, MakeProject

from reporting.project import Project


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """A project directory with templates/metrics.yaml and the given data files (paths relative to it)."""

    def make(catalogue: str = BASIC_CATALOGUE, files: dict[str, str] | None = None) -> Project:
        root = tmp_path / "project"
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "templates" / "metrics.yaml").write_text(textwrap.dedent(catalogue))
        for name, text in ({"data/ae.csv": BASIC_CSV} if files is None else files).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return Project(root)

    return make
