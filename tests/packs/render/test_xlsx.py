"""The Excel renderer: the sample Pack (every block type) re-opened with openpyxl, its XML, and LibreOffice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from office import pdf_pages, to_pdf
from openpyxl import load_workbook

from reporting.charts._xlsx_xml import read_alt_text
from reporting.errors import ReportingError
from reporting.packs.render import xlsx
from reporting.packs.render.xlsx import render
from reporting.packs.render.xlsx.cells import sheet_title
from reporting.packs.tree import (
    Cell,
    ChartBlock,
    Column,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    Section,
    SummaryTable,
    Text,
)

DANGEROUS = ("=ORG0", "+44 20 7188 7188", "-5 on last month", "@risk")


def _extra_sections(pack: Pack) -> Pack:
    """The sample pack plus: a picture-only chart, awkward and clashing sheet names, a sheet_name table and
    text cells starting with each of = + - @."""
    league = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "league")
    risky = DataTable(
        "Risky text",
        (Column("Note"), Column("Value", "count", "#,##0")),
        tuple((Cell(t, t), Cell(i, str(i), "count")) for i, t in enumerate(DANGEROUS)),
        sheet_name="Data: risky/text?",
    )
    extra = (
        Section(
            "Urgent/care: [detail]*? with a very long section title indeed",
            (
                Heading("Picture chart", 2),
                dataclasses.replace(league, native=False, caption="As a picture"),
                PageBreak(),
                Text(("After the break.",), "note"),
            ),
        ),
        Section("URGENT CARE", (Text(("Same name, other case.",)), risky)),
    )
    return dataclasses.replace(pack, sections=pack.sections + extra)


@pytest.fixture(scope="module")
def pack(charted_sample: Pack) -> Pack:
    return _extra_sections(charted_sample)


@pytest.fixture(scope="module")
def book_path(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(pack, tmp_path_factory.mktemp("xlsx") / "sample.xlsx")


@pytest.fixture(scope="module")
def book(book_path: Path):
    return load_workbook(book_path)


def _xml(path: Path, prefix: str) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode(errors="replace") for n in zf.namelist() if n.startswith(prefix)}


def _find(ws, value: object):
    return next(c for row in ws.iter_rows() for c in row if c.value == value)


# --- sheets -------------------------------------------------------------------------------------------------------


def test_sheet_order_and_names(book) -> None:
    assert book.sheetnames == [
        "Contents",
        "Urgent care",
        "Appendix data",
        "Urgent care detail with a very",
        "URGENT CARE (2)",
        "Data risky text",
        "Chart data",
    ]
    assert book["Chart data"].sheet_state == "hidden"
    assert all(book[n].sheet_state == "visible" for n in book.sheetnames[:-1])
    assert book.active.title == "Contents"


def test_sheet_title_rules() -> None:
    assert sheet_title("A/B: [c]*?\\d") == "A B c d"
    assert len(sheet_title("x" * 40)) == 31
    assert sheet_title("Data", ["data", "DATA (2)"]) == "Data (3)"
    assert sheet_title("y" * 40, ["y" * 31]) == "y" * 27 + " (2)"
    assert sheet_title("'quoted'") == "quoted" and sheet_title("") == "Sheet" and sheet_title("History") != "History"


# --- Contents -----------------------------------------------------------------------------------------------------


def test_contents_provenance_and_links(book, pack: Pack) -> None:
    ws = book["Contents"]
    assert ws["A1"].value == pack.title and ws["A1"].font.b
    values = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    prov = pack.provenance
    assert values["Snapshot hash"] == prov.snapshot_hash
    assert values["Template"] == prov.template_path and values["Template hash"] == prov.template_hash
    assert "File > Info" in values["Built at"] and values["Package version"] == prov.package_version
    assert values["Sources"] == prov.sources[0]
    assert values["Period"] == "July 2025" and values["Classification"] == "OFFICIAL"
    assert values["Organisation"] == "Guy's and St Thomas' (RJ1)"
    links = {c.value: c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink}
    assert links == {n: f"'{n}'!A1" for n in book.sheetnames[1:-1]}
    assert {c.value for row in book["Urgent care"].iter_rows(max_row=1) for c in row if c.hyperlink} == {"← Contents"}


# --- tables ---------------------------------------------------------------------------------------------------------


def test_data_table_is_an_excel_table_with_formats_and_frozen_header(book) -> None:
    ws = book["Appendix data"]
    (table,) = ws.tables.values()
    header = _find(ws, "Organisation")
    ref = f"A{header.row}:F{header.row + 40}"  # F: the Note column (a suppressed count)
    assert table.ref == ref and table.autoFilter.ref == ref and table.tableStyleInfo.name
    assert [c.value for c in ws[header.row]][:5] == [
        "Organisation",
        "Period",
        "Attendances",
        "Within 4 hours",
        "Within 4 hours status",
    ]
    first = header.row + 1
    assert ws[f"B{first}"].value == dt.datetime(2025, 7, 1) and ws[f"B{first}"].number_format == "yyyy-mm-dd"
    assert ws[f"C{first}"].value == 1000 and ws[f"C{first}"].number_format == "#,##0"
    assert ws[f"D{first}"].value == pytest.approx(0.7) and ws[f"D{first}"].number_format == "0.0%"
    assert ws[f"E{first}"].value == "Red" and ws[f"E{first + 1}"].value == "Green"  # RAG is never colour alone
    assert ws.freeze_panes == f"A{first}"
    assert ws.column_dimensions["A"].width >= 14 and ws.print_title_rows == f"${header.row}:${header.row}"


def test_summary_table_icons_and_display_names(book) -> None:
    ws = book["Urgent care"]
    (table,) = ws.tables.values()
    header = _find(ws, "Metric")
    assert table.ref == f"A{header.row}:I{header.row + 2}"  # + a Note column: one row's latest is suppressed
    row = header.row + 1
    assert ws[f"C{row}"].value == pytest.approx(0.781) and ws[f"C{row}"].number_format == "0.0%"
    assert ws[f"E{row}"].value == "H↑ Special cause improvement (high)"
    assert ws[f"F{row}"].value == "? Target met inconsistently"
    assert ws.freeze_panes is None  # charts follow the table: a frozen header would follow them down
    names = [t.displayName for s in book for t in s.tables.values()]
    assert len(names) == len(set(n.lower() for n in names)) == 3
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)


def test_conditional_formatting_for_rag_and_icons(book) -> None:
    data = book["Appendix data"].conditional_formatting
    rag = {r.formula[0] for cf in data for r in cf.rules}
    assert {f'$E{_find(book["Appendix data"], "Organisation").row + 1}="{x}"' for x in ("Red", "Amber", "Green")} <= rag
    assert all(str(cf.sqref).startswith("D") for cf in data)  # value and status columns together
    summary = book["Urgent care"].conditional_formatting
    formulas = " ".join(r.formula[0] for cf in summary for r in cf.rules)
    assert "Special cause improvement (high)" in formulas and "Target consistently missed" in formulas
    assert all(r.dxf.fill is not None for cf in summary for r in cf.rules)


def test_suppressed_cells_are_blank_with_a_note_and_footnote(book) -> None:
    ws = book["Appendix data"]
    star = ws[f"C{_find(ws, 'Organisation').row + 3}"]
    assert star.value is None  # a number column holds numbers or blanks; the Note column says why
    assert "Suppressed" in star.comment.text
    assert _find(ws, "Attendances: suppressed")
    assert _find(ws, "* Suppressed: fewer than 5 events.")
    summary = book["Urgent care"]
    latest = summary[f"C{_find(summary, 'Metric').row + 2}"]
    assert latest.value is None and latest.comment is not None and _find(summary, "Latest: suppressed")
    assert _find(summary, "* Suppressed by disclosure control: the value would identify a small number of events.")


def test_text_starting_with_formula_characters_stays_text(book, book_path: Path) -> None:
    risky = book["Data risky text"]
    cells = [_find(risky, t) for t in DANGEROUS]
    assert all(c.data_type == "s" for c in cells)
    assert _find(book["Appendix data"], "=ORG0").data_type == "s"
    assert _find(book["Urgent care"], "=cmd|' /C calc'!A0 is not a formula.").data_type == "s"
    sheets = _xml(book_path, "xl/worksheets/sheet")
    assert sheets and not any("<f>" in x or "<f " in x for x in sheets.values())


# --- headings, text, commentary, page breaks --------------------------------------------------------------------


def test_headings_use_real_styles_and_blocks_are_all_there(book) -> None:
    ws = book["Urgent care"]
    assert _find(ws, "Urgent and emergency care").style == "Headline 1"
    assert _find(ws, "League position").style == "Headline 2"
    assert _find(book["Urgent care detail with a very"], "Picture chart").style == "Headline 2"
    assert _find(ws, 'Betsi Cadwaladr & <Gwynedd> "Ysbyty" – Bòrd').alignment.wrap_text
    assert _find(ws, "Improving since April.") and _find(ws, "Keep the frailty unit open.")
    assert _find(ws, "Commentary: A&E 4-hour performance").style == "Headline 3"
    assert [b.id for b in book["Urgent care detail with a very"].row_breaks.brk]


def test_every_block_type_has_a_rule() -> None:
    for kind in (Cover, Contents, Heading, Text, SummaryTable, ChartBlock, DataTable, Commentary, PageBreak):
        assert xlsx._block.dispatch(kind) is not xlsx._block.dispatch(object), kind
    with pytest.raises(ReportingError, match="no rule for a str block"):
        xlsx._block("not a block", None)


# --- charts -------------------------------------------------------------------------------------------------------


def test_native_charts_with_data_on_the_hidden_sheet_and_alt_text(book_path: Path, book, pack: Pack) -> None:
    charts = _xml(book_path, "xl/charts/chart")
    assert len(charts) == 2
    assert all(re.search(r'<(c:)?smooth val="0"/>', x) for x in charts.values() if "lineChart" in x)
    assert any("lineChart" in x for x in charts.values()) and any("barChart" in x for x in charts.values())
    assert all("'Chart data'!" in x for x in charts.values())
    specs = [b.spec for b in pack.blocks() if isinstance(b, ChartBlock) and b.native]
    assert read_alt_text(book_path)["Urgent care"] == [(s.title, s.alt_text) for s in specs]
    assert _find(book["Chart data"], specs[0].title)


def test_pictures_carry_alt_text(book_path: Path, pack: Pack) -> None:
    drawings = _xml(book_path, "xl/drawings/drawing")
    pics = [m for x in drawings.values() for m in re.findall(r"<(?:xdr:)?pic>.*?</(?:xdr:)?pic>", x, re.S)]
    league = next(b.spec for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "league")
    assert len(pics) == 2  # the sparkline and the picture-only league chart
    assert any(f'descr="{league.alt_text}"' in p.replace("&amp;", "&") for p in pics)
    assert all(re.search(r'descr="[^"]{10,}"', p) for p in pics)


def test_a_chart_with_no_native_form_and_no_image_warns_and_keeps_its_description(tmp_path: Path, pack: Pack) -> None:
    league = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "league")
    small = dataclasses.replace(
        pack, sections=(Section("Only", (dataclasses.replace(league, native=False, image=None),)),)
    )
    with pytest.warns(RuntimeWarning, match="no image"):
        path = render(small, tmp_path / "small.xlsx")
    assert _find(load_workbook(path)["Only"], league.spec.alt_text)


# --- the file as a whole ------------------------------------------------------------------------------------------


def test_properties_and_same_pack_same_bytes(book, book_path: Path, pack: Pack, tmp_path: Path) -> None:
    assert book.properties.title == pack.title and book.properties.creator == pack.owner
    assert book.properties.created == book.properties.modified == dt.datetime.combine(pack.period, dt.time())
    assert render(pack, tmp_path / "again.xlsx").read_bytes() == book_path.read_bytes()
    assert not [p for p in book_path.parent.iterdir() if p.name != book_path.name]


def test_build_time_is_not_in_the_file(book_path: Path, pack: Pack, tmp_path: Path) -> None:
    later = dataclasses.replace(
        pack, provenance=dataclasses.replace(pack.provenance, built_at="2027-01-31T09:30:00+00:00")
    )
    assert render(later, tmp_path / "later.xlsx").read_bytes() == book_path.read_bytes()


def test_libreoffice_converts_the_workbook(book_path: Path, tmp_path: Path) -> None:
    assert pdf_pages(to_pdf(book_path, tmp_path / "pdf")) >= 5
