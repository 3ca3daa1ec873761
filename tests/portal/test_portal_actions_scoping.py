"""The Portal actions table on /runs, which every analyst sees whatever their organisations, names no recipient
(review 16, finding 6): after a successful resend by an unscoped admin an RXW-only admin does not see the RJ1
address there; the Jobs page's last run is the last real one, a resend after it named as such (finding 2). And a
form without its one-time token says "reload the page" (finding 10), for the test run and the resend alike, and
acts on nothing. Real HTTP (Starlette's TestClient), aiosmtpd and the SQLite history."""

from __future__ import annotations

import re

import pytest
from approval_fixtures import ADMIN
from jobs_fixtures import MAILBOX, SCOPED_ADMIN, set_test_mailbox
from smtp_server import SmtpTestServer
from test_portal_test_run_and_resend import _client, _deliveries, _field, _sign_in, burst_project  # noqa: F401

from reporting.project import Project
from reporting.schedule.history import History

pytestmark = pytest.mark.slow  # builds and sends packs

RJ1 = "coo.rj1@example.nhs.uk"


def test_a_scoped_user_does_not_see_another_trusts_recipient_in_the_portal_actions(
    burst_project: Project,  # noqa: F811
    smtp: SmtpTestServer,
) -> None:
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    page = client.get("/jobs").text
    client.post("/jobs/monthly-performance/send", data={"csrf": _field(page, "csrf")}, follow_redirects=True)
    log = client.get("/runs").text
    number = _deliveries(log)[RJ1]
    once = _field(log, "once", f'action="/deliveries/{number}/resend"')
    done = client.post(
        f"/deliveries/{number}/resend",
        data={"csrf": _field(log, "csrf"), "once": once, "reason": "lost it"},
        follow_redirects=True,
    )
    assert f"resent delivery #{number} to {RJ1}" in done.text and len(smtp.for_recipient(RJ1)) == 2
    jobs = client.get("/jobs").text  # the last run is the real one (send now), the resend after it named as such
    assert re.search(r"<td>success [0-9-]+; then a resend \(success\)</td>", jobs), jobs
    scoped = _client(burst_project)
    _sign_in(scoped, SCOPED_ADMIN)
    theirs = scoped.get("/runs").text
    assert "resend-delivered" in theirs  # the action is listed, by number only
    assert RJ1 not in theirs and "performance.rj1@example.nhs.uk" not in theirs
    assert "coo.rxw@example.nhs.uk" in theirs  # their own trust's deliveries are still listed
    actions = History.open(burst_project.root).actions()
    (detail,) = [a["detail"] for a in actions if a["action"] == "resend-delivered"]
    assert re.fullmatch(rf"#{number}: resent as delivery #\d+", detail)
    # an address in any action's detail is not kept (History.record_action), whoever calls it
    History.open(burst_project.root).record_action(ADMIN, "resend", "monthly-performance", f"to {RJ1} again")
    assert History.open(burst_project.root).actions(1)[0]["detail"] == "to <address> again"


def test_a_form_without_its_one_time_token_says_reload_the_page(
    burst_project: Project,  # noqa: F811
    smtp: SmtpTestServer,
) -> None:
    set_test_mailbox(burst_project, MAILBOX)
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    csrf = _field(client.get("/jobs").text, "csrf")
    tested = client.post("/jobs/monthly-performance/test", data={"csrf": csrf}, follow_redirects=True)
    assert "reload the page and submit it again" in tested.text and "already submitted" not in tested.text
    assert smtp.messages == []
    client.post("/jobs/monthly-performance/send", data={"csrf": csrf}, follow_redirects=True)
    number = _deliveries(client.get("/runs").text)[RJ1]
    for once in ("", "x" * 65):  # missing (an old page), or not one the portal makes
        resent = client.post(
            f"/deliveries/{number}/resend",
            data={"csrf": csrf, "once": once, "reason": "lost it"},
            follow_redirects=True,
        )
        assert "reload the page and submit it again" in resent.text
    assert len(smtp.for_recipient(RJ1)) == 1  # the send's, no resend


def test_a_run_error_naming_a_recipient_it_did_not_reach_shows_no_address(
    burst_project: Project,  # noqa: F811
    smtp: SmtpTestServer,
) -> None:
    smtp.reject(RJ1, 550)  # RJ1's coo is refused: the run is partial and its error names them
    client = _client(burst_project)
    _sign_in(client, ADMIN)
    page = client.get("/jobs").text
    client.post("/jobs/monthly-performance/send", data={"csrf": _field(page, "csrf")}, follow_redirects=True)
    (run,) = History.open(burst_project.root).runs()
    assert run["status"] == "partial" and RJ1 in run["error"]  # the history keeps it (the owner is told)
    scoped = _client(burst_project)
    _sign_in(scoped, SCOPED_ADMIN)
    theirs = scoped.get("/runs").text
    assert RJ1 not in theirs and "&lt;address&gt;: " in theirs
    assert RJ1 in client.get("/runs").text  # the unscoped admin still finds it, with its error, in the delivery log
