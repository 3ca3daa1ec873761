"""The HTML edition of every shipped pack in a real browser: playwright driving the system Chromium (no
browser download) and axe-core at WCAG 2.2 AA. Zero violations at phone width, desktop width and 200% zoom;
no sideways scrolling of the page on a 390 px phone; the skip link and focus visible; the print stylesheet
hides the navigation and opens the data. Screenshots are saved as test artefacts (the path is printed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting.charts import Renderer
from reporting.charts.export import find_chromium
from reporting.errors import ConfigError
from reporting.packs.build import build
from reporting.packs.template_load import template_files
from reporting.project import Project

pytestmark = pytest.mark.slow  # every shipped pack built and checked in Chromium

playwright = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
REPO = Path(__file__).resolve().parents[3]
SHIPPED = sorted(p.stem for p in template_files(REPO))
#: (name, viewport width, height, device scale): a phone, a desktop, and a 1280 px screen at 200% zoom
VIEWS = (("phone-390", 390, 844, 1), ("desktop-1280", 1280, 900, 1), ("zoom-200", 640, 450, 2))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html-screenshots")
    print(f"\nHTML edition screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def editions(demo_project: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("html-editions") / "p"
    shutil.copytree(demo_project.root, root)
    project = Project(root)
    out = {}
    with Renderer(cache=tmp_path_factory.mktemp("cache")) as renderer:
        for pack in SHIPPED:
            (result,) = build(project, pack, formats=["html"], renderer=renderer, built_at="2026-01-01T00:00:00+00:00")
            (page,) = result.files
            out[pack] = page
    return out


@pytest.mark.parametrize("pack", SHIPPED)
def test_shipped_pack_html_has_zero_axe_violations(
    pack: str, editions: dict[str, Path], browser, artefacts: Path
) -> None:  # type: ignore[no-untyped-def]
    axe = axe_module.Axe()
    for name, width, height, scale in VIEWS:
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.goto(editions[pack].as_uri())
        page.wait_for_load_state("load")
        assert [u for u in requests if not u.startswith("file:")] == [], "the page fetched something from outside"
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
        violations = [
            (v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["html"][:160]) for v in result.response["violations"]
        ]
        assert violations == [], f"{pack} at {name}: {violations}"
        assert result.response["passes"], "axe ran no check at all"
        # reflow (WCAG 1.4.10): the page itself never scrolls sideways; wide tables scroll in their own region
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(artefacts / f"{pack}-{name}.png"))
        if name == "phone-390":
            page.locator("table").first.screenshot(path=str(artefacts / f"{pack}-{name}-first-table.png"))
            if page.locator("figure").count():
                page.locator("figure").first.screenshot(path=str(artefacts / f"{pack}-{name}-first-figure.png"))
        context.close()


def test_skip_link_focus_and_print_stylesheet(editions: dict[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(editions["board"].as_uri())
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return [e.textContent, s.outlineStyle, parseFloat(s.outlineWidth), r.top >= 0 && r.bottom <= innerHeight]; }""")
    assert focused[0] == "Skip to main content" and focused[1] == "solid" and focused[2] >= 2 and focused[3]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => d.open)")
    page.close()


def test_board_edition_headings_follow_the_sections(editions: dict[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(editions["board"].as_uri())
    outline = page.evaluate(
        "[...document.querySelectorAll('main h1, main h2')].map(h => h.tagName + ' ' + h.textContent)"
    )
    assert outline[0].startswith("H1 Integrated Performance Report")
    assert [h for h in outline if h.startswith("H2")] == [
        "H2 Executive summary",
        "H2 Urgent and emergency care",
        "H2 Patient flow and discharge",
        "H2 Appendix",
    ]
    # 10 charts: the stale metric (Discharges before 5pm) gets a "no current data" note, not a chart
    assert page.locator("main figure").count() == 10
    assert page.locator("main figure details table").count() == 10
    page.close()


def test_a_theme_failing_contrast_stops_the_build_naming_the_key(demo_project: Project, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(demo_project.root, root)
    path = root / "templates" / "packs" / "board.yaml"
    path.write_text(path.read_text() + "theme:\n  palette:\n    text: '#9E9E9E'\n")
    project = Project(root)
    with pytest.raises(ConfigError) as caught:
        build(project, "board", formats=["html"])
    message = str(caught.value)
    assert "board.yaml:" in message and "theme.palette.text" in message and "2.6" in message
    assert "palette.background" in message and "4.5:1" in message
    assert not project.outputs.exists() or not any(project.outputs.rglob("*.html"))
    # the same theme is fine for formats that do not write text in it as the page does
    (result,) = build(project, "board", formats=["xlsx"])
    assert result.files


def test_the_axe_run_does_catch_violations(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A negative control, so 'zero violations' above means something: a low-contrast, unlabelled page fails."""
    page_file = tmp_path / "bad.html"
    page_file.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body><main><h1>x</h1>"
        '<p style="color:#BBBBBB;background:#FFFFFF">faint</p><img src="data:,"></main></body></html>'
    )
    page = browser.new_page()
    page.goto(page_file.as_uri())
    result = axe_module.Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert {v["id"] for v in result.response["violations"]} >= {"color-contrast", "image-alt", "html-has-lang"}
    page.close()
