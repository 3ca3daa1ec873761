"""HTML edition: a Pack tree -> one self-contained, accessible web page (the format to publish on a website).

    render(pack, path, svgs) -> path          svgs: chart spec content hash -> SVG file (Renderer(fmt="svg"))
    theme_contrast_failures(theme) -> [...]   the theme colours the page uses as text, below WCAG 2.2 AA

GOV.UK's publishing guidance asks for HTML whenever possible, and the Public Sector Bodies Accessibility
Regulations hold Board papers on a trust's website to WCAG 2.2 AA. So the page has:
- landmarks (banner, navigation, main, contentinfo), a skip link, visible focus and one h1; each Section is
  an h2 and Heading blocks nest under it without skipping a level;
- tables with a caption, `th` with `scope`, wrapped in a focusable scroll region so a 390 px phone scrolls
  the table, not the page;
- charts as `figure` + `figcaption`, the chart an inline SVG (role="img", named by its title, described by
  its alt text, which is also shown), and a "Show the data" table in details/summary;
- MDC icons as letter + text label; the coloured ring only decorates, so meaning never rests on colour;
- a print stylesheet (navigation hidden, the data tables opened, figures kept whole);
- no external request of any kind: styles inline, charts inline, no fonts or scripts fetched.

Colours come from the pack's theme. Those used for text (palette.text and palette.highlight on
palette.background, palette.text on palette.band) must reach 4.5:1; `theme_contrast_failures` says which do not, and the build refuses
the HTML edition of such a theme (packs.build.check_formats) naming the key and the ratio.

The page itself is the Jinja template templates/pack.html.j2 (sandboxed, autoescaped); this module turns
the Pack tree into plain view data for it, one function per block type as in the other renderers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import singledispatch
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from reporting.charts.spec import ChartSpec
from reporting.charts.theme import Theme
from reporting.errors import ReportingError
from reporting.files import atomic_write
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, RAG, RAG_NOTE, VARIATION, icon
from reporting.packs.render._brand import TEXT_CONTRAST, contrast_ratio, mark_colour
from reporting.packs.render._caption import caption_text
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render._draft import mark_html
from reporting.packs.render.chart_table import chart_data
from reporting.packs.render.chart_table import clean as _clean
from reporting.packs.tree import (
    Cell,
    ChartBlock,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    SummaryTable,
    Text,
)

__all__ = [
    "contrast_message",
    "page",
    "render",
    "theme_contrast_failures",
]

#: (text colour, background colour) pairs of palette keys the page writes text with
TEXT_PAIRS = (("text", "background"), ("highlight", "background"), ("text", "band"))
BULLET = re.compile(r"^(?:•|-)\s+")
FALLBACK_SUPPRESSED_NOTE = "* Suppressed by disclosure control: too few events to publish safely."
_TEMPLATES = Path(__file__).with_name("templates")


# --- contrast ------------------------------------------------------------------------------------------


def theme_contrast_failures(theme: Theme) -> list[tuple[str, str, float]]:
    """(text key, background key, ratio) of each pair the page writes text with that is below TEXT_CONTRAST,
    e.g. [("palette.text", "palette.background", 2.3)]; a colour that is not #RRGGBB fails with ratio 0."""
    failures = []
    palette = theme.palette
    for fore, back in TEXT_PAIRS:
        try:
            ratio = contrast_ratio(getattr(palette, fore), getattr(palette, back))
        except ValueError:
            ratio = 0.0
        if ratio < TEXT_CONTRAST:
            failures.append((f"palette.{fore}", f"palette.{back}", math.floor(ratio * 100) / 100))
    return failures


def contrast_message(key: str, background: str, ratio: float) -> str:
    return (
        f"theme colour {key} has contrast {ratio:.2f}:1 on {background}; the HTML edition needs at least "
        f"{TEXT_CONTRAST}:1 (WCAG 2.2 AA, text)"
    )


# --- view data -----------------------------------------------------------------------------------------


@dataclass
class _Context:
    pack: Pack
    svgs: Mapping[str, Path]
    figures: int = 0
    tables: int = 0
    level: int = 2  # the last heading level written
    section_title: str = ""
    suppressed: bool = False
    ids: set[str] = field(default_factory=set)

    def heading(self, wanted: int) -> int:
        """h2..h4, never more than one level below the last heading (WCAG 1.3.1, and screen-reader users
        navigate by heading level)."""
        level = max(2, min(wanted, self.level + 1, 4))
        self.level = level
        return level

    def svg(self, spec: ChartSpec, prefix: str, *, label: str, described_by: str | None) -> Markup:
        path = self.svgs.get(spec.content_hash())
        if path is None:
            raise ReportingError(
                f"chart '{spec.title}' has no SVG: the HTML renderer needs the pack's charts "
                "rendered as SVG (Renderer.render(specs, 'svg')) first"
            )
        return _inline_svg(Path(path).read_text(encoding="utf-8"), prefix, label, described_by)


def _inline_svg(svg: str, prefix: str, label: str, described_by: str | None) -> Markup:
    """Plotly's SVG made fit for inlining: no XML declaration, ids made unique to this figure (plotly's are
    random per export, so the page would differ on every rebuild and two charts could share one), sized by
    CSS from its viewBox, and exposed as ONE image with a name (its children are presentational)."""
    svg = re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r"\b(trace)[0-9a-f]{6}\b", r"\1", svg)  # plotly's random trace uid, a class only
    ids = list(dict.fromkeys(re.findall(r'\sid="([^"]+)"', svg)))
    mapping = {old: f"{prefix}-{i}" for i, old in enumerate(ids)}
    if mapping:
        pattern = re.compile(
            r'(\sid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=["\)])'
        )
        svg = pattern.sub(lambda m: m.group(1) + mapping[m.group(2)], svg)
    match = re.search(r"<svg\b[^>]*>", svg)
    if match is None:
        raise ReportingError("a chart's SVG has no <svg> element")
    opening = re.sub(r'\s(width|height|style)="[^"]*"', "", match.group(0))
    if "viewBox" not in opening:
        raise ReportingError("a chart's SVG has no viewBox, so it cannot scale to the page")
    extra = f' role="img" aria-label="{_attr(label)}" focusable="false"'
    if described_by:
        extra += f' aria-describedby="{described_by}"'
    opening = opening[:-1].rstrip("/") + extra + ">"
    return Markup(svg[: match.start()] + opening + svg[match.end() :])


def _attr(text: str) -> str:
    return _clean(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _slug(ctx: _Context, text: str, kind: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or kind
    slug, n = f"{kind}-{base}", 2
    while slug in ctx.ids:
        slug, n = f"{kind}-{base}-{n}", n + 1
    ctx.ids.add(slug)
    return slug


def _icon(code: str | None, icons: Mapping[str, tuple[str, str, str]], theme: Theme) -> dict[str, str] | None:
    if not code:
        return None
    # a point type has its marker glyph (mdc.icon), never "?", which is MDC's "target met inconsistently"
    letter, colour_name, label = icons.get(code) or icon(code) or ("–", "common_cause", code.replace("_", " "))
    return {"letter": letter, "label": label, "colour": f"#{mark_colour(theme, colour_name)}"}


def _cell(value: Cell, ctx: _Context) -> dict[str, Any]:
    if value.kind == "icon" and value.icon:
        return {
            "icon": _icon(value.icon, {**VARIATION, **ASSURANCE}, ctx.pack.theme),
            "text": "",
            "numeric": False,
            "suppressed": False,
            "rag": None,
        }
    ctx.suppressed |= value.suppressed
    return {
        "icon": None,
        "text": "*" if value.suppressed else _clean(value.text),
        "suppressed": value.suppressed,
        "numeric": value.kind in {"number", "percent", "count"},
        "rag": RAG[value.rag][0] if value.rag in RAG and not value.suppressed else None,
    }


def _notes(footnotes: Sequence[str], suppressed: bool, rag: bool) -> list[str]:
    notes = [_clean(n) for n in footnotes]
    if suppressed and not any(n.lstrip().startswith("*") for n in notes):
        notes.append(FALLBACK_SUPPRESSED_NOTE)
    if rag:
        notes.append(RAG_NOTE)
    return notes


@singledispatch
def _block(block: object, ctx: _Context) -> list[dict[str, Any]]:
    raise no_rule("HTML", block)


@_block.register
def _cover(block: Cover, ctx: _Context) -> list[dict[str, Any]]:
    details = [(label, _clean(value)) for label, value in block.details]
    return [{"kind": "cover", "subtitle": _clean(block.subtitle or ctx.pack.subtitle), "details": details}]


@_block.register
def _contents(block: Contents, ctx: _Context) -> list[dict[str, Any]]:
    return []  # the page's navigation landmark is the contents


@_block.register
def _heading(block: Heading, ctx: _Context) -> list[dict[str, Any]]:
    if block.level == 1 and _clean(block.text).strip() == ctx.section_title.strip():
        return []  # the section's own h2 already says it
    level = ctx.heading(block.level + 1)
    return [{"kind": "heading", "level": level, "text": _clean(block.text), "id": _slug(ctx, block.text, "h")}]


@_block.register
def _text(block: Text, ctx: _Context) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for text in block.paragraphs:
        text = _clean(text)
        bullet = BULLET.match(text)
        if bullet:
            if items and items[-1]["kind"] == "list":
                items[-1]["items"].append(text[bullet.end() :])
            else:
                items.append({"kind": "list", "items": [text[bullet.end() :]]})
        elif text.strip():
            items.append({"kind": "paragraph", "style": block.style, "text": text})
    return items


@_block.register
def _summary_table(block: SummaryTable, ctx: _Context) -> list[dict[str, Any]]:
    ctx.tables += 1
    number, theme = ctx.tables, ctx.pack.theme
    before = ctx.suppressed
    ctx.suppressed = False
    rows = []
    for i, row in enumerate(block.rows):
        sparkline = None
        if row.sparkline is not None:
            sparkline = ctx.svg(
                row.sparkline, f"t{number}r{i}", label=_clean(row.sparkline.alt_text or row.title), described_by=None
            )
        rows.append(
            {
                "title": _clean(row.title),
                "narrative": _clean(row.narrative),
                "period": _clean(row.period_label),
                "latest": _cell(row.latest, ctx),
                "target": _cell(row.target, ctx),
                "variation": _icon(row.variation_icon, VARIATION, theme),
                "assurance": _icon(row.assurance, ASSURANCE, theme),
                "sparkline": sparkline,
            }
        )
    notes = _notes(block.footnotes, ctx.suppressed, rag=False)
    ctx.suppressed |= before
    return [
        {
            "kind": "summary",
            "id": f"table-{number}",
            "number": number,
            "caption": _clean(caption_text(block.title, block.caption)),
            "rows": rows,
            "notes": notes,
        }
    ]


@_block.register
def _chart(block: ChartBlock, ctx: _Context) -> list[dict[str, Any]]:
    ctx.figures += 1
    number, spec = ctx.figures, block.spec
    ident = f"figure-{number}"
    svg = (
        None
        if spec.message and not spec.series
        else ctx.svg(spec, f"f{number}", label=_clean(spec.title), described_by=f"{ident}-alt")
    )
    header, rows = chart_data(spec)
    return [
        {
            "kind": "figure",
            "id": ident,
            "number": number,
            "svg": svg,
            "caption": _clean(block.caption or spec.title),
            "alt": _clean(spec.alt_text or spec.title),
            "message": _clean(spec.message or ""),
            "badges": [{"letter": b.letter, "label": _clean(b.label), "colour": b.colour} for b in spec.badges],
            "header": header,
            "rows": rows,
            "notes": _clean(block.notes),
        }
    ]


@_block.register
def _data_table(block: DataTable, ctx: _Context) -> list[dict[str, Any]]:
    ctx.tables += 1
    number = ctx.tables
    before = ctx.suppressed
    ctx.suppressed = False
    width = len(block.columns)
    rows = []
    for values in block.rows:
        if len(values) != width:
            raise ReportingError(f"table '{block.title}': a row has {len(values)} cells for {width} columns")
        rows.append([_cell(v, ctx) for v in values])
    rag = any(c["rag"] for r in rows for c in r)
    notes = _notes(block.footnotes, ctx.suppressed, rag)
    ctx.suppressed |= before
    return [
        {
            "kind": "table",
            "id": f"table-{number}",
            "number": number,
            "caption": _clean(caption_text(block.title, block.caption)),
            "columns": [
                {"name": _clean(c.name), "numeric": c.kind in {"number", "percent", "count"}} for c in block.columns
            ],
            "rows": rows,
            "notes": notes,
        }
    ]


@_block.register
def _commentary(block: Commentary, ctx: _Context) -> list[dict[str, Any]]:
    level = ctx.heading(ctx.level + 1 if ctx.level < 3 else 3)
    actions = [BULLET.sub("", p) for p in _paragraphs(block.actions)] if block.actions else []
    return [
        {
            "kind": "commentary",
            "level": level,
            "id": _slug(ctx, block.title, "commentary"),
            "title": _clean(block.title),
            "paragraphs": _paragraphs(block.commentary),
            "actions": actions,
            "author": _clean(block.author),
        }
    ]


@_block.register
def _page_break(block: PageBreak, ctx: _Context) -> list[dict[str, Any]]:
    return []


def _paragraphs(text: str) -> list[str]:
    return [_clean(part.strip()) for part in re.split(r"\n\s*\n|\r\n\s*\r\n", text or "") if part.strip()]


# --- the page ------------------------------------------------------------------------------------------


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(pack: Pack, svgs: Mapping[str, Path]) -> str:
    """The HTML text of the edition (what `render` writes)."""
    failures = theme_contrast_failures(pack.theme)
    if failures:
        raise ReportingError(contrast_message(*failures[0]))
    ctx = _Context(pack, svgs)
    sections = []
    cover_item: dict[str, Any] | None = None
    for section in pack.sections:
        ctx.level, ctx.section_title = 2, _clean(section.title)
        items: list[dict[str, Any]] = []
        for block in section.blocks:
            if isinstance(block, Cover):  # the cover's details go under the h1, before any section
                cover_item = cover_item or _block(block, ctx)[0]
            else:
                items += _block(block, ctx)
        if not items and not section.title:
            continue
        sections.append(
            {
                "title": _clean(section.title) or "Section",
                "id": _slug(ctx, section.title or "section", "s"),
                "appendix": section.appendix,
                "items": items,
            }
        )
    cover = next((b for b in pack.blocks() if isinstance(b, Cover)), None)
    title = _clean(cover.title if cover and cover.title else pack.title)
    who = _clean(pack.org_name or "")
    provenance = pack.provenance
    palette = pack.theme.palette
    return (
        _environment()
        .get_template("pack.html.j2")
        .render(
            lang="en-GB",
            not_assessed=NOT_ASSESSED_CELL,
            title=title,
            org=who,
            period=_clean(pack.period_label),
            page_title=" – ".join(p for p in (title, who, _clean(pack.period_label)) if p),
            classification=_clean(pack.classification),
            sections=sections,
            footnotes=[_clean(n) for n in pack.footnotes],
            # said once: a pack with an "About this paper" section (which names the snapshot) has no footer line
            provenance=""
            if _names_snapshot(pack)
            else (
                f"Built from data snapshot {provenance.snapshot_hash[:12]} with template "
                f"{Path(provenance.template_path).name} ({provenance.template_hash[:12]}), reporting "
                f"{provenance.package_version}."
            ),
            colours={
                "text": palette.text,
                "background": palette.background,
                "accent": palette.highlight,
                "band": palette.band,
                "rule": palette.common_cause,
            },
            font=pack.theme.font_family,
            subtitle=_clean(pack.subtitle),
            cover=cover_item,
        )
    )


def _names_snapshot(pack: Pack) -> bool:
    """True when the pack's own text already says which data snapshot it was built from (the about block)."""
    snapshot = pack.provenance.snapshot_hash
    return any(snapshot in p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs)


def render(pack: Pack, path: Path, svgs: Mapping[str, Path]) -> Path:
    """Write the HTML edition of `pack` at `path` (parents created) and return `path`."""
    text = mark_html(page(pack, svgs))
    return atomic_write(Path(path), text)
