"""Canary secrets: set in the environment, then every failure mode of issue 18's list is run for real
(`reporting run-once` as a subprocess, a real aiosmtpd server with AUTH, the history database on disk);
no canary may appear in the command's output, the history, any email (the owner's included) or any file
written under the project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smtp_server import SmtpTestServer
from test_runner import WEEKLY

from reporting.project import Project
from reporting.redact import MASK, credential_in_url, redact

SMTP_CANARY = "smtp-Canary-7Hq2Lx9"
DB_CANARY = "db-Canary-4Kd8Wq1"
HTTP_CANARY = "http-Canary-9Rt3Vb6"
TOKEN_CANARY = "tok-Canary-2Mn5Pz8"
CANARIES = (SMTP_CANARY, DB_CANARY, HTTP_CANARY, TOKEN_CANARY)

TRUSTS = """  trusts:                # ODS trust reference (Feb 2022) with NHS region and ICS
    kind: demo
    file: trusts_2022.csv
    period: null
"""
FAILURES = {
    "proc_environ": "  trusts:\n    kind: csv\n    path: /proc/self/environ\n    period: null\n",
    "symlink_to_environ": "  trusts:\n    kind: csv\n    path: data/env.csv\n    period: null\n",
    "sql_url_with_password": "  trusts:\n    kind: sql\n    url_env: REPORTING_WAREHOUSE_URL\n"
    "    query: select * from trusts\n    period: null\n",
    "http_url_with_api_key": "  trusts:\n    kind: http\n    url_env: REPORTING_FEED_URL\n    retries: 1\n"
    "    timeout: 2\n    period: null\n",
    "http_url_with_userinfo": "  trusts:\n    kind: http\n    url_env: REPORTING_FEED2_URL\n    retries: 1\n"
    "    timeout: 2\n    period: null\n",
    "smtp_recipient_refused": None,  # the build works; a recipient is refused; the owner is told
    "smtp_wrong_password": None,  # nobody can be reached, the owner neither
}


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:  # replaces the shared fixture: this server wants a login
    with SmtpTestServer(users={"robot": SMTP_CANARY}, auth_required=True) as server:
        yield server


def _scan(project: Project, texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for canary in CANARIES:
            if canary in text:
                found.append(f"{canary} in output: ...{text[max(0, text.index(canary) - 80) :][:160]}...")
    for path in project.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{c} in {path}" for c in CANARIES if c.encode() in data]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(FAILURES))
def test_no_canary_leaves(
    scheduled: Callable[..., Project], smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    project = scheduled(WEEKLY)
    catalogue = project.catalogue_file.read_text()
    if FAILURES[mode]:
        assert TRUSTS in catalogue
        project.catalogue_file.write_text(catalogue.replace(TRUSTS, FAILURES[mode]))
    (project.root / "data").mkdir(exist_ok=True)
    if mode == "symlink_to_environ":
        os.symlink("/proc/self/environ", project.root / "data" / "env.csv")
    if mode == "smtp_recipient_refused":
        smtp.reject("coo@example.nhs.uk", 550, f"5.1.1 no such user (auth {SMTP_CANARY}?)")
    # a short secret variable first: /proc/self/environ is one "column" and errors quote 40 characters of it
    env = {
        "MY_TOKEN": TOKEN_CANARY,
        **os.environ,
        "REPORTING_HOME": str(project.root),
        "REPORTING_SMTP_USER": "robot",
        "REPORTING_SMTP_PASSWORD": SMTP_CANARY if mode != "smtp_wrong_password" else SMTP_CANARY + "x",
        "REPORTING_WAREHOUSE_URL": f"postgresql://report:{DB_CANARY}@127.0.0.1:1/warehouse",
        "REPORTING_FEED_URL": f"http://127.0.0.1:1/trusts.csv?api_key={HTTP_CANARY}",
        "REPORTING_FEED2_URL": f"http://feed:{HTTP_CANARY}@127.0.0.1:1/trusts.csv",
        "MY_SERVICE_TOKEN": TOKEN_CANARY,
    }
    exe = str(Path(sys.executable).with_name("reporting"))
    result = subprocess.run([exe, "run-once", "weekly-executive"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, result.stdout + result.stderr  # every mode here is a failure
    texts = [result.stdout, result.stderr, *(m.data.decode("utf-8", "replace") for m in smtp.messages)]
    assert _scan(project, texts) == []
    if mode != "smtp_wrong_password":  # the owner is told (by email), without the secret
        owner = smtp.for_recipient("owner@example.nhs.uk")
        assert owner, result.stderr
        assert "[reporting] weekly-executive" in str(owner[-1].message()["Subject"])


def test_redact_masks_named_and_shaped_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTING_SMTP_PASSWORD", SMTP_CANARY)
    monkeypatch.setenv("SOME_API_KEY", TOKEN_CANARY)
    monkeypatch.setenv("FEATURE_KEY", "true")  # short: only guessed secret, not masked
    text = (
        f"login {SMTP_CANARY} failed; key {TOKEN_CANARY}; url https://u:pw12345@h/x?api_key=abc123&x=1 "
        f"and postgresql://scott:tiger@db/x; true stays"
    )
    out = redact(text)
    assert SMTP_CANARY not in out and TOKEN_CANARY not in out and "pw12345" not in out and "tiger" not in out
    assert "abc123" not in out and f"api_key={MASK}&x=1" in out and "true stays" in out
    assert credential_in_url("https://x.example/a.csv?page=2") is None
    assert credential_in_url("https://x.example/a.csv?access_token=1")
