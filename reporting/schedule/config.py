"""schedules.yaml: which pack runs when, for whom, with which parameters; validated before anything runs.

Every model rejects unknown keys (a typo gets "did you mean"), and every error is a `ConfigError` naming the
file, the line and the field: a cron expression that does not parse, an `every:` shorthand that does not
parse, an unknown pack, time zone or distribution list, an address that is not an address, a recipients CSV
that is missing or names an unknown organisation (the CSV file and line), duplicate job ids, a
`misfire_grace_time` under a minute, and an SMTP user without the REPORTING_SMTP_PASSWORD environment
variable. Secrets never live here: the SMTP password only ever comes from the environment.

A job has exactly one of `every:` (shorthand) or `cron:` (five-field crontab); both become an APScheduler
`CronTrigger` in the job's IANA time zone (`Job.trigger()`), whose docstring says what happens when the clocks
change.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import os
import re
import zoneinfo
from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from reporting._yaml import Located, _dotted, load_yaml, raise_validation_error
from reporting.errors import ConfigError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "EMAIL_VARIABLES",
    "ENV_SMTP",
    "Job",
    "Schedules",
    "Smtp",
    "load_schedules",
    "parse_every",
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
# Deliberately strict: local part of letters, digits and . _ % + - ' (no leading/trailing/double dot), a domain
# of dot-separated labels with a letter TLD. Quoted local parts and IP literals are refused on purpose.
_EMAIL = re.compile(
    r"^(?=.{3,254}$)[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_DAY_ALIASES = {**_DAYS, **{v: v for v in _DAYS.values()}, "weekday": "mon-fri", "weekdays": "mon-fri"}
_CRON_DOW = re.compile(r"^(\*|[a-z]{3}(-[a-z]{3})?(,[a-z]{3}(-[a-z]{3})?)*)$", re.IGNORECASE)
_PERIOD = re.compile(r"^(latest|\d{4}-\d{2}(-\d{2})?)$")


def _check_address(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address (expected name@organisation.nhs.uk)")
    return value


Address = Annotated[str, AfterValidator(_check_address)]


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


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # 'Europe' is a directory: IsADirectoryError
        close = difflib.get_close_matches(name, _zones(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else " (an IANA name such as Europe/London)"
        raise ValueError(f"unknown time zone {name!r}{hint}") from None


def parse_every(text: str) -> dict[str, str]:
    """`every:` shorthand -> CronTrigger fields. Raises ValueError with the accepted forms.

    - ``monday 07:30``, ``mon|thu 07:30``, ``monday,friday 07:30``, ``weekday 07:30`` (Monday to Friday);
    - ``day 07:30`` or ``daily 07:30`` (every day);
    - ``monthly 10 08:00`` (day 1-28 of each month) or ``monthly last 08:00`` (last day of the month).
    """
    forms = (
        "'<day>[|<day>...] HH:MM' (e.g. 'monday 07:30', 'mon|thu 07:30', 'weekday 07:30'), "
        "'day HH:MM' (daily) or 'monthly <1-28|last> HH:MM'"
    )
    words = str(text).strip().lower().split()
    if not words:
        raise ValueError(f"'every' is empty; expected {forms}")
    match = _TIME.match(words[-1])
    if match is None:
        raise ValueError(f"cannot read {text!r}: the time must be 24-hour HH:MM at the end; expected {forms}")
    fields = {"hour": str(int(match.group(1))), "minute": str(int(match.group(2)))}
    head = words[:-1]
    if head in (["day"], ["daily"]):
        return fields
    if len(head) == 2 and head[0] in ("monthly", "month"):
        day = head[1]
        if day == "last":
            return {"day": "last", **fields}
        if day.isdigit() and 1 <= int(day) <= 28:
            return {"day": str(int(day)), **fields}
        if day.isdigit() and 29 <= int(day) <= 31:
            raise ValueError(
                f"cannot read {text!r}: day {day} does not exist in every month; use 1-28, "
                f"'monthly last {words[-1]}', or a cron expression"
            )
        raise ValueError(f"cannot read {text!r}: the day of the month must be 1-28 or 'last'")
    if len(head) == 1:
        days = []
        for part in re.split(r"[|,]", head[0]):
            if part not in _DAY_ALIASES:
                close = difflib.get_close_matches(part, [*_DAYS, "day", "monthly", "weekday"], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"cannot read {text!r}: unknown day {part!r}{hint}; expected {forms}")
            days.append(_DAY_ALIASES[part])
        return {"day_of_week": ",".join(dict.fromkeys(days)), **fields}
    raise ValueError(f"cannot read {text!r}; expected {forms}")


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
        if not address or not _EMAIL.match(address):
            raise ValueError(
                f'{value!r} is not a sender address (e.g. "Performance Team <performance@example.nhs.uk>")'
            )
        return value

    @property
    def sender(self) -> str:
        """The `from:` value (a Python attribute cannot be called `from`)."""
        return self.from_


class Publish(_Model):
    link_base: str | None = Field(None, description="URL or path prefix shown in emails for files too big to attach")
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
    def _period(cls, value: Any) -> str:  # before: YAML reads an unquoted 2025-07-01 as a date
        value = str(value)
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
    parameters: Parameters = Field(default_factory=Parameters)
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
    retries: Retries = Field(default_factory=Retries)
    misfire_grace_time: int = Field(
        3600, description="seconds a late run may still start (at least 60)", json_schema_extra={"minimum": 60}
    )
    owner: Address = Field(description="told when the job fails")
    _lists: dict[str, list[str]] = PrivateAttr(default_factory=dict)  # the file's `lists:`, set by Schedules

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        fields = str(value).split()
        if len(fields) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month day-of-week); got {len(fields)} in {value!r}")
        if not _CRON_DOW.match(fields[4]):
            # APScheduler 3 numbers days from Monday = 0, crontab from Sunday = 0: '30 7 * * 1' would run on Tuesday
            raise ValueError(
                f"cron {value!r}: write the day of the week with names (mon, tue, ..., sun; e.g. "
                "'mon-fri'), not numbers or steps; APScheduler counts days from Monday = 0, so a "
                "crontab '1' (Monday) would run on Tuesday"
            )
        if fields[2] != "*" and fields[4] != "*":
            raise ValueError(
                f"cron {value!r} restricts both the day of the month and the day of the week; crontab "
                "runs when either matches but APScheduler only when both do, so give one of them"
            )
        try:
            trigger = CronTrigger.from_crontab(value, timezone=dt.UTC)
        except ValueError as exc:
            raise ValueError(f"cron {value!r} does not parse: {exc}") from None
        if trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is None:
            raise ValueError(f"cron {value!r} never fires")
        return value

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: str) -> str:
        from reporting.errors import ReportingError
        from reporting.schedule.executors import parse_executor

        try:
            parse_executor(value)
        except ReportingError as exc:
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
        _zone(value)
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
        """The APScheduler 3 `CronTrigger` for this job, in the job's time zone (wall-clock times).

        When the clocks change (observed with APScheduler 3.11 and zoneinfo around the 2025 UK changes; see
        tests/schedule/test_config.py):

        - A job at a wall time outside the change hours (e.g. Monday 07:30) stays at 07:30 local on both
          sides: 07:30 GMT (07:30 UTC) before the spring change and 07:30 BST (06:30 UTC) after it.
        - Spring, a time that does not exist (01:00-01:59 on 30 March 2025): the run is not skipped; it
          happens once, one hour later by the clock. 01:30 fires at 01:30 UTC, which is 02:30 BST (not at the
          first valid time, 02:00); 01:00 fires at 02:00 BST.
        - Autumn, a time that happens twice (01:00-01:59 on 26 October 2025): the run happens TWICE, at
          01:30 BST (00:30 UTC) and again at 01:30 GMT (01:30 UTC) an hour later.

        So avoid schedules between 01:00 and 02:00 UK time; the delivery log (keyed by job, period, recipient
        and pack content hash) still stops the second autumn run from emailing the same pack twice.
        """
        from apscheduler.triggers.cron import CronTrigger

        if self.cron is not None:
            return CronTrigger.from_crontab(self.cron, timezone=self.zone)
        return CronTrigger(timezone=self.zone, **parse_every(self.every or ""))

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
        if not self.recipients.file:
            return None
        path = Path(self.recipients.file)
        if path.is_absolute():
            return path
        resolved = (project / path).resolve()
        if not resolved.is_relative_to(Path(project).resolve()):
            raise ConfigError(
                f"recipients file {self.recipients.file!r} leads outside the project directory; "
                "give an absolute path if it really lives elsewhere",
                field="recipients.file",
            )
        return resolved

    def _read_csv(self, project: Path, known_orgs: Collection[str] | None) -> list[tuple[str, str, int]]:
        """Rows (email, org_code, line) of the recipients CSV; errors name the CSV file and line."""
        path = self.recipients_file(project)
        assert path is not None
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(f"recipients file of job '{self.id}' not found", file=path) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"recipients file is not UTF-8 text ({exc.reason})", file=path) from None
        reader = csv.reader(text.splitlines(keepends=True))
        header = next(reader, None)
        if not header:
            raise ConfigError("recipients file is empty; expected a header 'email,org_code[,name]'", file=path, line=1)
        columns = [c.strip().lower() for c in header]
        for column in columns:
            if column not in ("email", "org_code", "name"):
                close = difflib.get_close_matches(column, ["email", "org_code", "name"], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(
                    f"unknown column '{column}'{hint}; columns are email, org_code and optionally name",
                    file=path,
                    line=1,
                    field=column,
                )
        for required in ("email", "org_code"):
            if required not in columns:
                raise ConfigError(
                    f"recipients file needs a column '{required}' (columns: email, org_code[, name])", file=path, line=1
                )
        i_email, i_org = columns.index("email"), columns.index("org_code")
        known = set(known_orgs) if known_orgs is not None else None
        rows: list[tuple[str, str, int]] = []
        last = reader.line_num
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise ConfigError(
                    f"expected {len(columns)} columns ({', '.join(columns)}), found {len(row)}", file=path, line=line
                )
            email, org = row[i_email].strip(), row[i_org].strip()
            try:
                _check_address(email)
            except ValueError as exc:
                raise ConfigError(str(exc), file=path, line=line, field="email") from None
            if not org:
                raise ConfigError(f"no organisation code for {email}", file=path, line=line, field="org_code")
            if known is not None and org not in known:
                close = difflib.get_close_matches(org, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"unknown organisation code '{org}'{hint}", file=path, line=line, field="org_code")
            if self.orgs and org not in self.orgs:
                raise ConfigError(
                    f"organisation '{org}' is not one of job '{self.id}' orgs "
                    f"({', '.join(self.orgs)}), so {email} would get nothing",
                    file=path,
                    line=line,
                    field="org_code",
                )
            rows.append((email, org, line))
        return rows


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
    publish: Publish = Field(default_factory=Publish)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    lists: dict[str, list[Address]] = Field(default_factory=dict, description="named distribution lists")
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

    def recipients_for(
        self, job_id: str, project: Path, *, known_orgs: Collection[str] | None = None
    ) -> list[tuple[str, str | None]]:
        return self.job(job_id).recipients_for(project, self.lists, known_orgs=known_orgs)


def _vocabulary() -> set[str]:
    words: set[str] = set()
    for model in (Schedules, Smtp, Publish, Parameters, Retries, Recipients, Job, LimitsConfig):
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
    return words


def load_schedules(
    path: Path, project: Path, *, known_orgs: Collection[str] | None = None, environ: Mapping[str, str] | None = None
) -> Schedules:
    """Load and check schedules.yaml completely, before anything runs; every error is a ConfigError naming the
    file (schedules.yaml, or the recipients CSV), the line and the field.

    `known_orgs`: organisation codes that exist (e.g. from the latest snapshot); when given, `orgs`,
    `parameters.org` and every recipients CSV row are checked against them. `environ` defaults to os.environ.
    """
    env = os.environ if environ is None else environ
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError("expected a mapping with 'smtp' and 'jobs'", file=doc.file, line=1)
    smtp = doc.data.get("smtp")
    if isinstance(smtp, dict):
        for key in smtp:
            if str(key).lower() in ("password", "passwd", "pass", "secret"):
                raise ConfigError(
                    f"unknown key '{key}': the SMTP password never goes in schedules.yaml; it comes "
                    f"from the environment variable {ENV_SMTP['password']}",
                    file=doc.file,
                    line=doc.line_of(("smtp", key)),
                    field=f"smtp.{key}",
                )
    try:
        schedules = Schedules.model_validate(doc.data)
    except ValidationError as exc:
        raise_validation_error(exc, doc, _vocabulary())
        raise  # unreachable
    from reporting.limits import configure

    configure(**schedules.limits.model_dump())
    _check_smtp(schedules, doc, env)
    _check_jobs(schedules, doc, Path(project), known_orgs)
    return schedules


def _check_smtp(schedules: Schedules, doc: Located, env: Mapping[str, str]) -> None:
    port = env.get(ENV_SMTP["port"])
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError(
            f"environment variable {ENV_SMTP['port']}={port!r} is not a port number (1-65535)",
            file=doc.file,
            line=doc.line_of(("smtp", "port")),
            field="smtp.port",
        )
    user = env.get(ENV_SMTP["user"]) or schedules.smtp.user
    if user and not env.get(ENV_SMTP["password"]):
        source = "smtp.user is set" if schedules.smtp.user else f"{ENV_SMTP['user']} is set"
        raise ConfigError(
            f"{source}, so the environment variable {ENV_SMTP['password']} must hold the SMTP password; it is not set",
            file=doc.file,
            line=doc.line_of(("smtp", "user") if schedules.smtp.user else ("smtp",)),
            field="smtp.user",
        )


def _check_jobs(schedules: Schedules, doc: Located, project: Path, known_orgs: Collection[str] | None) -> None:
    from reporting.packs.template import load_template, template_files

    packs = {p.stem: p for p in template_files(project)}
    known = set(known_orgs) if known_orgs is not None else None
    first_line: dict[str, int | None] = {}

    def fail(message: str, *where: Any) -> None:
        raise ConfigError(message, file=doc.file, line=doc.line_of(where), field=_dotted(where))

    for i, job in enumerate(schedules.jobs):
        if job.id in first_line:
            fail(f"job id '{job.id}' is used twice (first at line {first_line[job.id]})", "jobs", i, "id")
        first_line[job.id] = doc.line_of(("jobs", i, "id"))
        if job.pack not in packs:
            close = difflib.get_close_matches(job.pack, sorted(packs), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; packs are: {', '.join(sorted(packs)) or 'none'}"
            fail(f"unknown pack '{job.pack}'{hint}", "jobs", i, "pack")
        if job.formats:
            template, _, _ = load_template(project, job.pack)
            made = list(template.formats) + (["html"] if template.public else [])
            for k, fmt in enumerate(job.formats):
                if fmt not in made:
                    fail(
                        f"pack '{job.pack}' is not made as {fmt}; its formats are {', '.join(made)}",
                        "jobs",
                        i,
                        "formats",
                        k,
                    )
        for k, name in enumerate(job.recipients.lists):
            if name not in schedules.lists:
                close = difflib.get_close_matches(name, sorted(schedules.lists), n=1)
                hint = (
                    f" (did you mean '{close[0]}'?)"
                    if close
                    else f"; lists are: {', '.join(sorted(schedules.lists)) or 'none (add them under lists:)'}"
                )
                fail(f"unknown distribution list '{name}'{hint}", "jobs", i, "recipients", "lists", k)
        if known is not None:
            for k, org in enumerate(job.orgs):
                if org not in known:
                    close = difflib.get_close_matches(org, sorted(known), n=1)
                    fail(
                        f"unknown organisation code '{org}'" + (f" (did you mean '{close[0]}'?)" if close else ""),
                        "jobs",
                        i,
                        "orgs",
                        k,
                    )
            if job.parameters.org is not None and job.parameters.org not in known:
                fail(f"unknown organisation code '{job.parameters.org}'", "jobs", i, "parameters", "org")
        if job.recipients.file:
            try:
                job.recipients_file(project)
            except ConfigError as exc:
                fail(exc.reason, "jobs", i, "recipients", "file")
            if not job.recipients_file(project).exists():  # type: ignore[union-attr]
                fail(
                    f"recipients file {job.recipients.file!r} not found (looked in {project})",
                    "jobs",
                    i,
                    "recipients",
                    "file",
                )
        recipients = job.recipients_for(project, schedules.lists, known_orgs=known_orgs)
        if not recipients:
            fail(f"job '{job.id}' has no recipients; give addresses, lists or a file", "jobs", i, "recipients")


def schema() -> dict[str, Any]:
    """JSON Schema of schedules.yaml, for editor autocompletion (`# yaml-language-server: $schema=...`)."""
    return Schedules.model_json_schema(by_alias=True)
