"""Issue 13: the Board paper's cover carries the board-paper essentials in every format, provenance sits in
"About this paper" at the end (and the document properties), and a weekly cover says its period once."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from project_fixtures import REPO, copy_project

from reporting.charts import Renderer
from reporting.errors import ConfigError
from reporting.packs.build import build
from reporting.packs.template_load import load_template
from reporting.packs.tree import Cover, Heading, Pack, Text
from reporting.project import Project

#: what the shipped board.yaml's `paper:` says, as the cover prints it
ESSENTIALS = (
    "Meeting: Public Board of Directors",
    "Meeting date: 4 September 2025",
    "Agenda item: 7.2",
    "Purpose: For assurance",
    "Executive lead: Chief Operating Officer",
    "Author: Head of Performance and Information",
    "BAF and risk references: BAF 2.1: timely access to urgent and emergency care; Risk 1234: emergency "
    "department crowding",
    "Previously considered by: Finance and Performance Committee, 28 August 2025",
)


@pytest.fixture(scope="module")
def board(demo_project: Project, renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Board paper for RJ1 in every format but the PDF (LibreOffice is slow; the PDF is the .docx)."""
    project = copy_project(demo_project, tmp_path_factory.mktemp("board"))
    (result,) = build(project, "board", formats=["docx", "pptx", "html", "xlsx"], renderer=renderer, offline=True)
    files = {p.suffix.lstrip("."): p for p in result.files}
    files["root"] = project.root
    return files


def _provenance(pack_root: Path) -> list[str]:
    """What a cover must not say: the snapshot, the reporting version, the template file, the server's path."""
    snapshot = next((pack_root / "snapshots").glob("*.json")).stem
    return [snapshot[:12], "reporting 0.", "board.yaml", str(pack_root), "Built from"]


def _docx_cover(path: Path) -> list[str]:
    """The paragraphs of the Word cover: everything before the contents."""
    lines = []
    for paragraph in Document(str(path)).paragraphs:
        if paragraph.style is not None and paragraph.style.name == "TOC Heading":
            break
        lines.append(paragraph.text)
    return lines


def test_docx_cover_has_every_essential_and_no_provenance(board: dict[str, Path]) -> None:
    cover = _docx_cover(board["docx"])
    for line in ESSENTIALS:
        assert line in cover
    assert not [p for p in _provenance(board["root"]) if any(p in line for line in cover)]
    assert not [line for line in cover if "None" in line]


def test_pptx_cover_has_every_essential_and_no_provenance(board: dict[str, Path]) -> None:
    slide = Presentation(str(board["pptx"])).slides[0]
    text = "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
    flat = " ".join(text.split())
    for line in ESSENTIALS:
        assert line in flat
    assert not [p for p in _provenance(board["root"]) if p in flat]


def _html_cover(path: Path) -> str:
    text = path.read_text()
    start = text.index("<h1")
    return text[start : text.index("<section", start)]


def test_html_cover_has_every_essential_and_no_provenance(board: dict[str, Path]) -> None:
    cover = _html_cover(board["html"])
    pairs = [f"{label}: {value}" for label, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", cover)]
    for line in ESSENTIALS:
        assert line in pairs
    assert not [p for p in _provenance(board["root"]) if p in cover]


def test_xlsx_contents_sheet_lists_every_essential(board: dict[str, Path]) -> None:
    sheet = load_workbook(board["xlsx"])["Contents"]
    pairs = {f"{row[0]}: {row[1]}" for row in sheet.iter_rows(values_only=True) if row[0] and row[1]}
    for line in ESSENTIALS:
        assert line in pairs


def test_about_this_paper_carries_the_provenance_at_the_end(board: dict[str, Path]) -> None:
    root = board["root"]
    snapshot = next((root / "snapshots").glob("*.json")).stem
    paragraphs = [p.text for p in Document(str(board["docx"])).paragraphs]
    about = paragraphs.index("About this paper")
    assert about > len(paragraphs) // 2  # in the appendix, not on the cover
    said = " ".join(paragraphs[about:])
    assert snapshot in said and "templates/packs/board.yaml" in said and "reporting 0." in said
    assert (
        "the time it was produced is recorded with the published files" in said
    )  # not in the file: a rebuild is the same
    for fmt in ("docx", "pptx", "xlsx"):  # never the server's path, anywhere in the files
        with zipfile.ZipFile(board[fmt]) as package:
            assert not [n for n in package.namelist() if str(root).encode() in package.read(n)]
    assert str(root) not in board["html"].read_text()
    properties = Document(str(board["docx"])).core_properties
    assert "templates/packs/board.yaml" in properties.comments and snapshot in properties.comments
    assert "About this paper" in " ".join(
        shape.text_frame.text
        for slide in Presentation(str(board["pptx"])).slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert "About this paper" in board["html"].read_text()


def test_a_pack_without_paper_builds_a_cover_without_the_essentials(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    (cover,) = [b for b in pack.blocks() if isinstance(b, Cover)]
    labels = [label for label, _ in cover.details]
    assert labels == ["For", "Report owner", "Version", "Classification"]  # the period is in the subtitle
    assert all(value and value != "None" for _, value in cover.details)
    # and its appendix closes with About this paper
    last = pack.sections[-1].blocks
    assert isinstance(last[-2], Heading) and last[-2].text == "About this paper" and isinstance(last[-1], Text)


def test_the_weekly_cover_says_its_week_once(assembled: Callable[..., Pack], tmp_path: Path) -> None:
    from reporting.packs.render.pptx import render

    pack = assembled("weekly-executive", org="RJ1")
    (cover,) = [b for b in pack.blocks() if isinstance(b, Cover)]
    said = " ".join([cover.subtitle, *(value for _, value in cover.details)])
    assert said.count(pack.period_label) == 1, said
    slide = Presentation(str(render(pack, tmp_path / "weekly.pptx"))).slides[0]
    footer = (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.DATE)  # on every slide
    text = " ".join(
        shape.text_frame.text
        for shape in slide.shapes
        if shape.has_text_frame and not (shape.is_placeholder and shape.placeholder_format.type in footer)
    )
    assert text.count(pack.period_label) == 1, text


def test_the_board_cover_says_its_period_once_and_its_audience_once(
    assembled: Callable[..., Pack],
) -> None:
    pack = assembled("board", org="RJ1")
    (cover,) = [b for b in pack.blocks() if isinstance(b, Cover)]
    said = " ".join([cover.subtitle, *(value for _, value in cover.details)])
    assert said.count(pack.period_label) == 1
    assert cover.detail("For") == ""  # the audience is the meeting: said once


BAD_PURPOSE = """\
pack: t
title: T
cadence: monthly
formats: [docx]
paper:
  meeting: Board
  purpose: assurnace
sections:
  - title: S
    blocks:
      - cover: {}
"""


def test_a_bad_purpose_is_a_file_and_line_error_listing_the_choices(tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    (folder / "t.yaml").write_text(textwrap.dedent(BAD_PURPOSE))
    with pytest.raises(ConfigError) as info:
        load_template(tmp_path, "t")
    err = info.value
    assert err.line == 7 and Path(str(err.file)).name == "t.yaml"
    for choice in ("assurance", "approval", "discussion", "information"):
        assert choice in str(err)
    good = BAD_PURPOSE.replace("assurnace", "approval")
    (folder / "t.yaml").write_text(good)
    template, _, _ = load_template(tmp_path, "t")
    assert template.paper is not None and template.paper.purpose == "approval"


def test_validate_checks_the_jinja_of_the_paper_essentials(tmp_path: Path) -> None:
    from reporting.data.catalogue import load_catalogue
    from reporting.packs.checks import check_template

    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    (tmp_path / "templates" / "metrics.yaml").write_text((REPO / "templates" / "metrics.yaml").read_text())
    text = BAD_PURPOSE.replace("purpose: assurnace", "author: '{{ org_nme }}'")
    (folder / "t.yaml").write_text(text)
    template, doc, _ = load_template(tmp_path, "t")
    with pytest.raises(ConfigError) as info:
        check_template(template, doc, load_catalogue(tmp_path / "templates" / "metrics.yaml"))
    assert info.value.line == 7 and "org_nme" in str(info.value)


def test_a_child_pack_changes_only_the_essentials_it_names(tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    for name in ("board.yaml", "monthly-performance.yaml"):
        (folder / name).write_text((REPO / "templates" / "packs" / name).read_text())
    (folder / "october-board.yaml").write_text(
        "pack: october-board\nextends: board\npaper:\n  meeting_date: 2025-10-02\n  agenda_item: '5.1'\n"
    )
    child, _, _ = load_template(tmp_path, "october-board")
    parent, _, _ = load_template(tmp_path, "board")
    assert child.paper is not None and parent.paper is not None
    assert (child.paper.meeting_date, child.paper.agenda_item) == (dt.date(2025, 10, 2), "5.1")
    assert child.paper.model_copy(update={"meeting_date": None, "agenda_item": None}) == parent.paper.model_copy(
        update={"meeting_date": None, "agenda_item": None}
    )
