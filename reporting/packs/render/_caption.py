"""A table's caption beside its title, the same in every format: never the same words twice.

Blocks give a title ("League table: acute, August 2024 to July 2025") and a caption that often opens with the
title or with the title's lead ("League table, top and bottom 5 ..."). Every renderer prints what the caption
adds, so the reader does not meet "League table: ... – League table, ..." on one line."""

from __future__ import annotations

import re

__all__ = ["caption_rest", "caption_text"]


def caption_rest(title: str, caption: str) -> str:
    """The caption's words after the title or its lead ("" when it adds nothing): for formats that set the
    title and the rest apart (bold title, muted rest; a title row and a caption row)."""
    title, caption = title.strip(), caption.strip()
    if not title or not caption:
        return caption
    lead = re.split(r"[:,–]", title, maxsplit=1)[0].strip()
    for opening in (title, lead):
        if opening and caption.casefold().startswith(opening.casefold()):
            rest = caption[len(opening) :].lstrip(" ,;:–-")
            return "" if rest.casefold() in title.casefold() else rest
    return caption


def caption_text(title: str, caption: str) -> str:
    """The one line a table's caption shows: its title, then what the caption adds (a caption that opens with
    the whole title is shown as it is)."""
    title, caption = title.strip(), caption.strip()
    if not title or not caption:
        return caption or title
    if caption.startswith(title):
        return caption
    rest = caption_rest(title, caption)
    return f"{title} – {rest}" if rest else title
