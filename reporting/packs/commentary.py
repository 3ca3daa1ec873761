"""The commentary round trip: a workbook for service leads to fill in, and the reader that merges it back.

`write_commentary_workbook` writes one row per metric (id, title, period, latest value, SPC summary,
narrative) with empty "Commentary", "Actions" and "Author" columns. Every other cell is locked by sheet
protection (no password: it prevents accidents, it is not security), the editable cells are formatted as
text so an entry such as "- improving" is never taken for a formula, and data validation limits their length.
A hidden "_meta" sheet records the pack id and period, and workbook structure protection stops it being
unhidden or a sheet being renamed by accident.

`read_commentary` checks the workbook is the one for this pack and period, that every metric id is known
and appears once, and returns {metric_id: (commentary, actions, author)} for the rows that have commentary
or actions (rows left empty are skipped). Every problem is a `DataError` naming the file, row and field.

Analysts write the executive summary's own words in the same workbook: a row whose Metric ID is
`summary:<part>` (`summary:attention`, `summary:improved`, `summary:changed`, `summary:stable`,
`summary:unknown`, `summary:asks`, or `summary:overview` for the opening paragraph). Its Commentary replaces
the generated paragraphs of that part (a blank line starts a new paragraph) and its Actions are added after
them, so a part can be rewritten, extended, or both. Such rows are returned under the same key.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from reporting.cells import text_cell
from reporting.charts.theme import DEFAULT_THEME
from reporting.errors import DataError, SourceError
from reporting.office_package import DocumentProperties, save
from reporting.packs.render._brand import brand_of
from reporting.packs.template import SummaryPart

__all__ = [
    "COLUMNS",
    "MAX_LENGTH",
    "SUMMARY_PARTS",
    "SUMMARY_PREFIX",
    "metric_commentary",
    "read_commentary",
    "summary_rows",
    "write_commentary_workbook",
]

SHEET = "Commentary"
META = "_meta"
FORMAT_VERSION = "1"
#: header, width (characters), editable
COLUMNS: tuple[tuple[str, float, bool], ...] = (
    ("Metric ID", 16, False),
    ("Metric", 30, False),
    ("Period", 12, False),
    ("Latest", 11, False),
    ("SPC summary", 36, False),
    ("Narrative", 50, False),
    ("Commentary", 60, True),
    ("Actions", 45, True),
    ("Author", 22, True),
)
#: longest text accepted in each editable column (data validation in Excel; checked again on reading)
MAX_LENGTH = {"Commentary": 2000, "Actions": 1000, "Author": 100}
HEADER_ROW = 4
#: rows keyed `summary:<part>` override or extend that part of the executive summary (packs.blocks.executive)
SUMMARY_PREFIX = "summary:"
SUMMARY_PARTS: tuple[str, ...] = get_args(SummaryPart)  # the template's list of parts (packs.template)
_PART_TITLES = {
    "overview": "Executive summary: overview",
    "attention": "Executive summary: what needs attention",
    "improved": "Executive summary: what has improved",
    "changed": "Executive summary: what else has changed",
    "stable": "Executive summary: what is stable",
    "unknown": "Executive summary: what the data cannot tell us yet",
    "asks": "Executive summary: what the Board is asked to do",
}
SUMMARY_HELP = "Commentary replaces this part of the executive summary; Actions are added after it."
EDITABLE_FILL = "FFF9E6"
_BRAND = brand_of(DEFAULT_THEME)  # the workbook goes to service leads before any pack's theme is chosen

Row = tuple[str, str, str, str, str, str]


def _help(written: str | None) -> str:
    return f"{written}\n\n({SUMMARY_HELP})" if written else SUMMARY_HELP


def summary_rows(period_label: str, written: Mapping[str, str] | None = None) -> list[Row]:
    """The workbook rows in which analysts rewrite or extend the executive summary: one per part it writes
    (`written`: part -> the words the numbers write, shown in the Narrative column; default every part), in
    the summary's order."""
    parts = [p for p in SUMMARY_PARTS if written is None or p in written]
    return [(SUMMARY_PREFIX + p, _PART_TITLES[p], period_label, "", "", _help((written or {}).get(p))) for p in parts]


def _text_cell(ws: Any, row: int, col: int, value: str) -> Any:
    return text_cell(ws.cell(row=row, column=col), value)  # never a formula, whatever the text starts with


def _period_key(period: object) -> str:
    if isinstance(period, dt.datetime):
        return period.date().isoformat()
    if isinstance(period, dt.date):
        return period.isoformat()
    return str(period).strip()


def _created(period_key: str) -> dt.date:
    """The workbook's Created date: the period it collects commentary for (the zip epoch if it is no date)."""
    try:
        return dt.date.fromisoformat(period_key)
    except ValueError:
        return dt.date(1980, 1, 1)


def write_commentary_workbook(
    rows: Iterable[Row], path: Path, *, pack_id: str, period: dt.date | str, title: str = ""
) -> Path:
    """rows: (metric_id, title, period_label, latest text, SPC summary text, narrative), one per metric."""
    path = Path(path)
    rows = list(rows)
    seen: set[str] = set()
    for row in rows:
        if row[0] in seen:
            raise DataError(
                f"metric '{row[0]}' is listed twice; a commentary workbook has one row per metric",
                source=path,
                field="Metric ID",
            )
        seen.add(row[0])
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    period_key = _period_key(period)
    heading = ws.cell(row=1, column=1, value=f"Commentary: {title or pack_id}, {period_key}")
    heading.data_type = "s"
    heading.font = Font(name=_BRAND.font, size=14, bold=True, color=_BRAND.primary)
    _text_cell(
        ws,
        2,
        1,
        "Write in the shaded Commentary, Actions and Author cells only; everything else is "
        "locked. Leave a row empty if there is nothing to add. Save the file and send it back unchanged "
        "in name.",
    ).font = Font(name=_BRAND.font, size=9, italic=True)
    editable_cols = []
    for c, (name, width, editable) in enumerate(COLUMNS, start=1):
        cell = _text_cell(ws, HEADER_ROW, c, name)
        cell.font = Font(name=_BRAND.font, size=10, bold=True, color=_BRAND.white)
        cell.fill = PatternFill(fill_type="solid", start_color=_BRAND.primary, end_color=_BRAND.primary)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = width
        if editable:
            editable_cols.append((c, name))
    first = HEADER_ROW + 1
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row, start=1):
            cell = _text_cell(ws, r, c, "" if value is None else str(value))
            cell.font = Font(name=_BRAND.font, size=10)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for c, _ in editable_cols:
            cell = ws.cell(row=r, column=c)
            cell.protection = Protection(locked=False)
            cell.number_format = "@"  # typed text stays text: "- improving" is not a formula
            cell.fill = PatternFill(fill_type="solid", start_color=EDITABLE_FILL, end_color=EDITABLE_FILL)
            cell.font = Font(name=_BRAND.font, size=10)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.row_dimensions[r].height = 60
    last = max(first, first + len(rows) - 1)
    for c, name in editable_cols:
        letter = get_column_letter(c)
        dv = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(MAX_LENGTH[name]),
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="stop",
            errorTitle=f"{name} too long",
            error=f"{name} can be at most {MAX_LENGTH[name]} characters.",
            promptTitle=name,
            prompt=f"Up to {MAX_LENGTH[name]} characters.",
        )
        dv.add(f"{letter}{first}:{letter}{last}")
        ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=first, column=3)
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing is allowed
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    meta = wb.create_sheet(META)
    for r, (key, value) in enumerate(
        (("pack_id", pack_id), ("period", period_key), ("format_version", FORMAT_VERSION)), start=1
    ):
        _text_cell(meta, r, 1, key)
        _text_cell(meta, r, 2, value)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    properties = DocumentProperties(
        title=f"Commentary: {title or pack_id}, {period_key}",
        created=_created(period_key),
        author="reporting",
        keywords=f"{pack_id}; {period_key}",
    )
    return save(wb, path, properties)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_commentary(
    path: Path, *, pack_id: str, period: dt.date | str, known_metrics: Collection[str]
) -> dict[str, tuple[str, str, str]]:
    """{metric_id: (commentary, actions, author)} from a filled-in commentary workbook, validated."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=True)
    except FileNotFoundError as exc:
        raise SourceError("commentary workbook not found", source=path) from exc
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"cannot read the commentary workbook as .xlsx: {exc}", source=path) from exc
    expected_period = _period_key(period)
    if META not in wb.sheetnames or SHEET not in wb.sheetnames:
        raise DataError(
            f"not a commentary workbook (no '{META}' or '{SHEET}' sheet); expected the workbook "
            f"written by `reporting commentary` for pack '{pack_id}', period {expected_period}",
            source=path,
        )
    meta = {_cell_text(r[0].value): _cell_text(r[1].value) for r in wb[META].iter_rows(min_col=1, max_col=2)}
    got_pack, got_period = meta.get("pack_id", ""), meta.get("period", "")
    if got_pack != pack_id or got_period != expected_period:
        raise DataError(
            f"this commentary workbook is for pack '{got_pack}', period {got_period or '(none)'}; "
            f"expected pack '{pack_id}', period {expected_period}",
            source=path,
            field="pack_id" if got_pack != pack_id else "period",
        )
    ws = wb[SHEET]
    header_row, positions = _find_header(ws, path)
    known = set(known_metrics)
    out: dict[str, tuple[str, str, str]] = {}
    first_row: dict[str, int] = {}
    for r, cells in enumerate(ws.iter_rows(min_row=header_row + 1), start=header_row + 1):
        values = {}
        for name, i in positions.items():
            cell = cells[i] if i < len(cells) else None
            if cell is not None and cell.data_type == "e":
                raise DataError(
                    f"cell shows the Excel error {cell.value}; retype it as plain text",
                    source=path,
                    row=r,
                    field=name,
                    row_label="row",
                )
            values[name] = _cell_text(cell.value if cell is not None else None)
        metric = values["Metric ID"]
        filled = {k: values[k] for k in MAX_LENGTH}
        if not metric:
            if any(filled.values()):
                raise DataError(
                    "commentary on a row with no metric id", source=path, row=r, field="Metric ID", row_label="row"
                )
            continue
        if metric.startswith(SUMMARY_PREFIX) and metric[len(SUMMARY_PREFIX) :] not in SUMMARY_PARTS:
            raise DataError(
                f"unknown part of the executive summary '{metric}'; expected one of "
                f"{', '.join(SUMMARY_PREFIX + p for p in SUMMARY_PARTS)}",
                source=path,
                row=r,
                field="Metric ID",
                row_label="row",
            )
        if metric not in known and not metric.startswith(SUMMARY_PREFIX):
            raise DataError(
                f"unknown metric id '{metric}'; expected one of the pack's metrics "
                f"({', '.join(sorted(known)[:8])}{', ...' if len(known) > 8 else ''})",
                source=path,
                row=r,
                field="Metric ID",
                row_label="row",
            )
        if metric in first_row:
            raise DataError(
                f"metric '{metric}' appears twice (first at row {first_row[metric]}); keep one row",
                source=path,
                row=r,
                field="Metric ID",
                row_label="row",
            )
        first_row[metric] = r
        for name, limit in MAX_LENGTH.items():
            if len(filled[name]) > limit:
                raise DataError(
                    f"{len(filled[name])} characters; at most {limit} are allowed",
                    source=path,
                    row=r,
                    field=name,
                    row_label="row",
                )
        if filled["Commentary"] or filled["Actions"]:
            out[metric] = (filled["Commentary"], filled["Actions"], filled["Author"])
    return out


def metric_commentary(commentary: Mapping[str, tuple[str, str, str]]) -> dict[str, tuple[str, str, str]]:
    """The rows about metrics: what service leads sent, without the analysts' executive summary rows."""
    return {k: v for k, v in commentary.items() if not k.startswith(SUMMARY_PREFIX)}


def _find_header(ws: Any, path: Path) -> tuple[int, dict[str, int]]:
    needed = ("Metric ID", "Commentary", "Actions", "Author")
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=20, values_only=True), start=1):
        names = {_cell_text(v): i for i, v in enumerate(row) if v is not None}
        if "Metric ID" in names:
            missing = [n for n in needed if n not in names]
            if missing:
                raise DataError(
                    f"header row has no {', '.join(repr(m) for m in missing)} column; expected "
                    f"{', '.join(n for n, _, _ in COLUMNS)}",
                    source=path,
                    row=r,
                    field=missing[0],
                    row_label="row",
                )
            return r, {n: names[n] for n in needed}
    raise DataError(f"no header row with 'Metric ID' in the first 20 rows of sheet '{SHEET}'", source=path)
