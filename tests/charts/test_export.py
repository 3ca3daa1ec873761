"""Static export through a real Chromium: sizes, pixels not blank, SVG valid, cache hits, hard inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from spc_cases import case_result

from reporting.charts import ChartExportError, Renderer, icon_chart, sparkline_chart, spc_chart
from reporting.stats.spc import SPCOptions, spc

AWKWARD = 'Bwrdd Iechyd Prifysgol Caerdydd a’r Fro & <Cymru> "quoted" / Bòrd SSN nan Eilean Siar'


def _series(y: np.ndarray, start: str = "2020-01-01") -> tuple[pd.DataFrame, dict[str, object]]:
    frame = pd.DataFrame({"x": pd.date_range(start, periods=len(y), freq="MS"), "y": y})
    result = spc(frame, SPCOptions())
    return result.points, result.summary.iloc[0].to_dict()


def _ink(path: Path) -> float:
    """Share of pixels that are not (near) white: 0 would be a blank image."""
    with Image.open(path) as im:  # seen on white: sparklines and icons are transparent
        pixels = np.asarray(
            Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA")).convert("L"), dtype=float
        )
    return float((pixels < 230).mean())


def test_batch_renders_every_kind_with_size_and_ink(renderer: Renderer) -> None:
    rng = np.random.default_rng(7)
    hard = {
        "single point": _series(np.array([5.0, np.nan]))[0].iloc[:1],
        "constant": _series(np.full(24, 3.0))[0],
        "outliers": _series(np.r_[rng.normal(10, 1, 30), [1e6], rng.normal(10, 1, 10)])[0],
        "500 points": _series(rng.normal(50, 5, 500), start="1980-01-01")[0],
    }
    specs = [spc_chart(points, {}, title=name, unit="count") for name, points in hard.items()]
    points, summary = case_result("28_sample_kpi309_rebase_target")
    specs.append(spc_chart(points, summary, title=f"KPI 309 – {AWKWARD}", unit="count", org=AWKWARD))
    specs.append(sparkline_chart(points, title="spark"))
    specs.append(icon_chart("concern_low"))
    specs.append(spc_chart(points.assign(y=np.nan), {}, title="empty", unit="count"))
    before, drawn = renderer.rendered, renderer.drawn
    images = renderer.render(specs)
    assert renderer.rendered - before == len(specs) - 3  # all in one batch, one browser
    assert renderer.drawn - drawn == 3  # the sparkline, the icon and the 'No data' chart: charts/raster.py
    for spec, image in zip(specs, images, strict=True):
        width, height = spec.size
        with Image.open(image.path) as im:
            assert im.size == (int(width * spec.theme.scale), int(height * spec.theme.scale)), spec.title
        floor = 0.001 if spec.message else 0.002 if spec.kind in {"sparkline", "icon"} else 0.005
        assert _ink(image.path) > floor, spec.title
        assert image.alt_text == spec.alt_text and image.alt_text
    # an unchanged chart is never rendered twice
    again = renderer.render(specs)
    assert renderer.rendered - before == len(specs) - 3 and renderer.drawn - drawn == 3
    assert [i.path for i in again] == [i.path for i in images]


def test_svg_is_valid_xml_and_keeps_awkward_labels(renderer: Renderer) -> None:
    points, summary = case_result("14_direction_increase")
    spec = spc_chart(points, summary, title=AWKWARD, unit="count", org="Ysbyty Gwynedd – Bangor")
    (image,) = renderer.render([spec], fmt="svg")
    root = ET.parse(image.path).getroot()
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    # (long titles wrap onto two lines, so words may sit in separate text elements)
    assert "Caerdydd a’r Fro & <Cymru>" in text and "Bòrd" in text and "SSN nan Eilean Siar" in text
    assert "Ysbyty Gwynedd – Bangor" in text


def test_missing_chromium_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(ChartExportError, match="apt-get install -y chromium"):
        with Renderer(cache=tmp_path):
            pass


def test_a_tab_that_was_not_ready_gets_a_new_browser_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Under heavy load kaleido's tab can take a figure before its page's scripts have loaded, and every chart
    fails with "kaleido_scopes is not defined" (seen once in CI). The fault is injected into the first answer of
    the real browser; the renderer starts a new one and draws the chart there."""
    from reporting.charts import export

    real_write = export._Browser.write
    calls: list[int] = []

    def first_not_ready(self: export._Browser, jobs: list[dict[str, object]], deadline: float) -> object:
        calls.append(len(jobs))
        if len(calls) == 1:
            return [{"exception": {"description": f"ReferenceError: {export._NOT_READY}"}}]
        return real_write(self, jobs, deadline)

    monkeypatch.setattr(export._Browser, "write", first_not_ready)
    points, summary = case_result("14_direction_increase")
    with Renderer(cache=tmp_path) as fresh:
        (image,) = fresh.render([spc_chart(points, summary, title="A", unit="count")], fmt="svg")
    assert calls == [1, 1] and ET.parse(image.path).getroot().tag.endswith("svg")
