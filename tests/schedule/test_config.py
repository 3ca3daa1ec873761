"""schedules.yaml: the shipped file loads; every kind of bad input is a ConfigError naming file and line; triggers
keep wall-clock times across the UK clock changes; recipients resolve in a stable order without duplicates."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from reporting.errors import ConfigError
from reporting.schedule.config import Job, schema
from reporting.schedule.every import parse_every
from reporting.schedule.load import load_schedules

REPO = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
KNOWN_ORGS = {row["org_code"] for row in csv.DictReader((REPO / "reporting/demo_data/trusts_2022.csv").open())}
NO_ENV: dict[str, str] = {}

HEAD = """\
smtp:
  host: localhost
  port: 25
  security: none
  from: "Performance Team <performance@example.nhs.uk>"
lists:
  executives: [ceo@example.nhs.uk, coo@example.nhs.uk]
jobs:
"""
JOB = """\
  - id: weekly
    pack: weekly-executive
    every: monday 07:30
    recipients:
      lists: [executives]
    owner: owner@example.nhs.uk
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "templates" / "packs", root / "templates" / "packs")
    (root / "recipients").mkdir()
    (root / "recipients" / "r.csv").write_text("email,org_code,name\na@example.nhs.uk,RJ1,A\nb@example.nhs.uk,RXW,B\n")
    return root


def write(project: Path, text: str) -> Path:
    path = project / "schedules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(project: Path, text: str, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("environ", NO_ENV)
    return load_schedules(write(project, text), project, **kwargs)


def error(project: Path, text: str, **kwargs) -> ConfigError:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load(project, text, **kwargs)
    return info.value


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`, so tests do not hard-code numbers."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ----------------------------------------------------------------------------------------------- shipped file
def test_shipped_schedules_load_and_schedule_the_three_packs() -> None:
    schedules = load_schedules(REPO / "schedules.yaml", REPO, known_orgs=KNOWN_ORGS, environ=NO_ENV)
    assert [j.id for j in schedules.jobs] == ["weekly-executive", "monthly-performance", "board"]
    weekly = schedules.job("weekly-executive")
    assert weekly.every == "monday 07:30" and weekly.timezone == "Europe/London"
    assert schedules.smtp.host == "localhost" and schedules.smtp.port == 25 and schedules.smtp.security == "none"
    monthly = schedules.job("monthly-performance")
    assert monthly.every is not None and monthly.every.startswith("monthly")
    assert schedules.job("board").every.startswith("monthly")  # type: ignore[union-attr]
    assert monthly.orgs == ["RJ1", "RXW"]
    burst = schedules.recipients_for("monthly-performance", REPO)
    assert {org for _, org in burst} == {"RJ1", "RXW"} and len(burst) == 4
    for job in schedules.jobs:
        assert isinstance(job.trigger(), CronTrigger)
        for email, _ in schedules.recipients_for(job.id, REPO):
            assert email.endswith("@example.nhs.uk")


def test_unknown_job_id_suggests_one() -> None:
    schedules = load_schedules(REPO / "schedules.yaml", REPO, environ=NO_ENV)
    with pytest.raises(ConfigError, match="did you mean 'weekly-executive'"):
        schedules.job("weekly-executiv")


def test_json_schema_names_the_keys() -> None:
    spec = schema()
    assert {"smtp", "jobs", "lists", "publish"} <= set(spec["properties"])
    job = spec["$defs"]["Job"]
    assert job["additionalProperties"] is False and {"every", "cron", "misfire_grace_time"} <= set(job["properties"])
    assert "from" in spec["$defs"]["Smtp"]["properties"]


# ----------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("every: monday 07:30", 'cron: "61 7 * * mon"', "cron:", "does not parse"),
        ("every: monday 07:30", 'cron: "30 7 * *"', "cron:", "cron needs 5 fields"),
        ("every: monday 07:30", 'cron: "30 7 * * 1"', "cron:", "would run on Tuesday"),
        ("every: monday 07:30", 'cron: "30 7 * * */2"', "cron:", "not numbers or steps"),
        ("every: monday 07:30", 'cron: "0 8 1 * mon"', "cron:", "crontab runs when either matches"),
        ("every: monday 07:30", 'cron: "0 0 30 feb *"', "cron:", "never fires"),
        ("every: monday 07:30", "every: monday 07:30\n    timezone: Europe", "timezone:", "unknown time zone 'Europe'"),
        ("every: monday 07:30", "every: mondy 07:30", "every:", "did you mean 'monday'"),
        ("every: monday 07:30", "every: monday 7.30", "every:", "24-hour HH:MM"),
        ("every: monday 07:30", "every: monthly 31 08:00", "every:", "does not exist in every month"),
        (
            "every: monday 07:30",
            'every: monday 07:30\n    cron: "30 7 * * mon"',
            "  - id: weekly",
            "both 'every' and 'cron'",
        ),
        ("    every: monday 07:30\n", "", "  - id: weekly", "no schedule"),
        (
            "pack: weekly-executive",
            "pack: weekly-executiv",
            "pack:",
            "unknown pack 'weekly-executiv' (did you mean 'weekly-executive'?)",
        ),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    timezone: Europe/Londn",
            "timezone:",
            "unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)",
        ),
        ("owner: owner@example.nhs.uk", "owner: owner.example.nhs.uk", "owner:", "is not an email address"),
        (
            "lists: [executives]",
            "lists: [executive]",
            "lists: [executive]",
            "unknown distribution list 'executive' (did you mean 'executives'?)",
        ),
        (
            "lists: [executives]",
            "addresses: [ok@example.nhs.uk, 'bad@@example.nhs.uk']",
            "addresses:",
            "'bad@@example.nhs.uk' is not an email address",
        ),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    misfire_grace_time: 1",
            "misfire_grace_time:",
            "must be at least 60 seconds",
        ),
        ("every: monday 07:30", "every: monday 07:30\n    formats: [docx]", "formats:", "not made as docx"),
        ("every: monday 07:30", "every: monday 07:30\n    formats: [html]", "formats:", "not made as html"),
        ("every: monday 07:30", "every: monday 07:30\n    subject: '{{ pack_title }'", "subject:", "does not parse"),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    subject: '{{ pack_titel }}'",
            "subject:",
            "did you mean 'pack_title'",
        ),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    parameters: {period: last-month}",
            "parameters:",
            "period must be 'latest', YYYY-MM",
        ),
        ("every: monday 07:30", "every: monday 07:30\n    sendif: always", "sendif:", "did you mean 'send_if'"),
        (
            "lists: [executives]",
            "file: recipients/nope.csv",
            "file:",
            "recipients file 'recipients/nope.csv' not found",
        ),
        ("lists: [executives]", "lists: []", "recipients:", "has no recipients"),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    executor: threads",
            "executor:",
            "unknown executor 'threads'",
        ),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    executor: dask=scheduler",
            "executor:",
            "expected dask=tcp://host:port",
        ),
        (
            "every: monday 07:30",
            "every: monday 07:30\n    executor: dask\n    workers: 0",
            "workers:",
            "greater than or equal to 1",
        ),
    ],
)
def test_bad_job_is_an_error_at_its_line(project: Path, old: str, new: str, needle: str, message: str) -> None:
    assert old in JOB
    text = HEAD + JOB.replace(old, new)
    err = error(project, text, known_orgs=KNOWN_ORGS)
    assert message in str(err), str(err)
    assert err.file == project / "schedules.yaml"
    assert err.line == line_of(text, needle), str(err)
    assert str(err).startswith(f"{project / 'schedules.yaml'}:{err.line}")


def test_duplicate_job_ids_name_both_lines(project: Path) -> None:
    text = HEAD + JOB + JOB
    err = error(project, text)
    first = line_of(text, "- id: weekly")
    assert err.line == first + JOB.count("\n")
    assert f"job id 'weekly' is used twice (first at line {first})" in str(err)
    assert err.field == "jobs[1].id"


def test_unknown_org_in_the_job_is_an_error(project: Path) -> None:
    text = HEAD + JOB.replace("every: monday 07:30", "every: monday 07:30\n    orgs: [RJ1, RJ9X]")
    err = error(project, text, known_orgs=KNOWN_ORGS)
    assert "unknown organisation code 'RJ9X'" in str(err) and err.line == line_of(text, "orgs:")
    assert err.field == "jobs[0].orgs[1]"


def test_recipients_file_with_unknown_org_names_the_csv_line(project: Path) -> None:
    csv_file = project / "recipients" / "r.csv"
    csv_file.write_text("email,org_code\na@example.nhs.uk,RJ1\n\nb@example.nhs.uk,ZZZ99\n")
    text = HEAD + JOB.replace("lists: [executives]", "file: recipients/r.csv")
    err = error(project, text, known_orgs=KNOWN_ORGS)
    assert err.file == csv_file and err.line == 4 and err.field == "org_code"
    assert "unknown organisation code 'ZZZ99'" in str(err)
    assert str(err).startswith(f"{csv_file}:4")
    # without a list of known organisations the same file loads (codes cannot be checked)
    assert load(project, text).jobs[0].recipients.file == "recipients/r.csv"


def test_recipients_file_with_a_bad_email_names_the_csv_line(project: Path) -> None:
    csv_file = project / "recipients" / "r.csv"
    csv_file.write_text('email,org_code\na@example.nhs.uk,RJ1\n"not an address",RXW\n')
    text = HEAD + JOB.replace("lists: [executives]", "file: recipients/r.csv")
    err = error(project, text, known_orgs=KNOWN_ORGS)
    assert err.file == csv_file and err.line == 3 and err.field == "email"
    assert "'not an address' is not an email address" in str(err)


def test_recipients_file_org_outside_the_jobs_orgs(project: Path) -> None:
    text = HEAD + JOB.replace("lists: [executives]", "file: recipients/r.csv").replace(
        "every: monday 07:30", "every: monday 07:30\n    orgs: [RJ1]"
    )
    err = error(project, text)
    assert err.line == 3 and "organisation 'RXW' is not one of job 'weekly' orgs (RJ1)" in str(err)


def test_recipients_file_with_an_unknown_column(project: Path) -> None:
    (project / "recipients" / "r.csv").write_text("emial,org_code\na@example.nhs.uk,RJ1\n")
    text = HEAD + JOB.replace("lists: [executives]", "file: recipients/r.csv")
    err = error(project, text)
    assert err.line == 1 and "unknown column 'emial' (did you mean 'email'?)" in str(err)


def test_password_in_yaml_is_refused_and_points_at_the_environment(project: Path) -> None:
    text = HEAD.replace("  security: none\n", "  security: none\n  password: hunter2\n") + JOB
    err = error(project, text)
    assert err.line == line_of(text, "password:") and err.field == "smtp.password"
    assert "unknown key 'password'" in str(err) and "REPORTING_SMTP_PASSWORD" in str(err)
    assert "hunter2" not in str(err)


def test_smtp_user_needs_the_password_variable(project: Path) -> None:
    text = HEAD.replace("  security: none\n", "  security: starttls\n  user: reporting\n") + JOB
    err = error(project, text)
    assert err.line == line_of(text, "user:") and err.field == "smtp.user"
    assert "environment variable REPORTING_SMTP_PASSWORD must hold the SMTP password; it is not set" in str(err)
    smtp = load(project, text, environ={"REPORTING_SMTP_PASSWORD": "s3cret"}).smtp
    assert (smtp.host, smtp.port, smtp.security, smtp.user) == ("localhost", 25, "starttls", "reporting")
    assert smtp.sender == "Performance Team <performance@example.nhs.uk>"


def test_smtp_user_from_the_environment_also_needs_the_password(project: Path) -> None:
    err = error(project, HEAD + JOB, environ={"REPORTING_SMTP_USER": "reporting"})
    assert "REPORTING_SMTP_USER is set" in str(err) and "REPORTING_SMTP_PASSWORD" in str(err)


def test_unquoted_date_period_and_bad_link_base(project: Path) -> None:
    text = HEAD + JOB.replace("every: monday 07:30", "every: monday 07:30\n    parameters: {period: 2025-07-01}")
    assert load(project, text).jobs[0].parameters.period == "2025-07-01"
    text = HEAD.replace("lists:", "publish: {link_base: 'ftp://x/y'}\nlists:") + JOB
    err = error(project, text)
    assert "link_base must be" in str(err) and err.line == line_of(text, "publish:")


def test_default_port_follows_security(project: Path) -> None:
    text = HEAD.replace("  port: 25\n", "").replace("security: none", "security: ssl") + JOB
    assert load(project, text).smtp.port == 465


def test_unknown_top_level_key_suggests(project: Path) -> None:
    text = HEAD.replace("lists:", "list:") + JOB
    err = error(project, text)
    assert "unknown key 'list' (did you mean 'lists'?)" in str(err) and err.line == line_of(text, "list:")


def test_bad_address_in_a_list(project: Path) -> None:
    text = HEAD.replace("coo@example.nhs.uk", "coo@example") + JOB
    err = error(project, text)
    assert "'coo@example' is not an email address" in str(err) and err.field == "lists.executives[1]"
    assert err.line == line_of(text, "executives:")


def test_yaml_duplicate_key_is_an_error(project: Path) -> None:
    text = HEAD + JOB.replace("every: monday 07:30", "every: monday 07:30\n    every: friday 07:30")
    err = error(project, text)
    assert "appears twice" in str(err) and err.line == line_of(text, "friday")


# ----------------------------------------------------------------------------------------------- triggers
def fire_times(trigger: CronTrigger, start: dt.datetime, n: int) -> list[dt.datetime]:
    """Successive fire times as the scheduler asks for them (previous fire time, now = just after it)."""
    out: list[dt.datetime] = []
    previous, now = None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        out.append(nxt)
        previous, now = nxt, nxt.astimezone(UTC) + dt.timedelta(seconds=1)
    return out


def job(**kwargs: object) -> Job:
    base: dict[str, object] = {
        "id": "j",
        "pack": "p",
        "recipients": {"addresses": ["a@example.nhs.uk"]},
        "owner": "o@example.nhs.uk",
    }
    return Job.model_validate({**base, **kwargs})


def test_monday_0730_stays_0730_london_across_both_clock_changes() -> None:
    trigger = job(every="monday 07:30").trigger()
    spring = fire_times(trigger, dt.datetime(2025, 3, 20, tzinfo=LONDON), 3)
    assert [t.astimezone(UTC) for t in spring] == [
        dt.datetime(2025, 3, 24, 7, 30, tzinfo=UTC),  # GMT
        dt.datetime(2025, 3, 31, 6, 30, tzinfo=UTC),  # BST (clocks went forward on Sunday 30 March)
        dt.datetime(2025, 4, 7, 6, 30, tzinfo=UTC),
    ]
    autumn = fire_times(trigger, dt.datetime(2025, 10, 15, tzinfo=LONDON), 3)
    assert [t.astimezone(UTC) for t in autumn] == [
        dt.datetime(2025, 10, 20, 6, 30, tzinfo=UTC),  # BST
        dt.datetime(2025, 10, 27, 7, 30, tzinfo=UTC),  # GMT (clocks went back on Sunday 26 October)
        dt.datetime(2025, 11, 3, 7, 30, tzinfo=UTC),
    ]
    for t in spring + autumn:
        local = t.astimezone(LONDON)
        assert (local.weekday(), local.hour, local.minute) == (0, 7, 30)


def test_cron_and_every_give_the_same_times() -> None:
    start = dt.datetime(2025, 3, 1, tzinfo=LONDON)
    a = fire_times(job(every="monday 07:30").trigger(), start, 8)
    b = fire_times(job(cron="30 7 * * mon").trigger(), start, 8)
    assert [t.astimezone(UTC) for t in a] == [t.astimezone(UTC) for t in b]


def test_spring_forward_nonexistent_time_runs_once_an_hour_later() -> None:
    """Observed (APScheduler 3.11, zoneinfo): 01:30 does not exist on 30 March 2025; the run happens once, at
    01:30 UTC = 02:30 BST (shifted by the gap, not at the first valid time 02:00), and is not skipped."""
    runs = fire_times(job(every="day 01:30").trigger(), dt.datetime(2025, 3, 29, 12, tzinfo=LONDON), 3)
    assert [t.astimezone(UTC) for t in runs] == [
        dt.datetime(2025, 3, 29, 1, 30, tzinfo=UTC) + dt.timedelta(days=1),  # 30 March 01:30 UTC
        dt.datetime(2025, 3, 31, 0, 30, tzinfo=UTC),  # 01:30 BST
        dt.datetime(2025, 4, 1, 0, 30, tzinfo=UTC),
    ]
    assert runs[0].astimezone(UTC).astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"
    at_one = job(every="day 01:00").trigger().get_next_fire_time(None, dt.datetime(2025, 3, 29, 12, tzinfo=LONDON))
    assert at_one is not None and at_one.astimezone(UTC).astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"


def test_fall_back_repeated_time_runs_twice() -> None:
    """Observed (APScheduler 3.11, zoneinfo): 01:30 happens twice on 26 October 2025 and the job fires at both,
    01:30 BST (00:30 UTC) and 01:30 GMT (01:30 UTC). It does NOT run once."""
    runs = fire_times(job(every="day 01:30").trigger(), dt.datetime(2025, 10, 25, 12, tzinfo=LONDON), 3)
    assert [t.astimezone(UTC) for t in runs] == [
        dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
        dt.datetime(2025, 10, 27, 1, 30, tzinfo=UTC),
    ]
    assert [t.astimezone(UTC).astimezone(LONDON).strftime("%H:%M %Z") for t in runs[:2]] == ["01:30 BST", "01:30 GMT"]


def test_trigger_survives_the_job_store_round_trip() -> None:
    import pickle

    trigger = job(every="monthly last 08:00", timezone="Europe/London").trigger()
    again = pickle.loads(pickle.dumps(trigger))
    start = dt.datetime(2025, 2, 1, tzinfo=LONDON)
    assert again.get_next_fire_time(None, start) == dt.datetime(2025, 2, 28, 8, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("monday 07:30", {"day_of_week": "mon", "hour": "7", "minute": "30"}),
        ("Mon|Thu 7:05", {"day_of_week": "mon,thu", "hour": "7", "minute": "5"}),
        ("weekday 06:00", {"day_of_week": "mon-fri", "hour": "6", "minute": "0"}),
        ("day 23:59", {"hour": "23", "minute": "59"}),
        ("daily 00:00", {"hour": "0", "minute": "0"}),
        ("monthly 1 08:00", {"day": "1", "hour": "8", "minute": "0"}),
        ("monthly last 17:00", {"day": "last", "hour": "17", "minute": "0"}),
    ],
)
def test_every_shorthand(text: str, fields: dict[str, str]) -> None:
    assert parse_every(text) == fields


@pytest.mark.parametrize(
    "text",
    [
        "",
        "monday",
        "monday 24:00",
        "monday 07:60",
        "fortnightly 07:30",
        "monthly 0 08:00",
        "monthly 1st 08:00",
        "monday tuesday 07:30",
    ],
)
def test_every_shorthand_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="every|cannot read|day of the month"):
        parse_every(text)


# ----------------------------------------------------------------------------------------------- recipients
def test_recipients_resolve_in_order_without_duplicates(project: Path) -> None:
    (project / "recipients" / "r.csv").write_text(
        "email,org_code,name\n"
        "a@example.nhs.uk,RJ1,A\n"
        "b@example.nhs.uk,RXW,B\n"
        "A@example.nhs.uk,RJ1,A again\n"  # same person, same trust (case differs): dropped
        "a@example.nhs.uk,RXW,A for RXW\n"  # same person, second trust: kept
        "ceo@example.nhs.uk,RJ1,CEO\n"  # also on the list (no organisation): a different pair, kept
    )
    text = HEAD + JOB.replace(
        "lists: [executives]",
        "addresses: [x@example.nhs.uk, coo@example.nhs.uk]\n      lists: [executives]\n      file: recipients/r.csv",
    )
    schedules = load(project, text, known_orgs=KNOWN_ORGS)
    assert schedules.recipients_for("weekly", project) == [
        ("x@example.nhs.uk", None),
        ("coo@example.nhs.uk", None),  # listed directly and through `executives`: once
        ("ceo@example.nhs.uk", None),
        ("a@example.nhs.uk", "RJ1"),
        ("b@example.nhs.uk", "RXW"),
        ("a@example.nhs.uk", "RXW"),
        ("ceo@example.nhs.uk", "RJ1"),
    ]
    assert schedules.jobs[0].recipients_for(project) == schedules.recipients_for("weekly", project)


def test_recipients_file_may_not_leave_the_project(project: Path) -> None:
    text = HEAD + JOB.replace("lists: [executives]", "file: ../outside.csv")
    err = error(project, text)
    assert "leads outside the project" in str(err) and err.line == line_of(text, "file:")


def test_retry_delays_double_and_stay_under_a_minute() -> None:
    delays = job(every="monday 07:30").retries.delays()
    assert delays == [5.0, 10.0] and sum(delays) < 60


def test_public_names_are_sorted_and_exist() -> None:
    import reporting.schedule.config as module

    assert list(module.__all__) == sorted(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


def test_a_public_pack_can_be_scheduled_as_html(project: Path) -> None:
    """The Board pack is public (its HTML edition is built by default), so a job may ask for html alone."""
    text = HEAD + JOB.replace("pack: weekly-executive", "pack: board").replace(
        "every: monday 07:30", "every: monday 07:30\n    formats: [html, pdf]"
    )
    (job,) = load(project, text, known_orgs=KNOWN_ORGS).jobs
    assert job.formats == ["html", "pdf"]
