"""Funnels, caterpillars and the benchmark trend say what they show (issue 12c): each line named for what it
is, every limit in order and on the axis, outliers told by colour AND shape in series LibreOffice keeps, and
the selected organisation's label clear of the data."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches

from reporting.charts import benchmark_chart, caterpillar_chart, funnel_chart
from reporting.charts.comparison_charts import _ordered
from reporting.charts.labels import place_label
from reporting.charts.native_kinds import value_axis_range
from reporting.charts.native_pptx import add_native_chart
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.spec import ChartSpec, leader_end
from reporting.charts.theme import Palette
from reporting.stats.funnel import FunnelResult, funnel, funnel_curve
from reporting.stats.variation import caterpillar


def _funnel(calendar_2024: pd.DataFrame, **kw: object) -> tuple[FunnelResult, ChartSpec]:
    frame = calendar_2024.rename(
        columns={"org_code": "group", "attendances_within_4hours": "numerator", "total_attendances": "denominator"}
    )
    result = funnel(frame, data_type="PR")
    names = dict(zip(calendar_2024["org_code"], calendar_2024["org_name"], strict=True))
    spec = funnel_chart(
        result.points.assign(target=result.target),
        funnel_curve(result),
        title="A&E 4-hour",
        adjusted=result.limits_used == "adjusted",
        highlight="RJ1",
        labels=names,
        **kw,  # type: ignore[arg-type]
    )
    return result, spec


def _by_role(spec: ChartSpec, role: str) -> list:  # type: ignore[type-arg]
    return [s for s in spec.series if s.role == role]


def test_the_centre_line_is_the_peer_average_and_the_target_is_drawn_apart(calendar_2024: pd.DataFrame) -> None:
    result, spec = _funnel(calendar_2024, target=0.78, centre="Peer average (acute trusts)")
    (centre,) = _by_role(spec, "mean")
    (target,) = _by_role(spec, "target")
    assert centre.name.startswith("Peer average (acute trusts): ") and set(centre.y) == {result.target}
    assert target.name == "Target: 78.0%" and set(target.y) == {0.78}
    assert "the peer average (acute trusts) of" in spec.alt_text and "the target of 78.0%" in spec.alt_text
    _, without = _funnel(calendar_2024)
    assert not _by_role(without, "target")  # no catalogue target: no target line, and no line called one


def test_every_limit_drawn_is_in_order_and_on_the_value_axis(calendar_2024: pd.DataFrame) -> None:
    result, spec = _funnel(calendar_2024)
    raw = funnel_curve(result)
    prefix = "od_" if result.limits_used == "adjusted" else ""
    # the engine's coarse curve folds back at tiny denominators: a 95% limit outside the 99.8% one
    assert (raw[f"{prefix}ucl95"] > raw[f"{prefix}ucl998"]).any() or (raw["ucl95"] > raw["ucl998"]).any()
    drawn = _ordered(raw, prefix, result.points)
    assert (drawn[f"{prefix}ucl95"] <= drawn[f"{prefix}ucl998"]).all()
    assert (drawn[f"{prefix}lcl95"] >= drawn[f"{prefix}lcl998"]).all()
    assert drawn["denominator"].min() <= result.points["denominator"].min()  # the smallest provider is inside
    (up95,) = [s for s in spec.series if s.name == "95% limits"]
    (up998,) = [s for s in spec.series if s.name == "99.8% limits"]
    assert all(a <= b for a, b in zip(up95.y, up998.y, strict=True) if a is not None and b is not None)
    low, high, _ = value_axis_range(spec)
    values = [v for s in spec.series for v in s.y if v is not None]
    assert low <= min(values) and high >= max(values) and high - low < 0.9  # fitted, not 0-100%


def test_outliers_are_a_series_per_side_coloured_better_or_worse(calendar_2024: pd.DataFrame) -> None:
    palette = Palette()
    _, higher = _funnel(calendar_2024, direction="higher_is_better")
    _, lower = _funnel(calendar_2024, direction="lower_is_better")
    for spec, above_colour in ((higher, palette.improvement), (lower, palette.concern)):
        sides = {s.name: s for s in _by_role(spec, "points") if s.name != "Providers"}
        (above,) = [s for name, s in sides.items() if name.startswith("Above")]
        below = [s for name, s in sides.items() if name.startswith("Below")]
        assert above.colour == above_colour and set(above.point_symbols) == {"triangle-up"}
        assert len(above.point_symbols) == len(above.x)  # one per point: plotly reads them point by point
        assert all(set(s.point_symbols) == {"triangle-down"} and s.colour != above.colour for s in below)
        assert not any(s.point_colours for s in spec.series)  # a colour per series: LibreOffice keeps it
    assert "(better)" in next(s.name for s in _by_role(higher, "points") if s.name.startswith("Above"))
    assert "(worse)" in next(s.name for s in _by_role(lower, "points") if s.name.startswith("Above"))


def test_the_label_goes_where_it_covers_no_point() -> None:
    subject = (0.5, 0.5)
    # a wall of points just above the subject: the label must go below (and a label box there is empty)
    wall = [(x, y) for x in np.linspace(0, 1, 60) for y in np.linspace(0.55, 0.95, 12)]
    x, y, above = place_label(subject, wall, 10)
    assert not above and y < 0.5
    w, h = 10 * 0.014, 0.1
    assert not [p for p in wall if x - w / 2 <= p[0] <= x + w / 2 and y - h <= p[1] <= y]
    assert place_label(subject, wall, 10) == (x, y, above)  # deterministic
    # with nothing in the way the nearest offset wins: straight above
    assert place_label(subject, [], 10) == (0.5, 0.62, True)


def test_the_funnel_subject_is_a_diamond_with_its_code_on_a_leader_line(calendar_2024: pd.DataFrame) -> None:
    _, spec = _funnel(calendar_2024)
    (mine,) = _by_role(spec, "highlight")
    (leader,) = _by_role(spec, "leader")
    assert mine.point_symbols == ("diamond",) and mine.name == "RJ1" and mine.labels is None  # the caption names it
    assert (leader.x[0], leader.y[0]) == (mine.x[0], mine.y[0]) and leader.labels[0] == ""
    assert leader.labels[leader_end(leader)].startswith("RJ1 ") and not leader.show_in_legend


def test_caterpillar_medians_are_named_for_their_groups(calendar_2024: pd.DataFrame) -> None:
    cat = caterpillar(
        calendar_2024, numerator="attendances_within_4hours", denominator="total_attendances", benchmark=0.78
    )
    names = dict(zip(calendar_2024["org_code"], calendar_2024["org_name"], strict=True))
    spec = caterpillar_chart(
        cat, title="4-hour", highlight="RJ1", labels=names, peers="acute trusts", england_median=0.7
    )
    assert [s.name for s in spec.series if s.role in {"peer_median", "median"}] == [
        f"Peer median: {cat['peer_median'].iloc[0]:.1%}",
        "England median, all organisations: 70.0%",
    ]
    assert spec.series[0].low is not None and spec.series[0].name == "Providers, with 95% intervals"
    (leader,) = _by_role(spec, "leader")
    assert sum(bool(t) for t in leader.labels) == 1 and "Guy" in leader.labels[leader_end(leader)]
    plain = caterpillar_chart(cat, title="4-hour")
    assert not _by_role(plain, "median") and _by_role(plain, "peer_median")[0].name.startswith("Median of the")


def test_native_charts_name_the_subject_and_title_the_x_axis(tmp_path: Path, calendar_2024: pd.DataFrame) -> None:
    _, spec = _funnel(calendar_2024, target=0.78)
    spec = ChartSpec(**{**spec.__dict__, "x_title": "A&E attendances, 12 months to July 2025"})
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    xml = add_native_chart(slide.shapes, spec, 0, 0, Inches(9), Inches(6)).chart.part.blob.decode()
    leader = next(i for i, s in enumerate(spec.series) if s.role == "leader")
    ser = re.findall(r"<c:ser>.*?</c:ser>", xml, re.S)[leader]
    end = leader_end(spec.series[leader])
    assert f'<c:dLbl><c:idx val="{end}"/>' in ser and '<c:showSerName val="1"/>' in ser
    assert 'formatCode="#,##0"' in xml and "A&amp;E attendances, 12 months to July 2025" in xml
    wb = Workbook()
    add_excel_chart(wb.active, spec, "A1", 1, 30)
    wb.save(tmp_path / "funnel.xlsx")
    with zipfile.ZipFile(tmp_path / "funnel.xlsx") as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert '<showSerName val="1"/>' in chart and 'formatCode="#,##0"' in chart
    assert "A&amp;E attendances, 12 months to July 2025" in chart


def test_benchmark_trend_names_every_line_and_its_period() -> None:
    periods = pd.date_range("2024-08-01", periods=12, freq="MS")
    frame = pd.DataFrame(
        {
            "period": periods,
            "value": np.linspace(0.7, 0.76, 12),
            "peer_median": 0.72,
            "england_median": 0.73,
            "benchmark": 0.78,
        }
    )
    frame.loc[3, "value"] = np.nan  # a gap stays a gap
    spec = benchmark_chart(frame, title="A&E 4-hour", name="Guy's", peers="acute trusts", benchmark_name="Target")
    assert spec.kind == "benchmark"
    assert [s.name for s in spec.series] == [
        "Guy's",
        "Peer median",
        "England median, all organisations",
        "Target",
    ]
    assert spec.series[0].y[3] is None
    assert "from Aug 2024 to Jul 2025" in spec.alt_text and "In Jul 2025: Guy's 76.0%" in spec.alt_text
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    xml = add_native_chart(slide.shapes, spec, 0, 0, Inches(9), Inches(6)).chart.part.blob.decode()
    assert xml.count("<c:ser>") == 4 and "England median, all organisations" in xml
