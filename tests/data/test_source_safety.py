"""Sources read only regular files inside the project, within a size limit; errors never quote a file.

Attacks from issue 18: `path: /proc/self/environ` put the SMTP password into the error (and so into the
history and the owner's email); `path: /dev/zero` took 22.5 GB in 60 s; an HTTP source that never stops
sending took 1.17 GB in 4 s; `url: ...?api_key=...` in YAML was accepted.
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from project_fixtures import BASIC_CATALOGUE, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import load
from reporting.errors import ConfigError, SourceError

CANARY = "canary-Zq8vX2pLm4"


def _with_path(make_project: MakeProject, path: str) -> object:
    project = make_project(BASIC_CATALOGUE.replace("path: data/ae.csv", f"path: {path}"))
    return project


def _load(project: object) -> Any:
    return load(load_catalogue(project.catalogue_file), project.root)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path", ["/proc/self/environ", "/dev/zero", "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/self/cmdline"]
)
def test_system_files_are_refused(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setenv("REPORTING_SMTP_PASSWORD", CANARY)
    with pytest.raises(SourceError) as info:
        _load(_with_path(make_project, path))
    text = str(info.value)
    assert CANARY not in text and "system file" in text and path in text and "\n" not in text


def test_absolute_path_outside_the_project_is_refused(make_project: MakeProject, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("period,org_code,attendances,breaches\n2024-01-01,RAA,1,0\n")
    with pytest.raises(SourceError, match="leads outside the project directory"):
        _load(_with_path(make_project, str(outside)))


def test_data_dirs_allow_a_named_directory(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "ae.csv").write_text("period,org_code,attendances,breaches\n2024-01-01,RAA,100,10\n")
    project = _with_path(make_project, str(shared / "ae.csv"))
    with pytest.raises(SourceError, match="outside the project"):  # not without the administrator's say-so
        _load(project)
    monkeypatch.setenv("REPORTING_DATA_DIRS", str(shared))
    rows = _load(project).metrics  # one row per catalogue metric, all read from the shared file
    assert len(rows) == rows["metric_id"].nunique() >= 1
    assert set(rows["org_code"]) == {"RAA"} and set(rows["period"].astype(str).str[:10]) == {"2024-01-01"}
    assert rows["value"].notna().all()


def test_symlink_out_of_the_project_is_refused(make_project: MakeProject, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"period,org_code,attendances,breaches\n{CANARY},RAA,1,0\n")
    project = _with_path(make_project, "data/link.csv")
    (project.root / "data").mkdir(exist_ok=True)
    os.symlink(secret, project.root / "data" / "link.csv")
    with pytest.raises(SourceError) as info:
        _load(project)
    assert "outside the project" in str(info.value) and CANARY not in str(info.value)
    os.symlink("/proc/self/environ", project.root / "data" / "env.csv")
    project = _with_path(make_project, "data/env.csv")
    with pytest.raises(SourceError, match="outside the project|system file"):
        _load(project)


def test_special_files_are_refused(make_project: MakeProject) -> None:
    project = _with_path(make_project, "data/fifo.csv")
    (project.root / "data").mkdir(exist_ok=True)
    os.mkfifo(project.root / "data" / "fifo.csv")  # reading it would block for ever
    with pytest.raises(SourceError, match="not a regular file"):
        _load(project)
    project = _with_path(make_project, "data")
    with pytest.raises(SourceError, match="is a directory"):
        _load(project)


def test_file_over_the_size_limit(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project()
    monkeypatch.setenv("REPORTING_LIMIT_SOURCE_BYTES", "50")
    with pytest.raises(SourceError) as info:
        _load(project)
    assert "over the limit of 50" in str(info.value) and "ae.csv" in str(info.value)


def test_excel_errors_do_not_quote_the_file(make_project: MakeProject) -> None:
    project = make_project(
        BASIC_CATALOGUE.replace("kind: csv\n    path: data/ae.csv", "kind: excel\n    path: data/ae.xlsx"), {}
    )
    (project.root / "data").mkdir()
    (project.root / "data" / "ae.xlsx").write_bytes(f"PK\x03\x04 {CANARY} not really a workbook".encode())
    with pytest.raises(SourceError) as info:
        _load(project)
    assert CANARY not in str(info.value) and "cannot read as an Excel workbook" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/ae.csv?api_key=abc123",
        "https://x.example/ae.csv?token=t0k3n",
        "https://x.example/ae.csv?sig=abc&x=1",
        "https://x.example/a?client_secret=s",
    ],
)
def test_credentials_in_yaml_urls_are_refused(make_project: MakeProject, url: str) -> None:
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv", f"  ae:\n    kind: http\n    url: {url}"
    )
    with pytest.raises(ConfigError, match="looks like a credential.*url_env"):
        load_catalogue(make_project(text).catalogue_file)


class _Endless(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(b"period,org_code,attendances,breaches\n")
        try:
            while True:
                self.wfile.write(b"2024-01-01,RAA,100,10\n" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endless() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ae.csv"
    server.shutdown()
    server.server_close()


def test_http_body_is_streamed_with_a_cap(
    make_project: MakeProject, endless: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resource

    monkeypatch.setenv("REPORTING_LIMIT_SOURCE_BYTES", "2000000")
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv",
        f"  ae:\n    kind: http\n    url: {endless}\n    retries: 3\n    timeout: 30",
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SourceError) as info:
        load(load_catalogue(make_project(text).catalogue_file), make_project(text).root)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "over the limit of 2,000,000 bytes" in str(info.value)
    assert grown_mb < 200
