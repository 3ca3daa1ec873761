"""A hand-built Pack with every block type, for renderer tests (the assembler has its own tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from reporting.charts import Renderer, league_chart, sparkline_chart, spc_chart
from reporting.packs.office_templates import DEFAULT_DOCX, DEFAULT_PPTX
from reporting.packs.tree import (
    Cell,
    ChartBlock,
    Column,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    Provenance,
    Section,
    SummaryRow,
    SummaryTable,
    Text,
)
from reporting.stats.spc import SPCOptions, spc
from reporting.stats.variation import caterpillar

ROOT = Path(__file__).resolve().parents[1]
AWKWARD = 'Betsi Cadwaladr & <Gwynedd> "Ysbyty" – Bòrd'


def _series(org: str) -> tuple[pd.DataFrame, dict[str, object]]:
    frame = pd.read_csv(ROOT / "reporting" / "demo_data" / "ae_trust_monthly_2021_2025.csv")
    frame = frame[(frame["org_code"] == org) & frame["attendances_over_4hours"].notna()].copy()
    frame["x"] = pd.to_datetime(frame["period"])
    frame["num"] = frame["total_attendances"] - frame["attendances_over_4hours"]
    result = spc(
        frame,
        SPCOptions(chart="p", improvement="increase", target=0.78),
        x="x",
        y="num",
        numerator="num",
        denominator="total_attendances",
    )
    return result.points, result.summary.iloc[0].to_dict()


def sample_pack(cache: Path | None = None, *, rows: int = 40) -> Pack:
    """Every block type; chart images rendered (one browser) when `cache` is given."""
    points, summary = _series("RJ1")
    spc_spec = spc_chart(points, summary, title="A&E 4-hour performance", unit="percent", org="Guy's and St Thomas'")
    spark = sparkline_chart(points, title="A&E 4-hour performance", unit="percent")
    calendar = pd.read_csv(ROOT / "tests" / "data_fixtures" / "ae_trust_calendar_2024.csv")
    cat = caterpillar(calendar, org="org_code", numerator="attendances_within_4hours", denominator="total_attendances")
    league = league_chart(cat, value="value", title="4-hour league, 2024", highlight="RJ1")
    latest = Cell(0.781, "78.1%", "percent")
    summary_table = SummaryTable(
        "Performance summary",
        (
            SummaryRow(
                "ae_4hr",
                "A&E 4-hour performance",
                "July 2025",
                latest,
                Cell(0.78, "78.0%", "percent"),
                "improvement_high",
                "inconsistent",
                "A&E 4-hour performance was 78.1% in July 2025.",
                spark,
            ),
            SummaryRow(
                "trolley",
                f"Trolley waits {AWKWARD}",
                "July 2025",
                Cell(None, "*", "percent", suppressed=True),
                Cell(None, "–", "percent"),
                "concern_high",
                None,
                "=cmd|' /C calc'!A0 is not a formula.",
                None,
            ),
        ),
        caption="Latest month against target, with MDC icons",
    )
    columns = (
        Column("Organisation"),
        Column("Period", "date", "yyyy-mm-dd"),
        Column("Attendances", "count", "#,##0"),
        Column("Within 4 hours", "percent", "0.0%"),
    )
    table_rows = tuple(
        (
            Cell(f"=ORG{i}" if i == 0 else f"Trust {i} {AWKWARD if i == 1 else ''}".strip(), f"Trust {i}"),
            Cell(dt.date(2025, 7, 1).isoformat(), "2025-07-01", "date"),
            Cell(float(1000 + i), f"{1000 + i:,}", "count", suppressed=i == 2),
            Cell(0.7 + i / 1000, f"{70 + i / 10:.1f}%", "percent", rag="green" if i % 2 else "red"),
        )
        for i in range(rows)
    )
    table = DataTable(
        "A&E by trust",
        columns,
        table_rows,
        caption="Attendances and 4-hour performance",
        footnotes=("* Suppressed: fewer than 5 events.",),
        wide=True,
    )
    pack = Pack(
        id="sample",
        title=f"Sample pack {AWKWARD}",
        subtitle="Guy's and St Thomas' – July 2025",
        period=dt.date(2025, 7, 1),
        period_label="July 2025",
        classification="OFFICIAL",
        audience="Board",
        owner="Director of Performance",
        version="1.0",
        formats=("pptx", "docx", "xlsx"),
        sections=(
            Section(
                "Cover",
                (
                    Cover(
                        "Sample pack",
                        "July 2025",
                        (
                            ("Date", "22 November 2026"),
                            ("For", "Board"),
                            ("Report owner", "Director"),
                            ("Classification", "OFFICIAL"),
                        ),
                    ),
                    Contents(),
                ),
            ),
            Section(
                "Urgent care",
                (
                    Heading("Urgent and emergency care", 1),
                    Text(("Opening paragraph.", AWKWARD)),
                    summary_table,
                    ChartBlock(spc_spec, "A&E 4-hour performance, RJ1", notes="Source: NHS England A&E"),
                    Heading("League position", 2),
                    ChartBlock(league, "League, 2024"),
                    Commentary(
                        "ae_4hr",
                        "A&E 4-hour performance",
                        "Improving since April.",
                        "Keep the frailty unit open.",
                        "Chief Operating Officer",
                    ),
                    PageBreak(),
                ),
            ),
            Section("Appendix: data", (Heading("Data", 1), table), appendix=True),
        ),
        provenance=Provenance(
            "0123456789abcdef",
            "templates/packs/sample.yaml",
            "fedcba9876543210",
            "2026-11-22T03:00:00+00:00",
            "0.1.0",
            ("demo:ae_trust_monthly_2021_2025.csv",),
        ),
        office={"pptx": DEFAULT_PPTX, "docx": DEFAULT_DOCX},
        org_code="RJ1",
        org_name="Guy's and St Thomas'",
        footnotes=("Contains public sector information licensed under the Open Government Licence v3.0.",),
    )
    if cache is None:
        return pack
    with Renderer(cache=cache) as renderer:
        specs = pack.chart_specs()
        images = renderer.render(specs)
    return pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
