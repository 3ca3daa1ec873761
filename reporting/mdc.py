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
    "NOT_ASSESSED",
    "NOT_ASSESSED_CELL",
    "POINT_SYMBOLS",
    "POINT_TYPE_LABELS",
    "RAG",
    "RAG_NOTE",
    "VARIATION",
    "is_concern",
    "is_exception",
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
#: what a table cell says when a measure has no icon (no data, too few points, or no target)
NOT_ASSESSED = "Not assessed"

#: point type -> legend label
POINT_TYPE_LABELS: dict[str, str] = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: neutral (high)",
    "special_cause_neutral_low": "Special cause: neutral (low)",
}
#: Marker shapes per point type, so meaning survives greyscale printing and colour-vision deficiency.
POINT_SYMBOLS: dict[str, str] = {
    "common_cause": "circle",
    "special_cause_improvement": "square",
    "special_cause_concern": "diamond",
    "special_cause_neutral_high": "triangle-up",
    "special_cause_neutral_low": "triangle-down",
}


def is_concern(variation_icon: str | None) -> bool:
    """Special cause variation in the direction that is worse."""
    return str(variation_icon or "").startswith("concern")


def is_exception(
    variation_icon: str | None, assurance: str | None, *, misses_target: bool, stale: bool = False
) -> bool:
    """A measure needs the reader's attention: THE definition used by packs, email and `send_if`.

    An exception is special cause concern, or a target the process will not reliably meet: assurance
    "consistently missed", or "met inconsistently" while the latest point misses it (`misses_target`). A
    stale measure (no current data) is never an exception: it is reported as stale instead.
    """
    if stale:
        return False
    fails = assurance == "consistent_fail" or (assurance == "inconsistent" and misses_target)
    return is_concern(variation_icon) or fails


# --- what the renderers show (added by the renderers' part of issue 17) -------------------------------------
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
