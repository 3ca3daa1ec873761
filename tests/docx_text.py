"""How the tests read a Word table's text size: what the file says, not what the renderer meant."""

from __future__ import annotations

from docx.table import _Cell


def cell_text_pt(cell: _Cell, normal: float) -> float:
    """The size a cell's text is set at: its runs' own size (a wide table's smaller text), else Normal's."""
    sizes = [r.font.size.pt for p in cell.paragraphs for r in p.runs if r.font.size is not None and r.text.strip()]
    return max(sizes, default=normal)
