"""PDF via LibreOffice: the sample Word pack with its contents and page numbers refreshed, slides and sheets,
clear errors when LibreOffice is missing or cannot read a file, and private profiles for parallel builds."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from office import pdf_pages
from pptx import Presentation
from sample_pack import AWKWARD

from reporting.errors import ReportingError
from reporting.packs.render import _warm_office, pdf
from reporting.packs.render.docx import render
from reporting.packs.tree import Pack, Section, Text

pytestmark = pytest.mark.skipif(not pdf.libreoffice_available(), reason="LibreOffice is not installed")


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _sizes(path: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def profile(folder: Path) -> Path:
    return folder / "lo-profile"


@pytest.fixture(scope="module")
def paper(folder: Path, profile: Path, charted_sample: Pack) -> Path:
    """The sample pack as Word, plus a portrait section after the wide table, converted to PDF."""
    pack = dataclasses.replace(
        charted_sample, sections=charted_sample.sections + (Section("Planned care", (Text(("Tŷ Gwyn",)),)),)
    )
    source = render(pack, folder / "docx" / "board paper (draft), v1.docx")  # spaces, comma, brackets
    return pdf.to_pdf(source, folder / "out", profile_dir=profile)


def test_pdf_lands_in_out_dir_with_the_source_name(paper: Path, folder: Path) -> None:
    assert paper == folder / "out" / "board paper (draft), v1.pdf"
    assert paper.read_bytes().startswith(b"%PDF")
    assert [p.name for p in paper.parent.iterdir()] == [paper.name]  # no partial files left behind


def test_page_count_and_orientation_are_sane(paper: Path) -> None:
    sizes = _sizes(paper)
    assert 5 <= len(sizes) <= 12 and len(sizes) == pdf_pages(paper)
    landscape = [w > h for w, h in sizes]
    assert landscape[0] is False and landscape[-1] is False and any(landscape)  # wide table, then portrait


def test_contents_are_refreshed_with_the_right_page_numbers(paper: Path) -> None:
    contents = _text(paper, 2)
    assert "right-click" not in contents  # the cached placeholder was replaced
    entries = re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", contents, re.MULTILINE)
    titles = [title for title, _ in entries]
    assert titles == [
        "Urgent and emergency care",
        "League position",
        "Commentary: A&E 4-hour performance",
        "Data",
        "Planned care",
    ]
    for title, page in entries:  # each heading is on the page the contents say
        assert re.search(rf"^\s*{re.escape(title)}\s*$", _text(paper, int(page)), re.MULTILINE), (title, page)


def test_footer_says_page_x_of_y_and_header_the_classification(paper: Path) -> None:
    total = pdf_pages(paper)
    for page in (1, total):
        text = _text(paper, page)
        assert re.search(rf"Page {page} of {total}\s*$", text.rstrip("\f\n "), re.MULTILINE)
        assert text.lstrip().startswith("OFFICIAL")


def test_captions_and_awkward_text_reach_the_pdf(paper: Path) -> None:
    text = _text(paper)
    assert "Figure 1: A&E 4-hour performance, RJ1" in text and "Figure 2: League, 2024" in text
    assert "Table 2: A&E by trust" in text
    assert AWKWARD in text and "Tŷ Gwyn" in text


def test_pptx_and_xlsx_convert_plainly_reusing_a_profile(folder: Path, profile: Path, paper: Path) -> None:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Weekly executive pack"
    deck.save(str(folder / "deck.pptx"))
    book = openpyxl.Workbook()
    book.active.append(["Metric", "Value"])
    book.active.append(["A&E 4-hour", 0.781])
    book.save(str(folder / "book.xlsx"))
    slides = pdf.to_pdf(folder / "deck.pptx", folder / "plain", profile_dir=profile)
    sheets = pdf.to_pdf(folder / "book.xlsx", folder / "plain", profile_dir=profile)
    assert pdf_pages(slides) == 1 and "Weekly executive pack" in _text(slides)
    assert "A&E 4-hour" in _text(sheets)


def test_parallel_conversions_use_private_profiles(folder: Path, paper: Path) -> None:
    source = next((folder / "docx").glob("*.docx"))
    outs = [folder / f"parallel{i}" for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda out: pdf.to_pdf(source, out), outs))
    assert [pdf_pages(r) for r in results] == [pdf_pages(paper)] * 2
    assert all("right-click" not in _text(r, 2) for r in results)


def test_missing_libreoffice_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not pdf.libreoffice_available()
    with pytest.raises(pdf.PdfUnavailable, match="apt-get install -y libreoffice-writer libreoffice-impress") as e:
        pdf.to_pdf(tmp_path / "any.docx", tmp_path)
    assert isinstance(e.value, ReportingError)


def test_a_file_libreoffice_cannot_open_raises_with_its_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(pdf.PdfError, match=r"broken\.docx: LibreOffice could not convert it to PDF: .+"):
        pdf.to_pdf(broken, tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_unsupported_or_missing_sources_are_refused_before_starting_libreoffice(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(pdf.PdfError, match=r"cannot convert a '\.txt' file"):
        pdf.to_pdf(tmp_path / "notes.txt", tmp_path)
    with pytest.raises(pdf.PdfError, match="no such file"):
        pdf.to_pdf(tmp_path / "missing.docx", tmp_path)


def test_a_conversion_that_outlives_its_time_limit_is_killed(tmp_path: Path, paper: Path) -> None:
    source = next((paper.parent.parent / "docx").glob("*.docx"))
    with pytest.raises(pdf.PdfError, match=r"did not finish the PDF within 0\.2 s"):
        pdf.to_pdf(source, tmp_path / "out", timeout_s=0.2)
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_all_is_sorted_and_resolvable() -> None:
    names = list(pdf.__all__)
    assert names == sorted(names) and all(hasattr(pdf, name) for name in names)


def _docx(paper: Path) -> Path:
    return next((paper.parent.parent / "docx").glob("*.docx"))


needs_uno = pytest.mark.skipif(_warm_office.uno_python() is None, reason="no Python here has LibreOffice's uno")


@pytest.mark.slow
@needs_uno
def test_a_warm_libreoffice_serves_every_conversion_and_restarts_when_killed(tmp_path: Path, paper: Path) -> None:
    import os
    import signal

    profile = tmp_path / "worker-profile"
    first = pdf.to_pdf(_docx(paper), tmp_path / "a", profile_dir=profile)
    office = _warm_office.office_for("soffice", profile, [])
    assert office is not None and office.alive() and office.starts == 1
    pid = office.office.pid
    second = pdf.to_pdf(_docx(paper), tmp_path / "b", profile_dir=profile)
    assert office.starts == 1 and office.office.pid == pid  # the same LibreOffice, no new start
    assert _text(first) == _text(second) == _text(paper)  # TOC and fields refreshed as the macro does
    assert "right-click" not in _text(second, 2)
    os.killpg(pid, signal.SIGKILL)  # LibreOffice dies between conversions
    office.office.wait()
    third = pdf.to_pdf(_docx(paper), tmp_path / "c", profile_dir=profile)
    assert office.starts == 2 and office.office.pid != pid and _text(third) == _text(paper)
    os.killpg(office.bridge.pid, signal.SIGKILL)  # and the bridge
    office.bridge.wait()
    assert pdf_pages(pdf.to_pdf(_docx(paper), tmp_path / "d", profile_dir=profile)) == pdf_pages(paper)
    assert office.starts == 3
    pdf.release_profile(profile)
    assert not office.alive()


@pytest.mark.slow
@needs_uno
def test_a_warm_libreoffice_reports_bad_files_and_time_outs_then_carries_on(tmp_path: Path, paper: Path) -> None:
    profile = tmp_path / "worker-profile"
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(pdf.PdfError, match=r"broken\.docx: LibreOffice could not convert it to PDF: .+"):
        pdf.to_pdf(broken, tmp_path / "out", profile_dir=profile)
    assert not list((tmp_path / "out").glob("*.pdf"))
    office = _warm_office.office_for("soffice", profile, [])
    assert office is not None and office.alive()  # a bad file does not cost the warm LibreOffice
    with pytest.raises(pdf.PdfError, match=r"did not finish the PDF within 0\.2 s"):
        pdf.to_pdf(_docx(paper), tmp_path / "out", profile_dir=profile, timeout_s=0.2)
    assert not office.alive() and not list((tmp_path / "out").glob("*.pdf"))  # both processes killed
    assert pdf_pages(pdf.to_pdf(_docx(paper), tmp_path / "out", profile_dir=profile)) == pdf_pages(paper)
    pdf.release_profile(profile)


def test_without_uno_every_conversion_starts_libreoffice(
    tmp_path: Path, paper: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTING_UNO_PYTHON", str(tmp_path / "no-python"))
    _warm_office.uno_python.cache_clear()
    try:
        assert _warm_office.office_for("soffice", tmp_path / "p", []) is None
        result = pdf.to_pdf(_docx(paper), tmp_path / "out", profile_dir=tmp_path / "p")
        assert _text(result) == _text(paper)
    finally:
        monkeypatch.delenv("REPORTING_UNO_PYTHON")
        _warm_office.uno_python.cache_clear()
