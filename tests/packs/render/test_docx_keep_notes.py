"""The notes under a table (who is not shown, who is not ranked, the table's method) never sit alone on a page of
the Word paper (issue 13: the Board paper for RXW put the NOF league table's two notes on a landscape page of
their own). Read from LibreOffice's own layout: the .docx converted to PDF, page by page."""

from __future__ import annotations

from pathlib import Path

import pytest
from notes_pages import pages_of_notes_only, words
from office import to_pdf

from reporting.charts.export import Renderer
from reporting.packs.render import docx as D
from reporting.packs.render.docx import blocks as B
from reporting.packs.tree import DataTable, Pack, SummaryTable, Text


def _notes(pack: Pack) -> list[str]:
    """The texts that follow a table in the pack: its footnotes and the text blocks right under it."""
    notes: list[str] = []
    for section in pack.sections:
        after_table = False
        for block in section.blocks:
            if isinstance(block, DataTable | SummaryTable):
                notes += block.footnotes
                after_table = True
            elif isinstance(block, Text) and after_table:
                notes += block.paragraphs
            else:
                after_table = False
    return [words(n) for n in notes + list(pack.footnotes)]


@pytest.fixture(scope="module")
def board_rxw(assembled, renderer: Renderer) -> Pack:
    pack: Pack = assembled("board", org="RXW")
    specs = pack.chart_specs()
    images = renderer.render(specs)
    return pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})


@pytest.mark.parametrize("size", ["shipped", "body"])
def test_no_page_of_the_rxw_board_paper_holds_only_notes(
    board_rxw: Pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: str
) -> None:
    """As shipped (the wide table at 9 pt, one landscape page) and with the table at the body's size, where it
    takes two pages and only the keep holds its last rows and its notes together."""
    if size == "body":
        monkeypatch.setattr(B, "WIDE_TABLE_PT", None)
    notes = _notes(board_rxw)
    assert any("not shown" in n for n in notes) and any(n.startswith("Not ranked") for n in notes)  # the case
    pdf = to_pdf(D.render(board_rxw, tmp_path / "board-RXW.docx"), tmp_path)
    assert pages_of_notes_only(pdf, notes) == []


def test_the_check_finds_notes_left_alone_when_nothing_keeps_them(
    board_rxw: Pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the keep (the renderer as it was, the table at the body's size), the league table's notes fall
    to a page of their own."""
    monkeypatch.setattr(D, "keep_with_table", lambda elements: None)
    monkeypatch.setattr(B, "WIDE_TABLE_PT", None)
    pdf = to_pdf(D.render(board_rxw, tmp_path / "board-RXW.docx"), tmp_path)
    assert pages_of_notes_only(pdf, _notes(board_rxw)), "the check did not find the notes alone"
