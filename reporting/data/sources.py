"""Source readers: one small interface per kind (csv, excel, sql, http, demo), like httpx's transports.

Each reader returns a RawTable: the rows as read, a human row number per row (CSV line, spreadsheet row,
record number) and a description of where they came from, so later checks can say "file.csv:17, field 'x'".
Library errors are translated into SourceError here, at the boundary, with the original chained.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from reporting.data.source_config import CsvSource, DemoSource, ExcelSource, HttpSource, Source, SqlSource, resolve_path
from reporting.errors import DataError, SourceError

__all__ = ["DEMO_FILES", "RawTable", "demo_path", "read_source"]

#: Bundled real NHS data (Open Government Licence v3.0); see reporting/demo_data/README.md.
DEMO_FILES = ("ae_trust_monthly_2021_2025.csv", "discharges_weekly_2022_2025.csv", "trusts_2022.csv")


@dataclass(frozen=True)
class RawTable:
    """Rows as a source gave them; `rows` is the human row number of each row (same order as `frame`)."""

    name: str
    origin: str
    row_label: str  # "line" for text files (file:line), "row" for spreadsheets and queries, "record" for JSON
    frame: pd.DataFrame
    rows: pd.Series

    def where(self, position: int) -> int:
        return int(self.rows.iloc[position])

    def missing_column(self, column: str, needed_by: str) -> DataError:
        """The error for a column this table lacks, with the closest name or the columns it has."""
        close = difflib.get_close_matches(column, list(self.frame.columns), n=1)
        names = [str(c)[:40] for c in self.frame.columns[:10]]
        more = f" and {len(self.frame.columns) - 10} more" if len(self.frame.columns) > 10 else ""
        hint = f" (did you mean '{close[0]}'?)" if close else f"; columns are: {', '.join(names)}{more}"
        return DataError(
            f"column '{column}' not found{hint}; {needed_by} needs it",
            source=self.origin,
            row=1 if self.row_label != "record" else None,
            field=column,
            row_label=self.row_label,
        )


def demo_path(file: str) -> Path:
    if file not in DEMO_FILES:
        raise SourceError(f"no bundled demo file '{file}'; available: {', '.join(DEMO_FILES)}", field="file")
    return Path(str(resources.files("reporting") / "demo_data" / file))


def read_source(name: str, source: Source, project: Path) -> RawTable:
    reader = _READERS[type(source)]
    return reader(name, source, project)


def _read_csv_text(
    name: str,
    origin: str,
    handle: io.TextIOBase | Path,
    source: CsvSource | DemoSource | HttpSource,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> RawTable:
    try:
        text = handle.read_text(encoding=encoding) if isinstance(handle, Path) else handle.read()
    except FileNotFoundError as exc:
        raise SourceError(f"source '{name}': file not found", source=origin) from exc
    except UnicodeDecodeError as exc:
        raw = handle.read_bytes() if isinstance(handle, Path) else b""
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"source '{name}': not {encoding} text ({exc.reason}); set 'encoding:' (e.g. cp1252)",
            source=origin,
            row=line,
        ) from exc
    except OSError as exc:
        raise SourceError(f"source '{name}': cannot open: {exc.strerror}", source=origin) from exc
    text = text.lstrip("\ufeff")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(
            f"source '{name}': cannot read as CSV: {str(exc).strip().splitlines()[-1]}", source=origin
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = pd.Series(_record_lines(origin, text, delimiter, len(frame)), index=frame.index)
    blank = (frame == "").all(axis=1)
    return RawTable(name, origin, "line", frame[~blank].reset_index(drop=True), rows[~blank].reset_index(drop=True))


def _record_lines(origin: str, text: str, delimiter: str, count: int) -> list[int]:
    """First physical line of each record (quoted fields may span lines); short rows and a repeated column
    name are errors, because pandas would silently pad the one and rename the other."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    twice = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if twice is not None:
        raise SourceError(
            f"column '{twice}' appears twice in the header; expected unique column names",
            source=origin,
            row=1,
            field=twice,
        )
    starts, end = [], reader.line_num
    for record in reader:
        if record and len(record) < len(header):
            raise SourceError(
                f"row has {len(record)} fields, the header has {len(header)}; expected "
                f"{len(header)} (a truncated row?)",
                source=origin,
                row=end + 1,
            )
        starts.append(end + 1)
        end = reader.line_num
    return starts[:count] if len(starts) >= count else list(range(2, count + 2))


#: Never a data source, wherever they are mounted: kernel and device files (/proc/self/environ holds secrets,
#: /dev/zero never ends).
_SYSTEM_ROOTS = (Path("/proc"), Path("/dev"), Path("/sys"), Path("/run"))
ENV_DATA_DIRS = "REPORTING_DATA_DIRS"


def source_file(name: str, project: Path, relative: str) -> Path:
    """The file a csv/excel source may read: a regular file inside the project (or a directory named in
    REPORTING_DATA_DIRS), after following symlinks, and not larger than the source limit. Anything else is a
    SourceError that names the path and never quotes the file."""
    from reporting.limits import current

    path = resolve_path(project, relative)
    given = Path(relative) if Path(relative).is_absolute() else project / relative
    try:
        real = given.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError(f"source '{name}': file not found", source=str(path), field="path") from None
    except (OSError, RuntimeError) as exc:  # symlink loop, permission
        raise SourceError(
            f"source '{name}': cannot open: {getattr(exc, 'strerror', None) or 'symlink loop'}",
            source=str(path),
            field="path",
        ) from None
    if any(real == root or real.is_relative_to(root) for root in _SYSTEM_ROOTS) or any(
        given.absolute() == r or given.absolute().is_relative_to(r) for r in _SYSTEM_ROOTS
    ):
        raise SourceError(
            f"source '{name}': {relative!r} is a system file (under /proc, /dev, /sys or /run); "
            f"sources read only data files inside the project",
            source=str(path),
            field="path",
        )
    allowed = [
        project.resolve(),
        *(Path(d).expanduser().resolve() for d in os.environ.get(ENV_DATA_DIRS, "").split(os.pathsep) if d.strip()),
    ]
    if not any(real.is_relative_to(root) for root in allowed):
        via = " (through a symlink)" if real != given.absolute() else ""
        raise SourceError(
            f"source '{name}': {relative!r} leads outside the project directory{via}; sources read "
            f"only files inside the project (or a directory listed in {ENV_DATA_DIRS})",
            source=str(path),
            field="path",
        )
    info = real.stat()
    import stat

    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, pipe or socket)"
        raise SourceError(
            f"source '{name}': {relative!r} is {kind}; expected a data file", source=str(path), field="path"
        )
    limit = current().source_bytes
    if info.st_size > limit:
        raise SourceError(
            f"source '{name}': file is {info.st_size:,} bytes, over the limit of {limit:,} "
            f"(limits.source_bytes / REPORTING_LIMIT_SOURCE_BYTES)",
            source=str(path),
            field="path",
        )
    return real


def _read_csv(name: str, source: CsvSource, project: Path) -> RawTable:
    path = source_file(name, project, source.path)
    return _read_csv_text(name, str(path), path, source, source.delimiter, source.encoding)


def _read_demo(name: str, source: DemoSource, project: Path) -> RawTable:
    try:
        path = demo_path(source.file)
    except SourceError as exc:
        raise SourceError(f"source '{name}': {exc.reason}", field="file") from None
    return _read_csv_text(name, f"demo:{source.file}", path, source)


def _read_excel(name: str, source: ExcelSource, project: Path) -> RawTable:
    path = source_file(name, project, source.path)
    try:
        frame = pd.read_excel(
            path, sheet_name=source.sheet, header=source.header_row - 1, dtype=object, engine="openpyxl"
        )
    except FileNotFoundError as exc:
        raise SourceError(f"source '{name}': file not found", source=str(path)) from exc
    except IsADirectoryError as exc:
        raise SourceError(f"source '{name}': cannot open: {exc.strerror}", source=str(path)) from exc
    except ValueError as exc:  # unknown sheet, unreadable workbook
        raise SourceError(f"source '{name}': {exc}", source=str(path), field="sheet") from exc
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-workbooks
        # the library's text is not quoted: it can carry bytes of the file
        raise SourceError(
            f"source '{name}': cannot read as an Excel workbook ({type(exc).__name__})", source=str(path)
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.map(_cell_text)
    rows = pd.Series(range(source.header_row + 1, source.header_row + 1 + len(frame)), index=frame.index)
    blank = (frame == "").all(axis=1)
    return RawTable(name, str(path), "row", frame[~blank].reset_index(drop=True), rows[~blank].reset_index(drop=True))


def _cell_text(value: object) -> str:
    """Spreadsheet and database cells as text, so every source is checked by the same rules afterwards."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()  # date or datetime
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_sql(name: str, source: SqlSource, project: Path) -> RawTable:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

    url = os.environ.get(source.url_env)
    if not url:
        raise SourceError(
            f"source '{name}': environment variable {source.url_env} is not set; it must hold the "
            f"database URL (e.g. sqlite:///warehouse.db)",
            field="url_env",
        )
    try:
        parsed = make_url(url)  # shown without user, password or query parameters (which may hold secrets)
        shown = f"{parsed.drivername}://{parsed.host or ''}{'/' + parsed.database if parsed.database else ''}"
    except ArgumentError as exc:
        raise SourceError(f"source '{name}': {source.url_env} is not a valid SQLAlchemy URL", field="url_env") from exc
    origin = f"sql:{name} ({shown})"
    database = parsed.database or ""
    if (
        parsed.drivername.startswith(("sqlite", "duckdb"))
        and database not in {"", ":memory:"}
        and not database.startswith("file:")
        and not Path(database).is_file()
    ):
        # both would silently create an empty database file and then report a missing table
        raise SourceError(
            f"source '{name}': database file {database} does not exist (check {source.url_env}; "
            f"a relative path is relative to the directory the command runs in)",
            source=origin,
            field="url_env",
        )
    try:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                frame = pd.read_sql_query(text(source.query), conn)
        finally:
            engine.dispose()
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        root = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
        detail = str(getattr(root, "orig", None) or root).strip().splitlines()[0]
        field = "url_env" if isinstance(exc, OperationalError) and not getattr(exc, "statement", None) else "query"
        raise SourceError(f"source '{name}': SQL error: {detail}", source=origin, field=field) from exc
    except ImportError as exc:
        raise SourceError(f"source '{name}': the database driver is not installed ({exc})", source=origin) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.map(_cell_text)
    return RawTable(name, origin, "row", frame, pd.Series(range(1, len(frame) + 1), index=frame.index))


def _read_http(name: str, source: HttpSource, project: Path) -> RawTable:
    import httpx

    url = source.url or os.environ.get(source.url_env or "", "")
    if not url:
        raise SourceError(f"source '{name}': environment variable {source.url_env} is not set", field="url_env")
    shown = source.url.split("?")[0] if source.url else f"${source.url_env}"
    last: str = ""
    attempt = 0
    for attempt in range(1, source.retries + 1):
        try:
            status, reason, body = _fetch(url, source.timeout)
            if status < 400:
                return _parse_http(name, shown, source, body)
            last = f"HTTP {status} {reason}"
            if status < 500 and status != 429:
                break  # a client error will not mend itself
        except _TooLarge as exc:
            raise SourceError(f"source '{name}': {exc}", source=shown) from None
        except (httpx.HTTPError, TimeoutError) as exc:
            last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if attempt < source.retries:
            time.sleep(source.backoff * 2 ** (attempt - 1))
    raise SourceError(f"source '{name}': unreachable after {attempt} attempt(s): {last}", source=shown)


class _TooLarge(Exception):
    """The reply passed the size limit: not retried (it will be as large next time)."""


def _fetch(url: str, timeout: float) -> tuple[int, str, bytes]:
    """One GET whose whole transfer must finish within `timeout` (a server that trickles bytes is cut off) and
    stay under the source size limit (streamed: a reply that never ends is cut off at the limit)."""
    import httpx

    from reporting.limits import current

    limit = current().source_bytes
    deadline = time.monotonic() + timeout
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as reply:
        chunks, size = [], 0
        for chunk in reply.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _TooLarge(
                    f"reply is over the limit of {limit:,} bytes (limits.source_bytes / REPORTING_LIMIT_SOURCE_BYTES)"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"reply took longer than {timeout:g} s")
        return reply.status_code, reply.reason_phrase, b"".join(chunks)


def _parse_http(name: str, origin: str, source: HttpSource, raw: bytes) -> RawTable:
    try:
        body = raw.decode(source.encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"source '{name}': reply is not {source.encoding} text ({exc.reason}); set 'encoding:'",
            source=origin,
            row=raw.count(b"\n", 0, exc.start) + 1,
        ) from exc
    if source.format == "csv":
        return _read_csv_text(name, origin, io.StringIO(body), source)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"source '{name}': reply is not JSON ({exc.msg} at line {exc.lineno})", source=origin
        ) from exc
    for part in (source.records_path or "").split(".") if source.records_path else []:
        if not isinstance(data, dict) or part not in data:
            raise SourceError(
                f"source '{name}': records_path '{source.records_path}' not found in the reply (stopped at '{part}')",
                source=origin,
                field="records_path",
            )
        data = data[part]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceError(
            f"source '{name}': expected a JSON list of records (objects); set 'records_path'",
            source=origin,
            field="records_path",
        )
    frame = pd.DataFrame.from_records(data).map(_cell_text) if data else pd.DataFrame()
    return RawTable(name, origin, "record", frame, pd.Series(range(1, len(frame) + 1), index=frame.index))


_READERS: dict[type, Callable[..., RawTable]] = {
    CsvSource: _read_csv,
    DemoSource: _read_demo,
    ExcelSource: _read_excel,
    SqlSource: _read_sql,
    HttpSource: _read_http,
}
