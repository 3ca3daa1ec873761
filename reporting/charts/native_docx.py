"""ChartSpec -> native, editable Word chart: the PowerPoint chart part, moved into the .docx.

Word and PowerPoint share DrawingML charts: the chart part (c:chartSpace) and its embedded workbook are the
same in both packages; only the frame that places the chart differs (a slide's graphicFrame, a Word
paragraph's wp:inline). So a Word chart is drawn by `native_pptx.add_native_chart` - the ONE chart model,
with its per-point colours, error bars, axis bounds and hidden legend entries - on a scratch slide, and its
chart XML and embedded workbook are copied into the document as /word/charts/chartN.xml with the workbook
under /word/embeddings/. Whatever makes the PowerPoint chart's workbook safe makes this one safe too.

A Board paper with native charts needs no browser: LibreOffice draws these charts in the PDF itself.
"""

from __future__ import annotations

import copy
from typing import Any

from reporting.charts.native_pptx import NativeChartUnsupported, add_native_chart, supports_native
from reporting.charts.spec import ChartSpec

__all__ = ["WordCharts"]

CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RT_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
RT_PACKAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"


class WordCharts:
    """Native charts for one Word document; one scratch presentation draws all of them."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self._slide: Any = None

    def _scratch_shapes(self) -> Any:
        if self._slide is None:
            from pptx import Presentation

            presentation = Presentation()
            self._slide = presentation.slides.add_slide(presentation.slide_layouts[6])
        return self._slide.shapes

    def add(self, run: Any, spec: ChartSpec, width: int, height: int, *, title: str, description: str) -> Any:
        """Append `spec` to `run` as an inline native chart `width` x `height` EMU, with alt text; returns the
        wp:inline element. Raises NativeChartUnsupported for kinds with no native form."""
        from docx.opc.part import Part, XmlPart
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        if not supports_native(spec):
            raise NativeChartUnsupported(f"{spec.kind} chart '{spec.title}' has no native form")
        shapes = self._scratch_shapes()
        frame = add_native_chart(shapes, spec, 0, 0, width, height)
        pptx_part = frame.chart.part
        chart_space = copy.deepcopy(pptx_part._element)
        workbook = pptx_part.chart_workbook.xlsx_part
        shapes._spTree.remove(frame._element)  # the scratch slide keeps nothing

        document_part = self.document.part
        package = document_part.package
        chart_part = XmlPart(
            package.next_partname("/word/charts/chart%d.xml"),
            CT_CHART,
            parse_xml(b"<c:chartSpace " + nsdecls("c").encode() + b"/>"),
            package,
        )
        if workbook is not None:
            xlsx = Part(
                package.next_partname("/word/embeddings/Microsoft_Excel_Sheet%d.xlsx"), CT_XLSX, workbook.blob, package
            )
            external = chart_space.find(qn("c:externalData"))
            external.set(qn("r:id"), chart_part.relate_to(xlsx, RT_PACKAGE))
        chart_part._element = chart_space
        r_id = document_part.relate_to(chart_part, RT_CHART)
        shape_id = document_part.next_id
        inline = parse_xml(
            f'<wp:inline {nsdecls("wp", "a", "c", "r")} distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{int(width)}" cy="{int(height)}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{shape_id}" name="Chart {shape_id}"/><wp:cNvGraphicFramePr/>'
            f'<a:graphic><a:graphicData uri="{CHART_URI}"><c:chart r:id="{r_id}"/></a:graphicData></a:graphic>'
            "</wp:inline>"
        )
        doc_pr = inline.find(qn("wp:docPr"))
        doc_pr.set("descr", description)  # set as attributes, so any text is escaped by lxml
        doc_pr.set("title", title)
        drawing = parse_xml(f"<w:drawing {nsdecls('w')}/>")
        drawing.append(inline)
        run._r.append(drawing)
        return inline
