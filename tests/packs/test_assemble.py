"""Template + real snapshot -> Pack tree, and the template errors that need data to show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from project_fixtures import assemble_pack, text_pack_project

from reporting.data.snapshot import latest_snapshot
from reporting.errors import ConfigError, DataError
from reporting.packs.tree import ChartBlock, DataTable, Pack, SummaryTable, Text
from reporting.project import Project


def test_monthly_pack_for_the_default_trust(demo_project: Project, assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org=None)
    assert (pack.org_code, pack.period.isoformat(), pack.period_label) == ("RJ1", "2025-07-01", "July 2025")
    assert pack.subtitle == "Guy's and St Thomas' NHS Foundation Trust – July 2025"
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    assert len(summary.rows) == 7
    ae = next(r for r in summary.rows if r.metric_id == "ae_4hr")
    # p' (A&E is overdispersed): common cause, and the limits straddle the 78% target
    assert ae.latest.text == "78.1%" and ae.target.text == "78.0%" and ae.variation_icon == "common_cause"
    assert ae.assurance == "inconsistent"
    assert ae.narrative == ""  # said once, under its chart (issue 13)
    assert any(
        p.startswith("A&E 4-hour performance was 78.1% in July 2025")
        for b in pack.blocks()
        if isinstance(b, Text)
        for p in b.paragraphs
    )
    charts = [b for b in pack.blocks() if isinstance(b, ChartBlock)]
    kinds = [c.spec.kind for c in charts]
    # Discharges before 5pm (last published May 2023) is said to be not current instead of charted
    assert kinds.count("spc") == 6 and {"funnel", "caterpillar", "league"} <= set(kinds)
    assert any(
        p == "Discharges before 5pm: no current data (latest: week of 22 May 2023), so no chart is shown."
        for b in pack.blocks()
        if isinstance(b, Text)
        for p in b.paragraphs
    )
    assert all(c.spec.alt_text for c in charts) and all(c.caption for c in charts)
    assert pack.provenance.snapshot_hash == latest_snapshot(demo_project.snapshots).hash
    # the same inputs give the same pack
    assert assemble_pack(demo_project, "monthly-performance", org=None) == pack


def test_other_trust_and_period(demo_project: Project, assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RXW", period="2024-03")
    assert pack.period_label == "March 2024" and pack.org_name.startswith("The Shrewsbury")
    with pytest.raises(DataError, match="no data for period 2030-01"):
        assemble_pack(demo_project, "monthly-performance", org="RXW", period="2030-01")
    with pytest.raises(DataError, match="no data for organisation 'RXX'"):
        assemble_pack(demo_project, "monthly-performance", org="RXX")


def test_metric_without_data_says_no_data(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RBV")  # a specialist trust with no A&E
    ae = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.title == "A&E 4-hour performance")
    assert ae.spec.message == "No data for this period"


def test_weekly_pack_shows_exceptions_only(assembled: Callable[..., Pack]) -> None:
    pack = assembled("weekly-executive", org="RJ1")
    assert pack.period_label == "week of 25 August 2025"
    exceptions = pack.sections[1].blocks
    spcs = [b for b in exceptions if isinstance(b, ChartBlock)]
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    flagged = {r.metric_id for r in summary.rows if str(r.variation_icon).startswith("concern")}
    assert {c.spec.title for c in spcs} >= {r.title for r in summary.rows if r.metric_id in flagged}


def test_board_appendix_has_definitions_and_data(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    tables = [b for b in pack.sections[-1].blocks if isinstance(b, DataTable)]
    assert tables[0].title == "Metric definitions" and len(tables[0].rows) == 7
    assert all(len(t.rows) <= 13 for t in tables[1:])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "refused by the template sandbox"),
        ("{{ narrative( }}", "template syntax error"),
        ("{{ no_such_name }}", "unknown name 'no_such_name' in the text"),
        ("{{ narrative('nope') }}", "narrative('nope'): unknown metric 'nope'"),
        ("{{ metric }}", "outside for_each there is no 'metric'"),
    ],
)
def test_jinja_errors_name_the_template_line(demo_project: Project, tmp_path: Path, text: str, message: str) -> None:
    project = text_pack_project(demo_project, tmp_path, text)
    with pytest.raises(ConfigError) as info:
        assemble_pack(project, "t", org="RJ1")
    assert message in str(info.value)
    assert str(info.value).startswith(str(project.root / "templates" / "packs" / "t.yaml") + ":8")


def test_text_renders_functions(demo_project: Project, tmp_path: Path) -> None:
    project = text_pack_project(
        demo_project, tmp_path, "{{ org_name }}: {{ value('ae_4hr') }} against {{ target('ae_4hr') }}"
    )
    pack = assemble_pack(project, "t", org="RJ1")
    text = pack.sections[0].blocks[0]
    assert isinstance(text, Text)
    assert text.paragraphs == ("Guy's and St Thomas' NHS Foundation Trust: 78.1% against 78.0%",)


def test_league_table_does_not_rank_trusts_without_every_metric(assembled: Callable[..., Pack]) -> None:
    """Specialist trusts without an A&E department have trolley-wait data only; ranked on that one metric
    they would top the table of general hospitals."""
    pack = assembled("monthly-performance", org="RXW")
    league = next(b for b in pack.blocks() if isinstance(b, DataTable) and b.title.startswith("League table"))
    top = league.rows[0]
    assert str(top[0].value).startswith("1 (") and top[2].text != "–"  # the top trust has A&E data; rank (interval)
    assert all(r[2].text != "–" for r in league.rows if r[0].text != "–")
    note = next(p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs if p.startswith("Not ranked"))
    assert "without data for every metric" in note
    ranked = {r[1].text for r in league.rows if r[0].text != "–"}
    assert "The Christie NHS Foundation Trust" not in ranked  # not ranked (or withheld: small numbers)
    assert "ranked" in (league.caption or "")
