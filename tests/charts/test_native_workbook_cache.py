# python-pptx ships no type hints, so its chart data classes are untyped calls:
# mypy: disable-error-code="no-untyped-call"
"""A native chart's data workbook is recorded, then written once per process: the bytes are XlsxWriter's for
the same calls, a label starting with "=" stays a string, and a different sheet is never served from the
cache."""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager
from typing import Any

import pytest
from pptx.chart.xlsx import CategoryWorkbookWriter, XyWorkbookWriter
from xlsxwriter import Workbook

from reporting.cells import XLSXWRITER_OPTIONS
from reporting.charts import native_workbook
from reporting.charts.native_pptx import SafeCategoryChartData, SafeXyChartData


class _Direct:
    """python-pptx's own path (no recorder, no cache) with the same XlsxWriter options."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: Any) -> Any:
        workbook = Workbook(xlsx_file, {"in_memory": True, **XLSXWRITER_OPTIONS})
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class _DirectCategory(_Direct, CategoryWorkbookWriter):
    pass


class _DirectXy(_Direct, XyWorkbookWriter):
    pass


def _category(labels: list[str], values: list[float | None]) -> SafeCategoryChartData:
    data = SafeCategoryChartData(number_format="0.0%")
    data.categories = labels
    data.add_series('=HYPERLINK("http://x")', values)
    data.add_series("limit", [0.5] * len(values))
    return data


def _xy() -> SafeXyChartData:
    data = SafeXyChartData(number_format="#,##0")
    series = data.add_series("providers")
    for x, y in ((100, 0.9), (250, 0.75), (1000, 1)):
        series.add_data_point(x, y)
    return data


def _sheets(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}  # core.xml: the time


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    native_workbook._BLOBS.clear()


def test_a_recorded_workbook_is_the_one_python_pptx_writes() -> None:
    data = _category(["Apr 2025", "=1+1", "Jun 2025"], [0.81, None, 0.79])
    assert _sheets(data.xlsx_blob) == _sheets(_DirectCategory(data).xlsx_blob)
    xy = _xy()
    assert _sheets(xy.xlsx_blob) == _sheets(_DirectXy(xy).xlsx_blob)


def test_labels_starting_with_equals_stay_strings() -> None:
    sheet = _sheets(_category(["=1+1"], [0.5]).xlsx_blob)["xl/worksheets/sheet1.xml"]
    assert b"<f>" not in sheet and b'<c r="A2" s="1" t="s">' in sheet and b'<c r="B1" t="s">' in sheet


def test_the_same_sheet_is_written_once_and_a_different_one_is_not_served_from_the_cache() -> None:
    first = _category(["Apr", "May"], [0.5, 0.6]).xlsx_blob
    assert len(native_workbook._BLOBS) == 1
    assert _category(["Apr", "May"], [0.5, 0.6]).xlsx_blob is first  # the cached bytes
    assert len(native_workbook._BLOBS) == 1
    # equal in Python (0.5 == 0.5, 1 == 1.0 == True) but not the same cells: new entries
    other = _category(["Apr", "May"], [0.5, 0.7]).xlsx_blob
    ints = _category(["Apr", "May"], [1, 0]).xlsx_blob  # ints on purpose
    floats = _category(["Apr", "May"], [1.0, 0.0]).xlsx_blob
    assert len(native_workbook._BLOBS) == 4 and other != first and ints is not floats


def test_a_call_that_was_not_recorded_fails_loudly() -> None:
    recorder = native_workbook._Recorder()
    with pytest.raises(AttributeError, match="'insert_image' is not a recorded call"):
        recorder.insert_image(0, 0, "x.png")
