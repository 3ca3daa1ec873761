"""The same Office file converted to PDF twice is the same bytes (Board papers are identical when rebuilt)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from sample_pack import sample_pack

from reporting.packs.render import pdf
from reporting.packs.render.docx import render

pytestmark = pytest.mark.skipif(not pdf.libreoffice_available(), reason="LibreOffice is not installed")


def test_two_conversions_of_one_document_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = sample_pack(tmp_path / "images")
    source = render(pack, tmp_path / "paper.docx")
    raw: list[bytes] = []
    pinned = pdf.reproducible

    def keeping_libreoffice_output(produced: Path, target: Path, created: str | None, edit: Any = None) -> None:
        raw.append(produced.read_bytes())  # a spy: the real function still runs
        pinned(produced, target, created, edit)

    monkeypatch.setattr(pdf, "reproducible", keeping_libreoffice_output)
    first = pdf.to_pdf(source, tmp_path / "one").read_bytes()
    time.sleep(1.1)  # LibreOffice stamps the export time to the second
    second = pdf.to_pdf(source, tmp_path / "two").read_bytes()
    assert raw[0] != raw[1]  # LibreOffice's own output differs: the check below fails without the pinning
    assert first == second
    with pikepdf.open(tmp_path / "one" / "paper.pdf") as document:
        stamp = f"D:{pack.period:%Y%m%d}000000Z"  # the paper's own created time: the pack's period
        assert str(document.docinfo["/CreationDate"]) == str(document.docinfo["/ModDate"]) == stamp
        assert "/DocChecksum" not in document.trailer
