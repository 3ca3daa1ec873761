"""The Making Data Count vocabulary: one place for what every output calls a point, an icon and an exception.

Charts, alt text, narratives, the four renderers, the email and the scheduler all read these names, so a
pack never says "Special cause concern (high)" in one format and something else in another, and "needs
attention" means the same thing in the pack, the email and `send_if: exceptions_exist`.
Colours are not here: they belong to the (overridable) theme, and `VARIATION`/`ASSURANCE` name the theme's
palette colour each icon takes.
"""

from __future__ import annotations

__all__ = [
    "ASSURANCE",
    "ASSURANCE_PHRASES",
    "NOT_ASSESSED",
    "NOT_ASSESSED_CELL",
    "COMMON_CAUSE_POINT",
    "POINT_SYMBOLS",
    "POINT_TYPE_ICONS",
    "POINT_TYPE_LABELS",
    "POINT_TYPE_PHRASES",
    "RAG",
    "RAG_NOTE",
    "VARIATION",
    "VARIATION_SHORT",
    "fails_target",
    "icon",
    "icon_text",
    "is_concern",
    "is_exception",
    "point_type_icon",
]

#: variation icon code -> (letter, palette colour name, label)
VARIATION: dict[str, tuple[str, str, str]] = {
    "common_cause": ("~", "common_cause", "Common cause variation"),
    "improvement_high": ("H↑", "improvement", "Special cause improvement (high)"),
    "improvement_low": ("L↓", "improvement", "Special cause improvement (low)"),
    "concern_high": ("H↑", "concern", "Special cause concern (high)"),
    "concern_low": ("L↓", "concern", "Special cause concern (low)"),
    "neutral_high": ("H↑", "neutral", "Special cause variation (high)"),
    "neutral_low": ("L↓", "neutral", "Special cause variation (low)"),
}
#: assurance code -> (letter, palette colour name, label)
ASSURANCE: dict[str, tuple[str, str, str]] = {
    "consistent_pass": ("P", "improvement", "Target consistently met"),
    "consistent_fail": ("F", "concern", "Target consistently missed"),
    "inconsistent": ("?", "common_cause", "Target met inconsistently"),
}
#: variation icon code -> the short words beside the icon where a column is narrow (the deck's summary table);
#: the icon's letters (H↑ / L↓) say the direction, so "unusually low" is never shortened to "neutral"
VARIATION_SHORT: dict[str, str] = {
    "common_cause": "Common cause",
    "improvement_high": "Improvement",
    "improvement_low": "Improvement",
    "concern_high": "Concern",
    "concern_low": "Concern",
    "neutral_high": "Unusually high",
    "neutral_low": "Unusually low",
}
#: what a table cell says when a measure has no icon (no data, too few points, or no target)
NOT_ASSESSED = "Not assessed"

#: point type -> legend label (and, with its marker's glyph, what a data table's "Point type" cell says), in
#: the capitalisation of the icon labels above
POINT_TYPE_LABELS: dict[str, str] = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause improvement",
    "special_cause_concern": "Special cause concern",
    "special_cause_neutral_high": "Special cause variation (high)",
    "special_cause_neutral_low": "Special cause variation (low)",
}
#: Marker shapes per point type, so meaning survives greyscale printing and colour-vision deficiency.
POINT_SYMBOLS: dict[str, str] = {
    "common_cause": "circle",
    "special_cause_improvement": "square",
    "special_cause_concern": "diamond",
    "special_cause_neutral_high": "triangle-up",
    "special_cause_neutral_low": "triangle-down",
}

#: marker shape -> the character a table cell shows for it, so a "Point type" cell looks like the chart's marker
_GLYPHS = {"circle": "●", "square": "■", "diamond": "◆", "triangle-up": "▲", "triangle-down": "▼"}
#: the icon code of a common-cause POINT in a data table: "common_cause" is also the variation icon, a series'
#: verdict ("Common cause variation"), which a point is not
COMMON_CAUSE_POINT = "common_cause_point"
#: point type icon code -> (glyph of its marker, palette colour name, label): each point in a data table as its
#: chart marker and legend words ("● Common cause", "■ Special cause improvement"), common cause included
POINT_TYPE_ICONS: dict[str, tuple[str, str, str]] = {
    COMMON_CAUSE_POINT if code == "common_cause" else code: (
        _GLYPHS[POINT_SYMBOLS[code]],
        colour,
        POINT_TYPE_LABELS[code],
    )
    for code, colour in (
        ("common_cause", "common_cause"),
        ("special_cause_improvement", "improvement"),
        ("special_cause_concern", "concern"),
        ("special_cause_neutral_high", "neutral"),
        ("special_cause_neutral_low", "neutral"),
    )
}


def icon(code: str | None) -> tuple[str, str, str] | None:
    """(letter, palette colour name, label) of a variation icon, an assurance code or a point type.

    None for anything else (no icon, or an unknown code): a renderer then shows the not-assessed text,
    never a guessed "?" (which is MDC's symbol for "target met inconsistently").
    """
    if code is None:
        return None
    return VARIATION.get(code) or ASSURANCE.get(code) or POINT_TYPE_ICONS.get(code)


def point_type_icon(point_type: str | None) -> str | None:
    """The icon code a data table's "Point type" cell carries for a point of `point_type` (None for a gap)."""
    if not point_type:
        return None
    return COMMON_CAUSE_POINT if point_type == "common_cause" else point_type


def icon_text(code: str | None) -> str:
    """What a table cell says for an icon: letter and label ("H↑ Special cause concern (high)"); "" if none.

    The one wording for cells and for the rules that colour them (Excel conditional formatting matches it).
    """
    found = icon(code)
    return f"{found[0]} {found[2]}" if found else ""


#: point type -> how a narrative sentence names it ("... shows special cause improvement (7 points ...)")
POINT_TYPE_PHRASES: dict[str, str] = {
    "special_cause_improvement": "special cause improvement",
    "special_cause_concern": "special cause concern",
    "special_cause_neutral_high": "special cause variation (unusually high)",
    "special_cause_neutral_low": "special cause variation (unusually low)",
}
#: assurance code -> how a narrative sentence says it ("the 78% target is not reliably met (inconsistent)")
ASSURANCE_PHRASES: dict[str, str] = {
    "consistent_pass": "is consistently met (consistent pass)",
    "consistent_fail": "is consistently missed (consistent fail)",
    "inconsistent": "is not reliably met (inconsistent)",
}


def is_concern(variation_icon: str | None) -> bool:
    """Special cause variation in the direction that is worse."""
    return str(variation_icon or "").startswith("concern")


def fails_target(assurance: str | None, *, misses_target: bool) -> bool:
    """The target is not being met and the process will not reliably meet it: assurance "consistently
    missed" or "met inconsistently", while the latest point misses the target (`misses_target`)."""
    return assurance in {"consistent_fail", "inconsistent"} and misses_target


def is_exception(
    variation_icon: str | None, assurance: str | None, *, misses_target: bool, stale: bool = False
) -> bool:
    """A measure needs the reader's attention: THE definition used by packs, email and `send_if`.

    An exception is special cause concern, or a missed target the process will not reliably meet (see
    `fails_target`: assurance "consistently missed" or "met inconsistently" while the latest point misses
    the target). A stale measure (no current data) is never an exception: it is reported as stale instead.
    Computed once, where a pack's summary rows are made (`SummaryRow.exception`); the email and the
    scheduler read that field and never derive it again.
    """
    if stale:
        return False
    return is_concern(variation_icon) or fails_target(assurance, misses_target=misses_target)


# --- what the renderers show ---------------------------------------------------------------------------------
# One table for every format, so a rating or a missing icon reads and looks the same in the deck, the paper,
# the workbook and the web page. RAG fills are status colours (like traffic lights), not the theme's identity.

#: what an icon cell shows when a measure has no icon: the dash marks it at a glance, the words say why
NOT_ASSESSED_CELL = f"– {NOT_ASSESSED}"
#: RAG rating -> (letter, label, cell fill, status text colour on that fill), hex without '#'
RAG: dict[str, tuple[str, str, str, str]] = {
    "red": ("R", "Red", "F6D0CD", "8A1538"),
    "amber": ("A", "Amber", "FFE9B8", "6B4500"),
    "green": ("G", "Green", "CCE5D8", "00461B"),
    "grey": ("–", "Grey", "E8EDEE", "231F20"),
}
#: the footnote under a table that carries RAG letters
RAG_NOTE = "R, A and G mark red, amber and green ratings."
