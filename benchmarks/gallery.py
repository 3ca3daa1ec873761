"""Write PNGs of every chart kind from the bundled real data, to look at: outputs/gallery/*.png.

Run: `.venv/bin/python benchmarks/gallery.py [ORG]` (default RJ1). This is how charts get looked at before
they are called done.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from reporting.charts import (
    Renderer,
    caterpillar_chart,
    funnel_chart,
    icon_chart,
    league_chart,
    sparkline_chart,
    spc_chart,
)
from reporting.data.catalogue import load_catalogue
from reporting.data.load import load
from reporting.data.peers import memberships
from reporting.mdc import ASSURANCE, VARIATION
from reporting.stats.funnel import funnel, funnel_curve
from reporting.stats.spc import SPCOptions, spc_metrics
from reporting.stats.variation import caterpillar

ROOT = Path(__file__).resolve().parents[1]


def main(org: str = "RJ1") -> list[Path]:
    catalogue = load_catalogue(ROOT / "templates" / "metrics.yaml")
    data = load(catalogue, ROOT)
    names = dict(zip(data.orgs["org_code"], data.orgs["org_name"], strict=True))
    frame = data.metrics[data.metrics["org_code"] == org]
    options = {
        m.id: SPCOptions(
            chart=m.chart,
            improvement=m.improvement,  # type: ignore[arg-type]
            target=m.target_for(org, None) if not hasattr(m.target, "by_period") else None,
        )
        for m in catalogue.metrics
    }
    result = spc_metrics(frame, options)
    specs = []
    for metric in catalogue.metrics:
        points = result.points[result.points["metric_id"] == metric.id]
        summary = result.summary[result.summary["metric_id"] == metric.id].iloc[0].to_dict()
        if metric.id == "ae_4hr":
            points = points.assign(target=[metric.target_for(org, x.date()) for x in points["x"]])
            summary["target"] = points["target"].iloc[-1]
        specs.append(
            spc_chart(
                points,
                summary,
                title=metric.title,
                unit=metric.unit,
                decimals=metric.decimals,
                frequency=metric.frequency,
                org=names.get(org, org),
            )
        )
        specs.append(sparkline_chart(points, title=metric.title, unit=metric.unit, decimals=metric.decimals))
    ae = data.metrics[(data.metrics["metric_id"] == "ae_4hr") & (data.metrics["period"].dt.year == 2024)]
    ae = ae.dropna(subset=["value"])
    complete = ae.groupby("org_code")["period"].transform("count") == 12
    year = ae[complete].groupby("org_code", as_index=False)[["numerator", "denominator"]].sum()
    acute = year[year["org_code"].isin(memberships(data.orgs)["acute"])]
    fun = funnel(acute, group="org_code", data_type="PR")
    specs.append(
        funnel_chart(
            fun.points.assign(target=fun.target),
            funnel_curve(fun),
            title="A&E 4-hour performance, 2024",
            adjusted=fun.limits_used == "adjusted",
            highlight=org,
            labels=names,
            x_title="Attendances",
        )
    )
    cat = caterpillar(acute, kind="proportion", benchmark=0.78)
    specs.append(
        caterpillar_chart(cat, title="A&E 4-hour performance, 2024 (acute trusts)", highlight=org, labels=names)
    )
    specs.append(league_chart(cat, value="value", title="A&E 4-hour performance, 2024", highlight=org, labels=names))
    specs += [icon_chart(code) for code in [*VARIATION, *ASSURANCE]]
    out = ROOT / "outputs" / "gallery"
    out.mkdir(parents=True, exist_ok=True)
    with Renderer() as renderer:
        images = renderer.render(specs)
    written = []
    for i, (spec, image) in enumerate(zip(specs, images, strict=True)):
        target = out / f"{i:02d}_{spec.kind}_{spec.title[:30].replace(' ', '_').replace('/', '_')}.png"
        shutil.copy(image.path, target)
        written.append(target)
        print(target.name, "|", spec.alt_text)
    written += write_native(specs, out)
    return written


def write_native(specs: list, out: Path) -> list[Path]:
    """The same charts as native PowerPoint and Excel charts (one slide / sheet each)."""
    from openpyxl import Workbook
    from pptx import Presentation
    from pptx.util import Emu, Inches

    from reporting.charts._xlsx_xml import apply_alt_text
    from reporting.charts.native_pptx import add_native_chart, supports_native
    from reporting.charts.native_xlsx import add_excel_chart

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    book = Workbook()
    book.remove(book.active)
    alt: dict[str, list[tuple[str, str]]] = {}
    for i, spec in enumerate(specs):
        if not supports_native(spec):
            continue
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        add_native_chart(
            slide.shapes,
            spec,
            Inches(0.4),
            Inches(0.4),
            Emu(deck.slide_width - Inches(0.8)),
            Emu(deck.slide_height - Inches(0.8)),
        )
        ws = book.create_sheet(f"{i:02d} {spec.kind}")
        add_excel_chart(ws, spec, "A1", data_row=30, data_col=1)
        alt[ws.title] = [(spec.title, spec.alt_text)]
    deck.save(out / "native.pptx")
    book.save(out / "native.xlsx")
    apply_alt_text(out / "native.xlsx", alt)
    return [out / "native.pptx", out / "native.xlsx"]


if __name__ == "__main__":
    main(*sys.argv[1:])
