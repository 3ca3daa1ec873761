"""What a built pack publishes, as text: the walkers the disclosure tests read every artefact with.

Every part of PowerPoint, Word and Excel files (text nodes and alt-text attributes, including native-chart
caches and the workbooks embedded in charts, and notes), the HTML edition, the PDF's text, the open data
(CSV fields, datapackage.json), manifest.json and pack data JSON, and the email the scheduler would send.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace

from lxml import etree
from lxml import html as lxml_html

from reporting.charts import Renderer
from reporting.delivery.compose import compose
from reporting.packs.build import BuildResult
from reporting.project import Project
from reporting.schedule.runner import _content

ATTRIBUTES = ("descr", "title", "alt", "aria-label")


def count_pattern(values: Iterable[int]) -> re.Pattern[str]:
    """The counts as a text shows them (1234 or 1,234), as whole numbers only."""
    alternatives = sorted({f"{v:,}" for v in values} | {str(v) for v in values}, key=len, reverse=True)
    # not part of a longer number, a hash ("5e330dd") or a cell reference ("$A$204", "A176"); not a percentage
    return re.compile(r"(?<![\w$.,])(" + "|".join(re.escape(a) for a in alternatives) + r")(?:\.0+)?(?!\w|[.,]\d|\s?%)")


_XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_ANCHORS = (f"{_XDR}from", f"{_XDR}to")


def xml_texts(data: bytes) -> list[str]:
    """Text nodes and alt-text attributes of one XML part (not layout numbers such as widths and offsets)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, huge_tree=True))
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    for marker in list(root.iter(*_ANCHORS)):  # a drawing's anchor cell (<row>168</row>) is layout, not data
        marker.getparent().remove(marker)
    texts = [t for t in root.itertext() if t.strip()]
    for element in root.iter():
        for name in ATTRIBUTES:
            value = element.get(name)
            if value:
                texts.append(value)
    return texts


def office_texts(path: Path, data: bytes | None = None) -> list[tuple[str, str]]:
    out = []
    with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as zf:
        for name in zf.namelist():
            content = zf.read(name)
            if name.endswith((".xml", ".rels", ".vml")):
                out += [(f"{path.name}:{name}", t) for t in xml_texts(content)]
            elif name.endswith((".xlsx", ".xlsm", ".bin")) and content[:2] == b"PK":  # embedded chart workbooks
                out += [(f"{path.name}:{name}!{where}", t) for where, t in office_texts(Path(name), content)]
    return out


def html_texts(path: Path) -> list[tuple[str, str]]:
    doc = lxml_html.fromstring(path.read_bytes())
    return [(path.name, t) for t in doc.itertext() if t.strip()] + [
        (path.name, e.get(a)) for e in doc.iter() for a in ATTRIBUTES if isinstance(e.tag, str) and e.get(a)
    ]


def file_texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) for every text one published file holds."""
    if path.suffix in {".pptx", ".docx", ".xlsx"}:
        return office_texts(path)
    if path.suffix == ".html":
        return html_texts(path)
    if path.suffix == ".pdf":
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
        return [(path.name, line) for line in text.stdout.splitlines() if line.strip()]
    if path.suffix == ".csv":  # one text per field: the delimiter is not a thousands separator
        with path.open(newline="", encoding="utf-8") as handle:
            return [(path.name, field) for row in csv.reader(handle) for field in row if field]
    if path.suffix == ".png":
        return []
    return [(path.name, line) for line in path.read_text(encoding="utf-8").splitlines()]


def email_texts(result: BuildResult, project: Project, renderer: Renderer, pack: str) -> list[tuple[str, str]]:
    """The plain and HTML bodies of the email the scheduler would send for one built pack."""
    job = SimpleNamespace(id=f"{pack}-job", subject="{{ pack_title }} {{ period_label }}", body="")
    message = compose(
        _content(job, result, project, renderer), "reports@example.org", "ceo@example.org", attach_limit_bytes=0
    )
    texts: list[tuple[str, str]] = [(f"email {pack} (subject)", str(message["Subject"]))]
    for part in message.walk():
        if part.get_content_type() in {"text/plain", "text/html"}:
            body = part.get_content()
            if part.get_content_type() == "text/html":
                texts += [(f"email {pack} (html)", t) for t in lxml_html.fromstring(body).itertext() if t.strip()]
                texts += [
                    (f"email {pack} (html)", e.get(a))
                    for e in lxml_html.fromstring(body).iter()
                    for a in ATTRIBUTES
                    if isinstance(e.tag, str) and e.get(a)
                ]
            else:
                texts += [(f"email {pack} (text)", line) for line in body.splitlines() if line.strip()]
    return texts
