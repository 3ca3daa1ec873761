"""office_package keeps an unchanged member's compressed bytes: the packages it writes are byte for byte those of
inflating and deflating every member again (the rewrite before the copy), for what python-pptx, python-docx and
openpyxl save, embedded chart workbooks included; members that are not deflated are deflated."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest

from reporting.office_package import _W3CDTF, CORE_PART, ZIP_TIME, DocumentProperties, normalise
from reporting.packs.render import docx as docx_render
from reporting.packs.render import pptx as pptx_render
from reporting.packs.render import xlsx as xlsx_render
from reporting.packs.tree import Pack

PROPS = DocumentProperties(title="Board paper", created=dt.date(2025, 7, 1), author="Board secretary")


def _recompressed(data: bytes, stamp: bytes, core: bytes | None) -> bytes:
    """The reference: every member read, inflated, and written again by zipfile.writestr."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info.filename)
            if info.filename == CORE_PART:
                blob = core if core is not None else _W3CDTF.sub(rb"\g<1>" + stamp + rb"\g<2>", blob)
            elif info.filename.endswith(".xlsx"):
                blob = _recompressed(blob, stamp, None)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 0
            target.writestr(entry, blob)
    return out.getvalue()


@pytest.fixture(scope="module")
def saved(charted_sample: Pack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The sample pack written by each renderer, then loaded and saved again by its library: the bytes the
    library saves, before office_package rewrites them."""
    out = tmp_path_factory.mktemp("copy")
    found = {}
    for name, render, load in (
        ("docx", docx_render.render, lambda p: docx.Document(str(p))),
        ("pptx", pptx_render.render, lambda p: pptx.Presentation(str(p))),
        ("xlsx", xlsx_render.render, openpyxl.load_workbook),
    ):
        buffer = io.BytesIO()
        load(render(charted_sample, out / f"sample.{name}")).save(buffer)
        found[name] = buffer.getvalue()
    return found


@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx"])
def test_each_format_is_the_bytes_of_deflating_every_member_again(saved: dict[str, bytes], kind: str) -> None:
    data = saved[kind]
    written = normalise(data, PROPS)
    assert written == _recompressed(data, PROPS.stamp.encode(), PROPS.core_xml())
    with zipfile.ZipFile(io.BytesIO(written)) as package:
        assert package.testzip() is None  # every member's CRC checks out
        assert {i.date_time for i in package.infolist()} == {ZIP_TIME}


def test_the_embedded_chart_workbooks_are_covered(saved: dict[str, bytes]) -> None:
    """The docx and pptx hold native charts' workbooks, rewritten inside the rewrite (not copied)."""
    for kind in ("docx", "pptx"):
        with zipfile.ZipFile(io.BytesIO(saved[kind])) as package:
            assert any(n.endswith(".xlsx") for n in package.namelist()), kind


def test_a_stored_member_is_deflated(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", b"<Types/>" * 50, compress_type=zipfile.ZIP_STORED)
        package.writestr("word/document.xml", b"<w:document/>" * 50, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr(CORE_PART, b"<cp:coreProperties/>", compress_type=zipfile.ZIP_STORED)
    data = buffer.getvalue()
    written = normalise(data, PROPS)
    assert written == _recompressed(data, PROPS.stamp.encode(), PROPS.core_xml())
    with zipfile.ZipFile(io.BytesIO(written)) as package:
        assert [i.compress_type for i in package.infolist()] == [zipfile.ZIP_DEFLATED] * 3
        assert package.read("[Content_Types].xml") == b"<Types/>" * 50
        assert package.read(CORE_PART) == PROPS.core_xml()
