"""Small real projects on disk (catalogue + data files) for the data and CLI tests."""

from __future__ import annotations

from collections.abc import Callable

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
