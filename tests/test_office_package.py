"""reporting.office_package: one writer for .pptx/.docx/.xlsx, deterministic bytes, one properties policy."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from pptx import Presentation

from reporting.office_package import DocumentProperties, normalise, save

PROPS = DocumentProperties(
    title='Board & "IPR" <July>\x0b',
    created=dt.date(2025, 7, 1),
    subject="July 2025",
    author="Board secretary",
    keywords="board; 2025-07-01",
    category="OFFICIAL",
    description="Data snapshot abc",
    version="1.0",
)


def test_the_same_document_saved_twice_is_the_same_bytes(tmp_path: Path) -> None:
    first = save(Presentation(), tmp_path / "a.pptx", PROPS).read_bytes()
    time.sleep(1.1)  # the libraries stamp the save time (to the second) into the zip and core.xml
    assert save(Presentation(), tmp_path / "b.pptx", PROPS).read_bytes() == first


def test_every_format_reads_back_the_same_properties(tmp_path: Path) -> None:
    midnight = dt.datetime(2025, 7, 1)
    deck = Presentation(save(Presentation(), tmp_path / "p.pptx", PROPS)).core_properties
    paper = Document(str(save(Document(), tmp_path / "d.docx", PROPS))).core_properties
    book = load_workbook(save(Workbook(), tmp_path / "x.xlsx", PROPS)).properties
    for props in (deck, paper):
        assert (props.title, props.author, props.subject, props.keywords) == (
            'Board & "IPR" <July>',
            "Board secretary",
            "July 2025",
            "board; 2025-07-01",
        )
        assert (props.category, props.comments, props.language, props.version) == (
            "OFFICIAL",
            "Data snapshot abc",
            "en-GB",
            "1.0",
        )
        assert props.created.replace(tzinfo=None) == props.modified.replace(tzinfo=None) == midnight
        assert props.revision == 1
    assert (book.title, book.creator, book.keywords, book.description) == (
        'Board & "IPR" <July>',
        "Board secretary",
        "board; 2025-07-01",
        "Data snapshot abc",
    )
    assert book.created == book.modified == midnight


def test_zip_entries_and_embedded_workbooks_get_fixed_times(tmp_path: Path) -> None:
    inner = io.BytesIO()
    Workbook().save(inner)
    outer = io.BytesIO()
    Document().save(outer)
    with zipfile.ZipFile(outer, "a") as zf:
        zf.writestr("word/embeddings/chart1.xlsx", inner.getvalue())
    out = normalise(outer.getvalue(), PROPS)
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        embedded = zf.read("word/embeddings/chart1.xlsx")
    with zipfile.ZipFile(io.BytesIO(embedded)) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2025-07-01T00:00:00Z" in zf.read("docProps/core.xml")
    assert load_workbook(io.BytesIO(embedded)).properties.created == dt.datetime(2025, 7, 1)


def test_a_failed_save_leaves_the_old_file(tmp_path: Path) -> None:
    target = save(Workbook(), tmp_path / "x.xlsx", PROPS)
    before = target.read_bytes()

    def broken(data: bytes) -> bytes:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        save(Workbook(), target, PROPS, rewrite=broken)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]
