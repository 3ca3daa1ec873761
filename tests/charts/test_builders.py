"""ChartSpecs built from engine results: colours and shapes per point type, rebase breaks, badges, alt text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spc_cases import case_result

from reporting.charts import (
    Theme,
    caterpillar_chart,
    funnel_chart,
    icon_chart,
    league_chart,
    sparkline_chart,
    spc_chart,
)
from reporting.charts.figure import to_figure
from reporting.charts.theme import Palette
from reporting.mdc import ASSURANCE, POINT_SYMBOLS, VARIATION
from reporting.stats.funnel import funnel, funnel_curve
from reporting.stats.variation import caterpillar


def test_spc_points_carry_colour_and_shape_of_their_point_type() -> None:
    points, summary = case_result("28_sample_kpi309_rebase_target")
    spec = spc_chart(points, summary, title="KPI 309", unit="count", decimals=0, org="Sample trust")
    data = spec.series[0]
    palette = Palette()
    for point_type, colour, symbol in zip(points["point_type"], data.point_colours, data.point_symbols, strict=True):
        assert colour == palette.point(point_type)
        assert symbol == POINT_SYMBOLS[point_type]
    assert {label for label, _, _ in spec.legend_markers} >= {"Special cause improvement", "Special cause concern"}
    assert [b.code for b in spec.badges] == [summary["variation_icon"], summary["assurance"]]
    assert spec.badges[0].letter == "H↑" and spec.badges[1].letter == "?"


def test_rebase_breaks_the_limits_into_one_series_per_group() -> None:
    points, summary = case_result("17_rebase_two_groups")
    spec = spc_chart(points, summary, title="Rebased", unit="count")
    means = [s for s in spec.series if s.role == "mean"]
    assert len(means) == 2
    first, second = (np.array([v is not None for v in s.y]) for s in means)
    assert not (first & second).any() and (first | second).all()
    assert means[0].show_in_legend and not means[1].show_in_legend
    group = points.sort_values("x")["rebase_group"].to_numpy()
    assert (first == (group == group.min())).all()


def test_alt_text_says_what_the_chart_shows() -> None:
    points, summary = case_result("28_sample_kpi309_rebase_target")
    spec = spc_chart(points, summary, title="KPI 309", unit="count", decimals=0, org="Sample trust")
    alt = spec.alt_text
    assert alt.startswith("SPC chart of KPI 309, Sample trust, May 2021 to May 2023, 25 points.")
    assert "Latest 58 (May 2023)." in alt
    assert "Special cause improvement (high)" in alt and "Target 30: target met inconsistently." in alt


def test_all_missing_says_no_data() -> None:
    points, summary = case_result("01_xmr_seed123_basic")
    empty = points.assign(y=np.nan)
    spec = spc_chart(empty, {}, title="Nothing", unit="count")
    assert spec.message == "No data for this period" and spec.series == ()
    assert "no data for this period" in spec.alt_text
    figure = to_figure(spec)
    assert any(a.text == "No data for this period" for a in figure.layout.annotations)
    assert sparkline_chart(empty, title="Nothing").message == "No data for this period"


def test_percent_axis_and_custom_theme_reach_the_figure() -> None:
    points, summary = case_result("32_pbi_p")
    theme = Theme().with_overrides({"font_size": 16, "palette": {"concern": "#E66100", "improvement": "#5D3A9B"}})
    spec = spc_chart(points, summary, title="p chart", unit="percent", theme=theme)
    figure = to_figure(spec)
    assert figure.layout.yaxis.tickformat.endswith("%")
    assert figure.layout.font.size == 16
    colours = set(figure.data[0].marker.color)
    expected = {theme.palette.point(t) for t in points["point_type"]}
    assert colours == expected
    with pytest.raises(ValueError, match="unknown palette colour"):
        Theme().with_overrides({"palette": {"orange": "#000000"}})


def test_funnel_caterpillar_league_from_real_data(calendar_2024: pd.DataFrame) -> None:
    result = funnel(
        calendar_2024,
        group="org_code",
        numerator="attendances_within_4hours",
        denominator="total_attendances",
        data_type="PR",
    )
    names = dict(zip(calendar_2024["org_code"], calendar_2024["org_name"], strict=True))
    spec = funnel_chart(
        result.points.assign(target=result.target),
        funnel_curve(result),
        title="4-hour, 2024",
        adjusted=result.limits_used == "adjusted",
        highlight="RXW",
        labels=names,
    )
    assert {s.role for s in spec.series} >= {"mean", "limit95", "limit998", "points", "highlight", "leader"}
    assert "141 providers" in spec.alt_text and "Shrewsbury" in spec.alt_text
    cat = caterpillar(
        calendar_2024,
        org="org_code",
        numerator="attendances_within_4hours",
        denominator="total_attendances",
        benchmark=0.78,
    )
    spec = caterpillar_chart(cat, title="4-hour, 2024", highlight="RXW", labels=names)
    assert spec.series[0].low is not None and spec.series[-1].role == "leader" and "rank 141 of 141" in spec.alt_text
    spec = league_chart(cat, value="value", title="4-hour, 2024", highlight="RJ1", labels=names)
    labels = spec.series[0].x
    assert len(labels) == 11 and labels[0].startswith("1. ") and any(label.endswith("◀") for label in labels)


def test_icons_cover_every_code() -> None:
    for code in [*VARIATION, *ASSURANCE]:
        spec = icon_chart(code)
        assert spec.badges[0].code == code and spec.badges[0].letter
    with pytest.raises(ValueError, match="unknown icon"):
        icon_chart("great")


def test_content_hash_changes_with_content_only() -> None:
    points, summary = case_result("01_xmr_seed123_basic")
    a = spc_chart(points, summary, title="A", unit="count")
    assert a.content_hash() == spc_chart(points, summary, title="A", unit="count").content_hash()
    assert a.content_hash() != spc_chart(points, summary, title="B", unit="count").content_hash()


def test_spc_charts_from_the_bundled_real_data() -> None:
    from pathlib import Path

    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import load
    from reporting.stats.spc import SPCOptions, spc_metrics

    root = Path(__file__).resolve().parents[2]
    catalogue = load_catalogue(root / "templates" / "metrics.yaml")
    data = load(catalogue, root)
    frame = data.metrics[data.metrics["org_code"] == "RJ1"]
    result = spc_metrics(
        frame,
        {
            m.id: SPCOptions(
                chart="p" if m.chart == "auto" else m.chart,  # type: ignore[arg-type]
                improvement=m.improvement,
            )
            for m in catalogue.metrics
        },
    )
    for metric in catalogue.metrics:
        points = result.points[result.points["metric_id"] == metric.id]
        summary = result.summary[result.summary["metric_id"] == metric.id].iloc[0].to_dict()
        spec = spc_chart(
            points,
            summary,
            title=metric.title,
            unit=metric.unit,
            decimals=metric.decimals,
            frequency=metric.frequency,
            org="Guy's and St Thomas'",
        )
        assert spec.message is None and len(spec.series[0].y) == len(points)
        assert spec.alt_text.startswith(f"SPC chart of {metric.title}, Guy's and St Thomas'")
        assert spec.badges and spec.badges[0].code == summary["variation_icon"]
