"""PDF/UA checks on pikepdf, run on every PDF a build publishes: checked, not just claimed.

    check_pdf(path) -> [Failure(check, page, detail), ...]     empty when the PDF passes
    restore_and_check(path, alts) -> (restored, failures)       a converted paper: charts' alt text, then checks
    check_published(files, mode, checked) -> manifest failures  a build's PDFs: raise (error) or list them (warn)
    PdfAccessibilityError                                       what the build raises on a failing PDF

LibreOffice stamps its headless exports as PDF/UA without running its own accessibility check, so nothing
else guards what a screen-reader user of a published Board paper gets. These are the machine-checkable
parts of PDF/UA-1 (ISO 14289-1, as the Matterhorn Protocol numbers them) that a pack can get wrong:

- tagged:         /MarkInfo /Marked true and a structure tree with content            (Matterhorn 01)
- title:          a document title, shown in the title bar (/DisplayDocTitle true)    (06-003, 07-002)
- language:       /Lang on the catalogue                                              (11-001)
- heading order:  the first numbered heading is H1 and no level is skipped going down  (14-002, 14-003)
- figure alt:     every Figure has /Alt (or /ActualText) that is not a file name or
                  "Picture 3" (python-pptx and Word default to those)                  (13-004)
- table headers:  every Table has at least one TH cell                                (15-xxx, WCAG 1.3.1)
- reading order:  the main blocks (headings, paragraphs, figures, tables) come in the
                  structure tree in page order, so a reader never jumps back a page    (09-001)

Each failure names its check and the page (1-based) where it is, where there is one. We wrote our own
rather than depend on a young PyPI checker: these seven checks are short on pikepdf and we can test each
one on a PDF broken on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from reporting.errors import ReportingError

__all__ = [
    "CHECKS",
    "Failure",
    "PdfAccessibilityError",
    "chart_alt_texts",
    "check_pdf",
    "check_published",
    "restore_and_check",
    "restore_and_check_open",
]

CHECKS = ("tagged", "title", "language", "heading order", "figure alt text", "table header cells", "reading order")
_FILE_NAME = re.compile(r"^\s*(?:[\w .()-]*[\\/])*[\w .()-]+\.(?:png|jpe?g|gif|bmp|tiff?|svg|emf|wmf|webp)\s*$", re.I)
_DEFAULT_NAME = re.compile(r"^\s*(?:picture|image|graphic|chart|figure|grafik|object)\s*\d*\s*$", re.I)
_HEADING = re.compile(r"^/H([1-6])$")
_BLOCKS = {"/P", "/H", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6", "/Figure", "/Table", "/L", "/Caption"}


class PdfAccessibilityError(ReportingError):
    """A PDF the build made fails PDF/UA checks; the message names each check and its page."""


@dataclass(frozen=True)
class Failure:
    check: str
    page: int | None
    detail: str

    def __str__(self) -> str:
        where = f" on page {self.page}" if self.page else ""
        return f"PDF/UA check '{self.check}' failed{where}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "page": self.page, "detail": self.detail}


@dataclass(frozen=True)
class _Element:
    role: str  # the standard role, after the RoleMap
    name: str  # the role as written
    page: int | None
    node: pikepdf.Dictionary
    depth: int  # 0 for a child of the tree root: an element's descendants follow it with a greater depth


def check_pdf(path: Path) -> list[Failure]:
    """Every failure of `path` against the checks above (an unreadable file is one 'tagged' failure)."""
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PdfError as exc:
        return [Failure("tagged", None, f"the file cannot be read as a PDF ({exc})")]
    with pdf:
        tree = _tree(pdf)
        return _check(pdf, tree, _elements(pdf, tree))


def check_published(
    files: Sequence[Path], mode: str, checked: Mapping[str, list[Failure]]
) -> dict[str, list[dict[str, Any]]]:
    """PDF/UA checks on every PDF a build is to publish (`checked`: failures already found, by file name): a
    failure stops the build (accessibility: error), or is listed in the manifest and the warnings (accessibility:
    warn). Returns the manifest's failures by file name."""
    found = {f.name: checked[f.name] if f.name in checked else check_pdf(f) for f in files if f.suffix == ".pdf"}
    failing = {name: failures for name, failures in found.items() if failures}
    if failing and mode != "warn":
        name, failures = next(iter(failing.items()))
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise PdfAccessibilityError(
            f"{name}: {failures[0]}{more}; not published. Fix the template or set "
            "'accessibility: warn' to publish it with the failures listed in manifest.json"
        )
    return {name: [f.as_dict() for f in failures] for name, failures in failing.items()}


def _tree(pdf: pikepdf.Pdf) -> pikepdf.Dictionary | None:
    """The structure tree, if it has content."""
    tree = pdf.Root.get("/StructTreeRoot")
    return tree if isinstance(tree, pikepdf.Dictionary) and tree.get("/K") is not None else None


def _elements(pdf: pikepdf.Pdf, tree: pikepdf.Dictionary | None) -> list[_Element]:
    if tree is None:
        return []
    pages = {page.obj.objgen: i + 1 for i, page in enumerate(pdf.pages)}
    return _walk(tree.get("/K"), _roles(tree), pages, None, 0)


def _check(pdf: pikepdf.Pdf, tree: pikepdf.Dictionary | None, elements: list[_Element]) -> list[Failure]:
    """The checks on an open PDF, its structure tree and that tree's elements (`_elements`)."""
    failures: list[Failure] = []
    root = pdf.Root
    mark = root.get("/MarkInfo")
    if not (isinstance(mark, pikepdf.Dictionary) and bool(mark.get("/Marked", False))):
        failures.append(Failure("tagged", None, "the document is not marked as tagged (/MarkInfo /Marked)"))
    if tree is None:
        failures.append(Failure("tagged", None, "the document has no structure tree"))
    failures += _title(pdf)
    lang = root.get("/Lang")
    if lang is None or not str(lang).strip():
        failures.append(Failure("language", None, "the document has no language (/Lang)"))
    if tree is None:
        return failures
    if not any(e.role in _BLOCKS for e in elements):
        failures.append(Failure("tagged", None, "the structure tree tags no headings, paragraphs, figures or tables"))
    failures += _headings(elements)
    failures += _figures(elements)
    failures += _tables(elements)
    failures += _reading_order(elements)
    return failures


def _title(pdf: pikepdf.Pdf) -> list[Failure]:
    title = str(pdf.docinfo.get("/Title", "") or "").strip()
    if not title:
        try:
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                title = str(meta.get("dc:title") or "").strip()
        except Exception:  # noqa: BLE001 - unreadable XMP counts as no title
            title = ""
    failures = []
    if not title:
        failures.append(Failure("title", None, "the document has no title (Info /Title or XMP dc:title)"))
    prefs = pdf.Root.get("/ViewerPreferences")
    if not (isinstance(prefs, pikepdf.Dictionary) and bool(prefs.get("/DisplayDocTitle", False))):
        failures.append(
            Failure(
                "title",
                None,
                "the title bar shows the file name, not the title (/ViewerPreferences /DisplayDocTitle is not true)",
            )
        )
    return failures


def _roles(tree: pikepdf.Dictionary) -> dict[str, str]:
    """The RoleMap resolved once: each mapped name to the standard role its chain of mappings ends at (a cycle
    ends where it would repeat a name). Unmapped names are standard already."""
    role_map = tree.get("/RoleMap")
    if not isinstance(role_map, pikepdf.Dictionary):
        return {}
    direct = {str(key): str(value) for key, value in role_map.items()}
    resolved = {}
    for start in direct:
        name, seen = start, set()
        while name in direct and name not in seen:
            seen.add(name)
            name = direct[name]
        resolved[start] = name
    return resolved


def _page_of(node: pikepdf.Dictionary, pages: dict[tuple[int, int], int], inherited: int | None) -> int | None:
    pg = node.get("/Pg")
    if isinstance(pg, pikepdf.Dictionary) and pg.objgen in pages:
        return pages[pg.objgen]
    return inherited


def _walk(
    kids: Any, roles: dict[str, str], pages: dict[tuple[int, int], int], inherited: int | None, depth: int
) -> list[_Element]:
    """Structure elements in tree order (depth first), each with the page it starts on: its own /Pg, else its
    parent's page, else the first page its content names (with no `pages`, every page is None). A list, not a
    generator: nested generators pass each element up through every level of the tree."""
    found: list[_Element] = []
    _collect(kids, roles, pages, inherited, depth, found)
    return found


def _collect(
    kids: Any,
    roles: dict[str, str],
    pages: dict[tuple[int, int], int],
    inherited: int | None,
    depth: int,
    found: list[_Element],
) -> None:
    if kids is None:
        return
    for kid in kids if isinstance(kids, pikepdf.Array) else (kids,):
        if not isinstance(kid, pikepdf.Dictionary):
            continue  # marked-content ids
        role = kid.get("/S")
        if role is None:
            continue  # marked-content and object references
        content = kid.get("/K")
        page = _page_of(kid, pages, inherited) if pages else None
        if page is None and pages:
            page = _first_content_page(content, pages)
        name = str(role)
        found.append(_Element(roles.get(name, name), name, page, kid, depth))
        _collect(content, roles, pages, page, depth + 1, found)


def _first_content_page(kids: Any, pages: dict[tuple[int, int], int]) -> int | None:
    """The first page named under `kids` in tree order. Searched only for an element with no page of its own or
    inherited: once found, its descendants inherit it, so no subtree is searched twice on one path down."""
    items = list(kids) if isinstance(kids, pikepdf.Array) else ([kids] if kids is not None else [])
    for kid in items:
        if isinstance(kid, pikepdf.Dictionary):
            page = _page_of(kid, pages, None)
            if page is not None:
                return page
            if "/S" in kid:
                found = _first_content_page(kid.get("/K"), pages)
                if found is not None:
                    return found
    return None


def _headings(elements: list[_Element]) -> list[Failure]:
    failures, last = [], 0
    for element in elements:
        match = _HEADING.match(element.role)
        if not match:
            continue
        level = int(match.group(1))
        if last == 0 and level != 1:
            failures.append(Failure("heading order", element.page, f"the first heading is H{level}, not H1"))
        elif last and level > last + 1:
            failures.append(Failure("heading order", element.page, f"H{level} follows H{last}: H{last + 1} is skipped"))
        last = level
    return failures


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        return str(value).strip()
    except (UnicodeDecodeError, ValueError):
        return bytes(value).decode("latin-1", "replace").strip()


def _figures(elements: list[_Element]) -> list[Failure]:
    failures = []
    for element in elements:
        if element.role != "/Figure":
            continue
        alt = _text(element.node.get("/Alt")) or _text(element.node.get("/ActualText"))
        if not alt:
            failures.append(Failure("figure alt text", element.page, "a figure has no alternative text (/Alt)"))
        elif any(_FILE_NAME.match(part) or _DEFAULT_NAME.match(part) for part in [alt, *alt.split(" - ")]):
            failures.append(
                Failure(
                    "figure alt text",
                    element.page,
                    f"a figure's alternative text is a file or default name: {alt[:80]!r}",
                )
            )
    return failures


def _tables(elements: list[_Element]) -> list[Failure]:
    failures = []
    for index, element in enumerate(elements):
        if element.role != "/Table":
            continue
        cells = []  # the table's descendants: the elements after it, until one is no deeper than it
        for inner in elements[index + 1 :]:
            if inner.depth <= element.depth:
                break
            cells.append(inner.role)
        if "/TH" not in cells:
            failures.append(
                Failure(
                    "table header cells", element.page, f"a table of {cells.count('/TD')} cells has no header cell (TH)"
                )
            )
    return failures


def _reading_order(elements: list[_Element]) -> list[Failure]:
    failures, furthest = [], 0
    for element in elements:
        if element.role not in _BLOCKS or element.page is None:
            continue
        if element.page < furthest:
            failures.append(
                Failure(
                    "reading order",
                    element.page,
                    f"a {element.name.lstrip('/')} on page {element.page} comes after content on "
                    f"page {furthest} in the tag order",
                )
            )
        furthest = max(furthest, element.page)
    return failures


def chart_alt_texts(source: Path) -> list[str]:
    """The alternative text of each native chart in a .docx or .pptx, in reading order: `descr` of the
    drawing (Word: wp:docPr; PowerPoint: p:cNvPr, slide by slide) whose graphic is a chart part."""
    import posixpath
    import zipfile

    from lxml import etree

    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    chart = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    wp = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out: list[str] = []
    with zipfile.ZipFile(source) as z:
        parts: list[tuple[str, tuple[str, ...], str]]
        if source.suffix.lower() == ".docx":
            parts = [("word/document.xml", (f"{{{wp}}}inline", f"{{{wp}}}anchor"), f"{{{wp}}}docPr")]
        else:
            pres = etree.fromstring(z.read("ppt/presentation.xml"))
            rels = etree.fromstring(z.read("ppt/_rels/presentation.xml.rels"))
            targets = {r.get("Id"): r.get("Target") for r in rels}
            parts = [
                (
                    posixpath.normpath(posixpath.join("ppt", targets[s.get(f"{{{rel}}}id")])),
                    (f"{{{p}}}graphicFrame",),
                    f"{{{p}}}nvGraphicFramePr/{{{p}}}cNvPr",
                )
                for s in pres.iter(f"{{{p}}}sldId")
            ]
        for name, frames, props in parts:
            root = etree.fromstring(z.read(name))
            for frame in root.iter(*frames):
                data = frame.find(f"{{{a}}}graphic/{{{a}}}graphicData")
                if data is not None and data.get("uri") == chart:
                    pr = frame.find(props)
                    out.append((pr.get("descr") if pr is not None else "") or "")
    return out


def restore_and_check(path: Path, alts: list[str]) -> tuple[int, list[Failure]]:
    """`restore_and_check_open` on the PDF at `path`, saved again only when alt text was put back."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        restored, failures = restore_and_check_open(pdf, alts)
        if restored:
            pdf.save(path, deterministic_id=True)  # a rebuild gives the same bytes (see render.pdf.reproducible)
    return restored, failures


def restore_and_check_open(pdf: pikepdf.Pdf, alts: list[str]) -> tuple[int, list[Failure]]:
    """Give the open PDF's Figure elements that lack /Alt the charts' alternative text, in reading order, and
    check the result (`check_pdf`'s checks), with one walk of its structure tree; the caller saves it (a build
    does so once, with render.pdf's reproducible save: `to_pdf(..., edit=...)`).

    LibreOffice tags a Word document's native charts as Figures but drops their alternative text on export
    (pictures keep theirs). The charts are the only figures left without /Alt, in document order, so they
    are matched by position; when the counts differ nothing is changed, and the figure check then says so.
    Returns the number of figures given alternative text and the failures of the PDF as it will be saved."""
    tree = _tree(pdf)
    elements = _elements(pdf, tree)
    missing = [
        e
        for e in elements
        if e.role == "/Figure" and not (_text(e.node.get("/Alt")) or _text(e.node.get("/ActualText")))
    ]
    restored = len(alts) if alts and len(missing) == len(alts) else 0
    if restored:
        for element, alt in zip(missing, alts, strict=True):
            element.node["/Alt"] = pikepdf.String(alt)
    return restored, _check(pdf, tree, elements)  # the checks read the objects as changed
