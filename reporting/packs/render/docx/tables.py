"""Word renderer: tables (summary and data), their cells, icons, sparklines and footnotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reporting.errors import ReportingError
from reporting.mdc import NOT_ASSESSED_CELL, RAG_NOTE, icon
from reporting.packs import _docx_xml as X
from reporting.packs.render._brand import NON_TEXT_CONTRAST, readable
from reporting.packs.render.docx.document import FALLBACK_SUPPRESSED_NOTE, TABLE_STYLE, _clean, _Context
from reporting.packs.tree import (
    Cell,
    Column,
    SummaryRow,
)

if TYPE_CHECKING:
    from docx.table import Table, _Cell

# --- tables ----------------------------------------------------------------------------------------------


def _table_caption(ctx: _Context, title: str, caption: str) -> None:
    if caption and title and not caption.startswith(title):
        text = f"{title} – {caption}"
    else:
        text = caption or title
    ctx.claim(X.add_caption(ctx.document, "Table", _clean(text)))


def _width(column: Column) -> float:
    return max(column.width, 4.0)


@dataclass
class _TableWriter:
    """A table in the template's table style, its header row repeated and unsplittable, its columns
    sized to the text width; `row()` adds a body row whose cells already have their width and alignment."""

    table: Table
    widths: list[int]
    right_aligned: set[int]

    @classmethod
    def start(
        cls, ctx: _Context, headers: Sequence[str], weights: Sequence[float], *, right_aligned: set[int]
    ) -> _TableWriter:
        ctx.before_table()
        table = ctx.document.add_table(rows=0, cols=len(headers))
        table.style = ctx.document.styles[TABLE_STYLE]
        table.autofit = False
        total = sum(weights)
        widths = [int(ctx.text_width * w / total) for w in weights]
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        writer = cls(table, widths, right_aligned)
        header = writer.row()
        X.repeat_header_row(table.rows[0])
        for cell, text in zip(header, headers, strict=True):
            _write(cell, text)
        ctx.page_empty = False
        return writer

    def row(self) -> list[_Cell]:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        row = self.table.add_row()
        X.prevent_row_split(row)
        cells = row.cells
        for index, cell in enumerate(cells):
            cell.width = self.widths[index]
            if index in self.right_aligned:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return cells


def _write(cell: _Cell, text: str) -> None:
    cell.paragraphs[0].add_run(_clean(text))


def _value_cell(cell: _Cell, value: Cell) -> bool:
    """Write a value ("*" when suppressed); True if it was suppressed."""
    _write(cell, "*" if value.suppressed else value.text)
    return value.suppressed


def _icon_cell(cell: _Cell, code: str | None, icons: dict[str, tuple[str, str, str]], ctx: _Context) -> None:
    """'● H↑ Special cause improvement (high)': the dot is decoration; the letter and label carry meaning."""
    from docx.shared import Pt, RGBColor

    paragraph = cell.paragraphs[0]
    if not code:
        paragraph.add_run(NOT_ASSESSED_CELL)
        return
    # a point type has its marker glyph (mdc.icon), never "?", which is MDC's "target met inconsistently"
    letter, colour_name, label = icons.get(code) or icon(code) or ("–", "common_cause", code.replace("_", " "))
    palette = ctx.pack.theme.palette
    colour = readable(getattr(palette, colour_name, palette.common_cause), palette.background, NON_TEXT_CONTRAST)
    dot = paragraph.add_run("● ")
    dot.font.color.rgb = RGBColor.from_string(colour.upper())
    mark = paragraph.add_run(letter)
    mark.bold = True
    paragraph.add_run(" ")
    text = paragraph.add_run(_clean(label))
    text.bold, text.font.size = False, Pt(8.5)


def _sparkline_cell(cell: _Cell, row: SummaryRow, ctx: _Context) -> None:
    from docx.shared import Cm

    if row.sparkline is None:
        cell.paragraphs[0].add_run("–")
        return
    if row.sparkline_image is None:
        raise ReportingError(
            f"sparkline for '{row.title}' has no rendered image: the Word renderer needs "
            "Pack.with_images(...) after the batched chart render"
        )
    width = min(cell.width or Cm(2.4), Cm(2.4)) - Cm(0.3)
    picture = cell.paragraphs[0].add_run().add_picture(str(row.sparkline_image), width=width)
    X.set_picture_alt_text(picture, _clean(row.sparkline.title), _clean(row.sparkline.alt_text or row.title))


def _footnotes(ctx: _Context, footnotes: Sequence[str], suppressed: bool, rag: bool) -> None:
    from docx.shared import Pt

    notes = list(footnotes)
    if suppressed and not any(note.lstrip().startswith("*") for note in notes):
        notes.append(FALLBACK_SUPPRESSED_NOTE)
    if rag:
        notes.append(RAG_NOTE)
    if not notes:
        ctx.paragraph()  # a gap, and keeps two tables from merging
        return
    paragraphs = [ctx.note(note) for note in notes]
    paragraphs[0].paragraph_format.space_before = Pt(4)
    paragraphs[-1].paragraph_format.space_after = Pt(10)
