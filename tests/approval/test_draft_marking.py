"""A pack awaiting approval is marked "DRAFT – not for circulation" on every slide, page and sheet of every
format, in the HTML and in the document properties; approving it (a pack without a job) re-renders it from
the same inputs without the mark."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from approval_fixtures import APPROVER
from docx import Document
from openpyxl import load_workbook
from pptx import Presentation

from reporting.approval import DRAFT_TEXT
from reporting.packs.build import build
from reporting.packs.render import pdf
from reporting.project import Project
from reporting.schedule.approvals import decide

FORMATS = ["pptx", "docx", "xlsx", "pdf", "html"]


def _marks(files: dict[str, Path]) -> dict[str, bool]:
    """For each format: is every slide / page header / sheet / PDF page marked, and the title too?"""
    deck = Presentation(str(files["pptx"]))
    slides = all(
        any(s.has_text_frame and s.text_frame.text == DRAFT_TEXT for s in slide.shapes) for slide in deck.slides
    )
    document = Document(str(files["docx"]))
    headers = all(section.header.paragraphs[0].text == DRAFT_TEXT for section in document.sections)
    workbook = load_workbook(files["xlsx"])
    sheets = all(ws.oddHeader.center.text.startswith(DRAFT_TEXT) for ws in workbook.worksheets)
    with pikepdf.open(files["pdf"]) as paper:
        pages = len(paper.pages)
        pdf_title = str(paper.docinfo.get("/Title", ""))
    texts = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(files["pdf"]), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, pages + 1)
    ]
    page = files["html"].read_text()
    titles = [deck.core_properties.title, document.core_properties.title, workbook.properties.title, pdf_title]
    return {
        "pptx": slides,
        "docx": headers,
        "xlsx": sheets,
        "pdf": all(DRAFT_TEXT in t for t in texts),
        "html": 'class="draft-mark" role="note"' in page and f"<title>{DRAFT_TEXT}" in page,
        "properties": all(str(t).startswith(DRAFT_TEXT) for t in titles),
        "none": not any(DRAFT_TEXT in t for t in texts) and DRAFT_TEXT not in page,
    }


@pytest.mark.slow
def test_every_format_is_marked_until_approved(approval_project: Callable[..., Project]) -> None:
    if not pdf.libreoffice_available() or shutil.which("pdftotext") is None:
        pytest.skip("needs LibreOffice and pdftotext")
    project = approval_project()
    template = project.root / "templates" / "packs" / "weekly-executive.yaml"
    template.write_text(template.read_text() + f"approval:\n  approvers: [{APPROVER}]\n")
    (draft,) = build(project, "weekly-executive", formats=FORMATS)
    files = {f.suffix.lstrip("."): f for f in draft.files}
    marks = _marks(files)
    assert marks == {**dict.fromkeys(FORMATS, True), "properties": True, "none": False}
    assert draft.manifest["approval"]["status"] == "draft"
    drafts = {name: path.read_bytes() for name, path in files.items()}

    decision = decide(
        project,
        "weekly-executive",
        period=draft.period,
        content_hash=draft.manifest["approval"]["content_sha256"],
        by=APPROVER,
        comment="",
        approved=True,
    )
    assert decision.approved and decision.report is None  # no job: published, nothing to send
    final = {f.suffix.lstrip("."): f for f in draft.directory.iterdir() if f.suffix.lstrip(".") in FORMATS}
    marks = _marks(final)
    assert not any(marks[f] for f in (*FORMATS, "properties")) and marks["none"]
    assert all(final[name].read_bytes() != data for name, data in drafts.items())

    (again,) = build(project, "weekly-executive", formats=FORMATS)  # the same inputs keep their approval
    assert again.manifest["approval"]["status"] == "approved"
    assert [e["action"] for e in again.manifest["approval"]["trail"]] == ["approved"]
    assert not _marks({f.suffix.lstrip("."): f for f in again.files})["pptx"]
