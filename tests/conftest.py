"""Shared fixtures: small real projects on disk (catalogue + data files), built per test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reporting.project import Project

MakeProject = Callable[..., Project]

BASIC_CSV = """\
period,org_code,attendances,breaches
2024-01-01,RAA,100,10
2024-02-01,RAA,120,30
2024-03-01,RAA,110,11
2024-01-01,RBB,50,5
2024-02-01,RBB,0,0
2024-03-01,RBB,60,
"""

BASIC_CATALOGUE = """\
sources:
  ae:
    kind: csv
    path: data/ae.csv
metrics:
  - id: ae_4hr
    title: A&E 4-hour performance
    unit: percent
    direction: higher_is_better
    chart: p
    source: ae
    numerator: attendances - breaches
    denominator: attendances
    frequency: monthly
  - id: ae_attendances
    title: A&E attendances
    unit: count
    direction: neutral
    chart: xmr
    source: ae
    value: attendances
    frequency: monthly
"""


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
