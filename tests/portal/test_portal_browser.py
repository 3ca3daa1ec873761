"""The portal in a real browser (playwright on the system Chromium, no download): sign in, the packs, approve
(the recipients then get the final paper once), pause and resume, send now (a double click sends nothing
twice) and the run history, against a real uvicorn server and a real aiosmtpd server.

Screenshots of each page go to $REPORTING_SCREENSHOTS when it is set (to look at them), else to tmp_path."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import ADMIN, APPROVER, CHAIR, MEMBER
from browser_fixtures import PASSWORD, browser_page, serve, shot, sign_in
from smtp_server import SmtpTestServer

from reporting.approval import DRAFT_TEXT
from reporting.portal.auth import set_password
from reporting.project import Project
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def served(approval_project: Callable[..., Project]) -> Iterator[tuple[str, Project]]:
    project = approval_project()
    for email in (APPROVER, ADMIN):
        set_password(project.root, email, PASSWORD)
    run_once(project, "board", sleep=lambda _: None)  # the Board paper waits for approval
    with serve(project) as base:
        yield base, project


@pytest.fixture
def page() -> Iterator[object]:
    with browser_page(1280) as opened:
        yield opened


def test_approve_pause_resume_send_now_and_history_in_the_browser(
    served: tuple[str, Project], page: object, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    base, project = served
    p = page
    p.goto(f"{base}/approvals")  # type: ignore[attr-defined]
    shot(p, "01-login", tmp_path)
    sign_in(p, base, APPROVER)
    assert p.locator("h1").inner_text() == "Packs"  # type: ignore[attr-defined]
    assert p.locator("tr", has_text="Board paper").locator(".draft").count() == 1  # type: ignore[attr-defined]
    shot(p, "02-packs-draft", tmp_path)

    p.click("header >> text=Approvals")  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert row.locator("button", has_text="Approve").count() == 1
    shot(p, "03-approval-queue", tmp_path)
    row.locator("input[name=comment]").fill("Checked against the committee papers")
    row.locator("button", has_text="Approve").click()
    assert "approved board" in p.locator(".flash").inner_text()  # type: ignore[attr-defined]
    assert "Nothing awaits approval" in p.content()  # type: ignore[attr-defined]
    assert p.locator("td", has_text="Checked against the committee papers").count() == 1  # type: ignore[attr-defined]
    shot(p, "04-approved-trail", tmp_path)
    for address in (CHAIR, MEMBER):
        (final,) = smtp.for_recipient(address)  # the final paper, once
        assert DRAFT_TEXT not in str(final.message()["Subject"])

    p.click("text=Sign out")  # type: ignore[attr-defined]
    sign_in(p, base, ADMIN)
    p.click("header >> text=Jobs")  # type: ignore[attr-defined]
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    board.locator("button", has_text="Pause").click()
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert "paused" in board.inner_text() and History.open(project.root).paused("board") is not None
    shot(p, "05-jobs-paused", tmp_path)
    skipped = run_once(project, "board", trigger="schedule", sleep=lambda _: None)
    assert skipped.status == "skipped" and len(smtp.messages) == 4  # the scheduler's run waits
    board.locator("button", has_text="Resume").click()
    board = p.locator("tr", has_text="board").first  # type: ignore[attr-defined]
    assert "active" in board.inner_text() and History.open(project.root).paused("board") is None

    board.locator("button", has_text="Send now").dblclick()  # a double click
    p.wait_for_selector(".flash")  # type: ignore[attr-defined]
    flash = p.locator(".flash").inner_text()  # type: ignore[attr-defined]
    assert "sent 0, already had it 2" in flash or "already running" in flash, flash
    shot(p, "06-jobs-send-now", tmp_path)
    assert len(smtp.for_recipient(CHAIR)) == 1 and len(smtp.for_recipient(MEMBER)) == 1  # nothing twice

    p.click("header >> text=Runs and deliveries")  # type: ignore[attr-defined]
    text = p.content()  # type: ignore[attr-defined]
    assert "approval" in text and "portal" in text and CHAIR in text and "paused by" in text
    shot(p, "07-runs-deliveries", tmp_path)


def test_preview_re_renders_on_save_and_shows_validation_errors(
    served: tuple[str, Project], page: object, tmp_path: Path
) -> None:
    from approval_fixtures import ANALYST

    base, project = served
    set_password(project.root, ANALYST, PASSWORD)
    p = page
    sign_in(p, base, ANALYST)
    p.goto(f"{base}/preview?pack=weekly-executive&org=RJ1")  # type: ignore[attr-defined]
    frame = p.frame_locator("#preview")  # type: ignore[attr-defined]
    frame.locator("h1").first.wait_for(timeout=120_000)
    assert "Weekly Executive Pack" in frame.locator("h1").first.inner_text()
    shot(p, "08-preview", tmp_path)
    template = project.root / "templates" / "packs" / "weekly-executive.yaml"
    text = template.read_text()
    template.write_text(text.replace("title: Weekly Executive Pack", "title: Weekly Executive Pack (edited)", 1))
    saved = time.monotonic()
    frame.locator("h1", has_text="(edited)").first.wait_for(timeout=60_000)
    seconds = time.monotonic() - saved
    print(f"preview re-rendered {seconds:.1f} s after the save")
    shot(p, "09-preview-edited", tmp_path)
    template.write_text(text.replace("cadence: weekly", "cadense: weekly", 1))
    problem = frame.locator(".problems li").first
    problem.wait_for(timeout=60_000)
    assert re.search(r"weekly-executive\.yaml:\d+:\d+", problem.inner_text()) and "cadense" in problem.inner_text()
    shot(p, "10-preview-error", tmp_path)
