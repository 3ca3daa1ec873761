"""PDF/UA checks: the Board paper and the slides exported to PDF pass; each check fails, naming itself and the
page, on a real PDF broken on purpose; a build whose PDF fails publishes nothing (accessibility: error) or
publishes with the failures in manifest.json (accessibility: warn); pptx pictures never carry a file name."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from reporting.charts import Renderer
from reporting.packs.build import build
from reporting.packs.pdf_ua import CHECKS, PdfAccessibilityError, check_pdf
from reporting.packs.render import pdf as pdf_render
from reporting.project import Project

pytestmark = [
    pytest.mark.slow,  # Board builds through LibreOffice
    pytest.mark.skipif(not pdf_render.libreoffice_available(), reason="LibreOffice is not installed"),
]


@pytest.fixture(scope="module")
def board(demo_project: Project, tmp_path_factory: pytest.TempPathFactory, renderer: Renderer) -> dict[str, Path]:
    """The Board paper as PDF (from Word) and as slides (PowerPoint -> PDF), built as a user would."""
    root = tmp_path_factory.mktemp("pdfua") / "p"
    shutil.copytree(demo_project.root, root)
    project = Project(root)
    (paper,) = build(project, "board", formats=["docx", "pdf"], renderer=renderer)
    (slides,) = build(project, "board", formats=["pptx", "pdf"], renderer=renderer, out=project.outputs / "slides")
    return {
        "paper": next(f for f in paper.files if f.suffix == ".pdf"),
        "slides": next(f for f in slides.files if f.suffix == ".pdf"),
        "deck": next(f for f in slides.files if f.suffix == ".pptx"),
        "manifest": paper.directory / "manifest.json",
    }


def test_board_paper_and_slides_pass_every_check(board: dict[str, Path]) -> None:
    assert check_pdf(board["paper"]) == []
    assert check_pdf(board["slides"]) == []
    manifest = json.loads(board["manifest"].read_text())
    assert manifest["accessibility"] == {"pdf_ua_checks": list(CHECKS), "failures": {}}


def test_board_paper_keeps_what_it_has_today(board: dict[str, Path]) -> None:
    """Tagged, with language, title, 15 figures with alt text and 78 table header cells (6 sparklines and 9
    native charts: the stale metric has neither, and LibreOffice's dropped chart alt text is put back)."""
    with pikepdf.open(board["paper"]) as pdf:
        assert str(pdf.Root.Lang) == "en-GB" and str(pdf.docinfo.Title).startswith("Integrated Performance Report")
        roles: dict[str, int] = {}
        alts = []

        def walk(node: object) -> None:
            items = list(node) if isinstance(node, pikepdf.Array) else [node]
            for kid in items:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    roles[str(kid.S)] = roles.get(str(kid.S), 0) + 1
                    if str(kid.S) == "/Figure":
                        alts.append(str(kid.get("/Alt", "")))
                    walk(kid.get("/K", pikepdf.Array()))

        walk(pdf.Root.StructTreeRoot.K)
    # 16 charts (15 before the benchmark trend), plus the summary tables' MDC icons and sparklines: every one has
    # alt text; header cells: 76 since an empty data table became one sentence (78 before)
    assert roles["/Figure"] >= 16 and all(alts) and roles["/TH"] >= 76, (roles, alts)


def _broken(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    with pikepdf.open(source) as pdf:
        change(pdf)
        pdf.save(target)
    return target


def _elements(pdf: pikepdf.Pdf, role: str) -> list[pikepdf.Dictionary]:
    found = []

    def walk(node: object) -> None:
        for kid in list(node) if isinstance(node, pikepdf.Array) else [node]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                if str(kid.S) == role:
                    found.append(kid)
                walk(kid.get("/K", pikepdf.Array()))

    walk(pdf.Root.StructTreeRoot.K)
    return found


def _page(pdf: pikepdf.Pdf, node: pikepdf.Dictionary) -> int:
    return next(i + 1 for i, p in enumerate(pdf.pages) if p.objgen == node.Pg.objgen)


def test_each_check_fails_naming_itself_and_the_page(board: dict[str, Path], tmp_path: Path) -> None:
    paper = board["paper"]
    with pikepdf.open(paper) as pdf:
        figure_page = _page(pdf, _elements(pdf, "/Figure")[3])
        h2_page = _page(pdf, _elements(pdf, "/H2")[0])
        table_page = _page(pdf, _elements(pdf, "/Table")[0])

    def no_lang(pdf: pikepdf.Pdf) -> None:
        del pdf.Root["/Lang"]

    def no_display_title(pdf: pikepdf.Pdf) -> None:
        pdf.Root.ViewerPreferences.DisplayDocTitle = False

    def no_title(pdf: pikepdf.Pdf) -> None:
        del pdf.docinfo["/Title"]
        with pdf.open_metadata() as meta:
            if "dc:title" in meta:
                del meta["dc:title"]

    def file_name_alt(pdf: pikepdf.Pdf) -> None:
        _elements(pdf, "/Figure")[3].Alt = pikepdf.String("image4.png")

    def empty_alt(pdf: pikepdf.Pdf) -> None:
        del _elements(pdf, "/Figure")[3]["/Alt"]

    def skipped_heading(pdf: pikepdf.Pdf) -> None:
        _elements(pdf, "/H2")[0].S = pikepdf.Name("/H4")

    def no_header_cells(pdf: pikepdf.Pdf) -> None:
        table = _elements(pdf, "/Table")[0]
        for cell in _elements(pdf, "/TH"):
            if any(cell.objgen == c.objgen for c in _under(table)):
                cell.S = pikepdf.Name("/TD")

    def untagged(pdf: pikepdf.Pdf) -> None:
        pdf.Root.MarkInfo.Marked = False

    def out_of_order(pdf: pikepdf.Pdf) -> None:
        document = pdf.Root.StructTreeRoot.K
        document = document[0] if isinstance(document, pikepdf.Array) else document
        kids = document.K
        last = kids[len(kids) - 1]
        del kids[len(kids) - 1]
        kids.insert(0, last)

    cases = [
        (no_lang, "language", None),
        (no_display_title, "title", None),
        (no_title, "title", None),
        (file_name_alt, "figure alt text", figure_page),
        (empty_alt, "figure alt text", figure_page),
        (skipped_heading, "heading order", h2_page),
        (no_header_cells, "table header cells", table_page),
        (untagged, "tagged", None),
        (out_of_order, "reading order", None),
    ]
    for change, check, page in cases:
        failures = check_pdf(_broken(paper, tmp_path / f"{change.__name__}.pdf", change))
        assert failures, change.__name__
        assert {f.check for f in failures} == {check}, (change.__name__, failures)
        if page is not None:
            assert failures[0].page == page and f"on page {page}" in str(failures[0])
        assert str(failures[0]).startswith(f"PDF/UA check '{check}' failed")
    bad = tmp_path / "not.pdf"
    bad.write_bytes(b"not a pdf at all")
    assert [f.check for f in check_pdf(bad)] == ["tagged"]


def _under(node: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    out = []
    kids = node.get("/K", pikepdf.Array())
    for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            out.append(kid)
            out += _under(kid)
    return out


def test_pptx_pictures_never_have_a_file_name_as_alt_text(board: dict[str, Path]) -> None:
    with zipfile.ZipFile(board["deck"]) as deck:
        slides = [n for n in deck.namelist() if re.match(r"ppt/slides/slide\d+\.xml$", n)]
        pictures = 0
        for name in slides:
            xml = deck.read(name).decode()
            for match in re.finditer(r"<p:pic>.*?</p:pic>", xml, re.S):
                pictures += 1
                descr = re.search(r'<p:cNvPr [^>]*descr="([^"]*)"', match.group(0))
                assert descr and descr.group(1).strip(), name
                assert not re.search(r"\.(png|jpe?g|svg|gif)\b", descr.group(1), re.I), descr.group(1)
    assert pictures >= 6  # the sparklines at least (none for the stale metric)


@pytest.fixture
def broken_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """LibreOffice still makes the PDF, but without its language tag: the fault is injected into LibreOffice's
    output, before the build's own edit (alt text back, then the checks) and its one save."""
    real = pdf_render.to_pdf

    def to_pdf(source: Path, out_dir: Path, *, edit: Any = None, **kwargs: Any) -> Path:
        def broken(document: pikepdf.Pdf) -> None:
            del document.Root["/Lang"]
            if edit is not None:
                edit(document)

        return real(source, out_dir, edit=broken, **kwargs)

    monkeypatch.setattr(pdf_render, "to_pdf", to_pdf)


def test_a_failing_pdf_is_not_published(
    demo_project: Project, tmp_path: Path, renderer: Renderer, broken_pdfs: None
) -> None:
    root = tmp_path / "p"
    shutil.copytree(demo_project.root, root)
    project = Project(root)
    with pytest.raises(PdfAccessibilityError) as caught:
        build(project, "board", formats=["docx", "pdf"], renderer=renderer)
    assert "PDF/UA check 'language' failed" in str(caught.value) and "not published" in str(caught.value)
    published = [p for p in project.outputs.rglob("*") if p.is_file()] if project.outputs.exists() else []
    assert published == []


def test_accessibility_warn_publishes_with_failures_in_the_manifest(
    demo_project: Project, tmp_path: Path, renderer: Renderer, broken_pdfs: None
) -> None:
    root = tmp_path / "p"
    shutil.copytree(demo_project.root, root)
    path = root / "templates" / "packs" / "board.yaml"
    path.write_text(path.read_text() + "accessibility: warn\n")
    (result,) = build(Project(root), "board", formats=["docx", "pdf"], renderer=renderer)
    manifest = json.loads((result.directory / "manifest.json").read_text())
    (name,) = manifest["accessibility"]["failures"]
    assert name.endswith(".pdf") and manifest["accessibility"]["failures"][name][0]["check"] == "language"
    assert any("language failed" in w for w in manifest["warnings"])
