"""Whole builds: files published atomically with a manifest, rebuilds give the same content, bad input
leaves outputs/ untouched, and an analyst can add a metric with YAML only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from project_fixtures import copy_project

from reporting.charts import Renderer
from reporting.errors import ConfigError, DataError
from reporting.packs.build import build
from reporting.packs.commentary_files import write_commentary_for_pack
from reporting.project import Project

pytestmark = pytest.mark.slow  # whole-pack builds


@pytest.fixture
def project(demo_project: Project, tmp_path: Path) -> Project:
    return copy_project(demo_project, tmp_path)


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_monthly_build_publishes_files_and_manifest(project: Project, renderer: Renderer) -> None:
    (result,) = build(project, "monthly-performance", renderer=renderer, built_at="2026-01-01T00:00:00+00:00")
    assert result.directory == project.outputs.resolve() / "monthly-performance" / "2025-07-01"
    names = sorted(p.name for p in result.directory.iterdir())
    stem = "monthly-performance-2025-07-01"
    assert names == sorted(
        [
            f"{stem}.pptx",
            f"{stem}.docx",
            f"{stem}.xlsx",
            f"{stem}.data.json",
            "manifest.json",
            "datapackage.json",
            f"{stem}-metrics.csv",
            f"{stem}-dictionary.csv",
        ]
    )
    manifest = json.loads((result.directory / "manifest.json").read_text())
    assert manifest["snapshot_hash"] and manifest["template_hash"] and manifest["parameters"]["org"] == "RJ1"
    assert {f["name"] for f in manifest["files"]} == {f"{stem}.pptx", f"{stem}.docx", f"{stem}.xlsx"}
    assert not [p for p in project.outputs.rglob(".building-*")]
    # same snapshot + template -> same content (timestamps aside)
    (again,) = build(project, "monthly-performance", renderer=renderer, built_at="2026-02-02T00:00:00+00:00")
    first = {f["name"]: f["content_sha256"] for f in manifest["files"]}
    second = {f["name"]: f["content_sha256"] for f in again.manifest["files"]}
    assert first == second


def test_build_per_org_and_formats(project: Project, renderer: Renderer) -> None:
    results = build(project, "weekly-executive", orgs=["RJ1", "RXW"], formats=["xlsx"], renderer=renderer)
    assert [r.directory.name for r in results] == ["RJ1", "RXW"]
    assert all(len(r.files) == 1 and r.files[0].suffix == ".xlsx" for r in results)
    book = load_workbook(results[1].files[0])
    assert book.sheetnames[0] == "Contents"


def test_bad_builds_leave_outputs_untouched(project: Project, renderer: Renderer) -> None:
    build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    before = _tree(project.outputs)
    with pytest.raises(DataError, match="no data for period 2031-01"):
        build(project, "weekly-executive", period="2031-01-06", renderer=renderer)
    with pytest.raises(ConfigError, match="outside"):
        build(project, "weekly-executive", out=project.root / "elsewhere", renderer=renderer)
    with pytest.raises(ConfigError, match="unknown format"):
        build(project, "weekly-executive", formats=["ppt"], renderer=renderer)
    bad = project.root / "templates" / "packs" / "weekly-executive.yaml"
    bad.write_text(bad.read_text().replace("- cover: {}", '- cover: {}\n      - text: "{{ nope }}"'))
    with pytest.raises(ConfigError, match="weekly-executive.yaml:2[0-9]"):
        build(project, "weekly-executive", renderer=renderer)
    assert _tree(project.outputs) == before


def test_commentary_round_trip(project: Project, renderer: Renderer) -> None:
    path = write_commentary_for_pack(project, "monthly-performance")
    book = load_workbook(path)
    sheet = book["Commentary"]
    header = [c.value for c in sheet[4]]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "ae_4hr")
    row[header.index("Commentary")].value = "Improving since the new frailty unit opened."
    row[header.index("Actions")].value = "- keep it open through winter"
    book.save(path)
    (result,) = build(project, "monthly-performance", formats=["xlsx"], renderer=renderer)
    text = " ".join(
        str(c.value) for ws in load_workbook(result.files[0]).worksheets for r in ws.iter_rows() for c in r if c.value
    )
    assert "Improving since the new frailty unit opened." in text and "- keep it open through winter" in text


def test_analyst_adds_a_metric_with_yaml_only(project: Project, renderer: Renderer) -> None:
    (project.root / "data").mkdir()
    (project.root / "data" / "cancer.csv").write_text(
        "month,trust,seen_within_28_days,referrals\n"
        + "".join(f"2024-{m:02d}-01,RJ1,{700 + m * 5},{1000 + m}\n" for m in range(1, 13))
        + "".join(f"2025-{m:02d}-01,RJ1,{760 + m * 3},{1010 + m}\n" for m in range(1, 8))
    )
    catalogue = project.catalogue_file
    catalogue.write_text(
        catalogue.read_text().replace(
            "  trusts:",
            "  cancer:\n    kind: csv\n    path: data/cancer.csv\n    period: month\n    org_code: trust\n  trusts:",
        )
        + "\n  - id: cancer_fds\n    title: Faster diagnosis standard\n    unit: percent\n"
        "    direction: higher_is_better\n    chart: p\n    target: 0.77\n    source: cancer\n"
        "    numerator: seen_within_28_days\n    denominator: referrals\n    frequency: monthly\n"
        "    tags: [cancer]\n"
    )
    pack = project.root / "templates" / "packs" / "cancer.yaml"
    pack.write_text(
        "pack: cancer\ntitle: Cancer\ncadence: monthly\nformats: [xlsx]\nsections:\n  - title: Cancer\n"
        "    blocks:\n      - summary_table: {tag: cancer}\n      - spc: {metric: cancer_fds}\n"
    )
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull

    pull(load_catalogue(catalogue), project.root, project.snapshots)
    (result,) = build(project, "cancer", orgs=["RJ1"], renderer=renderer)
    text = " ".join(
        str(c.value) for ws in load_workbook(result.files[0]).worksheets for r in ws.iter_rows() for c in r if c.value
    )
    assert "Faster diagnosis standard" in text and "July 2025" in text


def test_board_pack_all_formats_are_accessible_and_readable(project: Project, renderer: Renderer) -> None:
    import subprocess
    import zipfile

    from docx import Document
    from pptx import Presentation

    (result,) = build(project, "board", renderer=renderer)
    by_ext = {p.suffix: p for p in result.files}
    assert set(by_ext) == {".docx", ".pptx", ".pdf", ".html"}  # public: the HTML edition by default
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(by_ext[".pdf"])], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    assert 8 <= pages <= 60
    text = subprocess.run(["pdftotext", str(by_ext[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Executive summary" in text and "Page 1 of" in text and "A&E 4-hour performance was 78.1%" in text
    document = Document(by_ext[".docx"])
    assert {p.style.name for p in document.paragraphs} >= {"Heading 1", "Heading 2"}
    xml = zipfile.ZipFile(by_ext[".docx"]).read("word/document.xml").decode()
    assert "TOC \\o" in xml
    for pic in document.inline_shapes:
        assert pic._inline.docPr.get("descr")
    deck = Presentation(by_ext[".pptx"])
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.shape_type in (13, 3) or getattr(shape, "has_chart", False):  # picture, chart
                assert shape._element.xpath("./*[1]/p:cNvPr/@descr") or shape._element.xpath(".//p:cNvPr/@descr")
