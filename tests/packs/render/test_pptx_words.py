"""The words the weekly deck puts beside its icons and under an empty selection say what the statistics say.

Found by a page-by-page read: the deck called special cause variation (low) "Neutral" (a COO reads that as
"nothing to see") while the workbook, the alt text and the chart said otherwise; and an empty exceptions
slide read "No metric meets the condition 'exception'", a query result rather than a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pptx import Presentation

from reporting.charts.export import Renderer
from reporting.mdc import VARIATION_SHORT
from reporting.packs.render import pptx as R
from reporting.packs.tree import Pack, SummaryTable, Text


def _deck(pack: Pack, renderer: Renderer, path: Path) -> list[str]:
    specs = pack.image_specs(["pptx"])
    images = renderer.render(specs)
    charted = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
    deck = Presentation(str(R.render(charted, path)))
    return [
        cell.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]


def test_variation_words_in_the_deck_match_the_icon(
    assembled: Callable[..., Pack], renderer: Renderer, tmp_path: Path
) -> None:
    pack = assembled("weekly-executive", org="RJ1")
    icons = {r.variation_icon for b in pack.blocks() if isinstance(b, SummaryTable) for r in b.rows}
    assert "neutral_low" in icons  # discharges per week: seven weeks below its mean (the case that was seen)
    cells = _deck(pack, renderer, tmp_path / "weekly.pptx")
    assert "Unusually low" in cells and "Neutral" not in cells
    assert VARIATION_SHORT["neutral_low"] == "Unusually low" and all(w != "Neutral" for w in VARIATION_SHORT.values())


def test_an_empty_selection_is_a_finding_not_a_query(assembled: Callable[..., Pack]) -> None:
    pack = assembled("weekly-executive", org="RJ1")
    notes = [p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs]
    assert not any("meets the condition" in p for p in notes)
    assert any(p.startswith("Nothing needs attention in ") and "worse than usual" in p for p in notes)
