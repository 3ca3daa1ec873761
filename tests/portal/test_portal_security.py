"""The portal's access rules over real HTTP requests (Starlette's TestClient): sign-in, roles, organisation
scoping, CSRF on every POST, downloads that cannot leave a build, a stale approval, and open mode."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from approval_fixtures import ADMIN, ANALYST, APPROVER, CHAIR, REPO, VIEWER_RXW
from smtp_server import SmtpTestServer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from reporting.errors import ReportingError
from reporting.packs.build import build
from reporting.portal.app import create_app
from reporting.portal.auth import set_password
from reporting.project import Project
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

PASSWORD = "correct horse battery staple"
NO_SLEEP = lambda _: None  # noqa: E731


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def _client(project: Project) -> TestClient:
    return TestClient(create_app(project, secure_cookies=False), follow_redirects=False)


def _sign_in(client: TestClient, email: str) -> None:
    token = _csrf(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text


@pytest.fixture
def portal_project(approval_project: Callable[..., Project]) -> Project:
    project = approval_project()
    for email in (APPROVER, ANALYST, ADMIN, VIEWER_RXW):
        set_password(project.root, email, PASSWORD)
    build(project, "monthly-performance", orgs=["RJ1", "RXW"], formats=["xlsx"])
    run_once(project, "board", sleep=NO_SLEEP)  # the Board paper: a draft awaiting approval
    return project


def test_nothing_without_sign_in(portal_project: Project) -> None:
    client = _client(portal_project)
    for path in ("/", "/runs", "/jobs", "/approvals", "/packs/board"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    (build_file,) = [p for p in (portal_project.outputs / "monthly-performance").rglob("*RJ1.xlsx")]
    relative = build_file.relative_to(portal_project.outputs).as_posix()
    assert client.get(f"/files/{relative}").status_code == 303
    assert client.get("/api/builds/monthly-performance/" + relative.split("/")[1] + "/RJ1").status_code == 404
    wrong = client.post(
        "/login", data={"email": APPROVER, "password": "not it at all", "csrf": _csrf(client.get("/login").text)}
    )
    assert wrong.status_code == 401 and "wrong address or password" in wrong.text
    secure = TestClient(create_app(portal_project), follow_redirects=False).get("/login")
    cookie = secure.headers["set-cookie"].lower()  # the default: the session cookie only over HTTPS, same site
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_a_user_sees_only_their_organisations(portal_project: Project) -> None:
    client = _client(portal_project)
    _sign_in(client, VIEWER_RXW)
    page = client.get("/").text
    assert "monthly-performance-" in page and "RXW.xlsx" in page and "RJ1.xlsx" not in page
    period = next((portal_project.outputs / "monthly-performance").iterdir()).name
    mine = client.get(f"/files/monthly-performance/{period}/RXW/monthly-performance-{period}-RXW.xlsx")
    assert mine.status_code == 200 and mine.headers["content-disposition"].startswith("attachment")
    other = client.get(f"/files/monthly-performance/{period}/RJ1/monthly-performance-{period}-RJ1.xlsx")
    assert other.status_code == 404  # another organisation's pack looks like no pack at all
    assert client.get(f"/api/builds/monthly-performance/{period}/RJ1").status_code == 404
    listed = client.get("/api/builds").json()["builds"]
    assert {b["org"] for b in listed if b["pack"] == "monthly-performance"} == {"RXW"}
    assert client.get("/runs").status_code == 403  # a viewer sees packs, not the delivery log


def test_every_post_needs_its_csrf_token(portal_project: Project) -> None:
    client = _client(portal_project)
    _sign_in(client, ADMIN)
    for path, data in (
        ("/jobs/board/pause", {}),
        ("/jobs/board/send", {}),
        ("/approvals/approve", {"target": "board", "period": "2025-07", "hash": "0" * 12, "by": ADMIN}),
        ("/logout", {}),
    ):
        for token in (None, "forged-token"):
            sent = {**data, **({"csrf": token} if token else {})}
            response = client.post(path, data=sent)
            assert response.status_code == 403 and "CSRF token" in response.text, (path, token)
    assert History.open(portal_project.root).paused("board") is None  # nothing was done
    assert client.get("/jobs").status_code == 200  # and the session is still signed in


TRAVERSALS = [
    "/files/board/..%2F..%2Fusers.yaml/x",
    "/files/board/2025-07-01/RJ1/..%2F..%2F..%2Fusers.yaml",
    "/files/board/2025-07-01/RJ1/%2e%2e",
    "/files/board/2025-07-01/RJ1/manifest.json%00.pdf",
    "/files/..%2F..%2F/2025-07-01/users.yaml",
    "/files/board/2025-07-01/RJ1/.building-x",
    "/files/board/2025-07-01/RJ1/board-2025-07-01-RJ1.docx%2F..%2F..%2F..%2Fusers.yaml",
    "/files/board/2025-07-01/RJ1/..%5C..%5Cusers.yaml",
]


def test_downloads_cannot_leave_the_build(portal_project: Project) -> None:
    client = _client(portal_project)
    _sign_in(client, ADMIN)
    assert client.get("/files/board/2025-07-01/RJ1/board-2025-07-01-RJ1.docx").status_code == 200
    for path in TRAVERSALS:
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "approver" not in response.text  # users.yaml's content never comes back
    (portal_project.outputs / "board" / "2025-07-01" / "RJ1" / "notes.txt").write_text("not the build's")
    assert client.get("/files/board/2025-07-01/RJ1/notes.txt").status_code == 404  # not in its manifest


def test_a_stale_approval_is_refused_in_the_portal(portal_project: Project, smtp: SmtpTestServer) -> None:
    client = _client(portal_project)
    _sign_in(client, APPROVER)
    page = client.get("/approvals").text
    (stale,) = re.findall(r'name="hash" value="([0-9a-f]{64})"', page)
    template = portal_project.root / "templates" / "packs" / "board.yaml"  # content changes: a new build, a new hash
    template.write_text(template.read_text().replace("Board paper", "Board paper (revised)", 1))
    run_once(portal_project, "board", sleep=NO_SLEEP)
    page = client.get("/approvals").text
    assert "not the latest build" in page
    data = {"csrf": _csrf(page), "target": "board", "pack": "board", "period": "2025-07-01", "org": "RJ1"}
    response = client.post("/approvals/approve", data={**data, "hash": stale, "comment": "ok"}, follow_redirects=True)
    assert "is not the latest build of board" in response.text
    assert not smtp.for_recipient(CHAIR)
    fresh = next(h for h in re.findall(r'name="hash" value="([0-9a-f]{64})"', response.text) if h != stale)
    done = client.post("/approvals/approve", data={**data, "hash": fresh, "comment": "ok"}, follow_redirects=True)
    assert "approved board 2025-07-01; sent to 2" in done.text and len(smtp.for_recipient(CHAIR)) == 1
    again = client.post("/approvals/approve", data={**data, "hash": fresh, "comment": "ok"}, follow_redirects=True)
    assert "was already approved" in again.text and len(smtp.for_recipient(CHAIR)) == 1  # a double click


def test_open_mode_is_loopback_only_and_says_so(approval_project: Callable[..., Project]) -> None:
    from reporting.cli import app

    project = approval_project(users=None)
    page = _client(project).get("/").text
    assert "No user can sign in yet" in page and "serves only on loopback" in page
    result = CliRunner().invoke(app, ["--project", str(project.root), "serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "can sign in yet" in str(result.exception) and "only on loopback" in str(result.exception)


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "templates").mkdir()
    monkeypatch.setenv("REPORTING_HISTORY_URL", "sqlite:////proc/no-such-dir/history.sqlite")
    with pytest.raises(
        ReportingError,
        match="the portal cannot open the project database .*No such file or directory.*REPORTING_HISTORY_URL",
    ):
        create_app(Project(tmp_path), secure_cookies=False)


def test_the_api_takes_a_token_and_never_shows_a_draft_to_the_public(portal_project: Project) -> None:
    from reporting.portal.auth import new_api_token

    client = _client(portal_project)
    anonymous = client.get("/api/builds").json()["builds"]
    assert anonymous == []  # the Board paper is public, but a draft: not open until approved
    token = new_api_token(portal_project.root, VIEWER_RXW)
    assert token not in (portal_project.root / ".reporting" / "api-tokens").read_text()  # only its hash is kept
    mine = client.get("/api/builds", headers={"Authorization": f"Bearer {token}"}).json()["builds"]
    assert {(b["pack"], b["org"]) for b in mine} == {("monthly-performance", "RXW")}
    assert client.get("/api/builds", headers={"Authorization": "Bearer rpt_forged"}).json()["builds"] == []
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 303  # pages need sign-in


def test_users_without_a_password_leave_the_portal_open_on_loopback_only(
    approval_project: Callable[..., Project],
) -> None:
    """The shipped users.yaml names the Board's approver before anyone has a password: until someone can sign
    in, the portal is open on loopback only (as with no users) and says so; one password closes it."""
    from reporting.cli import app

    project = approval_project(users=(REPO / "users.yaml").read_text())
    assert "No user can sign in yet" in _client(project).get("/").text
    refused = CliRunner().invoke(app, ["--project", str(project.root), "serve", "--host", "0.0.0.0"])
    assert refused.exit_code != 0 and "can sign in yet" in str(refused.exception)
    set_password(project.root, "board.secretary@example.nhs.uk", PASSWORD)
    page = _client(project).get("/", follow_redirects=False)
    assert page.status_code in (302, 303, 401) or "Sign in" in page.text
    assert "No user can sign in yet" not in page.text
