"""PowerPoint renderer: a Pack tree -> a .pptx built on the corporate master, one function per block type.

    render(pack, path) -> path

Slides, in order: the template's own slides are removed; a Cover block gives the "Title Slide" (title,
subtitle, then the cover's labelled lines packed several to a line); a Contents block gives an agenda on
"Title and Content" listing every section with its slide number (its "Section Header" slide, else its first
slide after any cover and contents, so the executive summary that shares the cover's section is listed too);
each section except the cover's opens with a "Section Header" slide (its title only: no subsection names); content
then flows onto "Title Only" slides inside the body area of the "Title and Content" layout.
A level-1 heading starts a new slide titled with its text; later slides under it are titled "... (continued)".
A level-2 heading with text under it is a bold line above that text, and such headed paragraphs share a slide
while it holds only text and they fit (an executive summary takes a few slides, not one per heading); after a
table or chart, or with no text under it, a level-2 heading titles a new slide as a level-1 one does (level 3 is
always a bold line in the flow). Text, tables, charts and commentary are stacked top to bottom while they fit; a
chart takes the rest of its slide (its caption is left out when it only repeats the chart's title); PageBreak
ends the slide. A table that fits one slide is never split (it starts a fresh slide instead), and the text
right under a table stays on its slide where both fit; a longer table is split into as few and as even parts as
fit, the last leaving room for that text (never alone on a slide), each continued part on a slide titled with the
table's own title "(continued)". A summary table lists exceptions, then other
special cause, then common cause, then measures not assessed (template order within each). Every slide gets
the layout's footer placeholder (``pack.footer``) and slide-number placeholder (a ``slidenum`` field), cloned
from its layout because python-pptx does not copy them; speaker notes carry chart notes, the data sources,
the snapshot hash and the pack's footnotes. Text is en-GB; the output is byte-identical for the same Pack
(reporting.office_package: one properties policy, fixed zip entry times, also inside embedded chart workbooks).

Charts are native (editable) when ``ChartBlock.native`` and ``supports_native(spec)``, else the block's PNG,
scaled to fit; every chart, picture and table carries alt text (the spec's, or a description generated for
tables). Summary-table MDC icons are pictures (the email's own, drawn by charts.raster from
charts.icon_chart: a ring with its letter/arrow) with alt text, at the left of the cell and followed by the
words ("Improvement", "Target met inconsistently"), so neither colour nor a picture carries meaning alone.
Icons and sparklines are transparent PNGs, so the zebra rows show through.
Suppressed cells show "*" and the suppression footnote.

Text is measured and fitted by `_text_fit` (Arial advance widths; its docstring gives the rule).

A text block goes at its style's size (body 18, lead 22, note 14 pt) where the slide has room, else on a fresh
slide; if it does not fit an empty slide body it shrinks 1 pt at a time down to ``MIN_TEXT_PT`` (12); if it
still does not fit, the build stops with TextOverflowError naming the section and block. Titles shrink to
``MIN_TITLE_PT`` (18). Tables never shrink: they split between rows onto continued slides, repeating the header
row; a single row taller than a slide is a TextOverflowError. An empty table is one sentence ("...: no rows for
this period."). Data-table cells for point types use mdc.icon_text, the words every format uses, with the
glyph in its chart marker's colour (_brand.mark_colour, as in Word and HTML). Text boxes have autofit off, and
table rows are given their measured height, so what was measured is what is drawn.

The package splits the renderer by job: `deck` (sizes, `_Deck`: the slide-flow engine, and writing text),
`tables` (tables drawn and split between rows), `blocks` (the one singledispatch function `_block`, a rule
per block type), `flow` (blocks kept with the next: headed paragraphs, tables and their notes), `placeholders`
(section headers, agendas, the footer and slide number cloned from layouts);
this module builds the deck and saves it.
"""

from __future__ import annotations

from pathlib import Path

from reporting.errors import ConfigError
from reporting.office_package import save
from reporting.packs import _pptx_xml as X
from reporting.packs.office_templates import DEFAULT_PPTX, REQUIRED_LAYOUTS, layout, open_presentation
from reporting.packs.render._brand import using as _using_brand
from reporting.packs.render._draft import mark_pptx
from reporting.packs.render._properties import document_properties
from reporting.packs.render.pptx.deck import LANGUAGE, TextOverflowError, _Box, _Deck
from reporting.packs.render.pptx.flow import _place, _slide_order
from reporting.packs.render.pptx.placeholders import _fill_agendas, _finish_slide, _section_header
from reporting.packs.tree import (
    Contents,
    Cover,
    Heading,
    Pack,
)

__all__ = ["TextOverflowError", "render"]


# ---------------------------------------------------------------------------------------------------------
# the renderer
# ---------------------------------------------------------------------------------------------------------


def render(pack: Pack, path: Path) -> Path:
    """Write `pack` as a PowerPoint deck at `path`, in the colours of the pack's theme (see _render)."""
    with _using_brand(pack.theme):
        return _render(pack, path)


def _render(pack: Pack, path: Path) -> Path:
    """Write `pack` as a PowerPoint deck at `path` (from `pack.office["pptx"]`, else the default master).

    Raises ConfigError when the template lacks a layout or placeholder it needs, TextOverflowError when text
    cannot fit even at the minimum size; nothing is written unless the whole deck was built.
    """
    template = Path(pack.office.get("pptx", DEFAULT_PPTX))
    prs = open_presentation(template)
    for name in REQUIRED_LAYOUTS:
        layout(prs, name, template_path=template)  # every layout checked before any slide is made
    id_list = prs.slides._sldIdLst
    for sld_id in list(id_list):  # the template's own example slides
        rid = sld_id.rId
        id_list.remove(sld_id)
        prs.part.drop_rel(rid)
    X.count_partnames(prs.part.package)  # parts only grow from here (notes slides, charts: see _pptx_xml)
    body_ph = next(
        (
            p
            for p in iter(
                layout(prs, "Title and Content", template_path=template).placeholders
            )  # iter(): mypy misreads the class-level __iter__
            if p.placeholder_format.idx == 1
        ),
        None,
    )
    if body_ph is None:
        raise ConfigError("layout 'Title and Content' has no content placeholder (idx 1)", file=template)
    deck = _Deck(prs, pack, template, _Box(body_ph.left, body_ph.top, body_ph.width, body_ph.height))
    for s_index, section in enumerate(pack.sections, start=1):
        deck.where = f"section {s_index} '{section.title}'"
        deck.end_slide()
        listed = len(deck.section_slides)
        if pack.section_slides and not any(isinstance(b, Cover) for b in section.blocks):
            _section_header(section, deck)
        deck.start_topic(section.title, from_heading=False)
        first = len(prs.slides)  # the section's first own slide: after the cover and contents it may hold
        for b_index, block in _slide_order(section.blocks):
            deck.where = f"section {s_index} '{section.title}', block {b_index} ({type(block).__name__})"
            _place(block, deck)
            if isinstance(block, Cover | Contents):
                first = len(prs.slides)
            if isinstance(block, Heading) and block.level <= 2 and b_index == len(section.blocks):
                deck.fresh_slide()  # a heading with nothing under it still shows
        if len(deck.section_slides) == listed and len(prs.slides) > first:  # no header slide: the agenda still lists it
            deck.section_slides.append((section.title, prs.slides[first]))
    _fill_agendas(deck)
    for slide in prs.slides:
        _finish_slide(slide, deck)
    mark_pptx(prs)
    return save(prs, Path(path), document_properties(pack, LANGUAGE))
