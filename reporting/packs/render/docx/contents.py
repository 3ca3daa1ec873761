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
from pathlib import Path
from typing import TYPE_CHECKING

from reporting.office_package import save
from reporting.packs import _docx_xml as X
from reporting.packs.render import pdf as pdf_renderer
from reporting.packs.render._properties import document_properties

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph

    from reporting.packs.tree import Pack

__all__ = ["fill_contents", "headings"]

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
    if X._toc_paragraph(document) is None:
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
    X.fill_toc(document, entries, tab_pos=Emu(width).twips)
    save(document, Path(path), document_properties(pack))
    return True
