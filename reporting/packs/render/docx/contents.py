"""Word renderer: the table of contents filled in, with the page numbers LibreOffice lays the paper out on.

    fill_contents(pack, path, pdf=None, profile_dir=None) -> bool

`render` writes the TOC as a field whose cached text is a placeholder and asks Word to update fields on
open, which Word does with a prompt a board secretary should never see. After the PDF is made (LibreOffice
rebuilds the TOC there and exports the headings as bookmarks with their pages), this writes those entries
and page numbers into the .docx's TOC field as Word itself would (styles TOC 1-3, hyperlinks to `_Toc`
bookmarks, PAGEREF fields with the page as cached result) and removes the update-on-open request, so the
contents are right in Word, LibreOffice, previews and phones alike. Our own XML stays as it was otherwise
(styles, alt text, native charts, header rows), and the file goes back through reporting.office_package,
so it is still byte-identical when rebuilt.

Without a PDF of this .docx, one is made in a scratch folder (LibreOffice is needed; with none installed
the placeholder and the update request stay, and this returns False).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from reporting.office_package import save
from reporting.packs import _docx_xml as X
from reporting.packs.render import pdf as pdf_renderer
from reporting.packs.render._properties import document_properties

if TYPE_CHECKING:
    from docx.document import Document
    from docx.oxml.text.paragraph import CT_P
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.text.paragraph import Paragraph

    from reporting.packs.tree import Pack

__all__ = ["fill_contents", "fill_toc", "headings"]

LEVELS = 3  # the TOC field lists Heading 1-3 (add_toc's default, as _contents writes it)


def headings(document: Document) -> list[tuple[Paragraph, int]]:
    """The body's Heading 1-3 paragraphs with their levels, in order (what the TOC lists)."""
    found = []
    names: dict[str | None, str] = {}  # style id -> name: python-docx scans every style on each lookup
    for paragraph in document.paragraphs:
        style_id = paragraph._p.style
        if style_id not in names:
            style = paragraph.style  # python-docx's own resolution (unknown ids and other types: the default)
            names[style_id] = (style.name or "") if style is not None else ""
        name = names[style_id]
        if name.startswith("Heading ") and name[8:].isdigit() and 1 <= int(name[8:]) <= LEVELS:
            if paragraph.text.strip():
                found.append((paragraph, int(name[8:])))
    return found


def _match(
    listed: list[tuple[Paragraph, int]], bookmarks: list[tuple[int, str, int]]
) -> list[tuple[Paragraph, int, int]]:
    """Each heading with the page of its bookmark: matched in order by level and text (the PDF's bookmarks are
    the same headings, in the same order, plus any LibreOffice adds, which are skipped)."""
    entries, start = [], 0
    for paragraph, level in listed:
        text = " ".join(paragraph.text.split())
        for index in range(start, len(bookmarks)):
            b_level, b_title, page = bookmarks[index]
            if b_level == level and " ".join(b_title.split()) == text:
                entries.append((paragraph, level, page))
                start = index + 1
                break
        else:
            raise pdf_renderer.PdfError(f"heading {text!r} has no bookmark in the PDF: cannot number the contents")
    return entries


def fill_contents(pack: Pack, path: Path, pdf: Path | None = None, profile_dir: Path | None = None) -> bool:
    """Fill the TOC of the .docx at `path` (written by render from `pack`) from `pdf`, its LibreOffice PDF
    (made here when None). True if the file was rewritten; False when it has no TOC or no LibreOffice."""
    import docx
    from docx.shared import Emu

    document = docx.Document(str(path))
    if _toc_paragraph(document) is None:
        return False
    if pdf is None:
        if not pdf_renderer.libreoffice_available():
            return False
        with tempfile.TemporaryDirectory(prefix="reporting-toc-") as scratch:
            bookmarks = pdf_renderer.outline(pdf_renderer.to_pdf(path, Path(scratch), profile_dir=profile_dir))
    else:
        bookmarks = pdf_renderer.outline(pdf)
    entries = _match(headings(document), bookmarks)
    first = document.sections[0]
    width = (first.page_width or 0) - (first.left_margin or 0) - (first.right_margin or 0)
    fill_toc(document, entries, tab_pos=Emu(width).twips)
    save(document, Path(path), document_properties(pack))
    return True


# --- a filled table of contents --------------------------------------------------------------------


def _toc_paragraph(document: Document) -> Paragraph | None:
    """The paragraph that holds the TOC field's begin (add_toc writes the whole field in one paragraph)."""
    for paragraph in document.paragraphs:
        if any((instr.text or "").split()[:1] == ["TOC"] for instr in paragraph._p.iter(qn("w:instrText"))):
            return paragraph
    return None


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    """Wrap the paragraph's content in a bookmark `name` (what the TOC's hyperlink and PAGEREF point at)."""
    start = OxmlElement("w:bookmarkStart", {qn("w:id"): str(number), qn("w:name"): name})
    end = OxmlElement("w:bookmarkEnd", {qn("w:id"): str(number)})
    p = paragraph._p
    p_pr = p.find(qn("w:pPr"))
    if p_pr is None:
        p.insert(0, start)
    else:
        p_pr.addnext(start)
    p.append(end)


def _text_run(text: str) -> BaseOxmlElement:
    run = OxmlElement("w:r")
    t = OxmlElement("w:t", {qn("xml:space"): "preserve"})
    t.text = text
    run.append(t)
    return run


def _toc_entry(paragraph: CT_P, level: int, text: str, page: int, anchor: str, tab_pos: int) -> None:
    """One TOC line as Word writes it: style TOC n, a hyperlink to the heading's bookmark holding the text, a
    dot-leader tab and a PAGEREF field whose cached result is the page number."""
    p_pr = paragraph.get_or_add_pPr()
    p_pr.get_or_add_pStyle().val = f"TOC{level}"
    p_pr._remove_tabs()
    p_pr.get_or_add_tabs().append(
        OxmlElement("w:tab", {qn("w:val"): "right", qn("w:leader"): "dot", qn("w:pos"): str(tab_pos)})
    )
    link = OxmlElement("w:hyperlink", {qn("w:anchor"): anchor, qn("w:history"): "1"})
    link.append(_text_run(text))
    tab = OxmlElement("w:r")
    tab.append(OxmlElement("w:tab"))
    link.append(tab)
    link.append(X.field_char("begin"))
    link.append(X.instr_text(f"PAGEREF {anchor} \\h"))
    link.append(X.field_char("separate"))
    link.append(_text_run(str(page)))
    link.append(X.field_char("end"))
    paragraph.append(link)


def fill_toc(document: Document, entries: Sequence[tuple[Paragraph, int, int]], tab_pos: int) -> bool:
    """Fill the TOC field's cached result with `entries` (heading paragraph, level 1-3, page number), so the
    contents show in every reader without updating fields, and stop asking Word to update fields on open.

    Each heading gets a `_Toc` bookmark; each entry links to it and carries a PAGEREF field, which is what Word
    itself writes, so a later "Update field" in Word rebuilds the same list. `tab_pos` is the right tab stop
    for the page numbers, in twentieths of a point. Returns False (nothing changed) if there is no TOC field.
    """
    holder = _toc_paragraph(document)
    if holder is None:
        return False
    p = holder._p
    chars = [c for c in p.iter(qn("w:fldChar"))]
    separate = next(c for c in chars if c.get(qn("w:fldCharType")) == "separate").getparent()
    end = next(c for c in chars if c.get(qn("w:fldCharType")) == "end").getparent()
    for char in chars:
        char.attrib.pop(qn("w:dirty"), None)
    for child in list(p):  # the cached placeholder and the end go; begin/instr/separate stay in the first entry
        if child is end or (child.tag == qn("w:r") and p.index(child) > p.index(separate)):
            p.remove(child)
    used = [int(b.get(qn("w:id"), "0")) for b in document.element.body.iter(qn("w:bookmarkStart"))]
    number = max(used, default=0) + 1
    last = p
    for index, (heading, level, page) in enumerate(entries):
        anchor = f"_Toc{number:08d}"
        _bookmark(heading, anchor, number)
        number += 1
        if index == 0:
            target = p
        else:
            target = OxmlElement("w:p")  # a CT_P: get_or_add_pPr keeps the schema's order
            last.addnext(target)
        _toc_entry(target, level, heading.text, page, anchor, tab_pos)
        last = target
    last.append(X.field_char("end"))
    settings = document.settings.element
    for found in settings.findall(qn("w:updateFields")):
        settings.remove(found)
    return True
