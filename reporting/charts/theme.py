"""One palette and one theme for every chart and every output path (plotly, PowerPoint, Excel).

Colours are the Making Data Count ones: improvement blue, concern orange, neutral purple, common cause grey.
Blue/orange stays distinguishable under the common colour-vision deficiencies, and meaning is never carried
by colour alone: each point type also has its own marker shape, and icons carry letters and arrows.
A pack template may override any field (`Theme.with_overrides`); tests prove an override reaches every output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["Palette", "Theme", "DEFAULT_THEME"]


@dataclass(frozen=True)
class Palette:
    improvement: str = "#289DE0"
    concern: str = "#FAB428"
    neutral: str = "#361475"
    common_cause: str = "#7B7D7D"
    data_line: str = "#A6A6A6"
    mean: str = "#000000"
    limits: str = "#7B7D7D"
    target: str = "#DE1B1B"
    highlight: str = "#005EB8"  # NHS blue, for the selected organisation
    peers: str = "#A6A6A6"
    median: str = "#231F20"
    benchmark: str = "#009639"
    band: str = "#E8EDEE"
    text: str = "#231F20"
    background: str = "#FFFFFF"
    # the organisation's identity in the documents (table headers, headings, links, the cover subtitle);
    # NHS identity by default, and a pack's `theme: {palette: {brand: ...}}` rebrands every renderer
    brand: str = "#005EB8"  # NHS Blue
    brand_dark: str = "#003087"  # NHS Dark Blue
    muted_text: str = "#425563"  # NHS Dark Grey: captions, notes, footnotes
    table_band: str = "#EEF2F3"  # alternate table rows

    def point(self, point_type: str) -> str:
        if point_type == "special_cause_improvement":
            return self.improvement
        if point_type == "special_cause_concern":
            return self.concern
        if point_type.startswith("special_cause_neutral"):
            return self.neutral
        return self.common_cause


@dataclass(frozen=True)
class Theme:
    palette: Palette = field(default_factory=Palette)
    font_family: str = "Arial, Liberation Sans, DejaVu Sans, sans-serif"
    document_font: str = "Arial"  # the font Office documents name (charts use font_family, with fallbacks)
    font_size: int = 14
    title_size: int = 18
    width: int = 960  # pixels at scale 1: 16:9 slide body; A4 width at 2x scale stays sharp
    height: int = 540
    scale: float = 2.0
    marker_size: int = 8
    line_width: float = 2.0

    def with_overrides(self, overrides: dict[str, Any] | None) -> Theme:
        """A copy with template overrides, e.g. {"font_size": 16, "palette": {"concern": "#E66100"}}."""
        if not overrides:
            return self
        values = dict(overrides)
        palette = values.pop("palette", None)
        known = {f.name for f in fields(Theme)} - {"palette"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown theme key(s) {sorted(unknown)}; expected {sorted(known | {'palette'})}")
        theme = replace(self, **values)
        if palette:
            allowed = {f.name for f in fields(Palette)}
            bad = set(palette) - allowed
            if bad:
                raise ValueError(f"unknown palette colour(s) {sorted(bad)}; expected {sorted(allowed)}")
            theme = replace(theme, palette=replace(theme.palette, **palette))
        return theme


DEFAULT_THEME = Theme()
