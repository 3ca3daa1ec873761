"""The one safe-cell rule for every workbook and CSV file we write: text from data is never a formula.

- Workbooks (openpyxl: the main .xlsx, the commentary workbook, native Excel charts' data): text is stored
  as a string cell (`text_cell`), so "=HYPERLINK(...)" or "=cmd|' /C calc'!A0" is shown, never run.
- Workbooks written by XlsxWriter (the data behind native PowerPoint charts, written by python-pptx):
  `XLSXWRITER_OPTIONS` turns off XlsxWriter's "a string starting with = is a formula" default.
- CSV files (opened by Excel with a double click): OWASP's CSV-injection guidance, a text field starting
  with = + - @ tab or carriage return gets a leading apostrophe (`csv_text`); numbers are left alone.
It sits below everything (no imports from the package).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_START", "XLSXWRITER_OPTIONS", "csv_frame", "csv_text", "looks_like_formula", "text_cell"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
#: XlsxWriter's Workbook options: strings stay strings (no formulas, no URLs, no numbers guessed from text).
XLSXWRITER_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # as openpyxl's ILLEGAL_CHARACTERS_RE


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet take this text for a formula (or a DDE command)?"""
    return text.startswith(FORMULA_START) and not _NUMBER.match(text.strip())


def text_cell(cell: Any, text: str) -> Any:
    """Put `text` in an openpyxl cell as a string cell, whatever it starts with."""
    cell.value = _ILLEGAL.sub("", text)
    cell.data_type = "s"
    return cell


def csv_text(value: Any) -> Any:
    """A CSV field that Excel will not evaluate: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def csv_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells (and column names) pass through csv_text."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if is_object_dtype(out[column].dtype) or is_string_dtype(out[column].dtype):
            out[column] = out[column].map(csv_text)
    out.columns = [csv_text(str(c)) for c in out.columns]
    return out
