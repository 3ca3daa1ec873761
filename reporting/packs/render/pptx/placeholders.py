"""PowerPoint renderer: the slides that frame the content, and the footer/slide-number placeholders cloned from layouts."""

from __future__ import annotations

import copy
from typing import Any

from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.util import Inches

from reporting.errors import ConfigError
from reporting.packs import _pptx_xml as X
from reporting.packs.render._brand import current as _b
from reporting.packs.render._text_fit import (
    _fit,
    _Para,
    _para,
    _Run,
)
from reporting.packs.render.pptx.deck import (
    LANGUAGE,
    MIN_FOOTER_PT,
    MIN_TEXT_PT,
    TEXT_INSET,
    TextOverflowError,
    _Deck,
    _fixed_frame,
    _title,
    _write,
)
from reporting.packs.tree import (
    Section,
)

# ---------------------------------------------------------------------------------------------------------
# slides that frame the content
# ---------------------------------------------------------------------------------------------------------


def _section_header(section: Section, deck: _Deck) -> None:
    """The section's divider: its title alone. The subtitle placeholder is removed, not filled with the
    section's headings (the first of which read as a description: "How we compare with acute trusts" under
    "Urgent and emergency care"); the contents slide lists the sections."""
    slide = deck.add_slide("Section Header")
    _title(deck, slide, section.title, 36)
    body = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
    if body is not None:  # no empty prompt left behind
        body._element.getparent().remove(body._element)
    deck.section_slides.append((section.title, slide))


def _fill_agendas(deck: _Deck) -> None:
    numbers = {s.slide_id: n for n, s in enumerate(deck.prs.slides, start=1)}
    for slide, block in deck.agendas:
        body = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
        if body is None:
            raise ConfigError("layout 'Title and Content' has no content placeholder (idx 1)", file=deck.template)
        paras = [
            _Para((_Run(title), _Run(f"   slide {numbers[s.slide_id]}", colour=_b().muted)))
            for title, s in deck.section_slides
        ] or [_para("This pack has no sections.")]
        frame = body.text_frame
        _fixed_frame(frame)
        size = _fit(paras, body.width - Inches(0.35), body.height - 2 * TEXT_INSET, 20, MIN_TEXT_PT)
        if size is None:
            raise TextOverflowError(f"{block.title} (agenda)", f"{len(paras)} sections do not fit one agenda slide")
        _write(frame, paras, size)


def _clone_placeholder(slide: Any, kind: Any, deck: _Deck) -> Any:
    """Copy the layout's (else the master's) footer/slide-number placeholder onto the slide.

    Each layout's source is found once per deck (`_Deck.placeholder_sources`; layouts do not change while the
    deck is written), and the copy is wrapped as `slide.placeholders` would wrap it, without walking them."""
    from pptx.shapes.shapetree import SlideShapeFactory

    slide_layout = slide.slide_layout
    key = (str(slide_layout.part.partname), kind)
    if key not in deck.placeholder_sources:
        source = next((p for p in slide_layout.placeholders if p.placeholder_format.type == kind), None)
        if source is None:
            source = next(
                (p for p in slide_layout.slide_master.placeholders if p.placeholder_format.type == kind), None
            )
        if source is None:
            raise ConfigError(
                f"layout '{slide_layout.name}' and its master have no {kind.name} placeholder", file=deck.template
            )
        deck.placeholder_sources[key] = source._element
    element = copy.deepcopy(deck.placeholder_sources[key])
    element.xpath("./p:nvSpPr/p:cNvPr")[0].set("id", str(slide.shapes._next_shape_id))
    slide.shapes._spTree.append(element)
    return SlideShapeFactory(element, slide.placeholders)


def _finish_slide(slide: Any, deck: _Deck) -> None:
    pack = deck.pack
    footer = _clone_placeholder(slide, PP_PLACEHOLDER.FOOTER, deck)
    paras = [_para(pack.footer)]
    frame = footer.text_frame
    size = _fit(
        paras,
        footer.width - frame.margin_left - frame.margin_right,
        footer.height - frame.margin_top - frame.margin_bottom,
        10,
        MIN_FOOTER_PT,
    )
    if size is None:
        raise TextOverflowError("pack footer", f"'{pack.footer}' does not fit the footer placeholder")
    frame.word_wrap = True
    _write(frame, paras, size if size < 10 else None)
    number = _clone_placeholder(slide, PP_PLACEHOLDER.SLIDE_NUMBER, deck)
    number.text_frame.clear()
    X.add_slide_number(number.text_frame, LANGUAGE)
    for shape in slide.shapes:  # (table cells are written with their language: X.fill_table_cell)
        if shape.has_text_frame:
            X.set_language(shape.text_frame, LANGUAGE)
    prov = pack.provenance
    lines = [*deck.notes.get(slide.slide_id, [])]
    lines.append("Data sources: " + ("; ".join(prov.sources) if prov.sources else "none recorded"))
    lines.append(
        f"Data snapshot {prov.snapshot_hash}; template {prov.template_path} ({prov.template_hash}); "
        f"reporting {prov.package_version}."
    )
    lines += list(pack.footnotes)
    X.set_speaker_notes(slide, "\n".join(lines), LANGUAGE)
