"""Raw-XML tweaks python-pptx lacks: alt text, decorative marks, slide-number fields, notes, language.

One small function per tweak, each tested on a tiny deck, so the PowerPoint renderer never touches
XML itself. Alt text and the decorative mark live on a shape's `cNvPr`, which every kind of shape
(picture, graphic frame holding a chart or table, group, autoshape, connector) carries as the first
child of its first child, so one lookup serves them all.
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

from lxml import etree
from pptx.opc.package import OpcPackage
from pptx.opc.packuri import PackURI
from pptx.oxml.ns import qn
from pptx.oxml.slide import CT_NotesSlide, CT_Slide
from pptx.oxml.xmlchemy import OxmlElement
from pptx.parts.slide import SlideLayoutPart
from pptx.presentation import Presentation
from pptx.shapes.base import BaseShape
from pptx.slide import NotesSlide, Slide, SlideLayout
from pptx.table import Table
from pptx.text.text import TextFrame, _Paragraph

__all__ = [
    "DECORATIVE_URI",
    "SLIDE_NUMBER_FIELD_ID",
    "add_slide",
    "add_slide_number",
    "count_partnames",
    "mark_decorative",
    "set_alt_text",
    "set_language",
    "set_speaker_notes",
    "set_table_header_row",
]

DECORATIVE_URI = "{C183D7F6-B498-43B3-948B-1728B52AA6E4}"
"""The a:ext uri Office uses for "Mark as decorative" (Office 2019 / 365)."""
_ADEC = "http://schemas.microsoft.com/office/drawing/2017/decorative"
SLIDE_NUMBER_FIELD_ID = "{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}"
"""A fixed field GUID (the one PowerPoint's own masters use), so repeated builds write identical XML."""


def _c_nv_pr(shape: BaseShape) -> Any:
    """The p:cNvPr of any shape: first child of the shape's non-visual properties (p:nvXxPr)."""
    found = shape._element.xpath("./*[1]/p:cNvPr")
    if not found:
        raise TypeError(f"{type(shape).__name__} has no p:cNvPr to carry alt text")
    return found[0]


def set_alt_text(shape: BaseShape, title: str, description: str) -> None:
    """Alt text a screen reader announces; works for pictures, charts, tables and groups alike."""
    c_nv_pr = _c_nv_pr(shape)
    c_nv_pr.set("title", title)
    c_nv_pr.set("descr", description)


def mark_decorative(shape: BaseShape) -> None:
    """Flag a purely decorative shape (rule, logo strip) so screen readers and checkers skip it.

    Office drops the description of a decorative shape, so we do too; the flag is an a:ext inside
    cNvPr's extLst, which is the last child cNvPr may have.
    """
    c_nv_pr = _c_nv_pr(shape)
    c_nv_pr.attrib.pop("descr", None)
    ext_lst = c_nv_pr.find(qn("a:extLst"))
    if ext_lst is None:
        ext_lst = OxmlElement("a:extLst")
        c_nv_pr.append(ext_lst)
    for ext in ext_lst.findall(qn("a:ext")):
        if ext.get("uri") == DECORATIVE_URI:
            ext_lst.remove(ext)
    ext = etree.SubElement(ext_lst, qn("a:ext"), uri=DECORATIVE_URI)
    etree.SubElement(ext, f"{{{_ADEC}}}decorative", nsmap={"adec": _ADEC}, val="1")


def _slide_number(part: Any) -> str:
    """The 1-based number of the slide owning `part`, or PowerPoint's "‹#›" on masters and layouts."""
    presentation = part.package.presentation_part.presentation
    for number, slide in enumerate(presentation.slides, start=1):
        if slide.part is part:
            return str(number)
    return "\u2039#\u203a"


def add_slide_number(target: TextFrame | _Paragraph, language: str = "en-GB") -> None:
    """Append a slide-number field (a:fld type="slidenum") to a paragraph, or a frame's last one.

    The cached text is the slide's real number, so viewers that do not evaluate fields still show it.
    """
    paragraph = target.paragraphs[-1] if isinstance(target, TextFrame) else target
    fld = OxmlElement("a:fld")
    fld.set("id", SLIDE_NUMBER_FIELD_ID)
    fld.set("type", "slidenum")
    r_pr = OxmlElement("a:rPr")
    r_pr.set("lang", language)
    text = OxmlElement("a:t")
    text.text = _slide_number(paragraph.part)
    fld.append(r_pr)
    fld.append(text)
    paragraph._p.insert_element_before(fld, "a:endParaRPr")


def set_language(text_frame: TextFrame, language: str = "en-GB") -> None:
    """Proofing/speech language on every run, field and paragraph end, so text typed later inherits it."""
    tx_body = text_frame._txBody
    for p in tx_body.xpath("./a:p"):
        for run in p.xpath("./a:r"):
            run.get_or_add_rPr().set("lang", language)
        for r_pr in p.xpath("./a:fld/a:rPr | ./a:br/a:rPr"):
            r_pr.set("lang", language)
        p.get_or_add_endParaRPr().set("lang", language)


class _PartnameCounter:
    """`OpcPackage.next_partname` without walking every part of the package on each call.

    python-pptx names each new notes slide, chart and embedded workbook by collecting the names of all the parts
    reachable from the package (a walk of every relationship) and taking the first free number counting down from
    one past their count; a deck of 30 slides with 10 charts walks its whole package some 50 times, a cost that
    grows with the square of the slides. This does that walk once per name template and then keeps the set
    itself, adding each name it hands out, and picks from it by the same rule, so every name is the one
    python-pptx would give. That holds while every part of a template's kind is named through it and none
    becomes unreachable (no `drop_rel` of a slide or chart) after its first call; the renderer drops parts (the
    template's own slides) only before it installs one."""

    def __init__(self, package: OpcPackage) -> None:
        self._package = package
        self._names: dict[str, set[str]] = {}  # name prefix -> the names of that kind in the package

    def __call__(self, tmpl: str) -> PackURI:
        prefix = tmpl[: (tmpl % 42).find("42")]  # python-pptx's own rule for the kind of a template
        names = self._names.get(prefix)
        if names is None:
            names = self._names[prefix] = {
                p.partname for p in self._package.iter_parts() if p.partname.startswith(prefix)
            }
        for n in range(len(names) + 1, 0, -1):
            candidate = tmpl % n
            if candidate not in names:
                names.add(candidate)
                return PackURI(candidate)
        raise AssertionError("unreachable: len(names) + 1 candidates for len(names) names")


def count_partnames(package: OpcPackage) -> None:
    """Let `package` name its new parts from a kept set instead of a walk of the package (`_PartnameCounter`).

    Call it once the deck's parts will only grow: after the template's own slides are dropped."""
    # an instance attribute shadows the method, for this package alone
    package.next_partname = _PartnameCounter(package)  # type: ignore[method-assign]


#: slide layout part -> the XML of the first slide python-pptx made from it (the layout's placeholders, no text)
_SLIDE_PROTOTYPES: weakref.WeakKeyDictionary[SlideLayoutPart, CT_Slide] = weakref.WeakKeyDictionary()


def add_slide(presentation: Presentation, slide_layout: SlideLayout) -> Slide:
    """`presentation.slides.add_slide(slide_layout)`, but each slide after a layout's first is a copy of that
    first one: python-pptx clones the layout's placeholders shape by shape for every slide, and they are the same
    for each (ids and names count within the slide). The part, its relationships and the slide id list entry are
    made in python-pptx's order (slide -> layout; presentation -> slide; p:sldId)."""
    from pptx.opc.constants import CONTENT_TYPE as CT
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.parts.slide import SlidePart

    slides = presentation.slides
    layout_part = slide_layout.part
    prototype = _SLIDE_PROTOTYPES.get(layout_part)
    if prototype is None:
        slide: Slide = slides.add_slide(slide_layout)
        _SLIDE_PROTOTYPES[layout_part] = copy.deepcopy(slide._element)
        return slide
    presentation_part = presentation.part
    slide_part = SlidePart(
        presentation_part._next_slide_partname, CT.PML_SLIDE, presentation_part.package, copy.deepcopy(prototype)
    )
    slide_part.relate_to(layout_part, RT.SLIDE_LAYOUT)
    r_id = presentation_part.relate_to(slide_part, RT.SLIDE)
    slides._sldIdLst.add_sldId(r_id)
    copied: Slide = slide_part.slide
    return copied


#: package -> its first new notes slide's XML as python-pptx made it (the notes master's placeholders, no text)
_NOTES_PROTOTYPES: weakref.WeakKeyDictionary[OpcPackage, CT_NotesSlide] = weakref.WeakKeyDictionary()


def _notes_slide(slide: Slide) -> NotesSlide:
    """The slide's notes slide, made as python-pptx's `slide.notes_slide` makes it, but from a copy of the deck's
    first one: python-pptx clones the notes master's placeholders shape by shape for every notes slide, and they
    are the same for each (slide image, body, slide number: no text, no reference to the slide). The parts and
    relationships are made in python-pptx's order (notes slide -> master, -> slide; slide -> notes slide)."""
    from pptx.opc.constants import CONTENT_TYPE as CT
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.parts.slide import NotesSlidePart

    part = slide.part
    package = part.package
    prototype = _NOTES_PROTOTYPES.get(package)
    if prototype is None or part.has_notes_slide:
        notes = slide.notes_slide
        if prototype is None:
            _NOTES_PROTOTYPES[package] = copy.deepcopy(notes._element)
        return notes
    notes_part = NotesSlidePart(
        package.next_partname("/ppt/notesSlides/notesSlide%d.xml"),
        CT.PML_NOTES_SLIDE,
        package,
        copy.deepcopy(prototype),
    )
    notes_part.relate_to(package.presentation_part.notes_master_part, RT.NOTES_MASTER)
    notes_part.relate_to(part, RT.SLIDE)
    part.relate_to(notes_part, RT.NOTES_SLIDE)
    return slide.notes_slide  # python-pptx's, which now finds the part


def set_speaker_notes(slide: Slide, text: str, language: str = "en-GB") -> None:
    """Replace the slide's speaker notes (we keep data sources and the snapshot hash there)."""
    frame = _notes_slide(slide).notes_text_frame
    if frame is None:
        raise ValueError("the notes master of this PowerPoint template has no body placeholder for notes")
    frame.text = text
    set_language(frame, language)


def set_table_header_row(table: Table) -> None:
    """Mark the first row as a header row (a:tblPr firstRow) so styles and screen readers treat it so."""
    properties = table._tbl.tblPr
    if properties is None:  # python-pptx always writes a:tblPr for a new table; an odd template may not
        properties = table._tbl.get_or_add_tblPr()
    properties.set("firstRow", "1")


#: fill_table_cell's tags in Clark notation, resolved once (qn was a fifth of its time)
_BODYPR = qn("a:bodyPr")
_ENDPARARPR = qn("a:endParaRPr")
_LSTSTYLE = qn("a:lstStyle")
_P = qn("a:p")
_PPR = qn("a:pPr")
_R = qn("a:r")
_RPR = qn("a:rPr")
_SOLIDFILL = qn("a:solidFill")
_SPCBEF = qn("a:spcBef")
_SPCPTS = qn("a:spcPts")
_SRGBCLR = qn("a:srgbClr")
_T = qn("a:t")
_TCPR = qn("a:tcPr")
_TXBODY = qn("a:txBody")


def fill_table_cell(
    tc: Any,
    paras: Any,
    size: float | None,
    fill: str,
    margins: tuple[int, int],
    para_gap: float,
    language: str = "en-GB",
) -> None:
    """Write one table cell's text, margins, middle anchoring and fill straight into its a:tc element.

    The same XML python-pptx's cell, paragraph and font properties produce, built in one pass: going through
    those properties for every cell of every table was the largest single cost of a deck. `paras` are the
    renderer's paragraphs (runs with text, bold, italic, colour; a size factor, level and alignment)."""
    from pptx.oxml.text import CT_RegularTextRun
    from pptx.util import Pt

    sub = etree.SubElement
    for child in list(tc):
        tc.remove(child)
    body = sub(tc, _TXBODY)
    sub(body, _BODYPR).set("wrap", "square")
    sub(body, _LSTSTYLE)
    if not paras:
        empty = sub(sub(body, _P), _ENDPARARPR)
        empty.set("lang", language)
        if size is not None:
            empty.set("sz", str(Pt(size).centipoints))
    for i, p in enumerate(paras):
        paragraph = sub(body, _P)
        props = sub(paragraph, _PPR)
        if p.level:
            props.set("lvl", str(p.level))
        if p.align is not None:
            props.set("algn", p.align.xml_value)
        if size is not None and i:
            sub(sub(props, _SPCBEF), _SPCPTS).set("val", str(Pt(para_gap * size * p.factor).centipoints))
        for r in p.runs:
            if not r.text:  # LibreOffice gives an empty run the default 18 pt line, taller than the row planned
                continue
            run = sub(paragraph, _R)
            r_pr = sub(run, _RPR)
            if size is not None:
                r_pr.set("sz", str(Pt(round(size * p.factor, 1)).centipoints))
            if r.bold:
                r_pr.set("b", "1")
            if r.italic:
                r_pr.set("i", "1")
            r_pr.set("lang", language)
            if r.colour:
                sub(sub(r_pr, _SOLIDFILL), _SRGBCLR).set("val", r.colour.lstrip("#").upper())
            sub(run, _T).text = CT_RegularTextRun._escape_ctrl_chars(r.text)
        end = sub(paragraph, _ENDPARARPR)
        end.set("lang", language)
        if size is not None:  # LibreOffice sizes every line to at least the end mark (18 pt if unset)
            end.set("sz", str(Pt(round(size * p.factor, 1)).centipoints))
    tc_pr = sub(tc, _TCPR)
    x, y = margins
    for name, value in (("marL", x), ("marR", x), ("marT", y), ("marB", y)):
        tc_pr.set(name, str(value))
    tc_pr.set("anchor", "ctr")
    sub(sub(tc_pr, _SOLIDFILL), _SRGBCLR).set("val", fill.lstrip("#").upper())
