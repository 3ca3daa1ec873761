"""HTML edition: the page's structure read back with lxml (one h1, headings in order, tables with caption and
scoped headers, figures with caption, text alternative and their data), nothing fetched from outside, the
awkward text escaped, and the theme contrast check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sample_pack import AWKWARD, sample_pack

from reporting.charts import Renderer
from reporting.charts.theme import DEFAULT_THEME
from reporting.errors import ReportingError
from reporting.packs.render import html
from reporting.packs.render._brand import TEXT_CONTRAST, contrast_ratio
from reporting.packs.tree import Pack


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pack, Path]:
    cache = tmp_path_factory.mktemp("charts")
    pack = sample_pack(cache)
    with Renderer(cache=cache) as renderer:
        specs = pack.chart_specs()
        svgs = {s.content_hash(): i.path for s, i in zip(specs, renderer.render(specs, "svg"), strict=True)}
    path = html.render(pack, tmp_path_factory.mktemp("html") / "sample.html", svgs)
    return pack, path


@pytest.fixture(scope="module")
def doc(built: tuple[Pack, Path]):  # type: ignore[no-untyped-def]
    return lxml_html.fromstring(built[1].read_bytes())


def test_one_h1_and_headings_never_skip_a_level(doc) -> None:  # type: ignore[no-untyped-def]
    headings = [(int(h.tag[1]), h.text_content().strip()) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert [level for level, _ in headings].count(1) == 1
    main = doc.get_element_by_id("main")
    in_main = [int(h.tag[1]) for h in main.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert in_main[0] == 1
    assert all(b <= a + 1 for a, b in zip(in_main, in_main[1:], strict=False)), in_main
    texts = [t for _, t in headings]
    # each section is an h2; a level-1 heading equal to its section is not repeated; level 2 nests as h3
    assert "Urgent care" in texts and "Urgent and emergency care" in texts and "League position" in texts
    assert ("h3", "League position") in [(h.tag, h.text_content().strip()) for h in doc.iter("h3")]


def test_landmarks_skip_link_and_language(doc) -> None:  # type: ignore[no-untyped-def]
    assert doc.get("lang") == "en-GB"
    assert doc.xpath("//header") and doc.xpath("//main[@id='main']") and doc.xpath("//footer")
    first_link = doc.xpath("//body//a")[0]
    assert first_link.get("href") == "#main" and "Skip to main content" in first_link.text_content()
    assert doc.xpath("//nav[@aria-labelledby]")
    css = doc.xpath("//style")[0].text
    assert ":focus-visible" in css and "@media print" in css


def test_tables_have_captions_and_scoped_headers(doc) -> None:  # type: ignore[no-untyped-def]
    tables = doc.xpath("//table")
    assert len(tables) >= 4
    for table in tables:
        assert table.xpath("./caption") and table.xpath("./caption")[0].text_content().strip()
        headers = table.xpath(".//th")
        assert headers and all(th.get("scope") in {"col", "row"} for th in headers)
        assert table.xpath("./thead/tr/th[@scope='col']")
    summary = tables[0]
    assert [th.text_content() for th in summary.xpath("./thead//th")] == [
        "Metric",
        "Period",
        "Latest",
        "Target",
        "Variation",
        "Assurance",
        "Trend",
    ]
    row = summary.xpath("./tbody/tr")[0]
    # MDC icons: the letter is decoration for screen readers, the label carries the meaning
    assert "Special cause improvement (high)" in row.text_content()
    assert row.xpath(".//span[@aria-hidden='true' and @class='mark']")[0].text == "H↑"
    suppressed = summary.xpath("./tbody/tr")[1].xpath("./td")[1]
    assert suppressed.text_content() == "* (suppressed)"


def test_figures_have_caption_description_and_their_data(built: tuple[Pack, Path], doc) -> None:  # type: ignore[no-untyped-def]
    figures = doc.xpath("//figure")
    specs = [b.spec for b in built[0].blocks() if hasattr(b, "spec")]
    assert len(figures) == len(specs) == 2
    for figure, spec in zip(figures, specs, strict=True):
        svg = figure.xpath(".//svg")[0]
        assert svg.get("role") == "img" and svg.get("aria-label") == spec.title
        described = doc.get_element_by_id(svg.get("aria-describedby"))
        assert spec.alt_text in described.text_content()
        assert figure.xpath("./figcaption")[0].text_content().startswith("Figure ")
        details = figure.xpath("./details")[0]
        assert details.xpath("./summary")[0].text_content().startswith("Show the data")
        body = details.xpath(".//tbody/tr")
        assert body and all(r.xpath("./th[@scope='row']") for r in body)
    spc_rows = figures[0].xpath("./details//tbody/tr")
    data = next(s for s in specs[0].series if s.role == "data")
    assert len(spc_rows) == len(data.x)
    # the table's numbers are the chart's own: the last point, as a percentage
    assert spc_rows[-1].xpath("./td")[0].text_content() == f"{data.y[-1] * 100:.1f}%"


def test_self_contained_no_external_requests(built: tuple[Pack, Path]) -> None:
    text = built[1].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.I)
    assert "@import" not in text and not re.search(r"url\(\s*['\"]?(https?:|//)", text)
    assert "<link" not in text and "<img" not in text and "<iframe" not in text
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "ids are unique across the inlined charts"


def test_awkward_text_is_escaped_and_formulas_are_plain_text(built: tuple[Pack, Path], doc) -> None:  # type: ignore[no-untyped-def]
    text = built[1].read_text()
    assert "<Gwynedd>" not in text and "&lt;Gwynedd&gt;" in text
    assert AWKWARD in doc.text_content()
    assert "=cmd|' /C calc'!A0 is not a formula." in doc.text_content()


def test_same_pack_gives_the_same_page(built: tuple[Pack, Path], tmp_path: Path) -> None:
    pack, first = built
    with Renderer(cache=first.parent.parent / "again") as renderer:  # charts drawn afresh: new plotly ids
        specs = pack.chart_specs()
        svgs = {s.content_hash(): i.path for s, i in zip(specs, renderer.render(specs, "svg"), strict=True)}
    again = html.render(pack, tmp_path / "again.html", svgs)
    assert again.read_bytes() == first.read_bytes()


def test_missing_svg_is_an_error_not_a_blank_chart(built: tuple[Pack, Path], tmp_path: Path) -> None:
    with pytest.raises(ReportingError, match="has no SVG"):
        html.render(built[0], tmp_path / "x.html", {})
    assert not (tmp_path / "x.html").exists()


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the AA grey
    assert html.theme_contrast_failures(DEFAULT_THEME) == []


@pytest.mark.parametrize(
    ("overrides", "key", "background"),
    [
        ({"palette": {"text": "#AAAAAA"}}, "palette.text", "palette.background"),
        ({"palette": {"highlight": "#7FB2E5"}}, "palette.highlight", "palette.background"),
        ({"palette": {"band": "#555555"}}, "palette.text", "palette.band"),
        ({"palette": {"text": "not a colour"}}, "palette.text", "palette.background"),
    ],
)
def test_a_theme_failing_contrast_is_refused_naming_key_and_ratio(
    built: tuple[Pack, Path], tmp_path: Path, overrides: dict, key: str, background: str
) -> None:
    import dataclasses

    pack = dataclasses.replace(built[0], theme=DEFAULT_THEME.with_overrides(overrides))
    failures = html.theme_contrast_failures(pack.theme)
    assert failures and failures[0][:2] == (key, background) and failures[0][2] < TEXT_CONTRAST
    with pytest.raises(ReportingError, match=rf"{re.escape(key)} has contrast \d+\.\d\d:1 on {background}"):
        html.render(pack, tmp_path / "bad.html", {})
