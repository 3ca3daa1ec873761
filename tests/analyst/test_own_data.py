"""An analyst adds their own data, geography and brand with YAML only (issue 14 "Done when"), in a fresh
project directory: a CSV with duplicate site rows summed by `aggregate:`, a second organisation reference
file, a new pack for those organisations, and a corporate Office template in another colour. Nothing NHS
blue may be left in the packs, and no metric the pack did not choose. The README's "Add your own data"
walkthrough follows this test step by step."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("reporting"))
NHS_BLUE = "005EB8"
PURPLE, DARK_PURPLE = "7A1F5C", "4B1238"

CATALOGUE = """\
# yaml-language-server: $schema=../catalogue.schema.json
sources:
  sites:
    kind: csv
    path: data/scotland_sites.csv
    org_code: board
    period: month
    date_format: "%b-%Y"
  boards:
    kind: csv
    path: data/boards.csv
    org_code: code
    period: null
orgs:
  source: boards
  org_code: code
  name: name
  peer_groups: {mainland: is_mainland}
metrics:
  - id: scot_4hr
    title: A&E within 4 hours (Scotland)
    unit: percent
    direction: higher_is_better
    chart: p
    target: 0.95
    source: sites
    numerator: within_4h
    denominator: attendances
    aggregate: sum
    frequency: monthly
  - id: scot_attendances
    title: A&E attendances at Scottish sites
    unit: count
    direction: neutral
    chart: xmr
    source: sites
    value: attendances
    aggregate: sum
    frequency: monthly
"""

PACK = """\
# yaml-language-server: $schema=../../pack.schema.json
pack: scotland
title: Scottish A&E performance
subtitle: "{{ org_name }} – {{ period_label }}"
cadence: monthly
formats: [pptx, docx, xlsx]
office: {pptx: templates/office/purple.pptx, docx: templates/office/purple.docx}
metrics: [scot_4hr]
parameters:
  peer_group: {default: mainland}
theme:
  palette: {brand: "#7A1F5C", brand_dark: "#4B1238", highlight: "#7A1F5C"}
sections:
  - title: Summary
    blocks:
      - cover: {}
      - summary_table: {title: Performance summary}
      - for_each:
          blocks:
            - text: "{{ narrative(metric) }}"
  - title: Four-hour standard
    blocks:
      - spc: {metric: scot_4hr, periods: 18}
      - funnel: {metric: scot_4hr, periods: 3}
  - title: Appendix
    appendix: true
    blocks:
      - appendix: {}
"""

BOARDS = {
    "NHSA": ("NHS Ayrshire", True),
    "NHSB": ("NHS Borders", True),
    "NHSF": ("NHS Fife", True),
    "NHSL": ("NHS Lothian", True),
    "NHSS": ("NHS Shetland", False),
}


def _sites_csv() -> str:
    lines = ["month,board,site,attendances,within_4h"]
    months = [
        f"{m}-{y}"
        for y in (2023, 2024)
        for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    ]
    for i, month in enumerate(months):
        for j, code in enumerate(BOARDS):
            for site in (1, 2):  # two sites per board and month: duplicate (board, month) keys to sum
                attendances = 400 + 37 * j + 11 * site + (i * 7) % 23
                lines.append(f"{month},{code},Site {site},{attendances},{int(attendances * (0.70 + 0.03 * j))}")
    return "\n".join(lines) + "\n"


def _recoloured(source: Path, target: Path) -> None:
    """The analyst's corporate template: the default one in their own colours (as their comms team made it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith(".xml"):
                data = re.sub(NHS_BLUE.encode(), PURPLE.encode(), data, flags=re.IGNORECASE)
                data = re.sub(b"003087", DARK_PURPLE.encode(), data, flags=re.IGNORECASE)
            zout.writestr(item, data)
    target.write_bytes(out.getvalue())


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", "REPORTING_HOME": ""},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analyst")
    (root / "data").mkdir()
    (root / "templates" / "packs").mkdir(parents=True)
    (root / "templates" / "office").mkdir()
    (root / "data" / "scotland_sites.csv").write_text(_sites_csv())
    (root / "data" / "boards.csv").write_text(
        "code,name,is_mainland\n"
        + "".join(f"{code},{name},{'true' if main else 'false'}\n" for code, (name, main) in BOARDS.items())
    )
    (root / "templates" / "metrics.yaml").write_text(CATALOGUE)
    (root / "templates" / "packs" / "scotland.yaml").write_text(PACK)
    _recoloured(REPO / "templates" / "office" / "board.pptx", root / "templates" / "office" / "purple.pptx")
    _recoloured(REPO / "templates" / "office" / "paper.docx", root / "templates" / "office" / "purple.docx")
    checked = run(root, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "duplicate rows combined by aggregate: sum" in checked.stderr  # reported, not hidden
    result = run(root, "build", "scotland", "--org", "nhsf")  # lower case is fine
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def _files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "outputs").rglob("*") if p.suffix in {".pptx", ".docx", ".xlsx"})


def test_packs_are_built_for_the_new_organisation(built: Path) -> None:
    files = _files(built)
    assert {p.suffix for p in files} == {".pptx", ".docx", ".xlsx"}
    assert all("NHSF" in str(p) for p in files)


def test_no_nhs_blue_anywhere_in_the_packs(built: Path) -> None:
    from PIL import Image

    for path in _files(built):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                if name.endswith((".xml", ".rels")):
                    assert NHS_BLUE.encode() not in data.upper(), (path.name, name)
                elif name.endswith(".png"):
                    image = Image.open(io.BytesIO(data)).convert("RGB")
                    colours = {c for _, c in image.getcolors(maxcolors=1 << 20) or []}
                    assert (0x00, 0x5E, 0xB8) not in colours, (path.name, name)
        with zipfile.ZipFile(path) as zf:
            xml = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml")).upper()
        assert PURPLE.encode() in xml, path.name  # the brand did arrive


def test_only_the_packs_own_metric_appears(built: Path) -> None:
    for path in _files(built):
        with zipfile.ZipFile(path) as zf:
            text = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml")).decode("utf-8", "replace")
        assert "A&amp;E within 4 hours (Scotland)" in text or "A&E within 4 hours (Scotland)" in text, path.name
        # the other metric is named only as what the funnel's x axis counts (its denominator, the same column)
        text = re.sub(r"A&(amp;)?E attendances at Scottish sites, 3 months to", "", text)
        assert "Scottish sites" not in text, path.name


def test_summed_site_rows_are_the_figures_shown(built: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(next(p for p in _files(built) if p.suffix == ".xlsx"))
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    # NHS Fife (j = 2), December 2024 (i = 23): two sites summed
    attendances = sum(400 + 37 * 2 + 11 * site + (23 * 7) % 23 for site in (1, 2))
    within = sum(int((400 + 37 * 2 + 11 * site + (23 * 7) % 23) * 0.76) for site in (1, 2))
    assert attendances in values and within in values
