"""Sparklines drawn with Pillow instead of the browser.

A summary table carries one sparkline per metric in every pack. In a run of hundreds of per-organisation
packs the browser's ~0.1 s per picture became the largest cost of a pack (and kept a second core busy),
yet a sparkline is one line and one marker. It is drawn here at 4x and downsampled, so edges are
anti-aliased, at the theme's scale and size like the browser's pictures, with the same colours and the
same marker shape for the latest point's type. Sparklines that carry a message ("no data") still go to the
browser, which lays out text.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from PIL import Image, ImageDraw

from reporting.charts.spec import ChartSpec

__all__ = ["can_draw", "draw"]

SUPERSAMPLE = 4
MARGIN = 4  # pixels at scale 1, as the browser's layout of small charts


def can_draw(spec: ChartSpec) -> bool:
    return spec.kind == "sparkline" and not spec.message and bool(spec.series)


def _number(x: object, i: int) -> float:
    """Dates are placed by day, as the browser's date axis does; anything else that is not a number, by order."""
    if isinstance(x, int | float) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, str):
        try:
            return float(dt.date.fromisoformat(x[:10]).toordinal())
        except ValueError:
            return float(i)
    return float(i)


def _marker(draw: ImageDraw.ImageDraw, symbol: str, cx: float, cy: float, r: float, fill: str, outline: str,
            edge: float) -> None:
    if symbol == "square":
        s = r * 0.9
        points = [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    elif symbol == "diamond":
        points = [(cx, cy - r * 1.2), (cx + r * 1.2, cy), (cx, cy + r * 1.2), (cx - r * 1.2, cy)]
    elif symbol in {"triangle-up", "triangle-down"}:
        sign = -1 if symbol == "triangle-up" else 1
        points = [(cx, cy + sign * r * 1.2), (cx + r * 1.1, cy - sign * r * 0.7), (cx - r * 1.1, cy - sign * r * 0.7)]
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=max(1, round(edge)))
        return
    draw.polygon(points, fill=fill, outline=outline, width=max(1, round(edge)))


def draw(spec: ChartSpec, path: Path) -> None:
    """Write `spec` (a sparkline: a data line, and a markers series holding the latest point) as PNG."""
    theme = spec.theme
    width, height = spec.size
    k = theme.scale * SUPERSAMPLE
    image = Image.new("RGB", (round(width * k), round(height * k)), theme.palette.background)
    canvas = ImageDraw.Draw(image)
    radius = theme.marker_size / 2 * k
    pad = MARGIN * k + radius  # room for the marker, as the browser's autorange leaves
    xpad = pad + 0.05 * (image.width - 2 * MARGIN * k)  # and 5% of the width either side on the time axis
    points = [(_number(x, i), y) for s in spec.series for i, (x, y) in enumerate(zip(s.x, s.y, strict=True))
              if y is not None and math.isfinite(y)]
    if not points:
        image.save(path, "PNG")
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def at(x: float, y: float) -> tuple[float, float]:
        px = xpad + (x - x0) / (x1 - x0) * (image.width - 2 * xpad) if x1 > x0 else image.width / 2
        py = image.height - pad - (y - y0) / (y1 - y0) * (image.height - 2 * pad) if y1 > y0 else image.height / 2
        return px, py

    for series in spec.series:
        coords = [at(_number(x, i), y) if y is not None and math.isfinite(y) else None
                  for i, (x, y) in enumerate(zip(series.x, series.y, strict=True))]
        if series.mode in {"lines", "lines+markers"}:
            run: list[tuple[float, float]] = []
            for c in [*coords, None]:  # a gap breaks the line, as in the SPC chart
                if c is None:
                    if len(run) > 1:
                        canvas.line(run, fill=series.colour, width=round(series.width * k), joint="curve")
                    run = []
                else:
                    run.append(c)
        if "markers" in series.mode:
            for i, c in enumerate(coords):
                if c is None:
                    continue
                colour = series.point_colours[i] if series.point_colours else series.colour
                symbol = series.point_symbols[i] if series.point_symbols else "circle"
                _marker(canvas, symbol, c[0], c[1], radius, colour, theme.palette.text, 0.5 * k)
    image = image.resize((round(width * theme.scale), round(height * theme.scale)), Image.Resampling.LANCZOS)
    image.save(path, "PNG", optimize=False)
