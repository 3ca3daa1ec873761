"""Where a chart puts the selected organisation's name: clear of the data, the same in every format.

`place_label` picks the end of a leader line from a fixed set of offsets (so a rebuild is the same chart);
the comparison charts draw the leader as a `leader` series (charts.spec), which plotly and both Office
writers label at its far end."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from reporting.charts.spec import Series

__all__ = ["LABEL_WRAP", "caterpillar_leader", "place_label", "samples", "span"]

#: a label's size as a share of the plot area, per character and per line, sized for the smallest plot it is
#: drawn in (an Excel or Word chart's, about 400 x 130 px for 10-point text); larger plots only get more room
_CHAR_W, _LINE_H = 0.014, 0.1
#: characters a line of a data label holds before it wraps (LibreOffice wraps at about this; pictures do the same)
LABEL_WRAP = 16


def place_label(
    subject: tuple[float, float],
    obstacles: Sequence[tuple[float, float]],
    chars: int,
    *,
    low: Sequence[float] = (),
    high: Sequence[float] = (),
) -> tuple[float, float, bool]:
    """Where the subject's label goes, in the plot's 0-1 coordinates: (x, y, above) of the point its leader line
    runs to, the text centred on it above (or below) it. The nearest of a fixed set of offsets whose text box
    covers no marker or line sample in `obstacles` and stays inside the plot; with none free, the one covering
    fewest. Deterministic: the same chart always puts its label in the same place."""
    sx, sy = subject
    lines = -(-chars // LABEL_WRAP)  # Office, LibreOffice and the pictures all wrap a label about this wide
    w, h = min(0.95, min(chars, LABEL_WRAP) * _CHAR_W), _LINE_H * lines
    pts = np.asarray(obstacles, dtype=float).reshape(-1, 2)
    best: tuple[tuple[int, float], tuple[float, float, bool]] | None = None
    for dy in (0.12, -0.12, 0.18, -0.18, 0.25, -0.25, 0.33, -0.33, 0.42, -0.42):
        for dx in (0.0, 0.06, -0.06, 0.12, -0.12, 0.2, -0.2, 0.3, -0.3):
            ax, ay, above = sx + dx, sy + dy, dy > 0
            x0, x1 = ax - w / 2, ax + w / 2
            y0, y1 = (ay, ay + h) if above else (ay - h, ay)
            if x0 < 0.01 or x1 > 0.99 or y0 < 0.01 or y1 > 0.99:
                continue
            pad = 0.012
            inside = (
                (pts[:, 0] >= x0 - pad) & (pts[:, 0] <= x1 + pad) & (pts[:, 1] >= y0 - pad) & (pts[:, 1] <= y1 + pad)
            )
            hits = int(inside.sum())
            for lo, hi, x in zip(low, high, (p[0] for p in obstacles), strict=False):  # intervals as segments
                if x0 - pad <= x <= x1 + pad and lo <= y1 and hi >= y0:
                    hits += 1
            score = (hits, math.hypot(dx, dy))
            if best is None or score < best[0]:
                best = (score, (ax, ay, above))
    if best is None:  # a label wider than the plot: straight above, clipped by the renderer
        return sx, min(0.9, sy + 0.12), True
    return best[1]


def samples(s: Series, steps: int = 40) -> list[tuple[float, float]]:
    """A numeric series' points, and for a line also points along each segment (a target line has only its two
    ends), so a label is kept off lines as well as markers."""
    xy = [(float(x), float(y)) for x, y in zip(s.x, s.y, strict=True) if isinstance(x, float) and y is not None]
    if s.mode != "lines" or len(xy) < 2:
        return xy
    out = []
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        n = max(1, steps // (len(xy) - 1))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(n)]
    return [*out, xy[-1]]


def span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def caterpillar_leader(series: list[Series], data: pd.DataFrame, i: int, label: str, colour: str) -> Series:
    """The selected provider's leader line over the categories from its point to its label (values on every
    category between, so a line chart draws it straight), placed by `place_label` clear of points and intervals."""
    x = series[0].x
    n = len(x)
    values = [v for s in series for v in (*s.y, *(s.low or ()), *(s.high or ())) if v is not None]
    y_lo, y_hi = span(values)

    def ny(v: float) -> float:
        return (v - y_lo) / (y_hi - y_lo)

    def nx(k: int) -> float:
        return k / max(1, n - 1)

    obstacles = [(nx(k), ny(v)) for s in series for k, v in enumerate(s.y) if v is not None]
    low = [ny(v) if v is not None else 0.0 for v in data["lower"]]
    high = [ny(v) if v is not None else 0.0 for v in data["upper"]]
    ax, ay, _ = place_label((nx(i), ny(float(data["value"].iloc[i]))), obstacles, len(label), low=low, high=high)
    j = min(n - 1, max(0, round(ax * max(1, n - 1))))
    yi, yj = float(data["value"].iloc[i]), y_lo + ay * (y_hi - y_lo)
    lo, hi = min(i, j), max(i, j)
    y: list[float | None] = [None] * n
    for k in range(lo, hi + 1):
        y[k] = yi + (yj - yi) * ((k - i) / (j - i) if j != i else 1.0)
    if j == i:  # straight up or down: the line needs a second point, so the label sits on the next category
        k = i + 1 if i + 1 < n else i - 1
        y[i], y[k] = yi, yj
        j = k
    texts = tuple(label if k == j else "" for k in range(n))
    return Series(label, "leader", x, tuple(y), "lines", colour, "solid", 1.0, labels=texts, show_in_legend=False)
