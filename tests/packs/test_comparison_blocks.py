"""The funnel, variation and benchmark trend blocks on the shipped monthly pack (issue 12c): titles from the
catalogue, the outlier table beside the funnel, captions in plain words with their period."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.packs.tree import ChartBlock, DataTable, Pack


def _charts(pack: Pack, kind: str) -> list[ChartBlock]:
    return [b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == kind]


def test_funnel_axis_caption_and_outlier_table(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    (chart,) = _charts(pack, "funnel")
    assert chart.spec.x_title == "A&E attendances, 12 months to July 2025"
    assert "phi" not in chart.notes and "tau" not in chart.notes
    names = [s.name for s in chart.spec.series]
    assert any(n.startswith("Peer average") for n in names) and "Target: 78.0%" in names
    assert "Target" not in names  # the centre line is not called a target
    blocks = list(pack.blocks())
    table = blocks[blocks.index(chart) + 1]
    assert isinstance(table, DataTable) and table.title.endswith("providers outside the funnel limits")
    assert [c.name for c in table.columns] == [
        "Provider",
        "Value",
        "Denominator",
        "Limit crossed",
        "Compared with peers",
    ]
    crossed = {row[3].text for row in table.rows}
    assert crossed <= {"Above the 99.8% upper limit", "Below the 99.8% lower limit"} and crossed
    outliers = sum(len(s.x) for s in chart.spec.series if s.role == "points" and s.name != "Providers")
    assert len(table.rows) == outliers  # the table lists exactly the triangles on the chart


def test_variation_names_its_medians(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    (chart,) = _charts(pack, "caterpillar")
    names = [s.name for s in chart.spec.series]
    assert any(n.startswith("Peer median: ") for n in names)  # the group is in the title
    assert any(n.startswith("England median, all organisations: ") for n in names)
    assert "National median" not in " ".join(names)


def test_benchmark_trend_in_the_monthly_pack(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RXW")
    (chart,) = _charts(pack, "benchmark")
    assert chart.caption.endswith("August 2023 to July 2025") and chart.native
    assert "The Shrewsbury and Telford Hospital NHS Trust" in chart.spec.alt_text
    (mine, peer, england, target) = chart.spec.series
    assert peer.name == "Peer median" and england.name == "England median, all organisations"
    assert len(mine.x) == 24 and target.name == "Target" and {0.76, 0.78} == {v for v in target.y if v}


def test_benchmark_trend_bad_options_name_file_line_and_field(tmp_path: Path) -> None:
    from reporting.data.catalogue import load_catalogue
    from reporting.packs.checks import check_template
    from reporting.packs.template_load import load_template

    repo = Path(__file__).resolve().parents[2]
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    (tmp_path / "templates" / "metrics.yaml").write_text((repo / "templates" / "metrics.yaml").read_text())
    body = (
        "pack: t\ntitle: T\ncadence: monthly\nformats: [pptx]\nsections:\n  - id: one\n    title: One\n"
        "    blocks:\n      - benchmark_trend: {{metric: {metric}, {extra}}}\n"
    )
    cases = {
        ("ae_4hr", "period: 12"): "unknown key 'period' (did you mean 'periods'?)",
        ("ae_4hr", "periods: 1"): "periods",
        ("ae_4h", "periods: 12"): "unknown metric 'ae_4h' (did you mean 'ae_4hr'?)",
    }
    for (metric, extra), message in cases.items():
        (folder / "t.yaml").write_text(body.format(metric=metric, extra=extra))
        with pytest.raises(ConfigError) as info:
            template, doc, _ = load_template(tmp_path, "t")
            check_template(template, doc, load_catalogue(tmp_path / "templates" / "metrics.yaml"))
        assert message in str(info.value) and info.value.line == 9 and "t.yaml" in str(info.value)
