"""The contents' headings are found by style name, each style id looked up once: the same paragraphs and levels as
python-docx's own `paragraph.style` for every paragraph, with unknown ids, character-style ids and no style."""

from __future__ import annotations

import docx
from docx.document import Document

from reporting.packs.render.docx.contents import LEVELS, headings


def _paper() -> Document:
    document = docx.Document()
    document.add_paragraph("Contents")
    document.add_heading("Summary", level=1)
    document.add_heading("Elective recovery", level=2)
    document.add_heading("  ", level=2)  # empty: not listed
    document.add_heading("Detail below the contents' depth", level=4)
    document.add_paragraph("Body text")
    unknown = document.add_paragraph("A style id the document does not define")
    unknown._p.style = "NoSuchStyle"  # python-docx falls back to the default paragraph style
    character = document.add_paragraph("A character style's id on a paragraph")
    character._p.style = "Heading1Char"  # not a paragraph style: the default again
    document.add_heading("Cancer", level=2)
    document.add_heading("Appendix", level=1)
    return document


def test_headings_are_those_python_docx_resolves_for_each_paragraph() -> None:
    document = _paper()
    assert [(p.text, level) for p, level in headings(document)] == [
        ("Summary", 1),
        ("Elective recovery", 2),
        ("Cancer", 2),
        ("Appendix", 1),
    ]
    expected = []
    for paragraph in document.paragraphs:
        name = paragraph.style.name if paragraph.style is not None else ""
        if name.startswith("Heading ") and name[8:].isdigit() and 1 <= int(name[8:]) <= LEVELS:
            if paragraph.text.strip():
                expected.append((paragraph._p, int(name[8:])))
    assert [(p._p, level) for p, level in headings(document)] == expected  # the same paragraph elements
