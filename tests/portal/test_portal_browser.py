"""The portal in a real browser (playwright on the system Chromium, no download): sign in, the packs, approve
(the recipients then get the final paper once), pause and resume, send now (a double click sends nothing
twice) and the run history, against a real uvicorn server and a real aiosmtpd server.

Screenshots of each page go to $REPORTING_SCREENSHOTS when it is set (to look at them), else to tmp_path."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import ADMIN, APPROVER, CHAIR, MEMBER
from smtp_server import SmtpTestServer, free_port

from reporting.approval import DRAFT_TEXT
from reporting.portal.app import create_app
from reporting.portal.auth import set_password
from reporting.project import Project
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def served(approval_project: Callable[..., Project]) -> Iterator[tuple[str, Project]]:
    import uvicorn

    project = approval_project()
    for email in (APPROVER, ADMIN):
        set_password(project.root, email, PASSWORD)
    run_once(project, "board", sleep=lambda _: None)  # the Board paper waits for approval
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(project, secure_cookies=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", project
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    from reporting.charts.export import find_chromium

    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 1280, "height": 900})
        browser.close()


def _shot(page: object, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REPORTING_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _sign_in(page: object, base: str, email: str) -> None:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=email]", email)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:has-text('Packs')")  # type: ignore[attr-defined]


def test_approve_pause_resume_send_now_and_history_in_the_browser(
    served: tuple[str, Project], page: object, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    base, project = served
    p = page
    p.goto(f"{base}/approvals")  # type: ignore[attr-defined]
    _shot(p, "01-login", tmp_path)
    _sign_in(p, base, APPROVER)
    assert p.locator("h1").inner_text() == "Packs"  # type: ignore[attr-defined]
    assert p.locator("tr", has_text="Board paper").locator(".draft").count() == 1  # type: ignore[attr-defined]
    _shot(p, "02-packs-draft", tmp_path)

    p.click("header >> text=Approvals")  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert row.locator("button", has_text="Approve").count() == 1
    _shot(p, "03-approval-queue", tmp_path)
    row.locator("input[name=comment]").fill("Checked against the committee papers")
    row.locator("button", has_text="Approve").click()
    assert "approved board" in p.locator(".flash").inner_text()  # type: ignore[attr-defined]
    assert "Nothing awaits approval" in p.content()  # type: ignore[attr-defined]
    assert p.locator("td", has_text="Checked against the committee papers").count() == 1  # type: ignore[attr-defined]
    _shot(p, "04-approved-trail", tmp_path)
    for address in (CHAIR, MEMBER):
        (final,) = smtp.for_recipient(address)  # the final paper, once
        assert DRAFT_TEXT not in str(final.message()["Subject"])

    p.click("text=Sign out")  # type: ignore[attr-defined]
    _sign_in(p, base, ADMIN)
    p.click("header >> text=Jobs")  # type: ignore[attr-defined]
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    board.locator("button", has_text="Pause").click()
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert "paused" in board.inner_text() and History.open(project.root).paused("board") is not None
    _shot(p, "05-jobs-paused", tmp_path)
    skipped = run_once(project, "board", trigger="schedule", sleep=lambda _: None)
    assert skipped.status == "skipped" and len(smtp.messages) == 4  # the scheduler's run waits
    board.locator("button", has_text="Resume").click()
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert "active" in board.inner_text() and History.open(project.root).paused("board") is None

    board.locator("button", has_text="Send now").dblclick()  # a double click
    p.wait_for_selector(".flash")  # type: ignore[attr-defined]
    flash = p.locator(".flash").inner_text()  # type: ignore[attr-defined]
    assert "sent 0, already had it 2" in flash or "already running" in flash, flash
    _shot(p, "06-jobs-send-now", tmp_path)
    assert len(smtp.for_recipient(CHAIR)) == 1 and len(smtp.for_recipient(MEMBER)) == 1  # nothing twice

    p.click("header >> text=Runs and deliveries")  # type: ignore[attr-defined]
    text = p.content()  # type: ignore[attr-defined]
    assert "approval" in text and "portal" in text and CHAIR in text and "paused by" in text
    _shot(p, "07-runs-deliveries", tmp_path)


def test_preview_re_renders_on_save_and_shows_validation_errors(
    served: tuple[str, Project], page: object, tmp_path: Path
) -> None:
    from approval_fixtures import ANALYST

    base, project = served
    set_password(project.root, ANALYST, PASSWORD)
    p = page
    _sign_in(p, base, ANALYST)
    p.goto(f"{base}/preview?pack=weekly-executive&org=RJ1")  # type: ignore[attr-defined]
    frame = p.frame_locator("#preview")  # type: ignore[attr-defined]
    frame.locator("h1").first.wait_for(timeout=120_000)
    assert "Weekly Executive Pack" in frame.locator("h1").first.inner_text()
    _shot(p, "08-preview", tmp_path)
    template = project.root / "templates" / "packs" / "weekly-executive.yaml"
    text = template.read_text()
    template.write_text(text.replace("title: Weekly Executive Pack", "title: Weekly Executive Pack (edited)", 1))
    saved = time.monotonic()
    frame.locator("h1", has_text="(edited)").first.wait_for(timeout=60_000)
    seconds = time.monotonic() - saved
    print(f"preview re-rendered {seconds:.1f} s after the save")
    _shot(p, "09-preview-edited", tmp_path)
    template.write_text(text.replace("cadence: weekly", "cadense: weekly", 1))
    problem = frame.locator(".problems li").first
    problem.wait_for(timeout=60_000)
    assert re.search(r"weekly-executive\.yaml:\d+:\d+", problem.inner_text()) and "cadense" in problem.inner_text()
    _shot(p, "10-preview-error", tmp_path)
