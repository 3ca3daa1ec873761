"""The load-once, compute-once step of a many-organisation build: one vectorised SPC call for every
organisation, the same packs as building each organisation alone, and bad data failing only its own pack."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from reporting.data.catalogue import load_catalogue
from reporting.data.snapshot import Snapshot, latest_snapshot
from reporting.errors import DataError
from reporting.packs import batch as batch_module
from reporting.packs.batch import Batch, prepare
from reporting.packs.template_load import load_template
from reporting.packs.tree import ChartBlock, Pack, Text
from reporting.project import Project

ORGS = ["RJ1", "RXW", "RTH", "R0A", "RGT"]
BUILT_AT = "2026-01-01T00:00:00+00:00"


def _prepare(project: Project, orgs: list[str | None], snapshot: Snapshot | None = None, **kw: Any) -> Batch:
    template, doc, digest = load_template(project.root, "monthly-performance")
    return prepare(
        load_catalogue(project.catalogue_file),
        template,
        doc,
        digest,
        snapshot or latest_snapshot(project.snapshots),
        orgs=orgs,
        **kw,
    )


def test_one_spc_call_for_all_organisations_and_the_same_packs_as_alone(
    demo_project: Project, assembled: Callable[..., Pack], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = batch_module.spc_metrics

    def counting(frame: Any, options: Any) -> Any:
        calls.append(frame["org_code"].nunique())
        return real(frame, options)

    monkeypatch.setattr(batch_module, "spc_metrics", counting)
    batch = _prepare(demo_project, list(ORGS))
    assert calls == [len(ORGS)]  # every organisation's series in ONE vectorised call
    batch.warm()
    shared = len(batch.memo)
    assert shared >= 3  # funnel, caterpillar and league results are kept for every organisation's pack
    for org in ORGS:
        together = batch.pack(org, built_at=BUILT_AT)
        alone = assembled("monthly-performance", org=org, built_at=BUILT_AT)
        assert together == alone, org
    assert len(batch.memo) == shared  # later packs reuse, never recompute
    # what parallel workers receive
    again = pickle.loads(pickle.dumps(batch))
    assert again.pack("RXW", built_at=BUILT_AT) == batch.pack("RXW", built_at=BUILT_AT)


def test_bad_data_fails_only_that_organisations_pack(demo_project: Project) -> None:
    snapshot = latest_snapshot(demo_project.snapshots)
    metrics = snapshot.metrics.copy()
    poisoned = (metrics["org_code"] == "RXW") & (metrics["metric_id"] == "ae_4hr") & metrics["value"].notna()
    metrics.loc[poisoned, "numerator"] = metrics.loc[poisoned, "denominator"] * 2  # more breaches than patients
    batch = _prepare(demo_project, ["RJ1", "RXW", "NOPE", "RTH"], snapshot=replace(snapshot, metrics=metrics))
    assert set(batch.errors) == {"RXW", "NOPE"}
    with pytest.raises(DataError, match=r"RXW: .*denominator .* is below numerator"):
        batch.pack("RXW")
    with pytest.raises(DataError, match="no data for organisation 'NOPE'"):
        batch.pack("NOPE")
    pack = batch.pack("RJ1")
    assert pack.org_code == "RJ1" and batch.pack("RTH").org_code == "RTH"
    # RXW's invalid numerators keep it out of everyone's funnel and league table, and the pack says so
    notes = [t for b in pack.blocks() if isinstance(b, Text) for t in b.paragraphs if "left out" in t]
    assert notes and all("(RXW)" in t for t in notes)
    funnel = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "funnel")
    assert "RXW" not in str(funnel.spec.series)


def test_the_default_organisation_and_a_requested_period(demo_project: Project) -> None:
    batch = _prepare(demo_project, [None, "RXW"], period="2025-01")
    assert batch.default_org == "RJ1"
    assert batch.pack(None).org_code == "RJ1" and batch.pack("RXW").period_label == "January 2025"
    with pytest.raises(DataError, match="no data for period 2031-01"):
        _prepare(demo_project, ["RJ1"], period="2031-01").pack("RJ1")


def test_many_organisations_share_one_period(demo_project: Project) -> None:
    """North Middlesex (RAP) stopped reporting in December 2024: in a run for several trusts it gets an error
    naming the run's period, not a pack for an older month than everyone else's."""
    batch = _prepare(demo_project, ["RJ1", "RAP", "RXW"])
    assert {org: p.strftime("%Y-%m") for org, p in batch.periods.items()} == {"RJ1": "2025-07", "RXW": "2025-07"}
    with pytest.raises(
        DataError,
        match=r"RAP: no data for July 2025, the period of this run \(its latest is "
        r"December 2024\)",
    ):
        batch.pack("RAP")
    alone = _prepare(demo_project, ["RAP"])  # on its own, its latest period
    assert alone.pack("RAP").period_label == "December 2024"


@pytest.mark.slow
def test_all_orgs_means_those_with_data_for_the_period(demo_project: Project) -> None:
    from reporting.packs.build import orgs_with_data

    usable, left_out = orgs_with_data(demo_project, "monthly-performance")
    assert {"RJ1", "RXW"} <= set(usable) and "RAP" in left_out  # RAP stopped reporting in December 2024
    assert not set(usable) & set(left_out) and len(usable) > 100
    frame = latest_snapshot(demo_project.snapshots).metrics
    july = frame[(frame["period"] == "2025-07-01") & frame["value"].notna()]
    assert set(usable) == set(july["org_code"])  # exactly the trusts with a value for the run's month


def test_a_powerpoint_and_excel_pack_needs_no_browser(demo_project: Project, tmp_path: Any) -> None:
    """Every chart of the monthly pack is native in PowerPoint and Excel, and sparklines are drawn with Pillow:
    a national PPTX+XLSX burst never starts Chromium."""
    from reporting.charts import Renderer

    specs = _prepare(demo_project, ["RJ1"]).pack("RJ1").image_specs(["pptx", "xlsx"])
    assert specs and {s.kind for s in specs} == {"sparkline"}
    with Renderer(cache=tmp_path) as renderer:
        renderer.render(specs)
        assert not renderer.started and renderer.drawn == len(specs)
