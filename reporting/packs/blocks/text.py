"""Rules of the blocks that are words and structure: cover, contents, headings, text, commentary, page breaks."""

from __future__ import annotations

from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, selected
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Commentary, Contents, Cover, Heading, PageBreak, Text


@rule(t.CoverBlock)
def _cover(asm: Assembly, o: t.CoverOptions, where: Where, extra: Extra) -> list[Block]:
    subtitle = asm.render(o.subtitle or asm.template.subtitle, (*where, "subtitle"), **extra)
    return [
        Cover(
            asm.render(asm.template.title, ("title",)),
            subtitle,
            asm.period_label,
            asm.template.audience,
            asm.template.owner,
            asm.template.classification,
        )
    ]


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
    return blocks or [Text((f"No commentary was received for {asm.period_label}.",), "note")]


@rule(t.PageBreakBlock)
def _page_break(asm: Assembly, o: t.PageBreakOptions | None, where: Where, extra: Extra) -> list[Block]:
    return [PageBreak()]
