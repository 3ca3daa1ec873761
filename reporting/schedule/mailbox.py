"""A test run of a job (`run-once JOB --test`, the portal's Test run button): the packs built for the job's
recipients exactly as a real run builds them (bursting, each recipient's own organisation), but every message
goes to the test mailbox instead, marked "[TEST] " and saying who it would have gone to. Each is recorded in
the delivery log under a key of its own (recipient: the test mailbox; kind `test`, with who asked and the
intended recipient, schedule.delivery_kinds), so the real recipients' deliveries are never marked sent: a
later real run still sends to them. The runner (schedule.runner) calls these."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from reporting.errors import ConfigError

if TYPE_CHECKING:
    from reporting.delivery.compose import EmailContent
    from reporting.schedule.config import Schedules

__all__ = ["TEST_PREFIX", "NoTestMailbox", "mailbox_for", "marked_content", "marked_key"]

TEST_PREFIX = "[TEST] "


class NoTestMailbox(ConfigError):
    """A test run was asked for a job with no test mailbox configured."""


def mailbox_for(schedules: Schedules, job_id: str, given: str | None = None) -> str:
    """Where a test run of `job_id` sends: `given` (the command line's --test-mailbox, checked as an address),
    else the job's `test_mailbox`, else the file's."""
    from reporting.schedule.recipients import check_address

    if given is not None:
        try:
            return check_address(given)
        except ValueError as exc:
            raise ConfigError(str(exc), field="--test-mailbox") from None
    found = schedules.test_mailbox_for(job_id)
    if found is None:
        raise NoTestMailbox(
            f"job '{job_id}' has no test mailbox: add `test_mailbox: someone@example.nhs.uk` to the job in "
            "schedules.yaml, or at the top of the file for every job",
            field=f"job '{job_id}' test_mailbox",
        )
    return found


def marked_key(content_hash: str, recipient: str, run_id: int) -> str:
    """The delivery-log key of one test message: never a real delivery's, and new for every test run."""
    return hashlib.sha256(json.dumps(["test", content_hash, recipient.lower(), run_id]).encode()).hexdigest()


def marked_content(content: EmailContent, recipient: str, mailbox: str, *, already: bool) -> EmailContent:
    """A recipient's email as a test: marked in the subject, and saying who it would have gone to."""
    line = (
        f"TEST RUN: this message would have gone to {recipient}. It was sent only to the test mailbox {mailbox}; "
        f"{recipient} has not been sent anything."
    )
    if already:
        line += f" (The delivery log says {recipient} already has this pack, so a real run now would not send it.)"
    return replace(content, subject=f"{TEST_PREFIX}{content.subject}", intro=f"{line}\n\n{content.intro}")
