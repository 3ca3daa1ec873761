"""Raw-XML tweak openpyxl lacks: alt text (title + description) on charts in a saved .xlsx.

openpyxl writes each sheet's charts into one drawing part, in the order they were added; we follow
workbook -> sheet -> drawing relationships and set `descr`/`title` on the n-th chart frame's cNvPr.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from lxml import etree

from reporting.files import atomic_write

__all__ = ["apply_alt_text", "read_alt_text", "with_alt_text"]

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in zf.namelist():
        return {}
    tree = etree.fromstring(zf.read(rels_path))
    out = {}
    for rel in tree.findall("rel:Relationship", NS):
        target = rel.get("Target")
        out[rel.get("Id")] = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        )
    return out


def _drawings(zf: zipfile.ZipFile) -> dict[str, str]:
    """sheet name -> drawing part path."""
    workbook = etree.fromstring(zf.read("xl/workbook.xml"))
    wb_rels = _rels(zf, "xl/workbook.xml")
    out = {}
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        part = wb_rels[sheet.get(f"{{{NS['r']}}}id")]
        for target in _rels(zf, part).values():
            if "/drawings/" in target and target.endswith(".xml"):
                out[sheet.get("name")] = target
    return out


def with_alt_text(data: bytes, alt: Mapping[str, Sequence[tuple[str, str]]]) -> bytes:
    """The .xlsx package in `data` with alt text on its charts.

    alt: sheet name -> [(title, description) per chart, in the order the charts were added].
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        drawings = _drawings(zf)
        parts = {name: zf.read(name) for name in zf.namelist()}
        infos = {info.filename: info for info in zf.infolist()}
    for sheet, texts in alt.items():
        if not texts:
            continue
        drawing = drawings[sheet]
        tree = etree.fromstring(parts[drawing])
        frames = tree.findall(".//xdr:graphicFrame/xdr:nvGraphicFramePr/xdr:cNvPr", NS)
        for c_nv_pr, (title, descr) in zip(frames, texts, strict=False):
            c_nv_pr.set("title", title)
            c_nv_pr.set("descr", descr)
        parts[drawing] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, blob in parts.items():
            target.writestr(infos[name], blob)
    return out.getvalue()


def apply_alt_text(path: Path, alt: Mapping[str, Sequence[tuple[str, str]]]) -> None:
    """with_alt_text on a saved file, rewritten in place atomically (for workbooks written outside a pack)."""
    atomic_write(path, with_alt_text(Path(path).read_bytes(), alt))


def read_alt_text(path: Path) -> dict[str, list[tuple[str, str]]]:
    """What apply_alt_text wrote (used by tests and by `reporting validate` of outputs)."""
    with zipfile.ZipFile(path) as zf:
        out = {}
        for sheet, drawing in _drawings(zf).items():
            tree = etree.fromstring(zf.read(drawing))
            out[sheet] = [
                (c.get("title", ""), c.get("descr", ""))
                for c in tree.findall(".//xdr:graphicFrame/xdr:nvGraphicFramePr/xdr:cNvPr", NS)
            ]
        return out
