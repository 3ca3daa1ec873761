"""Small real projects on disk (catalogue + data files) for the data and CLI tests, and helpers for the demo
project the shared fixtures in conftest.py pull."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from reporting.data.catalogue import load_catalogue
from reporting.data.snapshot import latest_snapshot
from reporting.packs.batch import assemble
from reporting.packs.template_load import load_template
from reporting.packs.tree import Pack
from reporting.project import Project

MakeProject = Callable[..., Project]
REPO = Path(__file__).resolve().parents[1]
BUILT_AT = "2026-01-01T00:00:00+00:00"

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


def copy_project(
    project: Project, where: Path, ignore: Callable[[str, list[str]], Iterable[str]] | None = None
) -> Project:
    """A private copy of `project` at `where`/p, for a test that writes (the shared demo project is read-only)."""
    root = where / "p"
    shutil.copytree(project.root, root, ignore=ignore)
    return Project(root)


def text_pack_project(project: Project, where: Path, text: str) -> Project:
    """A copy of `project` with templates/packs/t.yaml: one section whose one block is the text `text` (line 8)."""
    copy = copy_project(project, where)
    (copy.root / "templates" / "packs" / "t.yaml").write_text(
        "pack: t\ntitle: T\ncadence: monthly\nformats: [pptx]\nsections:\n  - title: S\n    blocks:\n"
        f'      - text: "{text}"\n'
    )
    return copy


def assemble_pack(project: Project, name: str, **kw: Any) -> Pack:
    """Template `name` of `project` assembled on its latest snapshot, at a fixed build time."""
    template, doc, digest = load_template(project.root, name)
    kw.setdefault("built_at", BUILT_AT)
    return assemble(
        load_catalogue(project.catalogue_file), template, doc, digest, latest_snapshot(project.snapshots), **kw
    )
