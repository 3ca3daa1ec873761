"""Open data beside the pack: a Frictionless Data Package validated with the `frictionless` library, holding
the pack's own numbers (the same latest values, icons and rank), suppressed exactly where the pack is,
listed in the manifest, switched off by `open_data: false`, and refused for a metric with no disclosure rule."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from project_fixtures import copy_project

from reporting.charts import Renderer
from reporting.errors import ConfigError
from reporting.packs.build import build, prepare_build
from reporting.packs.open_data import FIELDS, rows, write_data_package
from reporting.packs.tree import SummaryTable
from reporting.project import Project

frictionless = pytest.importorskip("frictionless")


@pytest.fixture
def project(demo_project: Project, tmp_path: Path) -> Project:
    return copy_project(demo_project, tmp_path)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_board_data_package_is_valid_and_says_what_the_pack_says(project: Project, renderer: Renderer) -> None:
    (result,) = build(project, "board", orgs=["RJ1"], formats=["html"], renderer=renderer)
    folder = result.directory
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    stem = "board-2025-07-01-RJ1"
    listed = result.manifest["open_data"]
    assert listed["descriptor"] == "datapackage.json" and [f["name"] for f in listed["files"]] == [
        "datapackage.json",
        f"{stem}-metrics.csv",
        f"{stem}-dictionary.csv",
    ]
    assert [p.name for p in result.open_data] == [f["name"] for f in listed["files"]]
    assert all(f["sha256"] and f["bytes"] > 0 for f in listed["files"])
    assert not {f["name"] for f in result.manifest["files"]} & {f["name"] for f in listed["files"]}
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "OGL-UK-3.0"
    assert [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]] == [n for n, _, _ in FIELDS]
    table = _read(folder / f"{stem}-metrics.csv")
    summary = next(b for b in result.tree.blocks() if isinstance(b, SummaryTable))
    for row in summary.rows:
        mine = [r for r in table if r["metric_id"] == row.metric_id]
        if row.sparkline is None:  # a stale metric: the pack shows no points, and neither does its open data
            assert row.latest.text == "no current data" and not mine
            continue
        data = next(s for s in row.sparkline.series if s.role == "data")
        assert len(mine) == len([y for y in data.y if y is not None])  # one row per period the pack shows
        latest = next(r for r in mine if r["variation"])
        assert latest["variation"] == (row.variation_icon or "") and latest["assurance"] == (row.assurance or "")
        assert float(latest["value"]) == pytest.approx(float(row.latest.value))
        assert all(r["org_code"] == "RJ1" and r["peer_group"] == "acute_type1" for r in mine)
    four_hour = next(r for r in table if r["metric_id"] == "ae_4hr" and r["variation"])
    assert (
        four_hour["rank"] == "25"
    )  # among the like-for-like peers ranked in the league table (all its metrics, none withheld)
    assert four_hour["target"] == "0.78"
    dictionary = _read(folder / f"{stem}-dictionary.csv")
    assert {d["metric_id"] for d in dictionary} == {r.metric_id for r in summary.rows}
    assert all(
        "Open Government Licence" in d["licence"] and d["definition"] and d["suppress_below"] for d in dictionary
    )


def test_suppressed_values_are_empty_exactly_where_the_pack_shows_a_star(project: Project) -> None:
    path = project.catalogue_file
    # every A&E 4-hour breach count under 5,000 is now a small number: suppressed in the pack and the data
    path.write_text(path.read_text().replace("disclosure: {suppress_below: 5}", "disclosure: {suppress_below: 5000}"))
    batch = prepare_build(project, "board", orgs=["RJ1"])
    pack = batch.pack("RJ1")
    table = rows(pack, batch)
    suppressed = [r for r in table if r["suppressed"]]
    assert suppressed, "the fixture suppresses some values"
    for r in suppressed:
        assert r["value"] is None and r["numerator"] is None and r["denominator"] is None and r["point_type"] == ""
    frame = batch.frames["RJ1"]
    for r in table:
        match = frame[(frame["metric_id"] == r["metric_id"]) & (frame["period"].astype(str).str[:10] == r["period"])]
        assert bool(match["suppressed"].iloc[0]) == r["suppressed"]
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    for row in summary.rows:
        if not any(r["metric_id"] == row.metric_id for r in table):
            assert row.latest.text == "no current data"  # stale: no points shown, no open data
            continue
        latest = next(
            r
            for r in table
            if r["metric_id"] == row.metric_id
            and r["period"] == max(x["period"] for x in table if x["metric_id"] == row.metric_id)
        )
        assert latest["suppressed"] == row.latest.suppressed


def test_open_data_false_writes_no_package(project: Project, renderer: Renderer) -> None:
    path = project.root / "templates" / "packs" / "weekly-executive.yaml"
    path.write_text(path.read_text() + "open_data: false\n")
    (result,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    assert not (result.directory / "datapackage.json").exists() and "open_data" not in result.manifest
    assert result.open_data == () and not list(result.directory.glob("*.csv"))


def test_a_metric_without_a_disclosure_rule_is_refused_naming_it(project: Project, tmp_path: Path) -> None:
    batch = prepare_build(project, "board", orgs=["RJ1"])
    pack = batch.pack("RJ1")
    metrics = [
        m.model_copy(update={"disclosure": None}) if m.id == "trolley_wait_4hr" else m for m in batch.catalogue.metrics
    ]
    broken = dataclasses.replace(batch, catalogue=batch.catalogue.model_copy(update={"metrics": metrics}))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ConfigError, match="metric 'trolley_wait_4hr' has no disclosure rule"):
        write_data_package(pack, broken, out, "x")
    assert list(out.iterdir()) == []


def test_a_pack_metric_missing_from_the_catalogue_is_named(project: Project, tmp_path: Path) -> None:
    batch = prepare_build(project, "board", orgs=["RJ1"])
    pack = batch.pack("RJ1")
    metrics = [m for m in batch.catalogue.metrics if m.id != "ae_over_4hr"]
    broken = dataclasses.replace(batch, catalogue=batch.catalogue.model_copy(update={"metrics": metrics}))
    with pytest.raises(ConfigError, match="ae_over_4hr"):
        write_data_package(pack, broken, tmp_path, "x")
