"""PowerPoint renderer: the flow's units, blocks kept with the block after them, and the order they go in.

A level-2 heading and the text under it (`_HeadedText`), and a table and the text under it (`_Noted`), are each
placed as one unit, so that headed paragraphs share a slide and a table's notes stay on its slide; `_slide_order`
makes the units and puts a chart's narrative above the chart; `_place` places one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reporting.packs.render._brand import current as _b
from reporting.packs.render._text_fit import _height, _Para, _paras, _Run
from reporting.packs.render.pptx.blocks import _block, _data_table, _summary_table, _text
from reporting.packs.render.pptx.deck import GAP, TABLE_PT, TEXT_INSET, TEXT_PT, _Deck, _flow_text
from reporting.packs.tree import Block, ChartBlock, DataTable, Heading, SummaryTable, Text


@dataclass(frozen=True)
class _HeadedText:
    """A level-2 heading and the text right under it: one unit of the flow (see `_headed_text`)."""

    heading: Heading
    text: Text


@dataclass(frozen=True)
class _Noted:
    """A table and the text right under it (its notes, "Data not current: ...", or the key to its icons), kept
    on the table's slide where they fit together (`_flow_table`)."""

    table: SummaryTable | DataTable
    notes: tuple[Text, ...]


def _place(unit: Block | _HeadedText | _Noted, deck: _Deck) -> None:
    """Place one unit of the slide order (`_slide_order`): a block by its rule, or a block kept with the next."""
    if isinstance(unit, _HeadedText):
        _headed_text(unit, deck)
    elif isinstance(unit, _Noted):
        _noted(unit, deck)
    else:
        _block(unit, deck)


#: a heading kept with its paragraph is a bold line in the flow at this size, and its text a step (2 pt) below
#: the style's own size, so an executive summary's short headed paragraphs share slides as they would in print
SUBHEAD_PT = 18
SUBHEAD_STEP = 2


def _headed_text(block: _HeadedText, deck: _Deck) -> None:
    """Short headed paragraphs share a slide, as a secretary lays out an executive summary: the heading is a bold
    line above its text on the current slide while that slide holds only text and the two fit together
    (`_text_fit`), else on the topic's next slide ("... (continued)"). After a table or a chart the heading
    titles a slide of its own, as any heading does, and later headed paragraphs flow under it."""
    paras, base = _headed_paras(block.heading.text, block.text)
    if block.heading.text.casefold() == deck.topic.casefold():
        _flow_text(deck, paras[1:], base)
    elif (deck.slide is not None and deck.prose) or deck.topic_slides == 0:
        _flow_text(deck, paras, base)
    else:
        deck.start_topic(block.heading.text, from_heading=True)
        _flow_text(deck, paras[1:], base)


def _slide_order(blocks: Sequence[Block]) -> list[tuple[int, Block | _HeadedText | _Noted]]:
    """(1-based index, block) in slide order: a level-2 heading and the text right under it are one
    `_HeadedText`, a table and the notes right under it one `_Noted`; a chart's narrative (the body text right after it) goes above the chart as the slide's
    headline, so the two share a slide instead of the text spilling onto the next."""
    order: list[tuple[int, Block | _HeadedText | _Noted]] = []
    for index, block in enumerate(blocks, start=1):
        previous = order[-1][1] if order else None
        if isinstance(block, Text) and isinstance(previous, Heading) and previous.level == 2:
            order[-1] = (order[-1][0], _HeadedText(previous, block))
        elif isinstance(block, Text) and isinstance(previous, SummaryTable | DataTable):
            order[-1] = (order[-1][0], _Noted(previous, (block,)))
        elif isinstance(block, Text) and isinstance(previous, _Noted):
            order[-1] = (order[-1][0], _Noted(previous.table, (*previous.notes, block)))
        else:
            order.append((index, block))
    i = 0
    while i < len(order) - 1:
        chart, text = order[i][1], order[i + 1][1]
        if isinstance(chart, ChartBlock) and isinstance(text, Text) and text.style == "body":
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2
        else:
            i += 1
    return order


def _headed_paras(heading: str, text: Text) -> tuple[list[_Para], float]:
    """A subhead and its text as one flow of paragraphs, and the size they go at (see SUBHEAD_PT)."""
    base = TEXT_PT[text.style] - SUBHEAD_STEP
    head = _Para((_Run(heading, bold=True, colour=_b().primary_dark),), factor=max(SUBHEAD_PT, base) / base)
    return [head, *_paras(text.paragraphs, colour=_b().muted if text.style == "note" else None)], base


def _noted(block: _Noted, deck: _Deck) -> None:
    """The table, then its text: at the text's own size, or at the table's size (12 pt) where only that lets
    the two share the table's slide."""
    heights = [
        sum(
            _height(_paras(t.paragraphs), size or TEXT_PT[t.style], deck.body.width) + 2 * TEXT_INSET + GAP
            for t in block.notes
        )
        for size in (None, TABLE_PT)
    ]
    if isinstance(block.table, SummaryTable):
        kept = _summary_table(block.table, deck, heights)
    else:
        kept = _data_table(block.table, deck, heights)
    for text in block.notes:
        if kept == 1:
            colour = _b().muted if text.style == "note" else None
            _flow_text(deck, _paras(text.paragraphs, colour=colour), TABLE_PT)
        else:
            _text(text, deck)
