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
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from published import email_texts
from small_counts import CELLS, ORGS, PEER, plant

from reporting.charts import Renderer
from reporting.packs.build import build
from reporting.packs.template_load import template_files

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # every shipped pack, four organisations, 3 times

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in template_files(REPO))
FORMATS = ["pptx", "docx", "xlsx", "html"]
BUILT_AT = "2026-01-01T00:00:00+00:00"
_HASH = re.compile(rb"(?<![0-9a-f])[0-9a-f]{12,64}(?![0-9a-f])")  # snapshot/content hashes (12+ hex digits)

Published = dict[str, bytes]  # "pack/period/org/file[:part[:part]]" or "email ..." -> bytes


def _parts(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A file, or every part of a zip (Office file), recursing into embedded workbooks."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _parts(f"{name}:{member}", zf.read(member))
    else:
        yield name, _HASH.sub(b"HASH", data)


def publish(
    root: Path, level: str, packs: list[str], orgs: list[str], templates: Path = REPO / "templates"
) -> Published:
    project = plant(templates, root, level)
    out: Published = {}
    with Renderer(cache=root / "chart-cache") as renderer:
        for pack in packs:
            for result in build(project, pack, orgs=orgs, formats=FORMATS, renderer=renderer, built_at=BUILT_AT):
                where = result.directory.relative_to(project.root / "outputs")
                for path in sorted(result.directory.rglob("*")):
                    if path.is_file() and path.name != "manifest.json":
                        out.update(_parts(f"{where}/{path.name}", path.read_bytes()))
                texts = email_texts(result, project, renderer, pack)
                out[f"email {where}"] = _HASH.sub(b"HASH", "\n".join(f"{w}: {t}" for w, t in texts).encode())
    return out


def differences(one: Published, two: Published) -> list[str]:
    """Every part that differs, with the text around its first difference."""
    found = []
    for name in sorted(set(one) | set(two)):
        a, b = one.get(name), two.get(name)
        if a == b:
            continue
        if a is None or b is None:
            found.append(f"{name}: only in one build")
            continue
        i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        context = (a[max(0, i - 80) : i + 40], b[max(0, i - 80) : i + 40])
        found.append(f"{name}: {context[0]!r} <> {context[1]!r}")
    return found


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Published]:
    base = tmp_path_factory.mktemp("differential")
    return {level: publish(base / level, level, SHIPPED, [*ORGS, PEER]) for level in ("low", "high", "mixed")}


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
