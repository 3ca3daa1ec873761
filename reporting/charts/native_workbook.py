"""A native chart's data workbook, written once per process: python-pptx's calls to XlsxWriter are recorded,
and each distinct sheet is written by XlsxWriter once (with reporting.cells' options: a label starting with "="
stays a string).

A Board paper draws each chart twice, for Word and for PowerPoint, and XlsxWriter's writing and zipping is most of
a native chart's Python cost. The recorded calls are everything the workbook's bytes depend on, so a cached sheet
is the bytes XlsxWriter writes for the same calls (its timestamps are set afterwards by office_package).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reporting.cells import XLSXWRITER_OPTIONS

__all__ = ["sheet_blob"]

Calls = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


def sheet_blob(populate: Callable[[Any, Any], None]) -> bytes:
    """The workbook `populate(workbook, worksheet)` writes (python-pptx's `_populate_worksheet`), from this
    process's cache when the same sheet was written before."""
    recorder = _Recorder()
    populate(recorder, recorder)
    key = tuple(recorder.calls)
    blob = _BLOBS.get(key)
    if blob is None:
        if len(_BLOBS) >= _BLOBS_MAX:
            _BLOBS.clear()
        blob = _BLOBS[key] = _replay(key)
    return blob


class _Recorder:
    """Stands in for XlsxWriter's workbook and worksheet while python-pptx fills a chart's data sheet: it keeps
    the calls (method and arguments, a format as the index of its `add_format` call), which are everything
    the workbook's bytes depend on. A call python-pptx did not make when this was written fails loudly."""

    SHEET_METHODS = frozenset({"write", "write_column", "write_row", "set_column"})

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[tuple[str, Any], ...]]] = []
        self.formats = 0

    def add_format(self, properties: dict[str, Any]) -> _Format:
        self.calls.append(("add_format", (("properties", tuple(sorted(properties.items()))),)))
        self.formats += 1
        return _Format(self.formats - 1)

    def __getattr__(self, method: str) -> Callable[..., None]:
        if method not in self.SHEET_METHODS:
            raise AttributeError(f"chart data sheets are recorded, and {method!r} is not a recorded call")

        def call(*args: Any) -> None:
            self.calls.append((method, tuple(_tagged(a) for a in args)))

        return call


class _Format(int):
    """A format of a recorded workbook: the index of its `add_format` call."""


def _tagged(value: Any) -> tuple[str, Any]:
    """An argument with its kind, so that 1, 1.0 and True (equal in Python) are different keys."""
    if isinstance(value, _Format):
        return ("format", int(value))
    if isinstance(value, list | tuple):
        return ("list", tuple((type(v).__name__, v) for v in value))
    return (type(value).__name__, value)


def _replay(calls: Calls) -> bytes:
    """The workbook of recorded `calls`, written by XlsxWriter (strings stay strings: reporting.cells)."""
    import io

    from xlsxwriter import Workbook

    out = io.BytesIO()
    workbook = Workbook(out, {"in_memory": True, **XLSXWRITER_OPTIONS})
    worksheet = workbook.add_worksheet()
    formats: list[Any] = []

    def value(kind: str, v: Any) -> Any:
        if kind == "format":
            return formats[v]
        if kind == "list":
            return [item for _, item in v]
        return v

    for method, args in calls:
        if method == "add_format":
            formats.append(workbook.add_format(dict(args[0][1])))
        else:
            getattr(worksheet, method)(*(value(kind, v) for kind, v in args))
    workbook.close()
    return out.getvalue()


#: chart data sheets already written in this process, by their recorded calls
_BLOBS: dict[Calls, bytes] = {}
_BLOBS_MAX = 256
