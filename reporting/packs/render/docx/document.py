"""Word renderer: the document being built (`_Context`: page setup, headers, sections), the plan, small helpers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting.packs import _docx_xml as X
from reporting.packs.tree import (
    Block,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    Section,
    Text,
)

if TYPE_CHECKING:
    from docx.document import Document
    from docx.section import Section as DocxSection
    from docx.text.paragraph import Paragraph

TABLE_STYLE = "NHS Table"
FALLBACK_SUPPRESSED_NOTE = "* Suppressed by disclosure control: too few events to publish safely."
NOTE_SIZE_PT = 9
MAX_CHART_HEIGHT = 0.55  # of the text height: two charts and their captions fit one portrait page
COMMENTARY_KEEP_TOGETHER = 12  # paragraphs; longer commentary may break across pages
BULLET = re.compile(r"^(?:•|-)\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RIGHT_ALIGNED = {"number", "percent", "count"}


@dataclass
class _Context:
    """What the block functions share: the document, the pack, and where the page/section stands."""

    document: Document
    pack: Pack
    template: Path
    landscape: bool = False
    pending_break: bool = False  # start the next paragraph on a new page
    page_empty: bool = True  # nothing on the current page yet (a break now would leave a blank page)
    own_header: tuple[Any, ...] = ()  # the template's own header/footer paragraphs, kept in every section
    own_footer: tuple[Any, ...] = ()
    charts: Any = None  # charts.native_docx.WordCharts, made on the first native chart
    icons: dict[str, bytes] = field(default_factory=dict)  # MDC code -> its icon PNG (charts.raster), drawn once
    icon_inlines: dict[str, Any] = field(default_factory=dict)  # MDC code -> its first picture's wp:inline

    # -- paragraphs ---------------------------------------------------------------------------------
    def claim(self, paragraph: Paragraph) -> Paragraph:
        """Mark `paragraph` as new content: it takes any pending page break."""
        if self.pending_break:
            paragraph.paragraph_format.page_break_before = True
            self.pending_break = False
        self.page_empty = False
        return paragraph

    def paragraph(self, text: str = "", style: str = "Normal") -> Paragraph:
        paragraph = self.document.add_paragraph()
        paragraph._p.style = X.style_id(self.document.part, style)  # what add_paragraph(style=style) sets
        if text:
            paragraph.add_run(_clean(text))
        return self.claim(paragraph)

    def note(self, text: str) -> Paragraph:
        """A small-print paragraph (footnotes under tables, provenance)."""
        from docx.shared import Pt

        paragraph = self.paragraph(style="Normal")
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(_clean(text))
        run.font.size = Pt(NOTE_SIZE_PT)
        return paragraph

    def page_break(self) -> None:
        if not self.page_empty:
            self.pending_break = True

    def before_table(self) -> None:
        """Tables cannot carry page_break_before; give a pending break its own (empty) paragraph."""
        if self.pending_break:
            self.paragraph()

    # -- geometry -----------------------------------------------------------------------------------
    @property
    def text_width(self) -> int:
        return X.text_area(self.document.sections[-1])[0]

    @property
    def text_height(self) -> int:
        return X.text_area(self.document.sections[-1])[1]

    def orient(self, landscape: bool) -> None:
        """Start a new section when the orientation changes (a section break also starts a new page);
        before anything is written, turn the first section itself rather than leave an empty page."""
        from docx.enum.section import WD_ORIENT

        if landscape == self.landscape:
            return
        if len(self.document.element.body) == 1:  # only the final w:sectPr: nothing written yet
            section = self.document.sections[-1]
            section.page_width, section.page_height = section.page_height, section.page_width
            section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        elif landscape:
            section = X.add_landscape_section(self.document)
            _shrink_section_break(self.document)
        else:
            section = X.add_portrait_section(self.document)
            _shrink_section_break(self.document)
        self.header_footer(section)
        self.landscape = landscape
        self.pending_break, self.page_empty = False, True

    def header_footer(self, section: DocxSection) -> None:
        X.set_header_footer(
            section,
            _clean(self.pack.classification),
            _clean(self.pack.footer),
            keep_header=self.own_header,
            keep_footer=self.own_footer,
        )


# --- the plan: sections flattened into blocks, with landscape runs marked ------------------------------


def _plan(sections: Sequence[Section]) -> list[tuple[Block, bool]]:
    """(block, on landscape pages?) in order, each Section's title as a Heading 1 unless the section opens
    with a cover, contents or its own level-1 heading; an appendix section starts on a new page.

    A wide table is on landscape pages together with the headings (and page breaks) that lead into it,
    so a heading is never stranded at the foot of the portrait page before; a note right after a wide table
    stays on its pages.
    """
    flat: list[Block] = []
    for section in sections:
        blocks = list(section.blocks)
        opens_itself = bool(blocks) and (
            isinstance(blocks[0], (Cover, Contents)) or (isinstance(blocks[0], Heading) and blocks[0].level == 1)
        )
        if section.appendix and flat:
            flat.append(PageBreak())
        if section.title and not opens_itself:
            flat.append(Heading(section.title, 1))
        flat.extend(blocks)
    wide = [False] * len(flat)
    for index in range(len(flat) - 1, -1, -1):
        block = flat[index]
        if isinstance(block, DataTable):
            wide[index] = block.wide
        elif isinstance(block, (Heading, PageBreak)) and index + 1 < len(flat):
            wide[index] = wide[index + 1]
    for index in range(1, len(flat)):
        # a one-line note among wide tables ("... so no data table is shown") stays on their landscape pages:
        # turning to portrait for it would give one sentence a page of its own
        block = flat[index]
        if isinstance(block, Text) and block.style == "note" and wide[index - 1]:
            wide[index] = True
    return list(zip(flat, wide, strict=True))


# --- small helpers ---------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Text as given, minus the control characters XML cannot hold (tabs and newlines are kept)."""
    return _CONTROL.sub("", "" if text is None else str(text))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if part.strip()]


def _empty_body(document: Document) -> None:
    """Drop whatever a corporate template has in its body, keeping the final section properties."""
    from docx.oxml.ns import qn

    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _shrink_section_break(document: Document) -> None:
    """The empty paragraph python-docx adds to carry a section break: make it as small as it can be."""
    from docx.shared import Pt

    paragraph = document.paragraphs[-1]
    paragraph.style = document.styles["Normal"]
    paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(1)
