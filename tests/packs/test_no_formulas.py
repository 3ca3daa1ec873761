"""No workbook we write holds a formula or a DDE link, whatever the data say.

Issue 18: the workbooks embedded in native PowerPoint charts held 38 live formulas built from organisation
names and metric titles (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`), run by "Edit Data". Here every shipped
pack is built (every format but pdf) from data whose organisation names and metric titles are formula
payloads, plus the commentary workbook; every workbook, and every workbook embedded in a deck or a paper,
is opened and every cell scanned. The payloads must still be there, as text (so the test is not vacuous).
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree

from reporting.charts import Renderer
from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.packs.build import build
from reporting.packs.commentary_files import write_commentary_for_pack
from reporting.project import Project

pytestmark = pytest.mark.slow  # builds every shipped pack

PAYLOADS = [
    '=HYPERLINK("http://evil.example/x","Click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
]
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PACKS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "templates" / "packs").glob("*.yaml"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(Path(__file__).resolve().parents[2] / "templates", root / "templates")
    (root / "data").mkdir()
    rows = list(
        csv.DictReader(
            io.StringIO((resources.files("reporting") / "demo_data" / "trusts_2022.csv").read_text(encoding="utf-8"))
        )
    )
    for i, row in enumerate(rows):
        row["org_name"] = PAYLOADS[i % len(PAYLOADS)] + " " + row["org_name"][:12]
    with open(root / "data" / "trusts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    catalogue = (root / "templates" / "metrics.yaml").read_text()
    catalogue = catalogue.replace(
        "    kind: demo\n    file: trusts_2022.csv\n", "    kind: csv\n    path: data/trusts.csv\n"
    )
    catalogue = catalogue.replace("title: A&E 4-hour performance", "title: \"=cmd|' /C calc'!A0 A&E 4hr\"")
    (root / "templates" / "metrics.yaml").write_text(catalogue)
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    return project


def _workbooks(path: Path) -> list[tuple[str, bytes]]:
    """The file itself when it is a workbook, and every workbook embedded in it."""
    out = [(path.name, path.read_bytes())] if path.suffix == ".xlsx" else []
    with zipfile.ZipFile(path) as zf:
        out += [(f"{path.name}!{n}", zf.read(n)) for n in zf.namelist() if n.endswith((".xlsx", ".xlsm", ".xls"))]
    return out


def _scan(name: str, blob: bytes) -> tuple[list[str], list[str]]:
    """(formulas and links found, text cells that read like a formula)."""
    problems, texts = [], []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = zf.namelist()
        problems += [f"{name}: {n} (external or DDE link)" for n in names if "externalLink" in n]
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            tree = etree.fromstring(zf.read("xl/sharedStrings.xml"))
            shared = ["".join(si.itertext()) for si in tree.iter(f"{M}si")]
        for n in names:
            if not (n.startswith("xl/worksheets/") and n.endswith(".xml")):
                continue
            tree = etree.fromstring(zf.read(n))
            for cell in tree.iter(f"{M}c"):
                formula = cell.find(f"{M}f")
                if formula is not None:
                    problems.append(f"{name}!{n} {cell.get('r')}: formula {formula.text!r}")
                if cell.get("t") == "s":
                    texts.append(shared[int(cell.findtext(f"{M}v"))])
                elif cell.get("t") in ("inlineStr", "str"):
                    texts.append("".join(cell.itertext()))
        for n in names:
            if n.endswith(".xml") and b"ddeLink" in zf.read(n):
                problems.append(f"{name}!{n}: ddeLink")
    return problems, [t for t in texts if any(p in t for p in PAYLOADS) or "cmd|" in t]


@pytest.mark.parametrize("pack", PACKS)
def test_no_formula_in_any_workbook(hostile: Project, pack: str, tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    shutil.copytree(hostile.root, project.root)
    formats = [
        f
        for f in ("pptx", "docx", "xlsx")
        if f in (project.root / "templates" / "packs" / f"{pack}.yaml").read_text().split("formats:")[1].splitlines()[0]
    ]
    with Renderer(cache=tmp_path / "cache") as renderer:
        (result,) = build(project, pack, formats=formats, renderer=renderer)
    files = list(result.files)
    try:
        files.append(write_commentary_for_pack(project, pack))
    except Exception as exc:  # noqa: BLE001 - a pack without a summary table has no commentary workbook
        assert "no summary table" in str(exc)
    problems, payload_texts = [], []
    workbooks = [wb for f in files if f.suffix in (".pptx", ".docx", ".xlsx") for wb in _workbooks(f)]
    assert workbooks, files
    for name, blob in workbooks:
        found, texts = _scan(name, blob)
        problems += found
        payload_texts += texts
    assert problems == []
    assert payload_texts, "the payloads should be in the workbooks, as text"
