"""The draft mark ("DRAFT – not for circulation") of a pack awaiting approval, the same in every format.

One helper for all the renderers: each calls its `mark_*` on the finished document just before saving, so
the mark is added without touching how a page, slide or sheet is laid out. Whether a render is a draft is a
context variable set by the build (packs.build) for the length of one pack's render, like the brand
colours (render/_brand.py): safe for builds in parallel threads.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from reporting.approval import DRAFT_TEXT

__all__ = ["DRAFT_TEXT", "drafting", "is_draft", "mark_docx", "mark_html", "mark_pptx", "mark_xlsx", "title"]

_DRAFT: ContextVar[bool] = ContextVar("reporting_draft", default=False)
RED = "B00020"  # 7.4:1 on white: the mark is text, so it meets WCAG AA like any other


def is_draft() -> bool:
    return _DRAFT.get()


@contextmanager
def drafting(draft: bool) -> Iterator[None]:
    token = _DRAFT.set(draft)
    try:
        yield
    finally:
        _DRAFT.reset(token)


def title(text: str) -> str:
    """A document title as the properties and the HTML <title> give it: marked when a draft."""
    return f"{DRAFT_TEXT}: {text}" if is_draft() else text


def mark_pptx(prs: Any) -> None:
    """A red line across the top of every slide (python-pptx Presentation), above the title."""
    if not is_draft():
        return
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Emu, Pt

    width = int(prs.slide_width)
    for slide in prs.slides:
        box = slide.shapes.add_textbox(Emu(0), Pt(8), Emu(width), Pt(20))  # below the masters' top band
        box.name = "Draft mark"
        frame = box.text_frame
        frame.margin_top = frame.margin_bottom = Pt(2)
        paragraph = frame.paragraphs[0]
        paragraph.alignment = PP_ALIGN.CENTER
        run = paragraph.add_run()
        run.text = DRAFT_TEXT
        run.font.size, run.font.bold = Pt(12), True
        run.font.color.rgb = RGBColor.from_string(RED)  # type: ignore[no-untyped-call]  # no hints in python-pptx


def mark_docx(document: Any) -> None:
    """The mark as the first line of every header of every section (python-docx Document), so every page of
    the Word paper and of the PDF made from it carries it."""
    if not is_draft():
        return
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    for section in document.sections:
        headers = [section.header]
        if section.different_first_page_header_footer:
            headers.append(section.first_page_header)
        for header in headers:
            if header.is_linked_to_previous and section is not document.sections[0]:
                continue  # it shows the previous section's header, already marked
            first = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
            paragraph = first.insert_paragraph_before() if first.text or first.runs else first
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(DRAFT_TEXT)
            run.bold, run.font.size = True, Pt(12)
            run.font.color.rgb = RGBColor.from_string(RED)


def mark_xlsx(workbook: Any) -> None:
    """The mark in every sheet's printed header (openpyxl Workbook), before the classification."""
    if not is_draft():
        return
    for ws in workbook.worksheets:
        for header in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
            before = header.center.text
            header.center.text = f"{DRAFT_TEXT}" + (f" | {before}" if before else "")
            header.center.color = RED


def mark_html(page: str) -> str:
    """The HTML edition with the mark as its first visible line and in its title and metadata."""
    if not is_draft():
        return page
    mark = html.escape(DRAFT_TEXT)
    banner = (
        f'<p class="draft-mark" role="note" style="margin:0;max-width:none;padding:0.5rem 1rem;text-align:center;'
        f'font-weight:bold;color:#fff;background:#{RED}">{mark}</p>'
    )
    page = page.replace("<title>", f"<title>{mark}: ", 1)
    page = page.replace("<head>", '<head>\n<meta name="status" content="draft">', 1)
    return page.replace("<body>", f"<body>\n{banner}", 1)
