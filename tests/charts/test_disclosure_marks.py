"""Suppressed points on SPC charts are marked, not plain gaps (issue 18): an asterisk on the centre line and
the legend entry "* Suppressed: fewer than N", the same in the image, the native PowerPoint chart (also what
Word embeds) and the native Excel chart; a real gap in the data stays a gap."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches
from spc_cases import case_result

from reporting.charts import spc_chart
from reporting.charts.figure import to_figure
from reporting.charts.native_pptx import add_native_chart
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.spc_charts import SUPPRESSED_LEGEND, SUPPRESSED_SYMBOL

LEGEND = SUPPRESSED_LEGEND.format(threshold=5)


def _withheld() -> tuple[pd.DataFrame, dict[str, object], list[pd.Timestamp], pd.Timestamp]:
    """A real case's points with two withheld (y NaN, as disclosure leaves them) and one plain gap."""
    points, summary = case_result("01_xmr_seed123_basic")
    points = points.sort_values("x").reset_index(drop=True)
    if not pd.api.types.is_datetime64_any_dtype(points["x"]):
        points["x"] = pd.date_range("2023-01-01", periods=len(points), freq="MS")
    hidden = [points["x"].iloc[5], points["x"].iloc[9]]
    gap = points["x"].iloc[14]
    points.loc[points["x"].isin([*hidden, gap]), "y"] = np.nan
    return points, summary, hidden, gap


def test_withheld_points_get_an_asterisk_on_the_centre_line_and_a_legend_entry() -> None:
    points, summary, hidden, gap = _withheld()
    spec = spc_chart(points, summary, title="Breaches", suppressed=[*hidden, pd.Timestamp("2001-01-01")])
    (marks,) = [s for s in spec.series if s.role == "suppressed"]
    assert marks.name == LEGEND and marks.mode == "markers" and set(marks.point_symbols or ()) == {SUPPRESSED_SYMBOL}
    at = {x: y for x, y in zip(marks.x, marks.y, strict=True) if y is not None}
    assert sorted(at) == [h.strftime("%Y-%m-%d") for h in hidden]  # not the plain gap, not a period off the chart
    mean = dict(zip(points["x"].dt.strftime("%Y-%m-%d"), points["mean"], strict=True))
    assert all(y == mean[x] for x, y in at.items())  # the centre line: nothing about the hidden value
    assert "2 points are suppressed (fewer than 5), marked *." in spec.alt_text
    plain = spc_chart(points, summary, title="Breaches")  # nothing withheld: the gaps stay gaps
    assert not [s for s in plain.series if s.role == "suppressed"] and "suppressed" not in plain.alt_text
    trace = next(t for t in to_figure(spec).data if t.name == LEGEND)
    assert set(trace.marker.symbol) == {"asterisk-open"} and trace.showlegend and trace.marker.line.width >= 2


def test_native_charts_draw_the_asterisk_and_name_it_in_the_legend(tmp_path: Path) -> None:
    points, summary, hidden, _ = _withheld()
    spec = spc_chart(points, summary, title="Breaches", suppressed=hidden)
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    add_native_chart(slide.shapes, spec, Inches(0.5), Inches(0.5), Inches(9), Inches(6.5))
    deck.save(tmp_path / "deck.pptx")
    chart = Presentation(tmp_path / "deck.pptx").slides[0].shapes[0].chart
    (series,) = [s for s in chart.plots[0].series if s.name == LEGEND]
    assert sum(v is not None for v in series.values) == 2
    ser = re.search(rf"<c:ser>(?:(?!</c:ser>).)*{re.escape(LEGEND)}.*?</c:ser>", chart.part.blob.decode(), re.S)
    assert ser and '<c:symbol val="star"/>' in ser.group(0)  # DrawingML's "star" is an asterisk
    assert '<c:size val="11"/>' in ser.group(0)  # all outline: drawn larger than a point
    book = Workbook()
    add_excel_chart(book.active, spec, "A1", data_row=1, data_col=20)
    book.save(tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "book.xlsx") as zf:
        xml = zf.read("xl/charts/chart1.xml").decode()
    names = re.findall(r"<(?:c:)?ser>.*?</(?:c:)?ser>", xml, re.S)  # openpyxl writes no prefix
    assert any('symbol val="star"' in s for s in names), "the Excel chart has no asterisk series"
    assert LEGEND in [c.value for c in book.active[1]]  # its data column, named as the legend shows


def test_a_pack_marks_the_periods_disclosure_withheld(tmp_path: Path) -> None:
    """Through the real pipeline: RXW's planted latest-month breach count is marked on all three A&E charts."""
    from project_fixtures import assemble_pack
    from small_counts import plant

    from reporting.packs.tree import ChartBlock

    project = plant(Path(__file__).resolve().parents[2] / "templates", tmp_path / "p", "low")
    pack = assemble_pack(project, "monthly-performance", org="RXW")
    marked = {}
    for block in pack.blocks():
        if isinstance(block, ChartBlock) and block.spec.kind == "spc" and block.spec.title.startswith("A&E"):
            (marks,) = [s for s in block.spec.series if s.role == "suppressed"]
            marked[block.spec.title] = [x for x, y in zip(marks.x, marks.y, strict=True) if y is not None]
    assert marked == {t: ["2025-07-01"] for t in marked} and len(marked) == 3, marked


def test_a_withheld_latest_month_is_said_as_withheld_not_as_no_value(tmp_path: Path) -> None:
    """The narrative under a chart whose latest month disclosure control withheld says so, and why, instead of
    "had no value for July 2025" (which reads as missing data); it names no count."""
    from project_fixtures import assemble_pack
    from small_counts import plant

    from reporting.packs.tree import Text

    project = plant(Path(__file__).resolve().parents[2] / "templates", tmp_path / "p", "low")
    pack = assemble_pack(project, "monthly-performance", org="RXW")
    texts = [p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs]
    withheld = [t for t in texts if "the figure for July 2025 is withheld to protect small numbers" in t]
    assert withheld and all("(fewer than 5, marked *)" in t for t in withheld), texts
    assert not [t for t in texts if "A&E" in t and "had no value for July 2025" in t]
