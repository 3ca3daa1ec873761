"""Rules of the blocks that are words and structure: cover, contents, headings, text, commentary, page breaks,
about (the paper's provenance)."""

from __future__ import annotations

from reporting import __version__
from reporting.packs import template as t
from reporting.packs.assembly import NO_COMMENTARY, Assembly, Extra, Where, selected
from reporting.packs.blocks.peers import peer_group
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Commentary, Contents, Cover, Heading, PageBreak, Text

#: each board-paper essential's label on the cover, in cover order (PaperOptions' fields)
PAPER_LABELS = {
    "meeting": "Meeting",
    "meeting_date": "Meeting date",
    "agenda_item": "Agenda item",
    "purpose": "Purpose",
    "executive_lead": "Executive lead",
    "author": "Author",
    "references": "BAF and risk references",
    "previously_considered": "Previously considered by",
}


@rule(t.CoverBlock)
def _cover(asm: Assembly, o: t.CoverOptions, where: Where, extra: Extra) -> list[Block]:
    template = asm.template
    subtitle = asm.render(o.subtitle or template.subtitle, (*where, "subtitle"), **extra)
    details = _paper_details(asm, template.paper.for_org(asm.org)) if template.paper else []
    meeting = dict(details).get("Meeting")
    # the period once: a subtitle that names it ("RJ1 – week of 18 August 2025") is enough
    period = "" if asm.period_label.casefold() in subtitle.casefold() else asm.period_label
    for label, value in (
        ("Period", period),
        ("For", "" if template.audience == meeting else template.audience),
        ("Report owner", template.owner),
        ("Version", template.version),
        ("Classification", template.classification),
    ):
        if value:
            details.append((label, value))
    return [Cover(asm.render(template.title, ("title",)), subtitle, tuple(details))]


def _paper_details(asm: Assembly, paper: t.PaperValues) -> list[tuple[str, str]]:
    """The board-paper essentials the template gives, as the cover's labelled lines (left out when not given)."""
    out: list[tuple[str, str]] = []
    for key, label in PAPER_LABELS.items():
        value = getattr(paper, key)
        if key == "meeting_date" and value is not None:
            text = f"{value.day} {value:%B %Y}"
        elif key == "purpose" and value is not None:
            text = f"For {value}"
        elif key == "references":
            text = "; ".join(asm.render(r, ("paper", key, i)) for i, r in enumerate(value))
        else:
            text = asm.render(value, ("paper", key)) if value else ""
        if text.strip():
            out.append((label, text.strip()))
    return out


@rule(t.AboutBlock)
def _about(asm: Assembly, o: t.AboutOptions, where: Where, extra: Extra) -> list[Block]:
    """Provenance as plain paragraphs under a heading, at the end of the paper: never a server's path (the
    template is named as the project names it), never the build time (a rebuild is the same file; the time is
    in manifest.json)."""
    sources = asm.source_names
    who = asm.org_name or "all organisations"
    peers = f", compared with {peer_group(asm, None).label}" if asm.peer_group else ""
    paragraphs = [
        f"This paper covers {who} for {asm.period_noun}{peers}.",
        "The figures come from " + "; ".join(sources) + "." if sources else "",
        f"It was produced by the reporting system (reporting {__version__}) from data snapshot {asm.snapshot.hash} "
        f"and the paper's template {asm.template_file} (version {asm.template_hash}). The same data and template "
        "always give the same paper, so any figure in it can be checked; the time it was produced is recorded "
        "with the published files.",
    ]
    return [Heading(asm.render(o.title, (*where, "title"), **extra), 2), Text(tuple(p for p in paragraphs if p))]


@rule(t.ContentsBlock)
def _contents(asm: Assembly, o: t.ContentsOptions, where: Where, extra: Extra) -> list[Block]:
    return [Contents(o.title)]


@rule(t.HeadingBlock)
def _heading(asm: Assembly, o: t.HeadingOptions | str, where: Where, extra: Extra) -> list[Block]:
    if isinstance(o, str):
        return [Heading(asm.render(o, where, **extra), 2)]
    return [Heading(asm.render(o.text, (*where, "text"), **extra), o.level)]


@rule(t.TextBlock)
def _text(asm: Assembly, o: str, where: Where, extra: Extra) -> list[Block]:
    text = asm.render(o, where, **extra)
    # a blank line starts a paragraph; a single line break (YAML's `|` keeps them) is only a space
    paragraphs = tuple(" ".join(p.split()) for p in text.split("\n\n") if p.strip())
    return [Text(paragraphs)] if paragraphs else []


@rule(t.CommentaryBlock)
def _commentary(asm: Assembly, o: t.CommentaryOptions, where: Where, extra: Extra) -> list[Block]:
    blocks: list[Block] = []
    for metric_id in selected(asm, o):
        if metric_id in asm.commentary:
            text, actions, author = asm.commentary[metric_id]
            blocks.append(Commentary(metric_id, asm.metric(metric_id).title, text, actions, author))
    if blocks:
        return blocks
    if not asm.commentary:  # none at all: said once in the pack (the summary's asks may have), not in every section
        if NO_COMMENTARY in asm.said_in_pack:
            return []
        asm.said_in_pack.add(NO_COMMENTARY)
    return [Text((f"No commentary was received for {asm.period_noun}.",), "note")]


@rule(t.PageBreakBlock)
def _page_break(asm: Assembly, o: t.PageBreakOptions | None, where: Where, extra: Extra) -> list[Block]:
    return [PageBreak()]
