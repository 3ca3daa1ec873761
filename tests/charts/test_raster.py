"""Sparklines drawn with Pillow look like the browser's: same size, the line in the same place, the latest
point's marker in its point type's colour and shape; a gap breaks the line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from PIL import Image

from reporting.charts import Renderer, raster, sparkline_chart
from reporting.charts.figure import to_figure
from reporting.charts.theme import DEFAULT_THEME
from reporting.mdc import POINT_SYMBOLS

TYPES = list(POINT_SYMBOLS)


def _points(y: list[float], last_type: str = "common_cause") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": pd.date_range("2023-01-01", periods=len(y), freq="MS"),
            "y": y,
            "point_type": ["common_cause"] * (len(y) - 1) + [last_type],
        }
    )


def _ink(path: Path) -> np.ndarray:
    """Dark pixels as seen on white (sparklines are transparent: the table row shows through)."""
    with Image.open(path) as im:
        seen = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
    return np.asarray(seen.convert("L"), dtype=float) < 230


def test_pillow_sparkline_matches_the_browser(renderer: Renderer, tmp_path: Path) -> None:
    y = [10, 12, 11, 15, 9, 8, 13, 14, 12, 11, 16, 18, 17, 15, 14, 19]
    spec = sparkline_chart(_points(y, "special_cause_improvement"), title="spark")
    ours = tmp_path / "pillow.png"
    raster.draw(spec, ours)
    browser = tmp_path / "browser.png"
    pio.write_image(to_figure(spec), browser, width=spec.size[0], height=spec.size[1], scale=spec.theme.scale)
    a, b = _ink(ours), _ink(browser)
    assert a.shape == b.shape == (spec.size[1] * 2, spec.size[0] * 2)
    assert 0.6 < a.mean() / b.mean() < 1.6  # about as much line
    # the line's height in each column agrees with the browser's to a few pixels (same axes, same padding)
    cols = [c for c in range(20, a.shape[1] - 20, 10) if a[:, c].any() and b[:, c].any()]
    assert len(cols) > 30
    offsets = [abs(np.flatnonzero(a[:, c]).mean() - np.flatnonzero(b[:, c]).mean()) for c in cols]
    assert np.median(offsets) < 6
    # the last point's marker carries its point type's colour, at the right-hand end
    rgb = np.asarray(Image.open(ours).convert("RGB"))[:, -40:]
    blue = tuple(int(DEFAULT_THEME.palette.improvement[i : i + 2], 16) for i in (1, 3, 5))
    assert (np.abs(rgb.astype(int) - blue).sum(axis=2) < 40).sum() > 20


def test_each_point_type_has_its_own_marker_shape(tmp_path: Path) -> None:
    mono = replace(
        DEFAULT_THEME,
        palette=replace(
            DEFAULT_THEME.palette, improvement="#000000", concern="#000000", neutral="#000000", common_cause="#000000"
        ),
    )
    shapes = []
    for kind in TYPES:
        path = tmp_path / f"{kind}.png"
        raster.draw(sparkline_chart(_points([1, 2, 3, 2, 1, 2], kind), title=kind, theme=mono), path)
        shapes.append(_ink(path)[:, -60:].tobytes())
    assert len(set(shapes)) == len(TYPES)  # told apart in black and white, not by colour


def test_a_gap_breaks_the_line(tmp_path: Path) -> None:
    y = [5.0] * 8 + [np.nan] * 4 + [5.0] * 8
    spec = sparkline_chart(_points(y), title="gap")
    path = tmp_path / "gap.png"
    raster.draw(spec, path)
    columns = _ink(path).any(axis=0)
    middle = columns[len(columns) * 45 // 100 : len(columns) * 55 // 100]
    assert columns[: len(columns) // 3].any() and not middle.any()


@pytest.mark.slow
def test_no_data_placeholders_are_drawn_without_a_browser_and_match_its_layout(
    renderer: Renderer, tmp_path: Path
) -> None:
    from reporting.charts import spc_chart
    from reporting.charts.spc_charts import NO_DATA

    empty_spark = sparkline_chart(_points([np.nan, np.nan]), title="nothing")
    empty_spc = spc_chart(
        pd.DataFrame(columns=["x", "y", "point_type"]),
        {},
        title="A&E 4-hour performance",
        unit="percent",
        org="Guy's and St Thomas'",
    )
    for spec in (empty_spark, empty_spc):
        assert spec.message == NO_DATA and raster.can_draw(spec)
        ours, browser = tmp_path / f"{spec.kind}-pillow.png", tmp_path / f"{spec.kind}-browser.png"
        raster.draw(spec, ours)
        pio.write_image(to_figure(spec), browser, width=spec.size[0], height=spec.size[1], scale=spec.theme.scale)
        a, b = _ink(ours), _ink(browser)
        assert a.shape == b.shape
        # the message sits in the middle, as the browser puts it, and is not cut off at the edges
        rows_a, rows_b = np.flatnonzero(a.any(axis=1)), np.flatnonzero(b.any(axis=1))
        assert abs(rows_a[-1] - rows_b[-1]) < a.shape[0] * 0.08
        assert not a[:, :2].any() and not a[:, -2:].any()
        if spec.kind == "spc":  # title and subtitle top left, as in the browser's picture
            top = a[: a.shape[0] // 6, : a.shape[1] // 3]
            assert top.any() and b[: b.shape[0] // 6, : b.shape[1] // 3].any()
    fresh = Renderer(cache=tmp_path / "cache")
    with fresh:
        images = fresh.render([empty_spark, empty_spc])
        assert not fresh.started and fresh.drawn == 2 and all(i.path.is_file() for i in images)
