"""A test run, a resend or a dry run is never the job's last run for what the job decides next (review 16, findings 1,
2, 8 and 9): `send_if: data_changed` compares with the last real run, the daemon's recovery looks at the latest real
run, a test run of an `exceptions_exist` job with no exception says it was skipped and why, and a test delivery's
row is written with its kind or not at all. Real runner, real SMTP server (aiosmtpd), real SQLite history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from jobs_fixtures import BURST, MAILBOX, NO_SLEEP, RECIPIENTS, set_test_mailbox
from smtp_server import SmtpTestServer
from sqlalchemy import create_engine, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from reporting.project import Project
from reporting.schedule import delivery_kinds
from reporting.schedule.history import History, runs
from reporting.schedule.history import metadata as history_tables
from reporting.schedule.runner import load_project_schedules, run_once

pytestmark = pytest.mark.slow  # builds and sends packs

JOB = "monthly-performance"


def test_a_dry_run_and_a_test_run_do_not_make_the_next_data_changed_run_skip(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    from reporting.cli import app
    from reporting.portal.jobs import send

    project = scheduled(BURST.replace("    owner:", "    send_if: data_changed\n    owner:"))
    set_test_mailbox(project, MAILBOX)
    assert run_once(project, JOB, dry_run=True, sleep=NO_SLEEP).status == "success"
    assert run_once(project, JOB, test=True, actor="admin@example.nhs.uk", sleep=NO_SLEEP).status == "success"
    assert len(smtp.messages) == 4  # the test run's, all to the test mailbox
    real = run_once(project, JOB, trigger="schedule", sleep=NO_SLEEP)
    assert real.status == "success" and sorted(real.sent) == sorted(r for r, _ in RECIPIENTS)
    assert {r: len(smtp.for_recipient(r)) for r, _ in RECIPIENTS} == {r: 1 for r, _ in RECIPIENTS}
    again = run_once(project, JOB, trigger="schedule", sleep=NO_SLEEP)  # a real run is still compared with
    assert again.status == "skipped" and again.skipped == "data unchanged since the last run"
    flash, _ = send(project, JOB, "")  # the portal's Send now says why
    assert "skipped: data unchanged since the last run" in flash
    history = History.open(project.root)
    assert [r["trigger"] for r in reversed(history.runs(JOB))] == ["dry_run", "test", "schedule", "schedule", "portal"]
    listed = CliRunner().invoke(app, ["--project", str(project.root), "history", "--job", JOB])
    assert listed.exit_code == 0 and "dry_run" in listed.output  # the history still shows the dry run


def test_a_test_run_or_resend_after_a_crash_does_not_hide_the_interrupted_run_from_recovery(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    from reporting.schedule.daemon import _recover

    project = scheduled(BURST)
    history = History.open(project.root)
    crashed = history.start_run(JOB, "schedule")
    with history.engine.begin() as conn:  # what recover_interrupted leaves of a run whose daemon was killed
        conn.execute(update(runs).where(runs.c.id == crashed).values(status="interrupted"))
    for trigger in ("test", "resend"):  # the portal, still up, used while the daemon was down
        history.finish_run(history.start_run(JOB, trigger), "success")
    assert history.latest_run(JOB)["trigger"] == "resend"  # type: ignore[index]  # shown on the Jobs page
    said: list[str] = []
    threads = _recover(project, load_project_schedules(project), said.append)
    assert len(threads) == 1 and f"run {crashed}" in said[0]
    for thread in threads:
        thread.join(timeout=300)
    assert history.latest_run(JOB, real=True)["trigger"] == "recovery"  # type: ignore[index]
    assert all(len(smtp.for_recipient(r)) == 1 for r, _ in RECIPIENTS)


EXCEPTIONS_JOB = """\
  - id: weekly-executive
    pack: weekly-executive
    every: monday 07:30
    parameters: {period: latest, org: RJ1}
    formats: [xlsx]
    recipients:
      addresses: [ceo@example.nhs.uk]
    subject: "{{ pack_title }} – {{ period_label }}"
    send_if: exceptions_exist
    retries: {attempts: 1, backoff_seconds: 0}
    owner: owner@example.nhs.uk
"""


def test_a_test_run_with_no_exceptions_says_it_was_skipped_and_why(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    from reporting.cli import app
    from reporting.portal.jobs import test_run

    # RJ1's weekly pack has no exception this week (tests/schedule/test_exception_definition.py)
    project = scheduled(EXCEPTIONS_JOB)
    set_test_mailbox(project, MAILBOX)
    done = CliRunner().invoke(app, ["--project", str(project.root), "run-once", "weekly-executive", "--test"])
    assert done.exit_code == 0, done.output
    assert "skipped: no exceptions this period" in done.output and smtp.messages == []
    flash, kind, detail = test_run(project, History.open(project.root), "weekly-executive", "a@example.nhs.uk", "t1")
    assert "skipped: no exceptions this period" in flash and "not even to the test mailbox" in flash
    assert kind == "ok" and "skipped" in detail and smtp.messages == []


def test_a_test_delivery_row_is_written_with_its_kind_or_not_at_all(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    set_test_mailbox(project, MAILBOX)
    history = History.open(project.root)
    delivery_kinds.metadata.create_all(history.engine)
    with history.engine.begin() as conn:  # the kind's insert fails, as "database is locked" would
        conn.execute(
            text("CREATE TRIGGER refuse BEFORE INSERT ON delivery_kinds BEGIN SELECT RAISE(ABORT, 'locked'); END")
        )
    with pytest.raises(DBAPIError, match="locked"):
        run_once(project, JOB, test=True, actor="admin@example.nhs.uk", sleep=NO_SLEEP)
    assert history.deliveries(JOB) == [] and smtp.messages == []  # no row left looking like a delivery
    assert history.latest_run(JOB)["status"] == "failed"  # type: ignore[index]


def test_the_kind_tables_are_made_for_a_new_database_behind_the_same_engine(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'history.db'}")
    history_tables.create_all(engine)
    history = History(engine)
    assert delivery_kinds.claim_form(history, "first", "a@example.nhs.uk", "test")
    engine.dispose()
    (tmp_path / "history.db").unlink()  # a new database at the same place, the engine kept (a process that lives on)
    history_tables.create_all(engine)
    assert delivery_kinds.claim_form(history, "second", "a@example.nhs.uk", "test")
    assert not delivery_kinds.claim_form(history, "second", "a@example.nhs.uk", "test")
