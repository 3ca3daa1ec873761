"""The Word paper's table of contents is delivered filled: real headings, real page numbers, no update prompt.

Built through packs.build (the board paper for RJ1, docx + pdf), then the TOC entries are read back from
word/document.xml and compared with the document's headings and with the pages the PDF puts them on.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree
from project_fixtures import copy_project

from reporting.packs import _docx_xml as X
from reporting.packs.build import build
from reporting.packs.render import pdf
from reporting.packs.render.docx import render
from reporting.packs.render.docx.contents import _match, fill_contents, headings
from reporting.packs.tree import Pack
from reporting.project import Project

pytestmark = pytest.mark.skipif(not pdf.libreoffice_available(), reason="LibreOffice is not installed")

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def board(demo_project: Project, renderer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    project = copy_project(demo_project, tmp_path_factory.mktemp("board"))
    (result,) = build(project, "board", orgs=["RJ1"], formats=["docx", "pdf"], renderer=renderer)
    (paper,) = (f for f in result.files if f.suffix == ".docx")
    (made,) = (f for f in result.files if f.suffix == ".pdf")
    return paper, made


def toc_entries(path: Path) -> list[tuple[int, str, int]]:
    """(level, text, page) of each TOC line in word/document.xml: paragraphs styled TOC n, the text before the
    tab, the cached result of the PAGEREF field after it."""
    with zipfile.ZipFile(path) as zf:
        body = etree.fromstring(zf.read("word/document.xml"))
    entries = []
    for p in body.iter(f"{W}p"):
        style = p.find(f"{W}pPr/{W}pStyle")
        if style is None or not re.fullmatch(r"TOC\d", style.get(f"{W}val", "")):
            continue
        parts, after_tab = [[], []], False
        for node in p.xpath(".//w:r/w:t | .//w:r/w:tab", namespaces={"w": W[1:-1]}):
            if node.tag == f"{W}tab":
                after_tab = True
            else:
                parts[after_tab].append(node.text or "")
        entries.append((int(style.get(f"{W}val")[3:]), "".join(parts[0]), int("".join(parts[1]))))
    return entries


def test_the_contents_list_every_heading_with_the_page_the_pdf_puts_it_on(board: tuple[Path, Path]) -> None:
    paper, made = board
    entries = toc_entries(paper)
    listed = [(level, p.text) for p, level in headings(docx.Document(str(paper)))]
    assert [(level, text) for level, text, _ in entries] == listed
    assert len(entries) >= 8 and entries[0][1] == "Executive summary"
    assert [(level, text, page) for level, text, page in entries] == [
        b for b in pdf.outline(made) if (b[0], b[1]) in set(listed)
    ]
    import pikepdf

    with pikepdf.open(made) as document:  # and that page really shows the heading (not just the bookmark)
        for _, text, page in entries:
            assert page >= 3  # after the cover and the contents
            assert text in _page_text(made, page), (text, page)
        assert entries[-1][2] <= len(document.pages)


def _page_text(made: Path, page: int) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(made), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_word_is_not_asked_to_update_fields_and_the_placeholder_is_gone(board: tuple[Path, Path]) -> None:
    paper, _ = board
    with zipfile.ZipFile(paper) as zf:
        document, settings = zf.read("word/document.xml"), zf.read("word/settings.xml")
    assert b"updateFields" not in settings
    assert b"w:dirty" not in document
    assert X.TOC_PLACEHOLDER.encode() not in document
    assert b'TOC \\o "1-3"' in document  # still a real TOC field: Word's "Update field" rebuilds the same list


def test_the_filled_paper_keeps_what_render_wrote(board: tuple[Path, Path]) -> None:
    """Heading styles, alt text on every picture and chart, repeated header rows, properties, no formulas."""
    paper, _ = board
    document = docx.Document(str(paper))
    assert any(p.style.name == "Heading 1" for p in document.paragraphs)
    with zipfile.ZipFile(paper) as zf:
        body = zf.read("word/document.xml").decode()
        core = zf.read("docProps/core.xml").decode()
    described = re.findall(r"<wp:docPr [^>]*>", body)
    assert described and all('descr="' in tag and 'descr=""' not in tag for tag in described)
    assert all(
        t.rows[0]._tr.trPr is not None and t.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None for t in document.tables
    )
    assert "<dc:title>" in core and "2025-07-01T00:00:00Z" in core
    assert "<w:f>" not in body and "<w:instrText" in body
    # each TOC line links to a bookmark on its heading
    anchors = re.findall(r'<w:hyperlink w:anchor="(_Toc\d+)"', body)
    assert anchors and all(f'w:name="{a}"' in body for a in anchors)


def test_filling_is_deterministic_and_works_without_a_pdf_given(charted_sample: Pack, tmp_path: Path) -> None:
    first = render(charted_sample, tmp_path / "a" / "sample.docx")
    second = render(charted_sample, tmp_path / "b" / "sample.docx")
    profile = tmp_path / "profile"
    try:
        assert fill_contents(charted_sample, first, profile_dir=profile)  # no PDF given: one is made aside
        assert fill_contents(charted_sample, second, profile_dir=profile)
    finally:
        pdf.release_profile(profile)
    assert first.read_bytes() == second.read_bytes()
    assert [text for _, text, _ in toc_entries(first)] == [
        "Urgent and emergency care",
        "League position",
        "Commentary: A&E 4-hour performance",
        "Data",
    ]
    assert not list((tmp_path / "a").glob("*.pdf"))  # the PDF it measured was not left beside the paper


def test_a_heading_the_pdf_does_not_have_is_an_error_not_a_wrong_page(charted_sample: Pack, tmp_path: Path) -> None:
    document = docx.Document(str(render(charted_sample, tmp_path / "sample.docx")))
    listed = headings(document)
    bookmarks = [(level, p.text, 3) for p, level in listed]
    assert [page for _, _, page in _match(listed, bookmarks)] == [3] * len(listed)
    with pytest.raises(pdf.PdfError, match="has no bookmark"):
        _match(listed, bookmarks[:-1])
    with pytest.raises(pdf.PdfError, match="has no bookmark"):  # same text at another level is not a match
        _match(listed, [(level + 1, text, page) for level, text, page in bookmarks])


def test_a_document_without_contents_is_left_alone(charted_sample: Pack, tmp_path: Path) -> None:
    import dataclasses

    from reporting.packs.tree import Contents

    plain = dataclasses.replace(
        charted_sample,
        sections=tuple(
            dataclasses.replace(s, blocks=tuple(b for b in s.blocks if not isinstance(b, Contents)))
            for s in charted_sample.sections
        ),
    )
    path = render(plain, tmp_path / "plain.docx")
    before = path.read_bytes()
    assert not fill_contents(plain, path)
    assert path.read_bytes() == before
