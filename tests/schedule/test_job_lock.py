"""One run of a job at a time across the daemon and the portal (schedule.job_lock): a "send now" while a
scheduled run of the job holds the lock is refused and runs nothing; a scheduled run waits for a "send now" to
finish, so the delivery log it then reads already has the deliveries."""

from __future__ import annotations

import threading
from pathlib import Path

from reporting.portal.jobs import send
from reporting.project import Project
from reporting.schedule.job_lock import job_lock


def test_send_now_is_refused_while_the_daemon_runs_the_job(tmp_path: Path) -> None:
    project = Project(tmp_path)
    with job_lock(tmp_path, "board", wait=True):  # what run_scheduled holds for the whole run
        message, kind = send(project, "board", "")
    assert kind == "error" and "already running" in message


def test_a_scheduled_run_waits_for_the_run_holding_the_lock(tmp_path: Path) -> None:
    order: list[str] = []
    held, release = threading.Event(), threading.Event()

    def portal() -> None:
        with job_lock(tmp_path, "board", wait=False):
            order.append("send now started")
            held.set()
            release.wait(5)
            order.append("send now finished")

    first = threading.Thread(target=portal, daemon=True)  # a failed assert must not leave the suite waiting
    first.start()
    held.wait(5)

    def scheduled() -> None:
        with job_lock(tmp_path, "board", wait=True):
            order.append("scheduled run")

    second = threading.Thread(target=scheduled, daemon=True)
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting, not running beside it
    release.set()
    first.join(5)
    second.join(5)
    assert order == ["send now started", "send now finished", "scheduled run"]
    with job_lock(tmp_path, "monthly-performance", wait=False):  # another job's lock is its own
        pass


def test_run_once_from_the_command_line_refuses_while_the_job_runs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reporting.cli import app

    with job_lock(tmp_path, "board", wait=True):
        result = CliRunner().invoke(app, ["--project", str(tmp_path), "run-once", "board"])
    assert result.exit_code != 0
    assert "job board is running now" in (result.output + str(result.exception))
