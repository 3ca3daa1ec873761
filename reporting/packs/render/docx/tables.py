"""Word renderer: tables (summary and data), their cells, icons, sparklines and footnotes."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from reporting.errors import ReportingError
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, RAG_NOTE, VARIATION, VARIATION_SHORT, icon
from reporting.packs import _docx_xml as X
from reporting.packs.render._brand import mark_colour
from reporting.packs.render._caption import caption_text
from reporting.packs.render._text_fit import WIDTH_MARGIN, _em
from reporting.packs.render.docx.document import FALLBACK_SUPPRESSED_NOTE, TABLE_STYLE, _clean, _Context
from reporting.packs.tree import (
    Cell,
    Column,
    SummaryRow,
)

if TYPE_CHECKING:
    from docx.document import Document
    from docx.oxml.table import CT_Row
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.shape import InlineShape
    from docx.table import Table, _Cell
    from docx.text.run import Run

# --- tables ----------------------------------------------------------------------------------------------


def _table_caption(ctx: _Context, title: str, caption: str) -> None:
    ctx.claim(X.add_caption(ctx.document, "Table", _clean(caption_text(title, caption))))


def _width(column: Column) -> float:
    return max(column.width, 4.0)


ICON_CM = 0.42  # an MDC icon in a table cell: about the height of a line of table text
SPARKLINE_CM = 2.2  # a sparkline's width in the summary table: narrower and its line is too thin to see
LABEL_PT = 8.5  # the words beside an icon (and "– Not assessed" in its place)
CELL_PADDING_PT = 2 * 85 / 20 + 1.0  # the NHS Table style's left and right cell margins (85 twips each), + 1 pt


def _longest_word_pt(texts: Iterable[str], size_pt: float) -> float:
    """Width in points of the widest word in `texts`, set bold at `size_pt` (bold is the wider; header rows and
    first columns are bold), with the same Arial metrics and safety margin the PowerPoint renderer fits by."""
    widest = max((_em(word, True) for text in texts for word in str(text).split()), default=0.0)
    return widest * size_pt * WIDTH_MARGIN


def _longest_text_pt(texts: Iterable[str], size_pt: float) -> float:
    """Width in points of the widest whole text (not word), set bold at `size_pt`: for a column never to wrap."""
    return max((_em(str(text), True) for text in texts), default=0.0) * size_pt * WIDTH_MARGIN


#: a cell no wider than this (points) is kept on one line where the table has room (ranks with intervals)
SHORT_CELL_PT = 96.0
#: a wide (landscape) data table's text: nine columns of ranks and long names on one page at this size
WIDE_TABLE_PT = 9.0


def _two_lines_pt(header: str, size_pt: float) -> float:
    """Width in points a bold header needs to sit on two lines at most ("Trolley waits over / 4 hours (%)")."""
    words = header.split()
    if len(words) < 2:
        return _longest_text_pt((header,), size_pt)
    return min(_longest_text_pt((" ".join(words[:k]), " ".join(words[k:])), size_pt) for k in range(1, len(words)))


def _fewest_lines(
    total: int, weights: Sequence[float], minimums: Sequence[int], one_line_pt: Sequence[float]
) -> list[int]:
    """Widths (EMU) from `minimums`, the room left going first to the columns whose longest text would wrap, in
    proportion to what each lacks for one line (an organisation's name, not a column of numbers), then by
    weight."""
    from docx.shared import Pt

    lack = [max(0, int(Pt(t + CELL_PADDING_PT)) - m) for t, m in zip(one_line_pt, minimums)]
    spare = total - sum(minimums)
    if sum(lack) >= spare:
        widths = [m + spare * k // sum(lack) for m, k in zip(minimums, lack)]
        widths[max(range(len(lack)), key=lambda j: lack[j])] += total - sum(widths)
        return widths
    return column_widths(total, weights, [m + k for m, k in zip(minimums, lack)])


def _lines_tall(widths: Sequence[int], columns: Sequence[tuple[str, Sequence[str]]], size_pt: float) -> int:
    """Lines a table of `columns` (header, cell texts) is tall at `widths`, by the fitting rule: cuts compared."""
    from docx.shared import Pt

    from reporting.packs.render._text_fit import LINE_HEIGHT_EM, _text_height

    line = int(Pt(size_pt * LINE_HEIGHT_EM))
    room = [w - int(Pt(CELL_PADDING_PT)) for w in widths]
    rows = [[h for h, _ in columns], *zip(*(texts for _, texts in columns))]
    return sum(
        max(_text_height(str(t), r == 0, size_pt, w) // line for t, w in zip(row, room)) for r, row in enumerate(rows)
    )


def column_widths(total: int, weights: Sequence[float], minimums: Sequence[int]) -> list[int]:
    """Widths (EMU) summing to at most `total`, shared by `weights`, none below its minimum where they all fit.

    Columns whose share is below their minimum get the minimum; what is left is shared again among the rest
    by weight (repeated until stable). Minimums that cannot all fit are scaled down together (the header then
    wraps inside a word: a template with that many columns needs short titles)."""
    if sum(minimums) >= total:
        scale = total / max(sum(minimums), 1)
        return [int(m * scale) for m in minimums]
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        room = total - sum(fixed.values())
        share = sum(weights[i] for i in free) or 1.0
        widths = {i: room * weights[i] / share for i in free}
        short = {i: minimums[i] for i, w in widths.items() if w < minimums[i]}
        if not short:
            return [fixed[i] if i in fixed else int(widths[i]) for i in range(len(weights))]
        fixed.update(short)


@dataclass
class _TableWriter:
    """A table in the template's table style, its header row repeated and unsplittable, its columns
    sized to the text width; `row()` adds a body row whose cells already have their width and alignment."""

    table: Table
    widths: list[int]
    right_aligned: set[int]
    #: an empty body row as `row()` first made it: later rows are copies (python-docx's add_row, cell widths
    #: and alignments, made anew for every row, were most of a table's cost)
    blank: CT_Row | None = None
    #: the points its text is set at when smaller than the body's (a wide table: `WIDE_TABLE_PT`)
    size_pt: float | None = None

    @classmethod
    def start(
        cls,
        ctx: _Context,
        headers: Sequence[str],
        weights: Sequence[float],
        *,
        right_aligned: set[int],
        texts: Sequence[Sequence[str]] = (),
        whole: Collection[int] = (),
        pictured: Collection[int] = (),
        at_least: Mapping[int, float] = MappingProxyType({}),
        fewest_lines: bool = False,
        size_pt: float | None = None,
    ) -> _TableWriter:
        """`texts`: each column's cell texts, so that no column is narrower than its widest word; the columns
        in `whole` (periods: "September 2024") no narrower than their widest text, so it never wraps; those in
        `pictured` (MDC icons) have room for the icon before the widest word; `at_least`: column -> points (a
        sparkline's room). `fewest_lines` (data tables): where they fit, headers on two lines at most and short
        cells ("117 (117–118)") on one, and the room left to the columns that would wrap (`_fewest_lines`), so a
        league table's rows stay one or two lines tall and the table and its notes share a page. `size_pt`: the
        table's text is measured at that size, and `set_text_size` sets it there once the rows are written."""
        ctx.before_table()
        table = ctx.document.add_table(rows=0, cols=len(headers))
        from docx.enum.style import WD_STYLE_TYPE

        table._tbl.tblStyle_val = X.style_id(ctx.document.part, TABLE_STYLE, WD_STYLE_TYPE.TABLE)  # table.style =
        table.autofit = False
        from docx.shared import Pt

        size = size_pt or table_font_pt(ctx.document)
        icon_pt = ICON_CM / 2.54 * 72 + LABEL_PT / 3  # an icon and the space after it

        def minimum(i: int, header: str, column: Sequence[str], heads: bool = False, short: bool = False) -> int:
            if i in pictured:  # the words beside an icon are set at LABEL_PT, not bold
                words = [str(t) for t in column] if i in whole else [w for t in column for w in str(t).split()]
                body = icon_pt + max((_em(w, False) for w in words), default=0.0) * (LABEL_PT * WIDTH_MARGIN)
            elif i in whole or (short and _longest_text_pt(column, size) <= SHORT_CELL_PT):
                body = _longest_text_pt(column, size)
            else:
                body = _longest_word_pt(column, size)
            head = _two_lines_pt(header, size) if heads else _longest_word_pt((header,), size)
            return int(Pt(max(at_least.get(i, 0.0), head, body) + CELL_PADDING_PT))

        columns = list(zip(headers, texts or [()] * len(headers), strict=True))
        total = int(ctx.text_width)
        minimums = [minimum(i, header, column) for i, (header, column) in enumerate(columns)]
        widths = column_widths(total, weights, minimums)
        if fewest_lines:  # the cut whose rows are shortest, of those that fit
            one_line = [_longest_text_pt(column, size) for _, column in columns]
            for short in (False, True):
                cut = [minimum(i, header, column, True, short) for i, (header, column) in enumerate(columns)]
                if sum(cut) < total:
                    cut = _fewest_lines(total, weights, cut, one_line)
                    if _lines_tall(cut, columns, size) < _lines_tall(widths, columns, size):
                        widths = cut
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        writer = cls(table, widths, right_aligned, size_pt=size_pt)
        header = writer.row()
        X.repeat_header_row(table.rows[0])
        for cell, text in zip(header, headers, strict=True):
            _write(cell, text)
        ctx.page_empty = False
        return writer

    def row(self) -> list[_Cell]:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Length
        from docx.table import _Row

        if self.blank is not None:
            tr = copy.deepcopy(self.blank)
            self.table._tbl.append(tr)
            return list(_Row(tr, self.table).cells)
        row = self.table.add_row()  # type: ignore[no-untyped-call]  # python-docx leaves add_row unannotated
        X.prevent_row_split(row)
        cells: list[_Cell] = row.cells
        for index, cell in enumerate(cells):
            cell.width = Length(self.widths[index])
            if index in self.right_aligned:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self.blank = copy.deepcopy(row._tr)
        return cells

    def set_text_size(self) -> None:
        """Every run of the table without a size of its own (icon labels and markers keep theirs) at `size_pt`,
        as the widths were measured."""
        if self.size_pt is None:
            return
        from docx.oxml.ns import qn
        from docx.oxml.parser import OxmlElement
        from docx.oxml.simpletypes import ST_HpsMeasure
        from docx.shared import Pt
        from lxml import etree

        size = Pt(self.size_pt)
        half_points = ST_HpsMeasure.convert_to_xml(size)
        # the runs python-docx's rows, cells, paragraphs and runs reach (no merged cells here), read as XML:
        # its `font.size` setter looks for each of w:rPr's forty possible successors of w:sz on every run
        for r in self.table._tbl.xpath("./w:tr/w:tc/w:p/w:r"):
            r_pr = r.rPr
            if r_pr is None:  # most runs: a cell's text, written without properties; w:rPr is a run's first child
                r_pr = OxmlElement("w:rPr")
                r.insert(0, r_pr)
                etree.SubElement(r_pr, qn("w:sz")).set(qn("w:val"), half_points)
            elif r_pr.sz_val is None:  # python-docx places w:sz among the properties already there
                r_pr.sz_val = size


def table_font_pt(document: Document) -> float:
    """The size (points) table text is set at: the cells' paragraph style (Normal) wins over the table style in
    Word and LibreOffice alike (a table style's size only shows where Normal sets none), else 11."""
    for name in ("Normal", TABLE_STYLE):
        size = document.styles[name].font.size
        if size is not None:
            return float(size.pt)
    return 11.0


def _write(cell: _Cell, text: str) -> None:
    cell.paragraphs[0].add_run(_clean(text))


def _value_cell(cell: _Cell, value: Cell) -> bool:
    """Write a value ("*" when suppressed); True if it was suppressed."""
    _write(cell, "*" if value.suppressed else value.text)
    return value.suppressed


def _icon_picture(ctx: _Context, code: str) -> bytes:
    """The icon the deck and the email carry (charts.raster from charts.icon_chart), drawn once per document."""
    import io

    from reporting.charts import icon_chart, raster

    if code not in ctx.icons:
        stream = io.BytesIO()
        raster.draw(icon_chart(code, ctx.pack.theme), stream)
        ctx.icons[code] = stream.getvalue()
    return ctx.icons[code]


def _icon_inline(run: Run, ctx: _Context, code: str) -> InlineShape:
    """The icon's picture in `run`, without alt text. The first of each icon in a document is added by python-docx
    (its image part, relationship and size); later ones copy that picture's XML and take their own shape id, as
    python-docx would give them (`next_id`): its add_picture re-reads the PNG and searches the image parts and
    the document's relationships each time, for the same image part and rId."""
    import io

    from docx.shape import InlineShape
    from docx.shared import Cm

    if code not in ctx.icon_inlines:
        picture = _tight(run.add_picture(io.BytesIO(_icon_picture(ctx, code)), width=Cm(ICON_CM)))
        ctx.icon_inlines[code] = copy.deepcopy(picture._inline)
        return picture
    inline = copy.deepcopy(ctx.icon_inlines[code])
    shape_id = run.part.next_id
    inline.docPr.id = shape_id
    inline.docPr.name = f"Picture {shape_id}"  # as python-docx's CT_Inline.new names it
    run._r.add_drawing(inline)
    return InlineShape(inline)


def _tight(picture: InlineShape) -> InlineShape:
    """No wrap distance around an inline picture: LibreOffice reads a missing distL/distR as 0.32 cm, which
    pushed an icon's words a centimetre away and a sparkline past its cell's right edge (cut off)."""
    for side in ("distT", "distB", "distL", "distR"):
        picture._inline.set(side, "0")
    return picture


def _icon_cell(
    cell: _Cell, code: str | None, icons: dict[str, tuple[str, str, str]], ctx: _Context, *, short: bool = False
) -> None:
    """An MDC variation or assurance icon as a picture with alt text, then its label, as in the deck and the
    email; a point type (data tables) as its chart marker's glyph in its colour, then its label. Neither the
    picture nor the colour carries the meaning alone: the words are always there."""

    from docx.shared import Pt, RGBColor

    paragraph = cell.paragraphs[0]
    if not code:
        paragraph.add_run(NOT_ASSESSED_CELL).font.size = Pt(LABEL_PT)
        return
    # a point type has its marker glyph (mdc.icon), never "?", which is MDC's "target met inconsistently"
    letter, colour_name, label = icons.get(code) or icon(code) or ("–", "common_cause", code.replace("_", " "))
    if code in VARIATION or code in ASSURANCE:
        kind = "Variation" if code in VARIATION else "Assurance"
        run = paragraph.add_run()
        picture = _icon_inline(run, ctx, code)
        X.set_picture_alt_text(picture, f"{kind}: {label}", f"{kind} icon: {label}")
        paragraph.add_run(" ")
        label = VARIATION_SHORT.get(code, label) if short else label
    else:
        mark = paragraph.add_run(f"{letter} ")
        mark.font.color.rgb = RGBColor.from_string(mark_colour(ctx.pack.theme, colour_name).upper())
    text = paragraph.add_run(_clean(label))
    text.bold, text.font.size = False, Pt(LABEL_PT)


def _sparkline_cell(cell: _Cell, row: SummaryRow, ctx: _Context) -> None:
    from docx.shared import Cm, Length, Pt

    if row.sparkline is None:
        cell.paragraphs[0].add_run("–")
        return
    if row.sparkline_image is None:
        raise ReportingError(
            f"sparkline for '{row.title}' has no rendered image: the Word renderer needs "
            "Pack.with_images(...) after the batched chart render"
        )
    # inside the cell's margins (a picture wider than the room between them is cut at the cell's right edge)
    width = Length(min(cell.width or Cm(SPARKLINE_CM), Cm(3.0)) - Pt(CELL_PADDING_PT) - Cm(0.1))
    picture = _tight(cell.paragraphs[0].add_run().add_picture(str(row.sparkline_image), width=width))
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


#: the rows at a table's foot that go to the next page with the text under it, when that text does not fit
KEEP_ROWS = 2


def keep_with_table(elements: Sequence[BaseOxmlElement]) -> None:
    """Keep a table's last KEEP_ROWS rows, its footnotes and the text under it (the body elements from the
    table on) together on one page: every paragraph but the last keeps with the next, as a secretary would
    pull the last rows over rather than leave the notes alone on a page (Word and LibreOffice both keep a table
    row whose paragraphs keep with the next on the page of what follows it)."""
    from docx.oxml.ns import qn

    paragraphs = []
    for element in elements:
        if element.tag == qn("w:tbl"):
            for row in element.findall(qn("w:tr"))[-KEEP_ROWS:]:
                paragraphs += row.iter(qn("w:p"))
        elif element.tag == qn("w:p"):
            paragraphs.append(element)
    for paragraph in paragraphs[:-1]:
        paragraph.get_or_add_pPr().keepNext_val = True
