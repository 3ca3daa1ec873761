"""The attacker test over EVERYTHING published (issue 18): a suppressed cell is safe only if nothing we
publish depends on its value.

An attacker solving equations (totals, complements, pooled peer figures, rates x denominators, means and
limits, rounded figures) can only narrow a hidden count if some published byte changes when that count
changes. So the test builds every shipped pack for three organisations with planted small counts (in every
metric family, one of them in the latest period, one a complement) and for a peer with none, from three
copies of the data that differ ONLY in those cells ("low": every planted count 1; "high": 4; "mixed": 4 and 1
alternately; all below the threshold of 5), and compares, file by file and part by part: the pack data file
(JSON), the open-data CSVs and datapackage.json, every XML part of the pptx/docx/xlsx (worksheet cells,
native-chart XML caches, alt text, slide notes), the workbooks embedded in every native chart, every chart
image, the HTML edition and the email the scheduler would send (subject, text and HTML bodies). Identical
output for every value in the suppressed range means no solver can determine a hidden count, or narrow it
to an interval: the pass criterion is stronger than "the rank of the equations does not pin it".

The one thing masked is the snapshot hash and the file hashes (manifest.json): a digest of the input data,
which changes with any input. The PDF is not built here (it is LibreOffice's drawing of the docx compared).

A control builds the weekly pack with the discharges' rule switched off and shows that the comparison finds
the leak and names the file and part.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from small_counts import CELLS, ORGS, PEER, Published, differences, publish

from reporting.packs.template_load import template_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.first,
    pytest.mark.timeout(2400),
]  # every shipped pack, four organisations, 3 times

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in template_files(REPO))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Published]:
    base = tmp_path_factory.mktemp("differential")
    templates = REPO / "templates"
    return {
        level: publish(base / level, level, SHIPPED, [*ORGS, PEER], templates) for level in ("low", "high", "mixed")
    }


def test_the_planted_cells_reach_the_packs_and_are_suppressed(published: dict[str, Published]) -> None:
    """The fixture is not vacuous: every planted cell is a period the packs show, marked suppressed."""
    metric_of = {
        "attendances_over_4hours": "ae_over_4hr",
        "emergency_admissions_over_4hours": "trolley_wait_4hr",
        "discharged_total": "discharges_total",
    }
    rows = [
        row
        for name, data in published["low"].items()
        if name.endswith("-metrics.csv")
        for row in csv.DictReader(io.StringIO(data.decode("utf-8")))
    ]
    for _file, org, period, column, _kind in CELLS:
        shown = [r for r in rows if (r["metric_id"], r["org_code"], r["period"]) == (metric_of[column], org, period)]
        assert shown, f"{org} {period} {column}: in no pack's open data"
        assert all(r["suppressed"] == "true" and r["value"] == "" for r in shown), f"{org} {period}: {shown[0]}"
    assert any(k.startswith("email ") for k in published["low"]) and any(":ppt/charts/" in k for k in published["low"])
    assert any(".xlsx:xl/embeddings/" in k or "embeddings/Microsoft_Excel" in k for k in published["low"])


@pytest.mark.parametrize("other", ["high", "mixed"])
def test_nothing_published_depends_on_a_suppressed_count(published: dict[str, Published], other: str) -> None:
    found = differences(published["low"], published[other])
    assert found == [], f"{len(found)} published part(s) depend on suppressed counts:\n" + "\n".join(found[:30])


def test_the_comparison_finds_a_leak_when_a_rule_is_switched_off(tmp_path: Path) -> None:
    """The control: with `discharges_total` left without disclosure (suppress_below: 0), the planted weekly
    counts are published, and the comparison says where."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    catalogue = templates / "metrics.yaml"
    text = catalogue.read_text()
    head, tail = text.split("  - id: discharges_total\n", 1)
    tail = tail.replace("    frequency: weekly\n", "    frequency: weekly\n    disclosure: {suppress_below: 0}\n", 1)
    catalogue.write_text(head + "  - id: discharges_total\n" + tail)
    low = publish(tmp_path / "low", "low", ["weekly-executive"], ["RJ1"], templates)
    high = publish(tmp_path / "high", "high", ["weekly-executive"], ["RJ1"], templates)
    found = differences(low, high)
    assert any(f.startswith("weekly-executive/2025-08-25/RJ1/weekly-executive-2025-08-25-RJ1.data.json") for f in found)
    assert any("-metrics.csv" in f for f in found) and any(":ppt/charts/" in f for f in found), found[:10]
