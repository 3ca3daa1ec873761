"""The commentary round trip: write the workbook, fill it in as a service lead would, read it back."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from office import pdf_pages, to_pdf
from openpyxl import load_workbook

from reporting.errors import DataError, SourceError
from reporting.packs.commentary import read_commentary, write_commentary_workbook

PERIOD = dt.date(2025, 7, 1)
ROWS = [
    (
        "ae_4hr",
        "A&E 4-hour performance",
        "July 2025",
        "78.1%",
        "Special cause improvement (high); target met inconsistently",
        "A&E 4-hour performance was 78.1% in July 2025.",
    ),
    ("ae_12hr", "12-hour waits", "July 2025", "1,204", "Common cause variation", "=cmd|' /C calc'!A0 stays text"),
    ("rtt_18wk", "RTT 18 weeks", "July 2025", "59.8%", "Special cause concern (low)", "RTT fell."),
]
KNOWN = {r[0] for r in ROWS}


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    return write_commentary_workbook(
        ROWS, tmp_path / "commentary.xlsx", pack_id="board", period=PERIOD, title="Board paper"
    )


def _fill(path: Path, edits: dict[tuple[int, str], object]) -> Path:
    """As a service lead would: open, type into cells (by row index into ROWS and column header), save."""
    wb = load_workbook(path)
    ws = wb["Commentary"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Metric ID")
    cols = {c.value: c.column for c in header}
    for (i, name), value in edits.items():
        ws.cell(row=header[0].row + 1 + i, column=cols[name], value=value)
    wb.save(path)
    return path


def test_write_fill_read(blank: Path) -> None:
    _fill(
        blank,
        {
            (0, "Commentary"): "Improving since April.",
            (0, "Actions"): "Keep the frailty unit open.",
            (0, "Author"): "Chief Operating Officer",
            (2, "Commentary"): "- recovery plan agreed",
            (2, "Author"): "  Director of Operations  ",
        },
    )
    got = read_commentary(blank, pack_id="board", period=PERIOD, known_metrics=KNOWN)
    assert got == {
        "ae_4hr": ("Improving since April.", "Keep the frailty unit open.", "Chief Operating Officer"),
        "rtt_18wk": ("- recovery plan agreed", "", "Director of Operations"),
    }  # ae_12hr left empty
    assert read_commentary(blank, pack_id="board", period="2025-07-01", known_metrics=KNOWN) == got


def test_only_the_three_columns_are_unlocked(blank: Path) -> None:
    wb = load_workbook(blank)
    ws = wb["Commentary"]
    assert ws.protection.sheet and wb.security.lockStructure
    header = next(r for r in ws.iter_rows() if r[0].value == "Metric ID")
    names = [c.value for c in header]
    assert names == [
        "Metric ID",
        "Metric",
        "Period",
        "Latest",
        "SPC summary",
        "Narrative",
        "Commentary",
        "Actions",
        "Author",
    ]
    for row in ws.iter_rows(min_row=header[0].row + 1):
        unlocked = {names[c.column - 1] for c in row if not c.protection.locked}
        assert unlocked == {"Commentary", "Actions", "Author"}
        assert all(c.number_format == "@" for c in row if not c.protection.locked)
    assert all(c.protection.locked for c in header)
    assert wb["_meta"].sheet_state == "hidden" and wb["_meta"].protection.sheet
    limits = {str(dv.sqref)[0]: (dv.type, dv.operator, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert limits == {
        "G": ("textLength", "lessThanOrEqual", "2000"),
        "H": ("textLength", "lessThanOrEqual", "1000"),
        "I": ("textLength", "lessThanOrEqual", "100"),
    }


def test_text_from_data_is_never_a_formula(blank: Path) -> None:
    cell = next(
        c
        for r in load_workbook(blank)["Commentary"].iter_rows()
        for c in r
        if c.value == "=cmd|' /C calc'!A0 stays text"
    )
    assert cell.data_type == "s"
    with zipfile.ZipFile(blank) as zf:
        assert not any("<f>" in zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


@pytest.mark.parametrize(
    ("pack_id", "period", "field"), [("weekly", PERIOD, "pack_id"), ("board", dt.date(2025, 6, 1), "period")]
)
def test_workbook_for_another_pack_or_period_is_refused(blank: Path, pack_id: str, period: dt.date, field: str) -> None:
    with pytest.raises(DataError) as err:
        read_commentary(blank, pack_id=pack_id, period=period, known_metrics=KNOWN)
    assert err.value.source == blank and err.value.field == field
    assert str(blank) in str(err.value) and "is for pack 'board', period 2025-07-01" in str(err.value)
    assert f"expected pack '{pack_id}', period {period.isoformat()}" in str(err.value)


def test_unknown_metric_id_names_the_row(blank: Path) -> None:
    _fill(blank, {(1, "Metric ID"): "ae_4hour", (1, "Commentary"): "Typo in the id."})
    with pytest.raises(DataError, match=r"row 6, field 'Metric ID': unknown metric id 'ae_4hour'") as err:
        read_commentary(blank, pack_id="board", period=PERIOD, known_metrics=KNOWN)
    assert (err.value.source, err.value.row, err.value.field) == (blank, 6, "Metric ID")


def test_duplicate_metric_row_is_an_error(blank: Path) -> None:
    _fill(blank, {(2, "Metric ID"): "ae_4hr"})
    with pytest.raises(DataError, match=r"row 7, field 'Metric ID': metric 'ae_4hr' appears twice \(first at row 5\)"):
        read_commentary(blank, pack_id="board", period=PERIOD, known_metrics=KNOWN)


def test_over_long_commentary_and_foreign_files(blank: Path, tmp_path: Path) -> None:
    _fill(blank, {(0, "Author"): "x" * 101})
    with pytest.raises(DataError, match="field 'Author': 101 characters; at most 100"):
        read_commentary(blank, pack_id="board", period=PERIOD, known_metrics=KNOWN)
    with pytest.raises(SourceError, match="not found"):
        read_commentary(tmp_path / "missing.xlsx", pack_id="board", period=PERIOD, known_metrics=KNOWN)
    (tmp_path / "notes.xlsx").write_text("not a workbook")
    with pytest.raises(SourceError, match="cannot read"):
        read_commentary(tmp_path / "notes.xlsx", pack_id="board", period=PERIOD, known_metrics=KNOWN)


def test_a_metric_listed_twice_is_refused_on_writing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="'ae_4hr' is listed twice"):
        write_commentary_workbook([ROWS[0], ROWS[0]], tmp_path / "c.xlsx", pack_id="board", period=PERIOD)


def test_libreoffice_opens_the_commentary_workbook(blank: Path, tmp_path: Path) -> None:
    assert pdf_pages(to_pdf(blank, tmp_path / "pdf")) >= 1
