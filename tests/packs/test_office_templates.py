"""The default Office templates: the build script, what the renderers rely on, LibreOffice, clear errors."""

from __future__ import annotations

import filecmp
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx.oxml.ns import qn
from docx.shared import Pt
from office import pdf_pages, soffice
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.util import Inches

from reporting.errors import ConfigError
from reporting.packs.office_templates import (
    DEFAULT_DOCX,
    DEFAULT_PPTX,
    default_docx,
    default_pptx,
    layout,
    open_document,
    open_presentation,
    require_styles,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "templates" / "office" / "build_templates.py"

T, B, OBJ = PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT
FOOTERS = {10: PP_PLACEHOLDER.DATE, 11: PP_PLACEHOLDER.FOOTER, 12: PP_PLACEHOLDER.SLIDE_NUMBER}
LAYOUTS = {  # layout name -> {placeholder idx: type}; the contract documented in build_templates.py
    "Title Slide": {0: PP_PLACEHOLDER.CENTER_TITLE, 1: PP_PLACEHOLDER.SUBTITLE, **FOOTERS},
    "Section Header": {0: T, 1: B, **FOOTERS},
    "Title and Content": {0: T, 1: OBJ, **FOOTERS},
    "Title Only": {0: T, **FOOTERS},
    "Two Content": {0: T, 1: OBJ, 2: OBJ, **FOOTERS},
    "Blank": dict(FOOTERS),
}
STYLES = [
    "Normal",
    "Title",
    "Subtitle",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "Caption",
    "Table Grid",
    "NHS Table",
    "List Bullet",
    "TOC Heading",
    "toc 1",
    "toc 2",
    "toc 3",
    "Header",
    "Footer",
]


def build(out: Path) -> tuple[Path, Path]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return out / "board.pptx", out / "paper.docx"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("templates"))


def test_build_is_byte_stable(built: tuple[Path, Path], tmp_path: Path) -> None:
    again = build(tmp_path)
    for first, second in zip(built, again, strict=True):
        assert filecmp.cmp(first, second, shallow=False), f"{first.name} differs between two builds"
        with zipfile.ZipFile(second) as package:
            assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("which", ["built", "committed"])
def test_deck_has_named_layouts_and_placeholders(which: str, built: tuple[Path, Path]) -> None:
    path = built[0] if which == "built" else DEFAULT_PPTX
    prs = open_presentation(path)
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # 16:9
    assert [item.name for item in prs.slide_layouts] == list(LAYOUTS)
    for name, expected in LAYOUTS.items():
        placeholders = layout(prs, name, template_path=path).placeholders
        found = {ph.placeholder_format.idx: ph.placeholder_format.type for ph in placeholders}
        assert found == expected, name
    with zipfile.ZipFile(path) as package:
        theme = package.read("ppt/theme/theme1.xml").decode()
    assert '<a:latin typeface="Arial"' in theme and 'val="005EB8"' in theme


@pytest.mark.parametrize("which", ["built", "committed"])
def test_paper_has_styles_outline_levels_and_a4(which: str, built: tuple[Path, Path]) -> None:
    path = built[1] if which == "built" else DEFAULT_DOCX
    doc = open_document(path)
    require_styles(doc, STYLES, template_path=path)
    for level in (1, 2, 3):
        ppr = doc.styles[f"Heading {level}"].element.pPr
        assert ppr.find(qn("w:outlineLvl")).get(qn("w:val")) == str(level - 1)
        assert doc.styles[f"Heading {level}"].font.name == "Arial"
    normal = doc.styles["Normal"].font
    assert (normal.name, normal.size) == ("Arial", Pt(11))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 2), round(section.page_height.cm, 2)) == (21.0, 29.7)  # A4, in twips
    margins = {section.left_margin, section.right_margin, section.top_margin, section.bottom_margin}
    assert {round(margin.cm, 2) for margin in margins} == {2.0}
    assert not section.header.is_linked_to_previous and not section.footer.is_linked_to_previous
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:val")) == "en-GB"
    assert doc.core_properties.language == "en-GB"


def test_libreoffice_converts_a_deck_and_a_paper_built_on_the_templates(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    pptx_path, docx_path = built
    prs = open_presentation(pptx_path)
    title = prs.slides.add_slide(layout(prs, "Title Slide", template_path=pptx_path))
    title.shapes.title.text = "Integrated Performance Report"
    title.placeholders[1].text = "Board of Directors, October 2025"
    content = prs.slides.add_slide(layout(prs, "Title and Content", template_path=pptx_path))
    content.shapes.title.text = "Headline summary"
    body = content.placeholders[1]
    table = content.shapes.add_table(3, 3, body.left, body.top, body.width, Inches(1.5)).table
    for row in range(3):
        for col in range(3):
            table.cell(row, col).text = "Metric" if row == 0 else f"{row}.{col}"
    deck = tmp_path / "deck.pptx"
    prs.save(deck)

    doc = open_document(docx_path)
    doc.add_paragraph("Board paper", style="Title")
    doc.add_heading("Executive summary", 1)
    doc.add_heading("Urgent care", 2)
    doc.add_heading("Four-hour standard", 3)
    doc.add_paragraph("The trust met 9 of 14 standards in October.")
    paper = tmp_path / "paper.docx"
    doc.save(paper)

    result = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck),
            str(paper),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert pdf_pages(tmp_path / "deck.pdf") == 2
    assert pdf_pages(tmp_path / "paper.pdf") == 1


def test_missing_layout_names_file_layout_and_what_is_there(built: tuple[Path, Path], tmp_path: Path) -> None:
    prs = open_presentation(built[0])
    prs.slide_layouts.remove(layout(prs, "Section Header", template_path=built[0]))
    custom = tmp_path / "board.pptx"
    prs.save(custom)
    with pytest.raises(ConfigError) as caught:
        layout(open_presentation(custom), "Section Header", template_path="templates/office/board.pptx")
    assert str(caught.value) == (
        "templates/office/board.pptx: no slide layout 'Section Header'; layouts are: "
        "'Title Slide', 'Title and Content', 'Title Only', 'Two Content', 'Blank'"
    )
    with pytest.raises(ConfigError, match=r"no slide layout 'title slide' \(did you mean 'Title Slide'"):
        layout(prs, "title slide", template_path=custom)


def test_missing_style_names_file_style_and_what_is_there(built: tuple[Path, Path]) -> None:
    doc = open_document(built[1])
    caption = doc.styles["Caption"].element
    caption.getparent().remove(caption)
    with pytest.raises(ConfigError) as caught:
        require_styles(doc, ["Heading 1", "Caption"], template_path="templates/office/paper.docx")
    message = str(caught.value)
    assert message.startswith("templates/office/paper.docx: no style 'Caption'")
    assert "; styles are: " in message and "'Heading 1'" in message and "'NHS Table'" in message
    with pytest.raises(ConfigError, match=r"no styles 'Caption', 'Board Heading'; styles are: "):
        require_styles(doc, ["Caption", "Board Heading"], template_path="paper.docx")


def test_missing_or_corrupt_template_files(built: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.pptx: PowerPoint template does not exist"):
        open_presentation(tmp_path / "nope.pptx")
    with pytest.raises(ConfigError, match=r"nope\.docx: Word template does not exist"):
        open_document(tmp_path / "nope.docx")
    corrupt = tmp_path / "corrupt.pptx"
    corrupt.write_bytes(b"not a zip file")
    with pytest.raises(ConfigError, match=r"corrupt\.pptx: cannot open PowerPoint template"):
        open_presentation(corrupt)
    with pytest.raises(ConfigError, match=r"corrupt\.pptx: cannot open Word template"):
        open_document(corrupt)
    with pytest.raises(ConfigError, match=r"paper\.docx: cannot open PowerPoint template"):
        open_presentation(built[1])  # a Word file where a deck was expected


def test_default_paths_prefer_the_project_then_the_repository(tmp_path: Path) -> None:
    assert default_pptx() == DEFAULT_PPTX == REPO / "templates" / "office" / "board.pptx"
    assert default_docx(tmp_path) == DEFAULT_DOCX  # project without its own templates
    own = tmp_path / "templates" / "office"
    own.mkdir(parents=True)
    (own / "board.pptx").write_bytes(DEFAULT_PPTX.read_bytes())
    assert default_pptx(tmp_path) == own / "board.pptx"
    assert default_docx(tmp_path) == DEFAULT_DOCX
