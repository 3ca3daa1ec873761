"""One error tree for the whole product, so the command line can turn any of them into one line.

    ReportingError                 root; the CLI prints str(err) and exits 2
    ├── ConfigError                a YAML file (catalogue, template, schedule) is wrong: file:line:column, field
    ├── DataError                  a data row is wrong: source, row/line, field, what was expected
    │   └── SourceError            a source could not be read at all (file missing, HTTP down, SQL error)
    ├── StatsError                 analysis options or input cannot be computed (too few points, bad chart kind)
    ├── DeliveryError              publishing or email failed
    │   └── EmailDeliveryError     (delivery.compose) ├── TemporaryDeliveryError (retried) └── PermanentDeliveryError
    ├── ChartExportError           (charts.export) Chromium missing, failing or too slow
    ├── TextOverflowError          (packs.render.pptx) text that does not fit its slide box, even at the minimum size
    ├── PdfError                   (packs.render.pdf) LibreOffice conversion failed └── PdfUnavailable
    └── BuildFailed                (schedule.runner) no organisation's pack of a scheduled run could be built
    NativeChartUnsupported is a ValueError the renderers catch (they fall back to a picture).

Every message is written to stand alone on one line: where, which field, what was wrong, what was expected.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "DeliveryError", "ReportingError", "SourceError", "StatsError"]


class ReportingError(Exception):
    """Root of every error the product raises on purpose."""


def _where(file: object | None, line: int | None, field: str | None, row_label: str = "line") -> str:
    parts = []
    if file is not None:
        column = getattr(line, "column", None)  # YAML positions carry their column (reporting._yaml.Line)
        parts.append(
            f"{file}"
            + (f":{line}" + (f":{column}" if column else "") if line is not None and row_label == "line" else "")
        )
        if line is not None and row_label != "line":
            parts.append(f"{row_label} {line}")
    elif line is not None:
        parts.append(f"{row_label} {line}")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


class ConfigError(ReportingError):
    """A configuration file is wrong; raised when it is loaded, before any data is touched."""

    def __init__(
        self, message: str, *, file: object | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, message
        self.column: int | None = getattr(line, "column", None)
        where = _where(file, line, field)
        super().__init__(f"{where}: {message}" if where else message)


class DataError(ReportingError):
    """A data row breaks a rule; names the source, the row or line, the field and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        source: object | None = None,
        row: int | None = None,
        field: str | None = None,
        row_label: str = "line",
    ) -> None:
        self.source, self.row, self.field, self.reason = source, row, field, message
        where = _where(source, row, field, row_label)
        super().__init__(f"{where}: {message}" if where else message)


class SourceError(DataError):
    """A whole source could not be read (missing file, unreachable URL, SQL error); the cause is chained."""


class StatsError(ReportingError):
    """Analysis input or options that cannot be computed; names the row and field where there is one."""


class DeliveryError(ReportingError):
    """Publishing or sending failed."""
