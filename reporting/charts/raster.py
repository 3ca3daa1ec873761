"""Sparklines drawn with Pillow instead of the browser.

A summary table carries one sparkline per metric in every pack. In a run of hundreds of per-organisation
packs the browser's ~0.1 s per picture became the largest cost of a pack (and kept a second core busy),
yet a sparkline is one line and one marker. It is drawn here at 4x and downsampled, so edges are
anti-aliased, at the theme's scale and size like the browser's pictures, with the same colours and the
same marker shape for the latest point's type. Charts that carry only a message ("No data for this period")
are drawn here too (title, subtitle and the message, in Liberation Sans), so a pack whose organisation has no
data for a metric no longer starts a browser for them. So are the MDC icons (a ring in the icon's colour, white
inside, with its bold letter/arrow, as `figure._badges` draws them), the one picture of each icon that the
email and the PowerPoint summary table both use.

Sparklines and icons have a transparent background (RGBA), so the zebra rows of the tables they sit in show
through; charts carrying only a message keep the theme's background, except at sparkline and icon size.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from functools import cache
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageDraw, ImageFont

from reporting.charts.spec import ChartSpec

__all__ = ["can_draw", "draw"]

SUPERSAMPLE = 4
MARGIN = 4  # pixels at scale 1, as the browser's layout of small charts


def can_draw(spec: ChartSpec) -> bool:
    """Sparklines, and any chart that is only a message ("No data for this period"): no browser for either."""
    if spec.message:
        return not spec.series and not spec.badges
    if spec.kind == "icon":
        return len(spec.badges) == 1
    return spec.kind == "sparkline" and bool(spec.series)


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


def _marker(
    draw: ImageDraw.ImageDraw, symbol: str, cx: float, cy: float, r: float, fill: str, outline: str, edge: float
) -> None:
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


_FONTS = {
    False: ("LiberationSans-Regular.ttf", "Arial.ttf", "DejaVuSans.ttf"),
    True: ("LiberationSans-Bold.ttf", "Arial Bold.ttf", "DejaVuSans-Bold.ttf"),
}
_FONT_DIRS = (
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype/msttcorefonts",
    "/Library/Fonts",
)


def _font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The theme's sans-serif (Liberation Sans, metric-compatible with Arial) at `size` pixels; Pillow's own
    scalable font where none is installed."""
    return _font_at(round(size), bold)


@cache
def _font_at(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Each size read from disk once per process (a "No data" picture tries several sizes)."""
    for name in _FONTS[bold]:
        for folder in _FONT_DIRS:
            try:
                return ImageFont.truetype(str(Path(folder) / name), size)
            except OSError:
                continue
    return ImageFont.load_default(size)


CLEAR = (255, 255, 255, 0)  # transparent white: resampled edges fade to white, not to black


def _canvas(spec: ChartSpec, k: float) -> Image.Image:
    """The picture to draw on at `k` pixels a unit: transparent for the small kinds that sit in table cells."""
    width, height = spec.size
    size = (round(width * k), round(height * k))
    if spec.kind in {"sparkline", "icon"}:
        return Image.new("RGBA", size, CLEAR)
    return Image.new("RGB", size, spec.theme.palette.background)


def _downsample(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The supersampled drawing at its final size: each pixel the mean of its SUPERSAMPLE x SUPERSAMPLE block when
    the sizes are exact multiples (anti-aliasing by supersampling, at a fifth of LANCZOS' cost: on white, a
    sparkline's pixels differ from LANCZOS' by 0.5 levels on average and 25 at most, at edges), else LANCZOS."""
    if image.size == (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE):
        return image.reduce(SUPERSAMPLE)
    return image.resize(size, Image.Resampling.LANCZOS)


def _save(image: Image.Image, out: Path | BinaryIO) -> None:
    """PNG; clear pixels are stored white, so a reader that drops the alpha channel shows white, not black."""
    if image.mode == "RGBA":
        clear = image.getchannel("A").point(lambda a: 255 if a else 0)
        image = Image.composite(image, Image.new("RGBA", image.size, CLEAR), clear)
    image.save(out, "PNG", optimize=False, compress_level=1)  # fast: each picture is small, and many are drawn


#: each MDC icon's PNG, drawn once per process: a paper carries the same handful of icons in its Word and its
#: PowerPoint summary tables, paper after paper of a burst; keyed by everything `_draw_icon_png` reads
_ICONS: dict[tuple[str, str, tuple[int, int], float], bytes] = {}


def _draw_icon(spec: ChartSpec, out: Path | BinaryIO) -> None:
    """One MDC icon (`_draw_icon_png`), from `_ICONS` when it has been drawn before."""
    (badge,) = spec.badges
    key = (badge.colour, badge.letter, spec.size, spec.theme.scale)
    if key not in _ICONS:
        stream = io.BytesIO()
        _draw_icon_png(spec, stream)
        _ICONS[key] = stream.getvalue()
    if isinstance(out, Path):
        out.write_bytes(_ICONS[key])
    else:
        out.write(_ICONS[key])


def _draw_icon_png(spec: ChartSpec, out: BinaryIO) -> None:
    """One MDC icon: ring radius 28 and width 6 of 64, white inside, the letter bold at 24, in the icon's colour
    (the amber, #FAB428, is too light for text on white, so its letter is #8A5A00, as in the browser's)."""
    (badge,) = spec.badges
    k = spec.theme.scale * SUPERSAMPLE
    image = _canvas(spec, k)
    canvas = ImageDraw.Draw(image)
    unit = min(image.width, image.height) / 64
    cx, cy, radius, ring = image.width / 2, image.height / 2, 28 * unit, 6 * unit
    outer = radius + ring / 2
    canvas.ellipse((cx - outer, cy - outer, cx + outer, cy + outer), fill=badge.colour)
    inner = radius - ring / 2
    canvas.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill="#FFFFFF")
    text = badge.colour if badge.colour.upper() != "#FAB428" else "#8A5A00"
    canvas.text((cx, cy), badge.letter, fill=text, font=_font(24 * unit, bold=True), anchor="mm")
    width, height = spec.size
    _save(_downsample(image, (round(width * spec.theme.scale), round(height * spec.theme.scale))), out)


def _draw_message(spec: ChartSpec, path: Path | BinaryIO) -> None:
    """A chart with no data: its title and subtitle top left and the message in the middle, as the browser
    lays them out (the message in the common-cause grey, at the title's size)."""
    theme = spec.theme
    k = theme.scale
    image = _canvas(spec, k)
    canvas = ImageDraw.Draw(image)
    if spec.kind not in {"sparkline", "icon"}:
        top = 14 * k
        for text, text_size, bold in ((spec.title, theme.title_size, True), (spec.subtitle, theme.font_size, False)):
            if text:
                font = _font(text_size * k, bold)
                canvas.text((0.01 * image.width + 6 * k, top), text, fill=theme.palette.text, font=font)
                top += text_size * k * 1.5
    size = theme.title_size * k if spec.kind not in {"sparkline", "icon"} else max(8.0, spec.size[1] * k * 0.4)
    font = _font(size)
    while size > 6 and canvas.textlength(spec.message or "", font=font) > image.width * 0.94:
        size *= 0.9  # a small chart (a sparkline's cell) still shows the whole message
        font = _font(size)
    canvas.text(
        (image.width / 2, image.height / 2), spec.message or "", fill=theme.palette.common_cause, font=font, anchor="mm"
    )
    _save(image, path)


def draw(spec: ChartSpec, path: Path | BinaryIO) -> None:
    """Write `spec` as PNG (to a file, or a stream such as BytesIO): a sparkline (a data line, and a markers
    series holding the latest point), an MDC icon, or a chart that only carries a message."""
    if spec.message:
        _draw_message(spec, path)
        return
    if spec.kind == "icon":
        _draw_icon(spec, path)
        return
    theme = spec.theme
    width, height = spec.size
    k = theme.scale * SUPERSAMPLE
    image = _canvas(spec, k)
    canvas = ImageDraw.Draw(image)
    radius = theme.marker_size / 2 * k
    pad = MARGIN * k + radius  # room for the marker, as the browser's autorange leaves
    xpad = pad + 0.05 * (image.width - 2 * MARGIN * k)  # and 5% of the width either side on the time axis
    points = [
        (_number(x, i), y)
        for s in spec.series
        for i, (x, y) in enumerate(zip(s.x, s.y, strict=True))
        if y is not None and math.isfinite(y)
    ]
    if not points:
        _save(image, path)
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def at(x: float, y: float) -> tuple[float, float]:
        px = xpad + (x - x0) / (x1 - x0) * (image.width - 2 * xpad) if x1 > x0 else image.width / 2
        py = image.height - pad - (y - y0) / (y1 - y0) * (image.height - 2 * pad) if y1 > y0 else image.height / 2
        return px, py

    for series in spec.series:
        coords = [
            at(_number(x, i), y) if y is not None and math.isfinite(y) else None
            for i, (x, y) in enumerate(zip(series.x, series.y, strict=True))
        ]
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
    _save(_downsample(image, (round(width * theme.scale), round(height * theme.scale))), path)
