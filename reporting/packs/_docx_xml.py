"""Raw-XML tweaks python-docx lacks: fields, TOC, captions, row flags, sections, header/footer, alt text.

Everything here edits WordprocessingML directly, one small function per tweak, so the Word renderer
stays readable and each tweak can be tested on a tiny document. Fields are written as *complex*
fields (begin / instrText / separate / cached result / end) because that is what Word itself writes
and what LibreOffice imports most faithfully; the cached result is what a reader that never updates
fields shows, so we make it right wherever we can (caption numbers) and harmless where we cannot.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from docx.document import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.package import OpcPackage
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.parts.story import StoryPart
from docx.section import Section
from docx.shape import InlineShape
from docx.shared import Length
from docx.table import _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

__all__ = [
    "FIXED_TIME",
    "TOC_PLACEHOLDER",
    "add_caption",
    "add_field",
    "add_landscape_section",
    "add_portrait_section",
    "add_toc",
    "field_char",
    "instr_text",
    "prevent_row_split",
    "repeat_header_row",
    "set_cell_shading",
    "set_core_properties",
    "set_default_language",
    "set_header_footer",
    "set_picture_alt_text",
    "set_update_fields_on_open",
    "style_id",
]

FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Default creation time: a fixed stamp keeps the same pack content byte-stable between builds."""

TOC_PLACEHOLDER = "Contents: right-click and choose Update Field if this list is empty."
"""Cached TOC text until fill_toc writes the real entries (render/docx/contents.py does, once it has pages)."""

#: package -> (style name, type) -> its id (None: the type's default style), for `style_id`
_STYLE_IDS: weakref.WeakKeyDictionary[OpcPackage, dict[tuple[str, WD_STYLE_TYPE], str | None]] = (
    weakref.WeakKeyDictionary()
)


def style_id(part: StoryPart, name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> str | None:
    """The id python-docx's `style = name` setters write for the style `name` of `kind` (None for the default
    style), looked up once per document: python-docx finds a style by name, and the default style, by scanning
    every style on each `add_paragraph(style=...)`, `paragraph.style =` and `table.style =`. `part`: the
    document's or a header's or footer's part (they share the document's styles). The styles are not changed
    while a document is written, so the answer stays true."""
    ids = _STYLE_IDS.setdefault(part.package, {})
    if (name, kind) not in ids:
        ids[name, kind] = part.package.main_document_part.get_style_id(name, kind)
    return ids[name, kind]


# w:settings children that must come after w:updateFields (CT_Settings is a strict sequence).
_AFTER_UPDATE_FIELDS = (
    "w:hdrShapeDefaults",
    "w:footnotePr",
    "w:endnotePr",
    "w:compat",
    "w:docVars",
    "w:rsids",
    "m:mathPr",
    "w:attachedSchema",
    "w:themeFontLang",
    "w:clrSchemeMapping",
    "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures",
    "w:forceUpgrade",
    "w:captions",
    "w:readModeInkLockDown",
    "w:smartTagType",
    "sl:schemaLibrary",
    "w:shapeDefaults",
    "w:doNotEmbedSmartTags",
    "w:decimalSymbol",
    "w:listSeparator",
)
# w:rPr children that must come after w:lang, and w:tcPr children after w:shd.
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
_AFTER_SHD = (
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)
_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")


# --- fields -------------------------------------------------------------------------------------


def field_char(kind: str, dirty: bool = False) -> BaseOxmlElement:
    run = OxmlElement("w:r")
    char = OxmlElement("w:fldChar", {qn("w:fldCharType"): kind})
    if dirty:
        char.set(qn("w:dirty"), "true")
    run.append(char)
    return run


def instr_text(instruction: str) -> BaseOxmlElement:
    run = OxmlElement("w:r")
    instr = OxmlElement("w:instrText", {qn("xml:space"): "preserve"})
    instr.text = f" {instruction.strip()} "
    run.append(instr)
    return run


def add_field(paragraph: Paragraph, instruction: str, placeholder: str = "", dirty: bool = False) -> Run:
    """Append a complex field (`PAGE`, `NUMPAGES`, `SEQ Figure \\* ARABIC`, `TOC ...`) to a paragraph.

    `placeholder` is the cached result shown until the field is updated; `dirty` asks Word to update
    this one field on open. Returns the run holding the cached result, so callers can style it.
    """
    p = paragraph._p
    p.append(field_char("begin", dirty))
    p.append(instr_text(instruction))
    p.append(field_char("separate"))
    result = paragraph.add_run(placeholder)
    p.append(field_char("end"))
    return result


def set_update_fields_on_open(document: Document) -> None:
    """Ask Word to refresh every field (TOC page numbers above all) when the file is opened."""
    settings = document.settings.element
    found = settings.find(qn("w:updateFields"))
    if found is None:
        found = OxmlElement("w:updateFields")
        settings.insert_element_before(found, *_AFTER_UPDATE_FIELDS)
    found.set(qn("w:val"), "true")


def add_toc(
    target: Document | Paragraph,
    levels: str = "1-3",
    title: str | None = "Contents",
    placeholder: str = TOC_PLACEHOLDER,
) -> Paragraph:
    """Add a TOC field over Heading `levels`, marked dirty and with updateFields set so Word fills it.

    `target` is a document (append at the end) or an existing empty paragraph (fill it in place).
    `title`, if given, goes in its own "TOC Heading" paragraph before the field, so the title
    itself is not listed in the contents. Returns the paragraph holding the field.
    """
    if isinstance(target, Paragraph):
        paragraph, document = target, target.part.document  # type: ignore[attr-defined]  # a body paragraph's part is the DocumentPart
        if title:
            target.insert_paragraph_before(title, style="TOC Heading")
    else:
        document = target
        if title:
            document.add_paragraph(title, style="TOC Heading")
        paragraph = document.add_paragraph()
    add_field(paragraph, f'TOC \\o "{levels}" \\h \\z \\u', placeholder, dirty=True)
    set_update_fields_on_open(document)
    return paragraph


def _seq_count(document: Document, kind: str) -> int:
    """How many `SEQ kind` fields the body holds already (our own fields keep instrText in one run)."""
    count = 0
    for instr in document.element.body.iter(qn("w:instrText")):
        words = (instr.text or "").split()
        if words[:2] == ["SEQ", kind]:
            count += 1
    return count


def add_caption(document: Document, kind: Literal["Figure", "Table"], text: str, separator: str = ": ") -> Paragraph:
    """Append "Figure N: text" in the Caption style, N a SEQ field whose cached value is already N.

    Counting earlier captions of the same kind means the number is right even in readers that never
    update fields (previews, phones, some converters). Table captions go above their table, so they
    keep with the next paragraph.
    """
    number = _seq_count(document, kind) + 1
    paragraph = document.add_paragraph()
    paragraph._p.style = style_id(document.part, "Caption")  # what add_paragraph(style="Caption") sets
    paragraph.add_run(f"{kind} ")
    add_field(paragraph, f"SEQ {kind} \\* ARABIC", str(number))
    paragraph.add_run(f"{separator}{text}")
    if kind == "Table":
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


# --- tables -------------------------------------------------------------------------------------


def _set_row_flag(row: _Row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = tr_pr.find(qn(tag))
    if flag is None:
        flag = OxmlElement(tag)
        tr_pr.append(flag)  # CT_TrPrBase is an unordered choice, so appending is valid
    flag.attrib.pop(qn("w:val"), None)  # a bare flag means "on"


def repeat_header_row(row: _Row) -> None:
    """Repeat this row at the top of every page the table spans (w:tblHeader); use on leading rows."""
    _set_row_flag(row, "w:tblHeader")


def prevent_row_split(row: _Row) -> None:
    """Keep the row on one page rather than breaking it across pages (w:cantSplit)."""
    _set_row_flag(row, "w:cantSplit")


def set_cell_shading(cell: _Cell, fill: str) -> None:
    """Fill a table cell with a solid colour given as hex ("005EB8" or "#005EB8")."""
    value = fill.lstrip("#")
    if not _HEX.match(value):
        raise ValueError(f"cell shading must be six hex digits like '005EB8', got {fill!r}")
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = tc_pr.find(qn("w:shd"))
    if shd is None:
        shd = OxmlElement("w:shd")
        tc_pr.insert_element_before(shd, *_AFTER_SHD)
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), value.upper())


# --- sections, header and footer ------------------------------------------------------------------


def text_area(section: Section) -> tuple[Length, Length]:
    """(width, height) inside the margins. python-docx types page size and margins as optional because a
    sectPr may omit them; our templates always set them, so a missing one is the template's error."""
    sizes = (section.page_width, section.page_height, section.left_margin, section.right_margin)
    margins = (section.top_margin, section.bottom_margin)
    if any(v is None for v in (*sizes, *margins)):
        raise ValueError("the Word template's last section has no page size or margins (w:pgSz / w:pgMar)")
    width, height, left, right = (int(v or 0) for v in sizes)
    top, bottom = (int(v or 0) for v in margins)
    return Length(width - left - right), Length(height - top - bottom)


def _add_section(document: Document, orientation: WD_ORIENT) -> Section:
    section: Section = document.add_section(WD_SECTION.NEW_PAGE)
    width, height = section.page_width, section.page_height
    landscape = orientation == WD_ORIENT.LANDSCAPE
    if width is not None and height is not None and (width > height) != landscape:
        section.page_width, section.page_height = height, width
    section.orientation = orientation
    return section


def add_landscape_section(document: Document) -> Section:
    """Start a landscape section on a new page (for wide tables); header/footer stay linked.

    python-docx's Section proxies the document's final w:sectPr, so the returned object always means
    "the last section": finish setting it up before adding another section.
    """
    return _add_section(document, WD_ORIENT.LANDSCAPE)


def add_portrait_section(document: Document) -> Section:
    """Start a portrait section on a new page, e.g. to return after a landscape one."""
    return _add_section(document, WD_ORIENT.PORTRAIT)


def _clear(paragraphs: Iterable[Paragraph]) -> Paragraph:
    """Empty a header/footer down to its first paragraph and return that paragraph."""
    paragraphs = list(paragraphs)
    for extra in paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    first = paragraphs[0]
    for child in list(first._p):
        if child.tag != qn("w:pPr"):
            first._p.remove(child)
    return first


def _right_tab_only(paragraph: Paragraph, position: Length) -> None:
    """One right tab stop at `position`; the style's own stops (Footer has a centre one) are cleared."""
    stops = paragraph.paragraph_format.tab_stops
    stops.clear_all()
    inherited_stops = paragraph.style.paragraph_format.tab_stops if paragraph.style is not None else []
    for inherited in inherited_stops:
        if inherited.position != position:
            stops.add_tab_stop(inherited.position, WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(position, WD_TAB_ALIGNMENT.RIGHT)


def own_paragraphs(part: Any) -> tuple[Any, ...]:
    """Copies of a template header's or footer's own text paragraphs (its letterhead line, its reference), to
    keep in every section. Paragraphs holding pictures are left out: their images belong to the template's
    header part, and a copy in another section's part would point at nothing."""
    import copy

    kept = []
    for paragraph in part.paragraphs:
        xml = paragraph._p
        if paragraph.text.strip() and not xml.xpath(".//w:drawing | .//w:pict"):
            kept.append(copy.deepcopy(xml))
    return tuple(kept)


def set_header_footer(
    section: Section,
    header_text: str,
    footer_left_text: str,
    page_numbers: bool = True,
    *,
    keep_header: Sequence[Any] = (),
    keep_footer: Sequence[Any] = (),
) -> None:
    """Classification centred in the header; footer text on the left and "Page X of Y" on the right.
    `keep_header` / `keep_footer`: the template's own paragraphs (own_paragraphs), kept above ours, so a
    custom template's header is added to rather than replaced.

    The right tab stop sits at this section's text width, so the section gets its own (unlinked)
    header and footer: call this again for a landscape section to keep the page number flush right.
    """
    import copy

    section.header.is_linked_to_previous = False
    section.footer.is_linked_to_previous = False
    header = _clear(section.header.paragraphs)
    for kept in keep_header:
        header._p.addprevious(copy.deepcopy(kept))
    header._p.style = style_id(header.part, "Header")  # what `header.style = "Header"` sets
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header.add_run(header_text).bold = True
    footer = _clear(section.footer.paragraphs)
    for kept in keep_footer:
        footer._p.addprevious(copy.deepcopy(kept))
    footer._p.style = style_id(footer.part, "Footer")
    _right_tab_only(footer, text_area(section)[0])
    footer.add_run(footer_left_text)
    if page_numbers:
        footer.add_run("\tPage ")
        add_field(footer, "PAGE", "1")
        footer.add_run(" of ")
        add_field(footer, "NUMPAGES", "1")


# --- pictures and document properties -----------------------------------------------------------


def set_picture_alt_text(inline_shape: InlineShape, title: str, description: str) -> None:
    """Alt text screen readers announce for a picture (wp:docPr title + descr)."""
    doc_pr = inline_shape._inline.docPr
    doc_pr.set("title", title)
    doc_pr.set("descr", description)


def set_default_language(document: Document, language: str) -> None:
    """w:lang on the document-wide default run properties, so spelling and speech use `language`."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    r_pr_default = defaults.find(qn("w:rPrDefault"))
    if r_pr_default is None:
        r_pr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, r_pr_default)
    r_pr = r_pr_default.find(qn("w:rPr"))
    if r_pr is None:
        r_pr = OxmlElement("w:rPr")
        r_pr_default.append(r_pr)
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.insert_element_before(lang, *_AFTER_LANG)
    lang.set(qn("w:val"), language)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), language)


def set_core_properties(
    document: Document,
    title: str,
    author: str,
    subject: str = "",
    language: str = "en-GB",
    created: datetime = FIXED_TIME,
) -> None:
    """Title/author/subject/language for the file's properties, with fixed times for stable output."""
    props = document.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.subject = subject
    props.language = language
    props.created = created
    props.modified = created
    props.revision = 1
    set_default_language(document, language)
