"""Helpers for the scheduler tests that more than one test module needs."""

from __future__ import annotations

import datetime as dt

from reporting.project import Project
from reporting.schedule.daemon import jobstore_url, make_scheduler, sync_jobs
from reporting.schedule.runner import load_project_schedules


def due_now(project: Project) -> None:
    """Store the job with its next run ten minutes ago, as if the machine had been off at 07:30: in the store
    itself, with the scheduler stopped (a live scheduler would process it)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = make_scheduler(project.root)
    scheduler.start(paused=True)
    sync_jobs(scheduler, load_project_schedules(project), project.root)
    scheduler.shutdown(wait=False)
    store = SQLAlchemyJobStore(url=jobstore_url(project.root))
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job("weekly-executive")
    job.next_run_time = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    store.update_job(job)
    store.shutdown()
