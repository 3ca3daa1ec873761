"""Issue 11: every chart tells the truth about its baseline, data breaks, staleness and overdispersion.

On the bundled data for RJ1 (Guy's and St Thomas'), in the weekly, monthly and Board packs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from project_fixtures import assemble_pack, copy_project

from reporting.data.catalogue import load_catalogue
from reporting.data.snapshot import latest_snapshot
from reporting.errors import ConfigError, DataError
from reporting.packs.assembly import _shared_latest
from reporting.packs.build import prepare_build
from reporting.packs.template_load import load_template
from reporting.packs.tree import ChartBlock, DataTable, Pack, SummaryTable, Text
from reporting.project import Project


def _pack(project: Project, name: str, org: str = "RJ1", **kw: Any) -> Pack:
    return assemble_pack(project, name, org=org, **kw)


def _chart(pack: Pack, title: str) -> ChartBlock:
    return next(
        b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc" and b.spec.title == title
    )


def _series(block: ChartBlock, role: str) -> list[tuple[Any, float]]:
    return [(x, y) for s in block.spec.series if s.role == role for x, y in zip(s.x, s.y, strict=True) if y is not None]


def _texts(pack: Pack) -> list[str]:
    return [p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs]


def _copy(demo_project: Project, tmp_path: Path) -> Project:
    return copy_project(demo_project, tmp_path, ignore=shutil.ignore_patterns("outputs"))


# ------------------------------------------------------------------------------------------- 1. limits on the chart
def test_discharges_centre_line_is_the_mean_of_the_points_on_the_chart(
    demo_project: Project, assembled: Callable[..., Pack]
) -> None:
    pack = assembled("weekly-executive", org="RJ1")
    chart = _chart(pack, "Discharges per week (last 52 weeks)")
    data = [y for s in chart.spec.series if s.role == "data" for y in s.y if y is not None]
    means = {round(y, 6) for _, y in _series(chart, "mean")}
    assert len(chart.spec.series[0].x) == 52  # 52 weeks on the axis (gaps included)
    assert means == {round(float(np.mean(data)), 6)}  # 681.8-ish, not the 169-week 598.6
    assert abs(float(np.mean(data)) - 598.6) > 50
    purple = sum(1 for c in chart.spec.series[0].point_colours or () if c != pack.theme.palette.common_cause)
    assert purple < 48  # before: 48 of 52 points special cause


def test_every_view_is_computed_from_its_own_points(demo_project: Project) -> None:
    """The same metric in a 26-week exception chart and a 52-week chart: each has its own limits."""
    batch = prepare_build(demo_project, "weekly-executive", orgs=["RJ1"])
    views = batch.views["RJ1"]
    keys = [k for k in views if k[0] == "discharges_total"]
    assert {k[1] for k in keys} == {"52", "26"}
    pts = batch.points["RJ1"]
    for _, view in keys:
        mine = pts[(pts["metric_id"] == "discharges_total") & (pts["_view"] == view)]
        assert mine["mean"].dropna().nunique() == 1
        assert mine["mean"].iloc[-1] == pytest.approx(mine["y"].dropna().mean())
    assert batch.metric_views["discharges_total"][0].periods == 52  # its own chart is its home view


def test_alt_text_and_narrative_count_only_points_shown(demo_project: Project, assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    for block in (b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc"):
        alt = block.spec.alt_text
        shown = sum(1 for s in block.spec.series if s.role == "data" for y in s.y if y is not None)
        assert f", {shown} points." in alt
        if "special cause improvement and" in alt:
            imp, con = (int(w) for w in alt.split(" points in all")[0].split(".")[-1].split() if w.isdigit())
            assert imp + con <= shown


def test_trial_limits_and_fixed_baseline_are_said_on_the_chart(demo_project: Project, tmp_path: Path) -> None:
    project = _copy(demo_project, tmp_path)
    (project.root / "templates" / "packs" / "t.yaml").write_text(
        "pack: t\ntitle: T\ncadence: monthly\nformats: [pptx]\nsections:\n  - title: S\n    blocks:\n"
        "      - spc: {metric: ae_attendances, periods: 8}\n"
        "      - text: \"{{ narrative('ae_attendances') }}\"\n"
        "      - spc: {metric: ae_attendances, periods: 24, baseline: {points: 12}, title: Fixed}\n"
        "      - spc: {metric: ae_attendances, periods: 24, baseline: {from: 2023-01, to: 2023-12}, title: Period}\n"
    )
    pack = _pack(project, "t")
    short = _chart(pack, "A&E attendances")
    # December 2024 to July 2025, without February and March 2025 (not published): 6 points
    assert "trial limits, from 6 points" in short.caption and "Trial" not in short.spec.title + short.spec.subtitle
    assert "Trial limits: from 6 points." in _texts(pack)[0]
    fixed = _chart(pack, "Fixed")
    data = [y for _, y in _series(fixed, "data")]
    assert "limits fixed on" in fixed.caption and "(12 points)" in fixed.caption
    assert {round(y, 6) for _, y in _series(fixed, "mean")} == {round(float(np.mean(data[:12])), 6)}
    by_period = _chart(pack, "Period")
    assert by_period.spec.series[0].x[0] == "2023-01-01"  # the chart starts at the baseline
    assert "limits fixed on January 2023 to December 2023" in by_period.caption


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("{points: 30}", "baseline of 30 points is longer than the"),
        ("{from: 2015-01, to: 2016-01}", "is longer than the series"),
        ("{from: 2025-01, to: 2025-04}", "needs at least 12 points"),
    ],
)
def test_a_baseline_the_data_cannot_honour_is_an_error(
    demo_project: Project, tmp_path: Path, baseline: str, message: str
) -> None:
    project = _copy(demo_project, tmp_path)
    (project.root / "templates" / "packs" / "t.yaml").write_text(
        "pack: t\ntitle: T\ncadence: monthly\nformats: [pptx]\nsections:\n  - title: S\n    blocks:\n"
        f"      - spc: {{metric: ae_attendances, periods: 24, baseline: {baseline}}}\n"
    )
    with pytest.raises(DataError, match=message):
        _pack(project, "t")


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("{points: 1}", "greater than or equal to 2"),
        ("{from: 2023-01}", "needs both 'from' and 'to'"),
        ("{from: 2023-05, to: 2023-01}", "is before 'from'"),
        ("{from: May 2023, to: 2023-12}", "expected a period as YYYY-MM"),
        ("{point: 12}", "unknown key 'point' (did you mean 'points'?)"),
    ],
)
def test_bad_baselines_name_the_line(demo_project: Project, tmp_path: Path, baseline: str, message: str) -> None:
    project = _copy(demo_project, tmp_path)
    path = project.root / "templates" / "packs" / "t.yaml"
    path.write_text(
        "pack: t\ntitle: T\ncadence: monthly\nformats: [pptx]\nsections:\n  - title: S\n    blocks:\n"
        f"      - spc: {{metric: ae_attendances, baseline: {baseline}}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_template(project.root, "t")
    assert message in str(info.value) and str(info.value).startswith(f"{path}:8")


# ------------------------------------------------------------------------------------------------- 2. staleness
def test_discharges_before_5pm_is_not_current_and_not_an_exception(
    demo_project: Project, assembled: Callable[..., Pack]
) -> None:
    for name in ("weekly-executive", "monthly-performance", "board"):
        pack = assembled(name, org="RJ1")
        summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
        row = next(r for r in summary.rows if r.metric_id == "discharges_before_5pm")
        assert row.latest.text == "no current data" and row.period_label.startswith("w/c 22 May 2023, before this ")
        assert row.variation_icon is None and row.assurance is None and row.sparkline is None
        lines = [t for t in _texts(pack) if t.startswith("Data not current")]
        assert lines == [
            "Data not current: Discharges before 5pm (latest: week of 22 May 2023). Not shown as "
            "current variation or counted as exceptions."
        ]
        # no chart of old points anywhere, and no exception
        assert not any(isinstance(b, ChartBlock) and b.spec.title == "Discharges before 5pm" for b in pack.blocks())
    weekly = assembled("weekly-executive", org="RJ1")
    assert pack.period_label == "July 2025" and weekly.period_label == "week of 25 August 2025"
    assert not any(
        "Discharges before 5pm" in b.spec.title for b in weekly.sections[1].blocks if isinstance(b, ChartBlock)
    )
    board = assembled("board", org="RJ1")
    assert "Discharges before 5pm: no current data (latest: week of 22 May 2023), so no chart is shown." in _texts(
        board
    )


def test_the_default_period_is_the_latest_most_metrics_share() -> None:
    starts = pd.Series(
        pd.to_datetime(["2025-06-01", "2025-07-01", "2025-06-01", "2025-07-01", "2025-06-01", "2025-08-01"])
    )
    ids = pd.Series(["a", "a", "b", "b", "c", "c"])
    assert _shared_latest(starts, ids) == pd.Timestamp("2025-07-01")  # only c has August
    assert _shared_latest(
        starts[[0, 2, 4, 5]].reset_index(drop=True), ids[[0, 2, 4, 5]].reset_index(drop=True)
    ) == pd.Timestamp("2025-06-01")


@pytest.mark.parametrize(("value", "message"), [("-1", "greater than or equal to 0"), ("soon", "valid integer")])
def test_bad_max_lag_names_the_line(demo_project: Project, tmp_path: Path, value: str, message: str) -> None:
    project = _copy(demo_project, tmp_path)
    path = project.catalogue_file
    text = path.read_text().replace("    frequency: weekly\n", f"    frequency: weekly\n    max_lag: {value}\n", 1)
    path.write_text(text)
    line = text.splitlines().index(f"    max_lag: {value}") + 1
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    assert message in str(info.value) and str(info.value).startswith(f"{path}:{line}:")


def test_max_lag_keeps_an_older_metric_current(demo_project: Project, tmp_path: Path) -> None:
    project = _copy(demo_project, tmp_path)
    path = project.catalogue_file
    path.write_text(path.read_text().replace("    skip_missing: true\n", "    skip_missing: true\n    max_lag: 200\n"))
    pack = _pack(project, "monthly-performance")
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    row = next(r for r in summary.rows if r.metric_id == "discharges_before_5pm")
    assert not row.latest.text.startswith("no current data")


# ------------------------------------------------------------------------------------------ 3. breaks and rebases
def test_the_october_2023_break_rebases_admissions_and_trolley_waits(
    demo_project: Project, assembled: Callable[..., Pack]
) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    for title in ("Emergency admissions", "Trolley waits over 4 hours (share of emergency admissions)"):
        chart = _chart(pack, title)
        # the title is plain (issue 13a); the reason is said once, by the narrative under the chart
        assert "Break" not in chart.spec.subtitle and "recorded" not in chart.caption
        assert "not comparable with figures before October 2023 (change in how emergency admissions" in " ".join(
            _texts(pack)
        )
        data = [s for s in chart.spec.series if s.role == "data"]
        assert (
            len(data) == 2 and data[1].x[data[1].y.index(next(v for v in data[1].y if v is not None))] == "2023-10-01"
        )  # the line stops before the break and restarts
        mean_x = [x for x, _ in _series(chart, "mean")]
        assert len({y for x, y in _series(chart, "mean") if x >= "2023-10-01"}) == 1
        assert any(note[0] == "2023-10-01" for note in chart.spec.notes)
        assert "Break October 2023" in chart.spec.alt_text and mean_x
    texts = _texts(pack)
    assert any(
        t.startswith("Emergency admissions were")
        and t.endswith(
            "Emergency admissions: not comparable with figures before October 2023 "
            "(change in how emergency admissions are recorded)."
        )
        for t in texts
    )
    assert any(
        "Break, Emergency admissions, October 2023: change in how emergency admissions are recorded." == f
        for f in pack.footnotes
    )


def test_without_the_register_entry_the_step_is_a_special_cause(demo_project: Project, tmp_path: Path) -> None:
    project = _copy(demo_project, tmp_path)
    (project.root / "templates" / "annotations.yaml").write_text("annotations: []\n")
    pack = _pack(project, "monthly-performance")
    chart = _chart(pack, "Emergency admissions")
    assert "Break" not in chart.spec.subtitle and len([s for s in chart.spec.series if s.role == "data"]) == 1
    assert not any("not comparable" in t for t in _texts(pack))
    (project.root / "templates" / "annotations.yaml").unlink()  # no register at all: the same
    assert _chart(_pack(project, "monthly-performance"), "Emergency admissions").spec == chart.spec


def _register(project: Project, text: str) -> Path:
    path = project.root / "templates" / "annotations.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("entry", "message", "where"),
    [
        (
            "  - {metric: emergency_admision, org: RJ1, period: 2023-10, kind: break, reason: recording}\n",
            "unknown metric 'emergency_admision' (did you mean 'emergency_admissions'?)",
            ":2:",
        ),
        (
            "  - {metric: emergency_admissions, org: RJ1, period: 2023-10, kind: brake, reason: recording}\n",
            "expected one of 'rebase', 'break' or 'note'",
            ":2:",
        ),
        (
            "  - {metric: emergency_admissions, org: RJ1, period: Oct 2023, kind: break, reason: recording}\n",
            "expected a period as YYYY-MM",
            ":2:",
        ),
        (
            "  - {metric: emergency_admissions, org: RJ1, period: 2023-10, kind: break, reason: recording, why: x}\n",
            "unknown key 'why'",
            ":2:",
        ),
        (
            "  - {metric: emergency_admissions, org: RJ1, period: 2023-10, kind: break, reason: recording}\n"
            "  - {metric: [trolley_wait_4hr, emergency_admissions], org: RJ1, period: 2023-10-01, kind: break, "
            "reason: again}\n",
            "duplicate entry: break of 'emergency_admissions' for RJ1 in 2023-10-01 is also at line 2",
            ":3:",
        ),
    ],
)
def test_bad_register_entries_name_file_line_column(
    demo_project: Project, tmp_path: Path, entry: str, message: str, where: str
) -> None:
    project = _copy(demo_project, tmp_path)
    path = _register(project, "annotations:\n" + entry)
    with pytest.raises(ConfigError) as info:
        _pack(project, "monthly-performance")
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}{where}")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{metric: emergency_admissions, org: RJ9, period: 2023-10, kind: break, reason: recording}",
            "unknown organisation 'RJ9'",
        ),
        (
            "{metric: emergency_admissions, org: RJ1, period: 2030-01, kind: rebase, reason: recording}",
            "period 2030-01-01 is outside the data of 'emergency_admissions'",
        ),
        (
            "{metric: emergency_admissions, org: RJ1, period: 2025-07, kind: rebase, reason: recording}",
            "leaves 1 point(s) of 'emergency_admissions' at RJ1 from 2025-07-01; a group needs at least 2",
        ),
    ],
)
def test_register_entries_checked_against_the_data(
    demo_project: Project, tmp_path: Path, entry: str, message: str
) -> None:
    project = _copy(demo_project, tmp_path)
    path = _register(project, f"annotations:\n  - {entry}\n")
    with pytest.raises(ConfigError) as info:
        _pack(project, "monthly-performance")
    assert message in str(info.value) and str(info.value).startswith(f"{path}:2:")


def test_a_note_is_drawn_and_listed(demo_project: Project, tmp_path: Path) -> None:
    project = _copy(demo_project, tmp_path)
    _register(
        project,
        "annotations:\n  - {metric: ae_attendances, org: all, period: 2024-12, kind: note, "
        "reason: new urgent treatment centre opened}\n",
    )
    pack = _pack(project, "monthly-performance")
    chart = _chart(pack, "A&E attendances")
    assert "December 2024: new urgent treatment centre opened" in chart.caption
    assert len({y for _, y in _series(chart, "mean")}) == 1  # a note does not rebase
    assert (
        "Note, A&E attendances, December 2024 (all organisations): new urgent treatment centre opened."
        in pack.footnotes
    )


# ----------------------------------------------------------------------------------------------- 4. gaps are gaps
def test_missing_months_are_gaps_on_the_axis_and_no_data_in_tables(
    demo_project: Project, assembled: Callable[..., Pack]
) -> None:
    pack = assembled("board", org="RJ1")
    chart = _chart(pack, "A&E 4-hour performance")
    data = chart.spec.series[0]
    for month in ("2025-02-01", "2025-03-01"):
        assert month in data.x and data.y[data.x.index(month)] is None
    assert len(data.x) == 24
    table = next(b for b in pack.blocks() if isinstance(b, DataTable) and b.title == "A&E 4-hour performance: data")
    gaps = [r for r in table.rows if r[0].value in ("2025-02-01", "2025-03-01")]
    assert len(gaps) == 2 and all(r[1].text == "no data" for r in gaps)


# ---------------------------------------------------------------------------------------------- 5. overdispersion
def test_ae_4hr_uses_p_prime_with_limits_that_contain_its_common_cause_months(demo_project: Project) -> None:
    batch = prepare_build(demo_project, "monthly-performance", orgs=["RJ1"])
    row = batch.summaries["RJ1"]["ae_4hr"]
    assert row["chart_used"] == "pp" and row["sigma_z"] > 1.5
    pts = batch.points["RJ1"]
    ae = pts[(pts["metric_id"] == "ae_4hr") & (pts["_view"] == "24")]
    common = ae[ae["point_type"] == "common_cause"]
    assert len(common) >= len(ae.dropna(subset=["y"])) - 4  # before (p): 46 of 50 special cause
    assert ((common["y"] >= common["lpl"]) & (common["y"] <= common["upl"])).all()
    chart = _chart(batch.pack("RJ1"), "A&E 4-hour performance")
    assert "limits widened for overdispersion (Laney p′)" in chart.caption and "σ" not in chart.spec.subtitle


def test_auto_needs_a_ratio_metric(demo_project: Project, tmp_path: Path) -> None:
    project = _copy(demo_project, tmp_path)
    path = project.catalogue_file
    text = path.read_text()
    start = text.index("  - id: ae_attendances")
    text = text[:start] + text[start:].replace("    chart: xmr\n", "    chart: auto\n", 1)
    path.write_text(text)
    with pytest.raises(
        ConfigError,
        match="chart 'auto' chooses between p/p' and u/u' charts, so it needs a numerator and a denominator",
    ) as info:
        load_catalogue(path)
    assert str(info.value).startswith(f"{path}:")


def test_explicit_p_on_overdispersed_data_stays_p_and_review_warns(demo_project: Project, tmp_path: Path) -> None:
    from reporting.commands.review import review

    project = _copy(demo_project, tmp_path)
    path = project.catalogue_file
    path.write_text(path.read_text().replace("    chart: auto ", "    chart: p ", 1))
    batch = prepare_build(project, "monthly-performance", orgs=["RJ1"])
    assert batch.summaries["RJ1"]["ae_4hr"]["chart_used"] == "p"
    findings = [f for f in review(project, "monthly-performance", org="RJ1") if f.kind == "overdispersed"]
    assert [f.metrics for f in findings] == [("ae_4hr",)] and "Use chart: auto" in findings[0].message


# ----------------------------------------------------------------------------------------------------- 8. review
def test_review_suggests_the_october_2023_break(demo_project: Project, tmp_path: Path) -> None:
    from reporting.commands.review import review

    project = _copy(demo_project, tmp_path)
    _register(project, "annotations: []\n")
    steps = [f for f in review(project, "weekly-executive", org="RJ1") if f.kind == "step"]
    october = next(f for f in steps if f.evidence["period"] == "2023-10-01")
    assert set(october.metrics) == {"emergency_admissions", "trolley_wait_4hr"} and not october.registered
    ev = october.evidence["series"]["emergency_admissions"]
    assert ev["mean_before"] > 4000 and ev["mean_after"] < 2500 and ev["moving_range"] > ev["moving_range_limit"]
    assert "kind: break" in october.entry and "period: 2023-10" in october.entry and "org: RJ1" in october.entry
    # pasting the suggestion (with a reason) rebases both charts there
    _register(
        project,
        "annotations:\n" + october.entry.replace("<why: e.g. a recording or definition change>", "recording change"),
    )
    pack = _pack(project, "monthly-performance")
    assert "(recording change)" in " ".join(_texts(pack))
    again = next(f for f in review(project, "weekly-executive", org="RJ1") if f.evidence.get("period") == "2023-10-01")
    assert again.registered.endswith("annotations.yaml:2")
    stale = [f for f in review(project, "weekly-executive", org="RJ1") if f.kind == "stale"]
    assert [f.metrics for f in stale] == [("discharges_before_5pm",)]


# ------------------------------------------------------------------------------------------ 7. the pack's numbers
def test_data_file_agrees_with_native_chart_caches_and_excel_sheets(demo_project: Project, tmp_path: Path) -> None:
    import json
    import zipfile

    from lxml import etree
    from openpyxl import load_workbook

    from reporting.packs.build import build

    project = _copy(demo_project, tmp_path)
    result = build(
        project, "monthly-performance", orgs=["RJ1"], formats=["pptx", "xlsx"], built_at="2026-01-01T00:00:00+00:00"
    )[0]
    manifest = json.loads((result.directory / "manifest.json").read_text())
    data_path = result.directory / manifest["data"]["name"]
    assert manifest["data"]["schema"] == "docs/pack-data.md" and data_path.exists()
    doc = json.loads(data_path.read_text())
    assert doc["period"] == "2025-07-01" and doc["org"] == "RJ1"
    series = {s["metric"]: s for s in doc["series"] if s["view"]["primary"]}
    ae = series["ae_4hr"]
    assert ae["chart"] == {"catalogue": "auto", "used": "pp"} and ae["dispersion"]["overdispersed"]
    assert ae["period_shown"] == {"first": "2023-08-01", "last": "2025-07-01"} and len(ae["points"]) == 24
    assert ae["missing_periods"] == ["2025-02-01", "2025-03-01"]
    assert series["discharges_before_5pm"]["stale"] and series["discharges_before_5pm"]["points"] == []
    assert series["discharges_before_5pm"]["latest_available"] == "2023-05-22"
    assert series["emergency_admissions"]["annotations"] == [
        {"period": "2023-10-01", "kind": "break", "reason": "change in how emergency admissions are recorded"}
    ]
    assert series["emergency_admissions"]["baseline"]["first"] == "2023-10-01"

    # the PowerPoint chart's cached values
    ns = {
        "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
        "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    }
    pptx = next(f for f in result.files if f.suffix == ".pptx")
    with zipfile.ZipFile(pptx) as zf:
        charts = [etree.fromstring(zf.read(n)) for n in zf.namelist() if n.startswith("ppt/charts/chart")]
    chart = next(
        c
        for c in charts
        if "".join(c.xpath(".//c:title//a:t/text()", namespaces=ns)).startswith("A&E 4-hour performance –")
    )

    def cached(name: str) -> list[float | None]:
        ser = next(
            s for s in chart.xpath(".//c:ser", namespaces=ns) if s.xpath("string(c:tx//c:v)", namespaces=ns) == name
        )
        count = int(ser.xpath("string(c:val//c:ptCount/@val)", namespaces=ns))
        values: list[float | None] = [None] * count
        for pt in ser.xpath("c:val//c:pt", namespaces=ns):
            values[int(pt.get("idx"))] = float(pt.xpath("string(c:v)", namespaces=ns))
        return values

    def close(a: list[float | None], b: list[float | None]) -> bool:
        return len(a) == len(b) and all(
            (x is None and y is None) or (x is not None and y is not None and abs(x - y) < 1e-9) for x, y in zip(a, b)
        )

    assert close(cached("Data"), [p["value"] for p in ae["points"]])
    assert close(cached("Mean"), [p["mean"] for p in ae["points"]])

    # the Excel data sheet (the appendix's last 13 periods)
    xlsx = next(f for f in result.files if f.suffix == ".xlsx")
    ws = load_workbook(xlsx, read_only=True)["ae_4hr"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Period")
    sheet = [r for r in rows[header + 1 :] if r and r[0]]
    last13 = ae["points"][-13:]
    assert len(sheet) == 13
    for r, p in zip(sheet, last13, strict=True):
        assert str(r[0])[:10] == p["period"]
        value = r[1] if isinstance(r[1], (int, float)) else None
        assert (value is None) == (p["value"] is None)
        if value is not None:
            assert abs(value - p["value"]) < 1e-9 and abs(r[4] - p["mean"]) < 1e-9
            assert abs(r[5] - p["lower_limit"]) < 1e-9 and abs(r[6] - p["upper_limit"]) < 1e-9
            assert r[2] == p["numerator"] and r[3] == p["denominator"]


def test_pull_summary_counts_missing_periods_inside_each_series(demo_project: Project) -> None:
    from reporting.data.summary import missing_periods

    catalogue = load_catalogue(demo_project.catalogue_file)
    frame = pd.DataFrame(
        {
            "metric_id": "ae_attendances",
            "org_code": ["A", "A", "A", "B", "B"],
            "period": pd.to_datetime(["2025-01-01", "2025-04-01", "2025-05-01", "2025-01-01", "2025-02-01"]),
            "value": 1.0,
        }
    )
    assert missing_periods(catalogue.metric("ae_attendances"), frame) == (2, 1)  # A lacks Feb and Mar
    weekly = frame.assign(
        metric_id="discharges_total",
        period=pd.to_datetime(["2025-01-06", "2025-01-20", "2025-01-27", "2025-01-06", "2025-01-13"]),
    )
    assert missing_periods(catalogue.metric("discharges_total"), weekly) == (1, 1)
    snapshot = latest_snapshot(demo_project.snapshots).metrics
    total, orgs = missing_periods(catalogue.metric("ae_4hr"), snapshot)
    assert total >= 2 * orgs > 100  # February and March 2025 were not published for anyone
