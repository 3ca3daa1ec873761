"""When a job runs: the `every:` shorthand and the `cron:` check, each made into an APScheduler `CronTrigger`.

Errors are ValueErrors whose message says what was expected; the schedules.yaml models (schedule.config)
turn them into ConfigErrors naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = ["check_cron", "check_zone", "parse_every", "trigger"]

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


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def check_zone(name: str) -> zoneinfo.ZoneInfo:
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


def check_cron(value: str) -> None:
    """A five-field crontab APScheduler reads the way crontab does; raises ValueError saying why not."""
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
        parsed = CronTrigger.from_crontab(value, timezone=dt.UTC)
    except ValueError as exc:
        raise ValueError(f"cron {value!r} does not parse: {exc}") from None
    if parsed.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is None:
        raise ValueError(f"cron {value!r} never fires")


def trigger(every: str | None, cron: str | None, zone: zoneinfo.ZoneInfo) -> CronTrigger:
    """The APScheduler 3 `CronTrigger` for a job's `every:` or `cron:`, in its time zone (wall-clock times).

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

    if cron is not None:
        return CronTrigger.from_crontab(cron, timezone=zone)
    return CronTrigger(timezone=zone, **parse_every(every or ""))
