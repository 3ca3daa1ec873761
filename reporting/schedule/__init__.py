"""Scheduling: schedules.yaml, the APScheduler daemon, run-once, run history."""
