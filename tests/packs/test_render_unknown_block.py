"""Every renderer refuses a block it has no rule for the same way: a ReportingError naming renderer and block."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sample_pack import sample_pack

from reporting.errors import ReportingError
from reporting.packs.render import docx, html, pptx, xlsx
from reporting.packs.tree import Section


@dataclasses.dataclass(frozen=True)
class Stray:
    """A node type no renderer knows (what a new block without renderer rules would be)."""

    title: str = "stray"


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("PowerPoint", lambda pack, path: pptx.render(pack, path / "p.pptx")),
        ("Word", lambda pack, path: docx.render(pack, path / "d.docx")),
        ("Excel", lambda pack, path: xlsx.render(pack, path / "x.xlsx")),
        ("HTML", lambda pack, path: html.render(pack, path / "h.html", {})),
    ],
)
def test_an_unknown_block_is_one_reporting_error_everywhere(name: str, write, tmp_path: Path) -> None:
    pack = dataclasses.replace(sample_pack(), sections=(Section("Only", (Stray(),)),))  # type: ignore[arg-type]
    with pytest.raises(ReportingError, match=rf"the {name} renderer has no rule for a Stray block$") as caught:
        write(pack, tmp_path)
    assert type(caught.value) is ReportingError
    assert not list(tmp_path.iterdir())  # nothing half-written is left
