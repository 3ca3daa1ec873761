"""Raw WordprocessingML tweaks: exact XML on tiny documents, re-opened by python-docx, read by LibreOffice."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pytest
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Inches
from lxml import etree
from office import soffice
from PIL import Image

from reporting.packs import _docx_xml as X

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _parts(paragraph) -> list[tuple[str, str]]:
    """A paragraph's runs as (kind, value): fldChar type, instruction, text or tab, in order."""
    out = []
    for run in paragraph._p.iter(f"{W}r"):
        for child in run:
            tag = child.tag.removeprefix(W)
            if tag == "fldChar":
                out.append(("fldChar", child.get(qn("w:fldCharType"))))
            elif tag in ("instrText", "t"):
                out.append((tag, child.text))
            elif tag == "tab":
                out.append(("tab", ""))
    return out


def _field(instruction: str, cached: str) -> list[tuple[str, str]]:
    return [
        ("fldChar", "begin"),
        ("instrText", f" {instruction} "),
        ("fldChar", "separate"),
        ("t", cached),
        ("fldChar", "end"),
    ]


def _reopen(document: Document) -> Document:
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return docx.Document(buffer)


def _png(tmp_path: Path) -> Path:
    path = tmp_path / "dot.png"
    Image.new("RGB", (4, 3), (0, 94, 184)).save(path)
    return path


# --- fields, TOC, captions ----------------------------------------------------------------------


def test_add_field_writes_a_complex_field_with_its_cached_result() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Page ")
    result = X.add_field(paragraph, "PAGE", "1")
    assert _parts(paragraph) == [("t", "Page "), *_field("PAGE", "1")]
    assert result.text == "1"
    instr = paragraph._p.find(f".//{W}instrText")
    assert instr.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
    assert paragraph._p.find(f".//{W}fldChar").get(qn("w:dirty")) is None


def test_add_field_can_ask_word_to_update_that_field() -> None:
    paragraph = docx.Document().add_paragraph()
    X.add_field(paragraph, "NUMPAGES", dirty=True)
    begin, *_ = paragraph._p.iter(f"{W}fldChar")
    assert (begin.get(qn("w:fldCharType")), begin.get(qn("w:dirty"))) == ("begin", "true")


def test_update_fields_on_open_is_set_once_and_in_schema_order() -> None:
    document = docx.Document()
    X.set_update_fields_on_open(document)
    X.set_update_fields_on_open(document)
    settings = document.settings.element
    found = settings.findall(qn("w:updateFields"))
    assert len(found) == 1 and found[0].get(qn("w:val")) == "true"
    tags = [child.tag for child in settings]
    assert tags.index(qn("w:updateFields")) < tags.index(qn("w:compat"))
    assert tags.index(qn("w:updateFields")) > tags.index(qn("w:characterSpacingControl"))


def test_add_toc_appends_a_titled_dirty_toc_field() -> None:
    document = docx.Document()
    field = X.add_toc(document, levels="1-2", title="Contents")
    title, toc = document.paragraphs
    assert (title.text, title.style.name) == ("Contents", "TOC Heading")
    assert toc._p is field._p
    assert _parts(toc) == _field('TOC \\o "1-2" \\h \\z \\u', X.TOC_PLACEHOLDER)
    assert toc._p.find(f".//{W}fldChar").get(qn("w:dirty")) == "true"
    assert document.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"


def test_add_toc_fills_an_existing_paragraph_with_its_title_before_it() -> None:
    document = docx.Document()
    document.add_paragraph("Cover")
    slot = document.add_paragraph()
    document.add_paragraph("After")
    X.add_toc(slot, title="In this paper")
    assert [p.text for p in document.paragraphs] == ["Cover", "In this paper", X.TOC_PLACEHOLDER, "After"]


def test_captions_number_each_kind_separately_in_their_cached_results() -> None:
    document = docx.Document()
    captions = [
        X.add_caption(document, "Figure", "Four-hour performance"),
        X.add_caption(document, "Table", "League table"),
        X.add_caption(document, "Figure", "Twelve-hour waits"),
    ]
    assert [c.text for c in captions] == [
        "Figure 1: Four-hour performance",
        "Table 1: League table",
        "Figure 2: Twelve-hour waits",
    ]
    assert _parts(captions[2]) == [
        ("t", "Figure "),
        *_field("SEQ Figure \\* ARABIC", "2"),
        ("t", ": Twelve-hour waits"),
    ]
    assert {c.style.name for c in captions} == {"Caption"}
    assert [c.paragraph_format.keep_with_next for c in captions] == [None, True, None]


# --- tables -------------------------------------------------------------------------------------


def test_row_flags_are_bare_elements_set_once() -> None:
    table = docx.Document().add_table(rows=2, cols=2)
    header = table.rows[0]
    for _ in range(2):
        X.repeat_header_row(header)
        X.prevent_row_split(header)
    tr_pr = header._tr.trPr
    assert [child.tag for child in tr_pr] == [qn("w:tblHeader"), qn("w:cantSplit")]
    assert all(not child.attrib for child in tr_pr)
    assert table.rows[1]._tr.trPr is None


def test_cell_shading_fills_the_cell_and_keeps_tcpr_order() -> None:
    cell = docx.Document().add_table(rows=1, cols=1).cell(0, 0)
    cell.vertical_alignment = 1  # adds w:vAlign, which must stay after w:shd
    X.set_cell_shading(cell, "#005eb8")
    X.set_cell_shading(cell, "DA291C")
    tc_pr = cell._tc.tcPr
    assert [c.tag for c in tc_pr][-2:] == [qn("w:shd"), qn("w:vAlign")]
    shd = tc_pr.find(qn("w:shd"))
    assert dict(shd.attrib) == {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): "DA291C"}
    with pytest.raises(ValueError, match="six hex digits"):
        X.set_cell_shading(cell, "blue")


# --- sections, header, footer -------------------------------------------------------------------


def test_landscape_then_portrait_sections_swap_page_size() -> None:
    document = docx.Document()
    assert X.add_landscape_section(document).orientation == WD_ORIENT.LANDSCAPE
    X.add_portrait_section(document)
    first, wide, back = document.sections  # python-docx's returned Section always tracks the *last* one
    assert wide.orientation == WD_ORIENT.LANDSCAPE and wide.page_width == first.page_height
    assert wide.page_height == first.page_width
    assert back.orientation == WD_ORIENT.PORTRAIT and back.page_width == first.page_width
    pg_sz = wide._sectPr.find(qn("w:pgSz"))
    assert pg_sz.get(qn("w:orient")) == "landscape"
    assert int(pg_sz.get(qn("w:w"))) > int(pg_sz.get(qn("w:h")))


def test_header_carries_the_classification_and_footer_page_x_of_y() -> None:
    document = docx.Document()
    section = document.sections[0]
    X.set_header_footer(section, "OFFICIAL-SENSITIVE", "Board paper, March 2025")
    (header,) = section.header.paragraphs
    assert header.text == "OFFICIAL-SENSITIVE" and header.runs[0].bold
    (footer,) = section.footer.paragraphs
    assert _parts(footer) == [
        ("t", "Board paper, March 2025"),
        ("tab", ""),
        ("t", "Page "),
        *_field("PAGE", "1"),
        ("t", " of "),
        *_field("NUMPAGES", "1"),
    ]
    tabs = [(t.get(qn("w:val")), int(t.get(qn("w:pos")))) for t in footer._p.iter(f"{W}tab") if t.get(qn("w:val"))]
    text_width = (section.page_width - section.left_margin - section.right_margin) // 635  # EMU -> twips
    assert ("right", text_width) in tabs and ("center", 4680) not in tabs  # the Footer style's centre stop is cleared
    assert not section.header.is_linked_to_previous


def test_footer_without_page_numbers_has_no_fields() -> None:
    section = docx.Document().sections[0]
    X.set_header_footer(section, "OFFICIAL", "Draft", page_numbers=False)
    assert _parts(section.footer.paragraphs[0]) == [("t", "Draft")]


# --- pictures and properties --------------------------------------------------------------------


def test_picture_alt_text_lands_on_docpr(tmp_path: Path) -> None:
    document = docx.Document()
    picture = document.add_picture(str(_png(tmp_path)), width=Inches(1))
    X.set_picture_alt_text(picture, "SPC chart", 'A&E four-hour: <95%> "common cause"')
    doc_pr = _reopen(document).inline_shapes[0]._inline.docPr
    assert doc_pr.get("title") == "SPC chart"
    assert doc_pr.get("descr") == 'A&E four-hour: <95%> "common cause"'


def test_core_properties_are_fixed_and_language_reaches_the_styles() -> None:
    document = docx.Document()
    X.set_core_properties(document, "Integrated Performance Report", "Board secretary", "March 2025")
    reopened = _reopen(document)
    props = reopened.core_properties
    assert (props.title, props.author, props.subject, props.language) == (
        "Integrated Performance Report",
        "Board secretary",
        "March 2025",
        "en-GB",
    )
    assert props.created == props.modified == X.FIXED_TIME
    lang = reopened.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(qn("w:val")) == "en-GB"
    assert lang.get(qn("w:eastAsia")) == "en-US"  # other scripts' languages are left alone
    assert reopened.settings.element.find(qn("w:themeFontLang")).get(qn("w:val")) == "en-GB"


# --- the whole set together, re-opened and read by LibreOffice ---------------------------------


def _board_paper(path: Path, landscape: bool) -> Path:
    """Two portrait pages (TOC, headings, captions, header/footer), plus a landscape page if asked."""
    document = docx.Document()
    X.set_core_properties(document, "Board paper", "Trust secretary", "IPR")
    X.add_toc(document)
    X.set_header_footer(document.sections[0], "OFFICIAL", "Board paper March 2025")
    document.add_heading("Urgent and emergency care", 1)
    X.add_caption(document, "Figure", "A&E four-hour performance")
    document.add_heading("Ambulance handovers", 2)
    X.add_caption(document, "Table", "League table")
    table = document.add_table(rows=2, cols=2)
    X.repeat_header_row(table.rows[0])
    X.set_cell_shading(table.cell(0, 0), "005EB8")
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("Planned care", 1)
    X.add_caption(document, "Figure", "Referral to treatment")
    if landscape:
        section = X.add_landscape_section(document)
        X.set_header_footer(section, "OFFICIAL", "Board paper March 2025")
        document.add_paragraph("A wide table lives here.")
    document.save(path)
    return path


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both documents and their PDFs, converted in one LibreOffice start to keep the suite quick."""
    folder = tmp_path_factory.mktemp("docx_xml")
    docs = [_board_paper(folder / "portrait.docx", False), _board_paper(folder / "landscape.docx", True)]
    result = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, docs),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {"folder": folder, **{d.stem: d for d in docs}, **{d.stem + ".pdf": d.with_suffix(".pdf") for d in docs}}


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def test_python_docx_reopens_the_paper_with_every_tweak(papers: dict[str, Path]) -> None:
    document = docx.Document(str(papers["landscape"]))
    assert [s.orientation for s in document.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE]
    assert document.tables[0].rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "Figure 1: A&E four-hour performance",
        "Table 1: League table",
        "Figure 2: Referral to treatment",
    ]
    assert document.sections[1].footer.paragraphs[0].text == "Board paper March 2025\tPage 1 of 1"  # cached values


def test_libreoffice_computes_page_x_of_y_and_caption_numbers(papers: dict[str, Path]) -> None:
    pdf = papers["portrait.pdf"]
    assert len(_page_sizes(pdf)) == 2
    first, second = _page_text(pdf, 1), _page_text(pdf, 2)
    assert "OFFICIAL" in first and "OFFICIAL" in second
    assert re.search(r"Board paper March 2025\s+Page 1 of 2", first)
    assert re.search(r"Board paper March 2025\s+Page 2 of 2", second)
    assert "Figure 1: A&E four-hour performance" in first and "Table 1: League table" in first
    assert "Figure 2: Referral to treatment" in second


def test_landscape_section_gives_a_landscape_page(papers: dict[str, Path]) -> None:
    sizes = _page_sizes(papers["landscape.pdf"])
    assert [w > h for w, h in sizes] == [False, False, True]
    assert sizes[2] == (sizes[0][1], sizes[0][0])
    assert re.search(r"Page 3 of 3", _page_text(papers["landscape.pdf"], 3))


def test_toc_field_is_in_document_xml_but_plain_conversion_keeps_its_placeholder(papers: dict[str, Path]) -> None:
    """LibreOffice imports the TOC as an index but does not rebuild it on --convert-to (7.4, even with
    updateFields and w:dirty): the PDF shows the cached placeholder. The PDF path must update indexes."""
    body = etree.fromstring(zipfile.ZipFile(papers["portrait"]).read("word/document.xml"))
    instructions = [t.text for t in body.iter(f"{W}instrText")]
    assert ' TOC \\o "1-3" \\h \\z \\u ' in instructions
    first = _page_text(papers["portrait.pdf"], 1)
    assert X.TOC_PLACEHOLDER in first
    assert not re.search(r"Planned care\.{3,}", first)


_BASIC = """
Sub ExportPdf(inPath As String, outPath As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden" : load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(inPath), "_blank", 0, load())
  For pass = 1 To 2
    For i = 0 To doc.getDocumentIndexes().getCount() - 1
      doc.getDocumentIndexes().getByIndex(i).update()
    Next
    doc.getTextFields().refresh()
  Next
  Dim store(0) As New com.sun.star.beans.PropertyValue
  store(0).Name = "FilterName" : store(0).Value = "writer_pdf_Export"
  doc.storeToURL(ConvertToURL(outPath), store())
  doc.close(True)
End Sub
"""


def _basic_module(code: str) -> str:
    """A Basic module file (.xba) for the profile's Standard library, which LibreOffice trusts."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<script:module xmlns:script="http://openoffice.org/2000/script"'
        f' script:name="Module1" script:language="StarBasic">{escape(code, {chr(34): "&quot;"})}</script:module>\n'
    )


def test_updating_indexes_in_libreoffice_fills_the_toc_with_page_numbers(papers: dict[str, Path]) -> None:
    """The recipe for the PDF path: a Basic macro in our own profile updates indexes, then exports."""
    folder = papers["folder"]
    module = folder / "profile" / "user" / "basic" / "Standard" / "Module1.xba"
    assert module.exists(), "the conversion above should have created the profile"
    module.write_text(_basic_module(_BASIC))
    out = folder / "toc-updated.pdf"
    macro = f'macro:///Standard.Module1.ExportPdf("{papers["portrait"]}","{out}")'
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{folder}/profile", "--headless", macro],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first = _page_text(out, 1)
    assert X.TOC_PLACEHOLDER not in first
    assert re.search(r"Urgent and emergency care\.+\s*1\b", first)
    assert re.search(r"Ambulance handovers\.+\s*1\b", first)
    assert re.search(r"Planned care\.+\s*2\b", first)
