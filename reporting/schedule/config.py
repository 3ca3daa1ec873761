"""The schedules.yaml models: which pack runs when, for whom, with which parameters (schedule.load reads the
file and checks it whole before anything runs).

Every model rejects unknown keys (a typo gets "did you mean"), and every error is a `ConfigError` naming the
file, the line and the field: a cron expression that does not parse, an `every:` shorthand that does not
parse, an unknown pack, time zone or distribution list, an address that is not an address, a recipients CSV
that is missing or names an unknown organisation (the CSV file and line), duplicate job ids, a
`misfire_grace_time` under a minute, and an SMTP user without the REPORTING_SMTP_PASSWORD environment
variable. Secrets never live here: the SMTP password only ever comes from the environment.

A job has exactly one of `every:` (shorthand) or `cron:` (five-field crontab); both become an APScheduler
`CronTrigger` in the job's IANA time zone (`Job.trigger()`; schedule.every says what happens when the clocks
change). Who gets a job's packs (addresses, lists, the recipients CSV) is read by schedule.recipients.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from reporting.approval import ApprovalOptions
from reporting.errors import ConfigError
from reporting.schedule.every import check_cron, check_zone, parse_every
from reporting.schedule.every import trigger as cron_trigger
from reporting.schedule.recipients import Address, is_address, read_recipients_csv, recipients_path

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "EMAIL_VARIABLES",
    "ENV_SMTP",
    "Job",
    "Schedules",
    "Smtp",
    "schema",
]

#: Environment variables that override `smtp:` settings; the password can only come from here.
ENV_SMTP = {
    "host": "REPORTING_SMTP_HOST",
    "port": "REPORTING_SMTP_PORT",
    "user": "REPORTING_SMTP_USER",
    "password": "REPORTING_SMTP_PASSWORD",
}
#: Names a job's `subject:` and `body:` templates may use; whoever renders them (schedule.runner) supplies all.
EMAIL_VARIABLES = ("job", "org", "org_name", "pack_title", "period_label")
#: The least `misfire_grace_time` we accept (APScheduler's own default of 1 s silently skips late runs).
MIN_MISFIRE_GRACE = 60
DEFAULT_TIMEZONE = "Europe/London"

_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_PERIOD = re.compile(r"^(latest|\d{4}-\d{2}(-\d{2})?)$")


def _check_template(value: str | None) -> str | None:
    if value is None:
        return None
    from jinja2 import TemplateSyntaxError, meta
    from jinja2.sandbox import SandboxedEnvironment

    try:
        ast = SandboxedEnvironment().parse(value)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template does not parse: {exc.message} (template line {exc.lineno})") from None
    for name in sorted(meta.find_undeclared_variables(ast)):
        if name not in EMAIL_VARIABLES:
            close = difflib.get_close_matches(name, EMAIL_VARIABLES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(EMAIL_VARIABLES)}"
            raise ValueError(f"template uses unknown variable '{name}'; {hint}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ----------------------------------------------------------------------------------------------- smtp, publish
class Smtp(_Model):
    """The mail relay. host, port and user may be overridden by REPORTING_SMTP_HOST/PORT/USER; the password is
    never written here: it comes from REPORTING_SMTP_PASSWORD, which must be set when a user is. The effective
    settings (environment applied) are built by `reporting.delivery.smtp.SmtpSettings.from_config`."""

    host: str = Field("localhost", min_length=1)
    port: int = Field(None, ge=1, le=65535, description="default: 25 (none), 587 (starttls), 465 (ssl)")  # type: ignore[assignment]
    security: Literal["none", "starttls", "ssl"] = "none"
    from_: str = Field(alias="from", description='sender, e.g. "Performance Team <performance@example.nhs.uk>"')
    user: str | None = Field(None, description="login name; the password comes from REPORTING_SMTP_PASSWORD")
    timeout: float = Field(30.0, gt=0, le=600, description="seconds per SMTP conversation")

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("port") is None:
            data = {**data, "port": {"starttls": 587, "ssl": 465}.get(str(data.get("security", "none")), 25)}
        return data

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str) -> str:
        from email.utils import parseaddr

        _, address = parseaddr(value)
        if not address or not is_address(address):
            raise ValueError(
                f'{value!r} is not a sender address (e.g. "Performance Team <performance@example.nhs.uk>")'
            )
        return value

    @property
    def sender(self) -> str:
        """The `from:` value (a Python attribute cannot be called `from`)."""
        return self.from_


class Publish(_Model):
    link_base: str | None = Field(
        None,
        description="where outputs/ is served, e.g. https://intranet.example/packs/ (each path segment is "
        "URL-quoted) or a shared-drive prefix: emails link every pack file under it; without it the files "
        "are attached, or named relative to outputs/ when too big, never as a server path",
    )
    attach_limit_mb: float = Field(10.0, gt=0, le=100, description="attachments above this are sent as a link")

    @field_validator("link_base")
    @classmethod
    def _link_base(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            from urllib.parse import urlsplit

            parts = urlsplit(value)
            if parts.scheme not in ("http", "https", "file"):
                raise ValueError(f"link_base must be an http(s):// or file:// URL or a path prefix; got {value!r}")
            from reporting.redact import credential_in_url

            why = credential_in_url(value)
            if why:
                raise ValueError(f"link_base: {why}; links go to every recipient, so credentials never go here")
        return value


# ----------------------------------------------------------------------------------------------- jobs
class Parameters(_Model):
    period: str = Field("latest", description="'latest' (latest complete period with data), YYYY-MM or YYYY-MM-DD")
    org: str | None = Field(None, description="organisation code (default: the pack's)")
    peer_group: str | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, given: object) -> str:  # before: YAML reads an unquoted 2025-07-01 as a date
        value = str(given)
        if not _PERIOD.match(value):
            raise ValueError(f"period must be 'latest', YYYY-MM or YYYY-MM-DD; got {value!r}")
        if value != "latest":
            try:
                dt.date.fromisoformat(value if len(value) == 10 else value + "-01")
            except ValueError:
                raise ValueError(f"period {value!r} is not a real date") from None
        return value


class Retries(_Model):
    attempts: int = Field(3, ge=1, le=10, description="delivery attempts in all")
    backoff_seconds: float = Field(5.0, ge=0, le=300, description="wait before the second attempt; doubles after")

    def delays(self) -> list[float]:
        """Seconds to wait before attempts 2..N (exponential): the default 3 attempts wait 5 s then 10 s."""
        return [self.backoff_seconds * 2**i for i in range(self.attempts - 1)]


class Recipients(_Model):
    addresses: list[Address] = Field(default_factory=list)
    lists: list[str] = Field(default_factory=list, description="names of distribution lists under `lists:`")
    file: str | None = Field(None, description="CSV (columns email, org_code[, name]) relative to the project")


class Job(_Model):
    """One scheduled pack: exactly one of `every` or `cron`, a validated IANA time zone, no unknown keys."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={
            "oneOf": [
                {"required": ["every"], "not": {"required": ["cron"]}},
                {"required": ["cron"], "not": {"required": ["every"]}},
            ]
        },
    )

    id: str = Field(pattern=_ID.pattern)
    pack: str
    every: str | None = Field(None, description="'monday 07:30', 'mon|thu 07:30', 'day 07:30', 'monthly 10 08:00'")
    cron: str | None = Field(None, description="five-field crontab, e.g. '30 7 * * mon'")
    timezone: str = DEFAULT_TIMEZONE
    parameters: Parameters = Field(default_factory=lambda: Parameters.model_validate({}))
    orgs: list[str] = Field(default_factory=list, description="build once per organisation (bursting)")
    formats: list[Literal["pptx", "docx", "xlsx", "pdf", "html"]] | None = Field(
        None, description="default: the pack's"
    )
    executor: str = Field(
        "local",
        description="where the per-organisation packs are built: local (one after "
        "another), processes (a local pool), dask (a Dask LocalCluster) or dask=tcp://host:8786 "
        "(an existing Dask cluster)",
    )
    workers: int = Field(2, ge=1, le=256, description="parallel workers for processes or a LocalCluster")
    recipients: Recipients
    subject: str = "{{ pack_title }} – {{ period_label }}"
    body: str | None = None
    send_if: Literal["always", "data_changed", "exceptions_exist"] = Field(
        "always",
        description="always; data_changed (only when the snapshot differs from the last successful run's); "
        "exceptions_exist (only when a summary table has an exception: special cause concern, or a target "
        "consistently missed or met inconsistently that the latest point misses; never a stale measure; "
        "reporting.mdc.is_exception, docs/spc.md)",
    )
    retries: Retries = Field(default_factory=lambda: Retries.model_validate({}))
    misfire_grace_time: int = Field(
        3600, description="seconds a late run may still start (at least 60)", json_schema_extra={"minimum": 60}
    )
    owner: Address = Field(description="told when the job fails")
    approval: ApprovalOptions | None = Field(
        None, description="who signs the pack off before it goes to the recipients (adds to the pack's own)"
    )
    test_mailbox: Address | None = Field(
        None,
        description="where a test run of this job sends every message, marked [TEST] (default: the file's "
        "test_mailbox)",
    )
    _lists: dict[str, list[str]] = PrivateAttr(default_factory=dict)  # the file's `lists:`, set by Schedules

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            check_cron(value)
        return value

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: str) -> str:
        from reporting.schedule.executors import parse_executor

        try:
            parse_executor(value)
        except ConfigError as exc:
            raise ValueError(exc.reason) from None
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            parse_every(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        check_zone(value)
        return value

    @field_validator("misfire_grace_time")
    @classmethod
    def _grace(cls, value: int) -> int:
        if value < MIN_MISFIRE_GRACE:
            raise ValueError(
                f"misfire_grace_time must be at least {MIN_MISFIRE_GRACE} seconds (got {value}); "
                "a shorter grace silently skips a run that starts a little late"
            )
        return value

    _templates = field_validator("subject", "body")(lambda cls, v: _check_template(v))

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip() or "\r" in value:
            raise ValueError("subject must be one line")
        return value

    @field_validator("orgs")
    @classmethod
    def _orgs(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_schedule(self) -> Job:
        if self.every is not None and self.cron is not None:
            raise ValueError(f"job '{self.id}' has both 'every' and 'cron'; give exactly one")
        if self.every is None and self.cron is None:
            raise ValueError(f"job '{self.id}' has no schedule; give 'every' (e.g. 'monday 07:30') or 'cron'")
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def trigger(self) -> CronTrigger:
        """The APScheduler 3 `CronTrigger` for this job, in the job's time zone (wall-clock times); what happens
        when the clocks change is in `schedule.every.trigger`."""
        return cron_trigger(self.every, self.cron, self.zone)

    # -------------------------------------------------------------------------------------- recipients
    def recipients_for(
        self, project: Path, lists: Mapping[str, list[str]] | None = None, *, known_orgs: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        """Who gets this job's packs: ``(email, org_code)``, org_code None for a recipient not tied to one
        organisation (from `addresses` or `lists`); the runner decides which pack such a recipient gets.

        Order: `addresses`, then each named list in order, then the CSV rows. An (address, organisation) pair
        that appears again is dropped, keeping the first spelling (addresses compare case-insensitively); the
        same person with two organisations keeps both rows. `lists` defaults to the `lists:` of the schedules
        file the job was loaded from. The CSV is read afresh on each call (errors name its file and line).
        """
        lists = self._lists if lists is None else lists
        entries: list[tuple[str, str | None]] = [(a, None) for a in self.recipients.addresses]
        for name in self.recipients.lists:
            if name not in lists:
                raise ConfigError(f"unknown distribution list '{name}'", field=f"job '{self.id}' recipients.lists")
            entries += [(a, None) for a in lists[name]]
        if self.recipients.file:
            entries += [(email, org) for email, org, _ in self._read_csv(project, known_orgs)]
        seen: set[tuple[str, str | None]] = set()
        out: list[tuple[str, str | None]] = []
        for email, org in entries:
            if (email.lower(), org) not in seen:
                seen.add((email.lower(), org))
                out.append((email, org))
        return out

    def recipients_file(self, project: Path) -> Path | None:
        return recipients_path(project, self.recipients.file) if self.recipients.file else None

    def _read_csv(self, project: Path, known_orgs: Collection[str] | None) -> list[tuple[str, str, int]]:
        path = self.recipients_file(project)
        assert path is not None
        return read_recipients_csv(path, self.id, self.orgs, known_orgs)


# ----------------------------------------------------------------------------------------------- the file
class LimitsConfig(_Model):
    """Resource caps (reporting.limits); REPORTING_LIMIT_<NAME> in the environment overrides each."""

    source_bytes: int | None = Field(None, gt=0, description="largest source file or HTTP body, in bytes")
    yaml_bytes: int | None = Field(None, gt=0, description="largest YAML file, in bytes")
    yaml_nodes: int | None = Field(None, gt=0, description="most YAML nodes after aliases are expanded")
    template_seconds: float | None = Field(None, gt=0, description="longest time to render a pack's text")
    template_output_chars: int | None = Field(None, gt=0, description="longest text one block may render")
    template_range: int | None = Field(None, gt=0, description="largest range() in a template")


class Schedules(_Model):
    schema_: str | None = Field(None, alias="$schema")
    smtp: Smtp
    publish: Publish = Field(default_factory=lambda: Publish.model_validate({}))
    limits: LimitsConfig = Field(default_factory=lambda: LimitsConfig.model_validate({}))
    lists: dict[str, list[Address]] = Field(default_factory=dict, description="named distribution lists")
    test_mailbox: Address | None = Field(
        None,
        description="where a test run (`run-once JOB --test`, the portal's Test run) sends every message, "
        "marked [TEST]; a job's own test_mailbox overrides it",
    )
    jobs: list[Job] = Field(default_factory=list)

    @field_validator("lists")
    @classmethod
    def _lists(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in value:
            if not _ID.match(name):
                raise ValueError(f"list name {name!r} must be lower case letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _share_lists(self) -> Schedules:
        for job in self.jobs:
            job._lists = self.lists
        return self

    def job(self, job_id: str) -> Job:
        for job in self.jobs:
            if job.id == job_id:
                return job
        ids = [j.id for j in self.jobs]
        close = difflib.get_close_matches(job_id, ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; jobs are: {', '.join(ids) or 'none'}"
        raise ConfigError(f"no job '{job_id}' in schedules.yaml{hint}", field="job")

    def test_mailbox_for(self, job_id: str) -> str | None:
        """Where a test run of the job sends: the job's own `test_mailbox`, else the file's, else nowhere."""
        return self.job(job_id).test_mailbox or self.test_mailbox

    def recipients_for(
        self, job_id: str, project: Path, *, known_orgs: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        return self.job(job_id).recipients_for(project, self.lists, known_orgs=known_orgs)


def schema() -> dict[str, Any]:
    """JSON Schema of schedules.yaml, for editor autocompletion (`# yaml-language-server: $schema=...`)."""
    return Schedules.model_json_schema(by_alias=True)
