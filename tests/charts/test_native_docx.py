"""Native charts in Word: the PowerPoint chart part and its workbook moved into the .docx, editable, with alt
text, drawn by LibreOffice in the PDF; `native: false` keeps a picture; a Board paper starts no browser."""

from __future__ import annotations

import dataclasses
import io
import posixpath
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from reporting.charts import Renderer
from reporting.packs.build import build
from reporting.packs.render.docx import render
from reporting.packs.tree import ChartBlock, Pack, Section
from reporting.project import Project

NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    tree = etree.fromstring(archive.read(posixpath.join(folder, "_rels", name + ".rels")))
    return {
        r.get("Id"): posixpath.normpath(posixpath.join(folder, r.get("Target")))
        for r in tree.findall("rel:Relationship", NS)
    }


def _charts(path: Path) -> list[dict[str, object]]:
    """Every native chart of a .docx: its alt text, chart XML and embedded workbook, followed from the
    document's own relationships (as Word and LibreOffice follow them)."""
    out = []
    with zipfile.ZipFile(path) as archive:
        body = etree.fromstring(archive.read("word/document.xml"))
        rels = _rels(archive, "word/document.xml")
        for inline in body.iterfind(".//wp:inline", NS):
            ref = inline.find("a:graphic/a:graphicData/c:chart", NS)
            if ref is None:
                continue
            part = rels[ref.get(f"{{{NS['r']}}}id")]
            space = etree.fromstring(archive.read(part))
            external = space.find("c:externalData", NS).get(f"{{{NS['r']}}}id")
            workbook = archive.read(_rels(archive, part)[external])
            doc_pr = inline.find("wp:docPr", NS)
            out.append(
                {
                    "title": doc_pr.get("title"),
                    "descr": doc_pr.get("descr"),
                    "id": doc_pr.get("id"),
                    "space": space,
                    "workbook": workbook,
                }
            )
        types = archive.read("[Content_Types].xml").decode()
    assert "drawingml.chart+xml" in types
    return out


@pytest.fixture(scope="module")
def pack(charted_sample: Pack) -> Pack:
    return charted_sample


def test_charts_are_native_chart_parts_with_workbook_and_alt_text(pack: Pack, tmp_path: Path) -> None:
    path = render(pack, tmp_path / "native.docx")
    charts = _charts(path)
    specs = [b.spec for b in pack.blocks() if isinstance(b, ChartBlock)]
    assert [(c["title"], c["descr"]) for c in charts] == [(s.title, s.alt_text) for s in specs]
    assert len({c["id"] for c in charts}) == len(charts)  # unique drawing ids in the document
    spc = charts[0]
    series = [t.text for t in spc["space"].iterfind(".//c:ser/c:tx//c:v", NS)]
    assert series[: len(specs[0].series)] == [s.name for s in specs[0].series]
    points = [float(v.text) for v in spc["space"].find(".//c:ser/c:val", NS).iterfind(".//c:v", NS)]
    assert points == pytest.approx([v for v in specs[0].series[0].y if v is not None])
    sheet = load_workbook(io.BytesIO(spc["workbook"])).active  # the data behind the chart, editable
    assert [c.value for c in sheet[1]][1 : len(specs[0].series) + 1] == [s.name for s in specs[0].series]
    # the point-type marker series (the special-cause colours) survive the move
    assert spc["space"].find(".//c:ser/c:dPt", NS) is None and set(series) >= {s[0] for s in specs[0].legend_markers}
    again = render(pack, tmp_path / "again.docx")
    assert again.read_bytes() == path.read_bytes()  # byte-stable, embedded workbooks included


def test_native_false_keeps_a_picture(pack: Pack, tmp_path: Path) -> None:
    pictures = dataclasses.replace(
        pack,
        sections=tuple(
            dataclasses.replace(
                s,
                blocks=tuple(
                    dataclasses.replace(b, native=False) if isinstance(b, ChartBlock) else b for b in s.blocks
                ),
            )
            for s in pack.sections
        ),
    )
    path = render(pictures, tmp_path / "pictures.docx")
    with zipfile.ZipFile(path) as archive:
        assert not [n for n in archive.namelist() if n.startswith("word/charts/")]
        body = etree.fromstring(archive.read("word/document.xml"))
    blips = body.findall(".//wp:inline", NS)
    assert len(blips) == 6 and all(b.find(".//a:blip", NS) is not None for b in blips)  # 2 charts, 1 trend, 3 icons
    assert all(b.find("wp:docPr", NS).get("descr") for b in blips)
    chart = next(b for b in pictures.blocks() if isinstance(b, ChartBlock))
    bare = dataclasses.replace(pictures, sections=(Section("Charts", (dataclasses.replace(chart, image=None),)),))
    with pytest.raises(Exception, match="no rendered image"):
        render(bare, tmp_path / "bare.docx")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_board_paper_starts_no_browser_and_libreoffice_draws_editable_charts(
    demo_project: Project, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    shutil.copytree(demo_project.root, root)
    project = Project(root)
    with Renderer(cache=tmp_path / "cache") as renderer:
        (result,) = build(project, "board", formats=["docx", "pdf", "pptx"], renderer=renderer)
        assert not renderer.started and renderer.rendered == 0  # no Chromium at all
    by_ext = {p.suffix: p for p in result.files}
    charts = _charts(by_ext[".docx"])
    kinds = {b.spec.kind for b in result.tree.blocks() if isinstance(b, ChartBlock)}
    assert {"spc", "funnel", "caterpillar", "league"} <= kinds
    assert len(charts) == sum(isinstance(b, ChartBlock) for b in result.tree.blocks())
    assert all(c["descr"] for c in charts)
    text = subprocess.run(["pdftotext", str(by_ext[".pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Process limits" in text and "England median" in text  # legend text drawn inside the charts
    # LibreOffice reads them as charts (objects it can edit), not pictures: its own .odt holds chart objects
    out = tmp_path / "odt"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "odt",
            "--outdir",
            str(out),
            str(by_ext[".docx"]),
        ],
        capture_output=True,
        check=True,
        timeout=180,
    )
    with zipfile.ZipFile(out / (by_ext[".docx"].stem + ".odt")) as odt:
        manifest = odt.read("META-INF/manifest.xml").decode()
    assert manifest.count("application/vnd.oasis.opendocument.chart") >= len(charts)
