"""The Pack tree: what a pack says, with no python-pptx/docx/openpyxl object inside it.

`assemble` builds it from a template and the engine's results; every renderer (pptx, docx, xlsx) reads the
same tree, with one function per block type. A chart block holds a ChartSpec; once the build has rendered
every chart of the pack in one batch, `with_images` returns a copy whose chart blocks also know their PNG.
Values that disclosure control suppressed are kept as cells with `suppressed=True`, never dropped, so a
renderer shows "*" and the pack's footnote explains it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from reporting.charts.spec import ChartSpec
from reporting.charts.theme import DEFAULT_THEME, Theme

__all__ = [
    "Block",
    "Cell",
    "ChartBlock",
    "Column",
    "ColumnKind",
    "Commentary",
    "Contents",
    "Cover",
    "DataTable",
    "Heading",
    "Pack",
    "PageBreak",
    "Provenance",
    "Section",
    "SummaryRow",
    "SummaryTable",
    "Text",
    "SUPPRESSED_NOTE",
]

#: what a cell or column holds, so each renderer formats and aligns it the same way
ColumnKind = Literal["text", "number", "percent", "count", "date", "icon"]
SUPPRESSED_NOTE = "* Suppressed: fewer than {threshold} events, or a value that would let one be worked out."


@dataclass(frozen=True)
class Cover:
    """Title page / title slide: the title, the subtitle and the cover's labelled lines (`details`: the
    board-paper essentials, the period, audience, owner, version, classification), in the one order every
    format prints them. A line the template leaves out is not there at all, and the period is not repeated
    when the subtitle already says it. Provenance is not on a cover: it is the About block's."""

    title: str
    subtitle: str
    details: tuple[tuple[str, str], ...] = ()

    def detail(self, label: str) -> str:
        """The value of one labelled line ("" when the cover has none)."""
        return next((value for name, value in self.details if name == label), "")


@dataclass(frozen=True)
class Contents:
    """Table of contents (a Word TOC field; an agenda slide; the Excel contents sheet)."""

    title: str = "Contents"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1-3


@dataclass(frozen=True)
class Text:
    """Plain paragraphs (already rendered from sandboxed Jinja)."""

    paragraphs: tuple[str, ...]
    style: Literal["body", "lead", "note"] = "body"


@dataclass(frozen=True)
class Cell:
    """One table cell: the value for Excel, the text for documents, and its marks."""

    value: str | float | int | None
    text: str
    kind: ColumnKind = "text"
    suppressed: bool = False
    icon: str | None = None  # MDC icon code (variation/assurance) shown with a letter, never colour alone
    rag: Literal["red", "amber", "green", "grey"] | None = None


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    number_format: str = "General"  # Excel format, e.g. 0.0%, #,##0
    width: float = 14.0  # characters, for Excel and relative widths elsewhere


@dataclass(frozen=True)
class DataTable:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    footnotes: tuple[str, ...] = ()
    wide: bool = False  # a landscape section in Word
    sheet_name: str | None = None  # Excel sheet for this table (else the section's)


@dataclass(frozen=True)
class SummaryRow:
    """One metric in the MDC 'IPR summary' table."""

    metric_id: str
    title: str
    period_label: str
    latest: Cell
    target: Cell
    variation_icon: str | None
    assurance: str | None
    narrative: str
    sparkline: ChartSpec | None = None
    sparkline_image: Path | None = None
    exception: bool = False  # reporting.mdc.is_exception, computed once here: the email and `send_if` read it


@dataclass(frozen=True)
class SummaryTable:
    title: str
    rows: tuple[SummaryRow, ...]
    caption: str = ""
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChartBlock:
    spec: ChartSpec
    caption: str = ""
    native: bool = True  # PowerPoint/Excel/Word use a native chart where the spec allows it
    image: Path | None = None  # set by with_images(); used where the chart is not native
    notes: str = ""  # speaker notes / data sources


@dataclass(frozen=True)
class Commentary:
    """Service leads' commentary on a metric, merged from the commentary workbook."""

    metric_id: str
    title: str
    commentary: str
    actions: str = ""
    author: str = ""


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Cover | Contents | Heading | Text | DataTable | SummaryTable | ChartBlock | Commentary | PageBreak


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    appendix: bool = False


@dataclass(frozen=True)
class Provenance:
    snapshot_hash: str
    template_path: str
    template_hash: str
    built_at: str  # ISO time; left out of content hashes
    package_version: str
    sources: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    subtitle: str
    period: dt.date
    period_label: str
    classification: str
    audience: str
    owner: str
    version: str
    formats: tuple[str, ...]
    sections: tuple[Section, ...]
    provenance: Provenance
    office: Mapping[str, Path] = field(default_factory=dict)  # format -> corporate template file
    org_code: str | None = None
    org_name: str | None = None
    theme: Theme = DEFAULT_THEME
    footnotes: tuple[str, ...] = ()
    section_slides: bool = True  # PowerPoint: a "Section Header" slide before each section

    @property
    def footer(self) -> str:
        """Footer text on every page/slide: classification, pack title, period."""
        return " | ".join(p for p in (self.classification, self.title, self.period_label) if p)

    def blocks(self) -> list[Block]:
        return [b for s in self.sections for b in s.blocks]

    def summary_only(self) -> Pack:
        """A light copy that keeps only the summary tables (what an email shows), without their sparklines:
        what a parallel worker sends back with each built pack."""
        tables = tuple(
            replace(b, rows=tuple(replace(r, sparkline=None, sparkline_image=None) for r in b.rows))
            for b in self.blocks()
            if isinstance(b, SummaryTable)
        )
        return replace(self, sections=(Section("Summary", tables),) if tables else ())

    def chart_specs(self) -> list[ChartSpec]:
        """Every chart of the pack, for the ONE batched render call."""
        specs: list[ChartSpec] = []
        for block in self.blocks():
            if isinstance(block, ChartBlock):
                specs.append(block.spec)
            elif isinstance(block, SummaryTable):
                specs.extend(r.sparkline for r in block.rows if r.sparkline is not None)
        return specs

    def image_specs(self, formats: Sequence[str]) -> list[ChartSpec]:
        """The charts that need a picture for these formats: only those without a native form, or whose block
        says `native: false` (PowerPoint, Excel and Word draw the rest as editable charts, and LibreOffice
        draws those in the PDF, so no browser is needed), and every sparkline (drawn with Pillow)."""
        from reporting.charts.native_pptx import supports_native

        specs: list[ChartSpec] = []
        for block in self.blocks():
            if isinstance(block, ChartBlock):
                if not (block.native and supports_native(block.spec)):
                    specs.append(block.spec)
            elif isinstance(block, SummaryTable):
                specs.extend(r.sparkline for r in block.rows if r.sparkline is not None)
        return specs

    def with_images(self, images: Mapping[str, Path]) -> Pack:
        """A copy whose chart blocks and sparklines carry their rendered image (keyed by spec content hash)."""

        def fill(block: Block) -> Block:
            if isinstance(block, ChartBlock):
                return replace(block, image=images.get(block.spec.content_hash()))
            if isinstance(block, SummaryTable):
                rows = tuple(
                    replace(r, sparkline_image=images.get(r.sparkline.content_hash())) if r.sparkline is not None else r
                    for r in block.rows
                )
                return replace(block, rows=rows)
            return block

        return replace(self, sections=tuple(replace(s, blocks=tuple(fill(b) for b in s.blocks)) for s in self.sections))
