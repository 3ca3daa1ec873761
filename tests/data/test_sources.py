"""Each source kind read for real: CSV and Excel files, SQLite and DuckDB databases, a local HTTP server."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import Dataset, load
from reporting.errors import DataError, SourceError

ROWS = [("2024-01-01", "RAA", 100, 10), ("2024-02-01", "RAA", 120, 30), ("2024-01-01", "RBB", 50, 5)]


def _catalogue(source_yaml: str) -> str:
    return BASIC_CATALOGUE.replace("  ae:\n    kind: csv\n    path: data/ae.csv\n", source_yaml)


def _load(make_project: MakeProject, catalogue: str, files: dict[str, str] | None = None) -> Dataset:
    project = make_project(catalogue, files or {})
    return load(load_catalogue(project.catalogue_file), project.root)


def _check(dataset: Dataset) -> None:
    ae = dataset.metrics[dataset.metrics.metric_id == "ae_4hr"].set_index(["org_code", "period"])["value"]
    assert ae[("RAA", pd.Timestamp("2024-02-01"))] == pytest.approx(0.75)
    assert len(ae) == 3


def test_excel_source(make_project: MakeProject, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "A&E"
    sheet.append(["Monthly A&E extract"])  # a title row above the header, as real extracts have
    sheet.append(["period", "org_code", "attendances", "breaches"])
    for period, org, att, breaches in ROWS:
        sheet.append([pd.Timestamp(period).to_pydatetime(), org, att, breaches])
    sheet.append([pd.Timestamp("2024-03-01").to_pydatetime(), "RBB", "n/k", 1])
    project = make_project(
        _catalogue("  ae:\n    kind: excel\n    path: data/ae.xlsx\n    sheet: A&E\n    header_row: 2\n"), {}
    )
    (project.root / "data").mkdir()
    book.save(project.root / "data" / "ae.xlsx")
    with pytest.raises(DataError) as info:
        load(load_catalogue(project.catalogue_file), project.root)
    assert info.value.row == 6 and info.value.field == "attendances" and "row 6" in str(info.value)
    sheet.delete_rows(6)
    book.save(project.root / "data" / "ae.xlsx")
    _check(load(load_catalogue(project.catalogue_file), project.root))


def test_excel_wrong_sheet(make_project: MakeProject) -> None:
    from openpyxl import Workbook

    project = make_project(_catalogue("  ae:\n    kind: excel\n    path: data/ae.xlsx\n    sheet: Missing\n"), {})
    (project.root / "data").mkdir()
    Workbook().save(project.root / "data" / "ae.xlsx")
    with pytest.raises(SourceError, match="Missing"):
        load(load_catalogue(project.catalogue_file), project.root)


def _sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("create table ae (month text, trust text, attendances integer, breaches integer)")
        conn.executemany("insert into ae values (?, ?, ?, ?)", ROWS)


SQL_SOURCE = (
    "  ae:\n    kind: sql\n    url_env: TEST_WAREHOUSE_URL\n    period: month\n    org_code: trust\n"
    "    query: select month, trust, attendances, breaches from ae\n"
)


def test_sqlite_source(make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sqlite(tmp_path / "w.db")
    monkeypatch.setenv("TEST_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    _check(_load(make_project, _catalogue(SQL_SOURCE)))


def test_duckdb_source(make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create table ae (month date, trust varchar, attendances integer, breaches integer)")
        conn.executemany("insert into ae values (?, ?, ?, ?)", ROWS)
    monkeypatch.setenv("TEST_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    _check(_load(make_project, _catalogue(SQL_SOURCE)))


def test_sql_error_is_named_without_the_password(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite(tmp_path / "w.db")
    monkeypatch.setenv("TEST_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(SourceError) as info:
        _load(make_project, _catalogue(SQL_SOURCE.replace("from ae", "from a_e")))
    assert "SQL error: no such table: a_e" in str(info.value) and info.value.field == "query"
    monkeypatch.setenv("TEST_WAREHOUSE_URL", "postgresql+psycopg2://analyst:s3cret@127.0.0.1:1/warehouse")
    with pytest.raises(SourceError) as info:
        _load(make_project, _catalogue(SQL_SOURCE))
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_a_mistyped_database_file_is_an_error_not_a_new_empty_database(
    scheme: str, make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WAREHOUSE_URL", f"{scheme}:///{tmp_path / 'warehuose.db'}")
    with pytest.raises(SourceError, match=r"database file .*warehuose.db does not exist") as info:
        _load(make_project, _catalogue(SQL_SOURCE))
    assert info.value.field == "url_env" and not (tmp_path / "warehuose.db").exists()


def test_sql_url_env_not_set(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_WAREHOUSE_URL", raising=False)
    with pytest.raises(SourceError, match="environment variable TEST_WAREHOUSE_URL is not set"):
        _load(make_project, _catalogue(SQL_SOURCE))


class _Server:
    """A real HTTP server on 127.0.0.1 whose replies the test sets, and which counts requests."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, str, str]] = []
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests += 1
                status, kind, body = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.httpd.shutdown()


def _http(url: str, extra: str = "") -> str:
    return _catalogue(
        f"  ae:\n    kind: http\n    url: {url}\n    retries: 3\n    backoff: 0.01\n    timeout: 2\n{extra}"
    )


def test_http_csv_with_retries(make_project: MakeProject, server: _Server) -> None:
    server.replies = [(503, "text/plain", "busy"), (200, "text/csv", BASIC_CSV)]
    dataset = _load(make_project, _http(server.url + "/ae.csv"))
    assert server.requests == 2
    assert len(dataset.metrics[dataset.metrics.metric_id == "ae_4hr"]) == 6


def test_http_json_records(make_project: MakeProject, server: _Server) -> None:
    records = [{"period": p, "org_code": o, "attendances": a, "breaches": b} for p, o, a, b in ROWS]
    server.replies = [(200, "application/json", json.dumps({"data": {"rows": records}}))]
    _check(_load(make_project, _http(server.url, "    format: json\n    records_path: data.rows\n")))
    with pytest.raises(SourceError, match="records_path 'data.items' not found"):
        _load(make_project, _http(server.url, "    format: json\n    records_path: data.items\n"))


def test_http_unreachable_is_retried_then_named(make_project: MakeProject, server: _Server) -> None:
    server.replies = [(500, "text/plain", "down")]
    with pytest.raises(SourceError) as info:
        _load(make_project, _http(server.url + "/ae.csv"))
    assert server.requests == 3
    assert "unreachable after 3 attempt(s): HTTP 500" in str(info.value)
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(SourceError, match="unreachable after 3 attempt.*ConnectError"):
        _load(make_project, _http(server.url + "/ae.csv"))


def test_http_client_error_is_not_retried(make_project: MakeProject, server: _Server) -> None:
    server.replies = [(404, "text/plain", "no")]
    with pytest.raises(SourceError, match="unreachable after 1 attempt.*404"):
        _load(make_project, _http(server.url + "/missing.csv"))
    assert server.requests == 1


def test_missing_csv_file_and_unknown_demo_file(make_project: MakeProject) -> None:
    with pytest.raises(SourceError, match="file not found"):
        _load(make_project, BASIC_CATALOGUE, {})
    with pytest.raises(SourceError, match="no bundled demo file 'nope.csv'"):
        _load(make_project, _catalogue("  ae:\n    kind: demo\n    file: nope.csv\n"))
