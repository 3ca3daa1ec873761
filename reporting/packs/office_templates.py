"""Open the corporate Office templates the renderers build on, and find layouts and styles BY NAME.

The defaults (`templates/office/board.pptx`, `templates/office/paper.docx`) are built by
`templates/office/build_templates.py`, whose docstring lists the layout names, placeholder idx values and
style names the renderers rely on. An analyst may replace either file with their own; whatever is missing
is reported as one ConfigError naming the template file, the missing name and what the file does have:

    templates/office/board.pptx: no slide layout 'Section Header'; layouts are: 'Title Slide', 'Blank'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from reporting.errors import ConfigError

if TYPE_CHECKING:  # python-pptx / python-docx are imported only when a template is opened
    from docx.document import Document
    from pptx.presentation import Presentation
    from pptx.slide import SlideLayout

__all__ = [
    "DEFAULT_DOCX",
    "DEFAULT_PPTX",
    "REPOSITORY_TEMPLATES",
    "REQUIRED_LAYOUTS",
    "check_office_template",
    "default_docx",
    "default_pptx",
    "layout",
    "open_document",
    "open_presentation",
    "require_styles",
]

REPOSITORY_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "office"
"""templates/office of this source tree (the package is installed editable, so this is the checkout)."""
DEFAULT_PPTX = REPOSITORY_TEMPLATES / "board.pptx"
DEFAULT_DOCX = REPOSITORY_TEMPLATES / "paper.docx"
PPTX_NAME, DOCX_NAME = DEFAULT_PPTX.name, DEFAULT_DOCX.name
#: Slide layouts the PowerPoint renderer uses, by name; a custom master must have them all (README lists them).
REQUIRED_LAYOUTS = ("Title Slide", "Section Header", "Title and Content", "Title Only")


def _default(name: str, root: Path | str | None) -> Path:
    if root is not None:
        candidate = Path(root) / "templates" / "office" / name
        if candidate.is_file():
            return candidate
    return REPOSITORY_TEMPLATES / name


def default_pptx(root: Path | str | None = None) -> Path:
    """`<root>/templates/office/board.pptx` when the project has one, else the repository's default."""
    return _default(PPTX_NAME, root)


REQUIRED_STYLES = (
    "Normal",
    "Title",
    "Subtitle",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "Caption",
    "List Bullet",
    "TOC Heading",
    "toc 1",
    "toc 2",
    "toc 3",
    "Header",
    "Footer",
    "NHS Table",
)
"""Every style the Word renderer uses; a custom template must define them all (python-docx UI names)."""


def default_docx(root: Path | str | None = None) -> Path:
    """`<root>/templates/office/paper.docx` when the project has one, else the repository's default."""
    return _default(DOCX_NAME, root)


def _check_file(path: Path, kind: str) -> None:
    if not path.exists():
        raise ConfigError(f"{kind} template does not exist", file=path)
    if not path.is_file():
        raise ConfigError(f"{kind} template is not a file", file=path)


def open_presentation(path: Path | str) -> Presentation:
    """The deck at `path` (a .pptx or .potx-as-.pptx); ConfigError if missing or not a PowerPoint file."""
    from pptx import Presentation

    path = Path(path)
    _check_file(path, "PowerPoint")
    try:
        return Presentation(str(path))
    except Exception as exc:  # zip, XML or content-type errors all mean "not a usable .pptx"
        raise ConfigError(f"cannot open PowerPoint template ({type(exc).__name__}: {exc})", file=path) from exc


def open_document(path: Path | str) -> Document:
    """The Word document at `path`; ConfigError if missing or not a Word file."""
    import docx

    path = Path(path)
    _check_file(path, "Word")
    try:
        return docx.Document(str(path))
    except Exception as exc:  # zip, XML or content-type errors all mean "not a usable .docx"
        raise ConfigError(f"cannot open Word template ({type(exc).__name__}: {exc})", file=path) from exc


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names) or "(none)"


def _hint(name: str, available: list[str]) -> str:
    lowered = {candidate.lower(): candidate for candidate in available}
    if name.lower() in lowered:
        return f" (did you mean '{lowered[name.lower()]}'? names are case-sensitive)"
    close = difflib.get_close_matches(name, available, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def layout(prs: Presentation, name: str, *, template_path: Path | str) -> SlideLayout:
    """The slide layout called exactly `name`, searched across every slide master of `prs`."""
    available: list[str] = []
    for master in prs.slide_masters:
        for candidate in master.slide_layouts:
            if candidate.name == name:
                found: SlideLayout = candidate
                return found
            available.append(candidate.name)
    raise ConfigError(
        f"no slide layout '{name}'{_hint(name, available)}; layouts are: {_quoted(available)}", file=template_path
    )


def require_styles(doc: Document, names: Iterable[str], *, template_path: Path | str) -> None:
    """Every style in `names` exists in `doc` (python-docx UI names: 'Heading 1', 'Caption', 'toc 1')."""
    available = [style.name for style in doc.styles if style.name]
    present = set(available)
    missing = [name for name in names if name not in present]
    if not missing:
        return
    listed = _quoted(sorted(available, key=str.lower))
    if len(missing) == 1:
        name = missing[0]
        raise ConfigError(f"no style '{name}'{_hint(name, available)}; styles are: {listed}", file=template_path)
    raise ConfigError(f"no styles {_quoted(missing)}; styles are: {listed}", file=template_path)


def _package_parts(path: Path, kind: str) -> dict[str, bytes]:
    """The XML parts of an Office package, read with zipfile (so `validate` needs neither python-pptx nor
    python-docx); ConfigError if it is missing or not a zip."""
    import zipfile

    _check_file(path, "PowerPoint" if kind == "pptx" else "Word")
    try:
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if n.endswith(".xml")}
    except (zipfile.BadZipFile, OSError) as exc:
        label = "PowerPoint" if kind == "pptx" else "Word"
        raise ConfigError(f"cannot open {label} template ({type(exc).__name__}: {exc})", file=path) from exc


_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: python-docx shows these built-in styles under their UI names (docx.styles.BabelFish)
_UI_NAMES = {
    "caption": "Caption",
    "footer": "Footer",
    "header": "Header",
    **{f"heading {n}": f"Heading {n}" for n in range(1, 10)},
}


def check_office_template(path: Path | str, kind: str) -> list[ConfigError]:
    """Everything a renderer will need from a custom template, found before a build: for PowerPoint every
    layout in REQUIRED_LAYOUTS (and the content placeholder), for Word every style the renderer uses. Read
    from the package's XML, so the check is as quick as the rest of `validate`."""
    from lxml import etree

    path = Path(path)
    problems: list[ConfigError] = []
    try:
        parts = _package_parts(path, kind)
        if kind == "pptx":
            layouts: dict[str, bool] = {}
            for name, xml in sorted(parts.items()):
                if name.startswith("ppt/slideLayouts/slideLayout"):
                    root = etree.fromstring(xml)
                    c_sld = root.find(f"{_P}cSld")
                    title = c_sld.get("name", "") if c_sld is not None else ""
                    content = any(ph.get("idx") == "1" for ph in root.iter(f"{_P}ph"))
                    layouts.setdefault(title, content)
            for name in REQUIRED_LAYOUTS:
                if name not in layouts:
                    problems.append(
                        ConfigError(
                            f"no slide layout '{name}'{_hint(name, list(layouts))}; layouts are: {_quoted(layouts)}",
                            file=path,
                        )
                    )
                elif name == "Title and Content" and not layouts[name]:
                    problems.append(
                        ConfigError("layout 'Title and Content' has no content placeholder (idx 1)", file=path)
                    )
        else:
            styles = parts.get("word/styles.xml")
            root = etree.fromstring(styles) if styles else None
            available = (
                []
                if root is None
                else [_UI_NAMES.get(n.get(f"{_W}val", ""), n.get(f"{_W}val", "")) for n in root.iter(f"{_W}name")]
            )
            present = set(available)
            for name in REQUIRED_STYLES:
                if name not in present:
                    listed = _quoted(sorted(available, key=str.lower))
                    problems.append(
                        ConfigError(f"no style '{name}'{_hint(name, available)}; styles are: {listed}", file=path)
                    )
    except (ConfigError, etree.XMLSyntaxError) as exc:
        problems.append(
            exc if isinstance(exc, ConfigError) else ConfigError(f"cannot read the template's XML ({exc})", file=path)
        )
    return problems
