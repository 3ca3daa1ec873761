"""Rounding as NHS disclosure rules use it (issue 18): `disclosure: {suppress_below: 5, round_to: 5}` hides
counts under 5 and rounds the rest to the nearest 5; `rates_from` says whether rates and percentages are
derived from the rounded counts (the default) or kept from the exact ones. Checked on the rule, on a pack
built from the real data (every published count a multiple of 5, every percentage the rounded ratio), and
against the differential attacker: with rounding on, nothing published depends on a suppressed count."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from project_fixtures import assemble_pack
from small_counts import differences, plant, publish

from reporting.data.catalogue import load_catalogue
from reporting.errors import StatsError
from reporting.packs.tree import DataTable
from reporting.stats.disclosure import DisclosureRule, apply_disclosure, rule_of

REPO = Path(__file__).resolve().parents[2]
ROUNDED = "disclosure: {suppress_below: 5, round_to: 5}"


def _ratios() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric_id": "r",
            "org_code": ["A", "B", "C"],
            "period": pd.Timestamp("2025-01-01"),
            "value": [52 / 104, 3 / 40, 7 / 12],
            "numerator": [52.0, 3.0, 7.0],
            "denominator": [104.0, 40.0, 12.0],
        }
    )


def test_rates_come_from_the_rounded_counts_unless_the_rule_keeps_exact_ones() -> None:
    rounded = apply_disclosure(_ratios(), DisclosureRule(round_to=5, secondary=False))
    assert rounded["suppressed"].tolist() == [False, True, False]  # 3 is under the threshold: hidden, not rounded
    assert rounded.loc[0, ["numerator", "denominator"]].tolist() == [50, 105]
    assert rounded.loc[0, "value"] == pytest.approx(50 / 105)
    assert rounded.loc[2, ["numerator", "denominator", "value"]].tolist() == [5, 10, pytest.approx(0.5)]
    exact = apply_disclosure(_ratios(), DisclosureRule(round_to=5, secondary=False, rates_from="exact"))
    assert exact.loc[0, ["numerator", "denominator"]].tolist() == [50, 105]
    assert exact.loc[0, "value"] == pytest.approx(52 / 104) and np.isnan(exact.loc[1, "value"])
    with pytest.raises(StatsError, match="rates_from.*rounded, exact"):
        DisclosureRule(rates_from="nearest")  # type: ignore[arg-type]


def _rounded_catalogue(templates: Path, rates_from: str | None = None) -> None:
    catalogue = templates / "metrics.yaml"
    rule = ROUNDED if rates_from is None else ROUNDED[:-1] + f", rates_from: {rates_from}}}"
    catalogue.write_text(catalogue.read_text().replace("disclosure: {suppress_below: 5}", rule))


def test_the_catalogue_field_reaches_the_rule_and_a_bad_choice_is_a_located_error(tmp_path: Path) -> None:
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    _rounded_catalogue(tmp_path / "templates", "exact")
    catalogue = load_catalogue(tmp_path / "templates" / "metrics.yaml")
    assert rule_of(catalogue.metric("ae_4hr")) == DisclosureRule(5, 5, True, "exact")
    assert rule_of(catalogue.metric("ae_attendances")) == DisclosureRule()  # no rule: the default, no rounding
    path = tmp_path / "templates" / "metrics.yaml"
    path.write_text(path.read_text().replace("rates_from: exact", "rates_from: exactly", 1))
    with pytest.raises(Exception) as caught:
        load_catalogue(path)
    message = str(caught.value)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "rates_from: exactly" in text)
    assert f"metrics.yaml:{line}:" in message and "rates_from" in message
    assert "'rounded' or 'exact'" in message and "exactly" in message


def test_a_rounded_pack_publishes_multiples_of_five_and_rates_of_the_rounded_counts(tmp_path: Path) -> None:
    templates = tmp_path / "shipped"
    shutil.copytree(REPO / "templates", templates)
    _rounded_catalogue(templates)
    project = plant(templates, tmp_path / "p", "low")
    pack = assemble_pack(project, "monthly-performance", org="RJ1")
    checked = 0
    for block in pack.blocks():
        if not (isinstance(block, DataTable) and block.title.endswith(": data")):
            continue
        if not block.title.startswith(("A&E 4-hour", "A&E attendances", "Trolley")):
            continue
        names = [c.name for c in block.columns]
        for row in block.rows:
            cells = dict(zip(names, row, strict=True))
            num, den, value = cells["Numerator"].value, cells["Denominator"].value, cells["Value"].value
            if cells["Value"].suppressed or value is None:
                continue
            for count in (num, den):
                if isinstance(count, float):
                    assert count % 5 == 0, f"{block.title} {cells['Period'].text}: {count} is not rounded"
            if isinstance(num, float) and isinstance(den, float):
                assert value == pytest.approx(num / den), f"{block.title} {cells['Period'].text}"
            elif block.title.startswith("A&E attendances"):
                assert value % 5 == 0
            checked += 1
    assert checked > 30  # the A&E tables of two years, less the suppressed and missing months


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_with_rounding_on_nothing_published_depends_on_a_suppressed_count(tmp_path: Path) -> None:
    templates = tmp_path / "shipped"
    shutil.copytree(REPO / "templates", templates)
    _rounded_catalogue(templates)
    packs, orgs = ["monthly-performance"], ["RJ1", "R0B"]
    low = publish(tmp_path / "low", "low", packs, orgs, templates)
    high = publish(tmp_path / "high", "high", packs, orgs, templates)
    found = differences(low, high)
    assert found == [], "\n".join(found[:20])
    data = low["monthly-performance/2025-07-01/RJ1/monthly-performance-2025-07-01-RJ1-metrics.csv"].decode()
    counts = re.findall(r"^ae_over_4hr,RJ1,[^\n]*?,(\d{4}-\d\d-\d\d),([\d.]*),", data, re.M)
    assert counts and all(v == "" or float(v) % 5 == 0 for _, v in counts)  # the open data is rounded too


def test_pooled_comparison_counts_round_as_the_metric_and_its_links_do(tmp_path: Path) -> None:
    from reporting.stats.disclosure import round_pooled

    shutil.copytree(REPO / "templates", tmp_path / "templates")
    pooled = pd.DataFrame({"org_code": ["A", "B"], "numerator": [1232.0, 998.0], "denominator": [4321.0, 1002.0]})
    exact = load_catalogue(tmp_path / "templates" / "metrics.yaml")
    assert round_pooled(pooled, exact, "ae_4hr").equals(pooled)  # no rule rounds: unchanged
    _rounded_catalogue(tmp_path / "templates")
    catalogue = load_catalogue(tmp_path / "templates" / "metrics.yaml")
    out = round_pooled(pooled, catalogue, "ae_attendances")  # no rule of its own: rounds with ae_4hr
    assert out["numerator"].tolist() == [1230, 1000] and out["denominator"].tolist() == [4320, 1000]
    assert pooled["numerator"].tolist() == [1232.0, 998.0]  # a copy
