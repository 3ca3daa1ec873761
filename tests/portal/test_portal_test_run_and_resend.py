"""The Jobs page's test run and the delivery log's resend over real HTTP (Starlette's TestClient), with a real
aiosmtpd server and the real SQLite history: no test mailbox (disabled, and why), the same form twice, a
missing CSRF token, a delivery that does not exist, another organisation's delivery for a scoped admin, and a
pack file changed on disk."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from approval_fixtures import ADMIN, APPROVER, DEPUTY
from jobs_fixtures import BURST, MAILBOX, SCOPED_ADMIN, USERS_WITH_SCOPED_ADMIN, set_test_mailbox
from smtp_server import SmtpTestServer
from starlette.testclient import TestClient

from reporting.portal.app import create_app
from reporting.portal.auth import set_password
from reporting.project import Project
from reporting.schedule.history import History

pytestmark = pytest.mark.slow  # builds and sends packs

PASSWORD = "correct horse battery staple"


def _client(project: Project) -> TestClient:
    return TestClient(create_app(project, secure_cookies=False), follow_redirects=False)


def _field(page: str, name: str, after: str = "") -> str:
    start = page.index(after) if after else 0
    match = re.search(rf'name="{name}" value="([^"]+)"', page[start:])
    assert match, page[:500]
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> None:
    token = _field(client.get("/login").text, "csrf")
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text


@pytest.fixture
def burst_project(approval_project: Callable[..., Project]) -> Project:
    project = approval_project(jobs=BURST, users=USERS_WITH_SCOPED_ADMIN)
    for email in (ADMIN, SCOPED_ADMIN):
        set_password(project.root, email, PASSWORD)
    return project


def test_no_test_mailbox_disables_the_button_and_says_why(burst_project: Project, smtp: SmtpTestServer) -> None:
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    page = client.get("/jobs").text
    assert re.search(r"<button disabled[^>]*>Test run</button>", page)
    assert "disabled: no test mailbox configured" in page and "add <code>test_mailbox:</code>" in page
    forced = client.post(  # the button is disabled, but a hand-made POST is refused just the same
        "/jobs/monthly-performance/test",
        data={"csrf": _field(page, "csrf"), "once": _field(page, "once")},
        follow_redirects=True,
    )
    assert "job &#39;monthly-performance&#39; has no test mailbox" in forced.text
    assert smtp.messages == [] and History.open(burst_project.root).deliveries() == []


def test_a_test_run_goes_to_the_test_mailbox_once_per_form(burst_project: Project, smtp: SmtpTestServer) -> None:
    set_test_mailbox(burst_project, MAILBOX)
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    page = client.get("/jobs").text
    assert MAILBOX in page and not re.search(r"<button disabled[^>]*>Test run</button>", page)
    form = {"csrf": _field(page, "csrf"), "once": _field(page, "once", 'action="/jobs/monthly-performance/test"')}
    refused = client.post("/jobs/monthly-performance/test", data={"once": form["once"]})
    assert refused.status_code == 403 and "CSRF token" in refused.text and smtp.messages == []
    done = client.post("/jobs/monthly-performance/test", data=form, follow_redirects=True)
    assert f"4 message(s) sent to {MAILBOX} only" in done.text
    assert len(smtp.messages) == 4 and {m.rcpt_tos for m in smtp.messages} == {(MAILBOX,)}
    twice = client.post("/jobs/monthly-performance/test", data=form, follow_redirects=True)  # the same form again
    assert "already submitted" in twice.text and len(smtp.messages) == 4
    history = client.get("/runs").text
    assert "test for performance.rj1@example.nhs.uk, asked by admin@example.nhs.uk" in history
    assert "test run" in history and ">test<" in history  # the portal action, and the run's trigger


def _deliveries(page: str) -> dict[str, int]:
    """recipient -> delivery number, for the ordinary deliveries listed with a Resend form."""
    return {
        m.group(2): int(m.group(1))
        for m in re.finditer(
            r'<tr id="delivery-(\d+)"><td>\d+</td><td>[^<]*</td><td[^>]*>[^<]*</td><td>([^<]+)</td>', page
        )
    }


def test_resend_of_a_delivered_message_in_the_delivery_log(burst_project: Project, smtp: SmtpTestServer) -> None:
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    page = client.get("/jobs").text
    sent = client.post("/jobs/monthly-performance/send", data={"csrf": _field(page, "csrf")}, follow_redirects=True)
    assert "sent 4" in sent.text
    log = client.get("/runs").text
    numbers = _deliveries(log)
    rxw = numbers["coo.rxw@example.nhs.uk"]
    once = _field(log, "once", f'action="/deliveries/{rxw}/resend"')
    csrf = _field(log, "csrf")
    assert client.post(f"/deliveries/{rxw}/resend", data={"once": once, "reason": "x"}).status_code == 403
    done = client.post(
        f"/deliveries/{rxw}/resend", data={"csrf": csrf, "once": once, "reason": "lost it"}, follow_redirects=True
    )
    assert f"resent delivery #{rxw} to coo.rxw@example.nhs.uk" in done.text
    assert len(smtp.for_recipient("coo.rxw@example.nhs.uk")) == 2
    twice = client.post(
        f"/deliveries/{rxw}/resend", data={"csrf": csrf, "once": once, "reason": "lost it"}, follow_redirects=True
    )
    assert "already submitted" in twice.text and len(smtp.for_recipient("coo.rxw@example.nhs.uk")) == 2
    assert f"resend of #{rxw} by {ADMIN}: lost it" in twice.text
    assert len(re.findall(rf'<tr id="delivery-{rxw}">.*?<td>sent</td>', twice.text)) == 1  # the original: still sent

    missing = client.post(
        "/deliveries/9999/resend", data={"csrf": csrf, "once": "o-1", "reason": "x"}, follow_redirects=True
    )
    assert "no delivery #9999 in the delivery log" in missing.text
    (xlsx,) = (burst_project.outputs / "monthly-performance").rglob("*-RJ1.xlsx")
    xlsx.write_bytes(xlsx.read_bytes() + b"edited")
    rj1 = numbers["coo.rj1@example.nhs.uk"]
    changed = client.post(
        f"/deliveries/{rj1}/resend", data={"csrf": csrf, "once": "o-2", "reason": "x"}, follow_redirects=True
    )
    assert "changed on disk since it was published" in changed.text
    assert len(smtp.for_recipient("coo.rj1@example.nhs.uk")) == 1

    scoped = _client(burst_project)  # an admin of RXW only
    _sign_in(scoped, SCOPED_ADMIN)
    theirs = scoped.get("/runs").text
    assert "coo.rxw@example.nhs.uk" in theirs and "coo.rj1@example.nhs.uk" not in theirs  # scoped, as bursting
    other = scoped.post(
        f"/deliveries/{rj1}/resend",
        data={"csrf": _field(theirs, "csrf"), "once": "o-3", "reason": "x"},
        follow_redirects=True,
    )
    assert f"no delivery #{rj1} in the delivery log" in other.text  # another trust's looks like none at all
    assert len(smtp.for_recipient("coo.rj1@example.nhs.uk")) == 1


def test_a_draft_is_not_offered_for_resend(approval_project: Callable[..., Project], smtp: SmtpTestServer) -> None:
    """A draft sent to its approvers was listed with a Resend button that was refused when pressed. It is now
    recorded as a draft and listed as one without the button; a hand-made POST is refused, and so is a draft
    delivered before drafts were recorded as such (found by its key, as before)."""
    from sqlalchemy import delete

    from reporting.schedule.delivery_kinds import delivery_kinds, kinds_of
    from reporting.schedule.resend import ResendRefused, resend_delivery
    from reporting.schedule.runner import run_once

    project = approval_project()
    set_password(project.root, ADMIN, PASSWORD)
    report = run_once(project, "board", sleep=lambda _: None)
    assert sorted(report.sent) == [APPROVER, DEPUTY] and report.held
    history = History.open(project.root)
    drafts = {d["recipient"]: d["id"] for d in history.deliveries("board")}
    assert sorted(drafts) == [APPROVER, DEPUTY]
    assert [k["kind"] for k in kinds_of(history, drafts.values()).values()] == ["draft", "draft"]

    client = _client(project)
    _sign_in(client, ADMIN)
    page = client.get("/runs").text
    for number in drafts.values():
        row = re.search(rf'<tr id="delivery-{number}">.*?</tr>', page, re.S)
        assert row and "draft for approval" in row.group(0) and "<button" not in row.group(0), row
    forced = client.post(
        f"/deliveries/{drafts[APPROVER]}/resend",
        data={"csrf": _field(page, "csrf"), "once": "o-draft", "reason": "x"},
        follow_redirects=True,
    )
    assert f"delivery #{drafts[APPROVER]} was a draft sent for approval" in forced.text
    with history.engine.begin() as conn:  # as a database from before drafts had a kind
        conn.execute(delete(delivery_kinds))
    with pytest.raises(ResendRefused, match="was a draft sent for approval; approve it"):
        # forced past "no longer on the recipients" (an approver is not on the list), it is still not resent
        resend_delivery(project, drafts[DEPUTY], by=ADMIN, reason="x", token="o-legacy", force=True)
    assert len(smtp.messages) == 2  # the two drafts, nothing more


def test_a_draft_that_failed_is_sent_by_the_next_run(
    approval_project: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    """A draft's delivery row is the same row when a later run retries it (its key is the draft's): recording
    its kind again must not stop the retry."""
    from reporting.schedule.delivery_kinds import kinds_of
    from reporting.schedule.runner import run_once

    project = approval_project()
    smtp.reject(APPROVER, 550)
    first = run_once(project, "board", sleep=lambda _: None)
    assert APPROVER in first.failed and first.sent == [DEPUTY]
    smtp.accept(APPROVER)
    second = run_once(project, "board", sleep=lambda _: None)
    assert second.sent == [APPROVER] and second.already == [DEPUTY], second
    history = History.open(project.root)
    rows = history.deliveries("board")
    assert sorted((d["recipient"], d["status"]) for d in rows) == [(APPROVER, "sent"), (DEPUTY, "sent")]
    assert [k["kind"] for k in kinds_of(history, [d["id"] for d in rows]).values()] == ["draft", "draft"]
    assert len(smtp.for_recipient(APPROVER)) == 1
