"""The register of data breaks, rebases and notes (templates/annotations.yaml), edited by analysts.

Why a register: a recording change (RJ1's emergency admissions halving in October 2023) is not a change in
performance, and nothing may be rebased silently. Each entry names the metric(s), the organisation(s), the
period, the kind and the reason; the reason is printed on the chart and in the narrative.

    annotations:
      - metric: [emergency_admissions, trolley_wait_4hr]
        org: RJ1                     # a code, a list of codes, or `all`
        period: 2023-10              # YYYY-MM or YYYY-MM-DD: the first period of the new regime
        kind: break                  # rebase | break | note
        reason: emergency admissions recorded under the new ECDS definition

Errors name the file, line and column. Checks that need only the catalogue (unknown metric, duplicates) run in
`load_annotations`; checks that need the data (unknown organisation, a period outside the series, a rebase
leaving fewer than two points in a group) run in `check_annotations`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reporting._yaml import Line, Located, load_yaml, raise_validation_error
from reporting.data.catalogue import Catalogue
from reporting.data.periods import Period, parse_month_or_date
from reporting.errors import ConfigError

__all__ = [
    "Annotation",
    "Entry",
    "Register",
    "Registered",
    "check_annotations",
    "dump_schema",
    "load_annotations",
    "period_start",
]

Kind = Literal["rebase", "break", "note"]
#: kinds that start new limits
REBASING = ("rebase", "break")
_ALIAS = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q", "daily": "D"}


def period_start(day: dt.date | pd.Timestamp, frequency: str) -> pd.Timestamp:
    """The start of the metric-frequency period holding `day` (Monday of a week, first of a month)."""
    return pd.Timestamp(pd.Timestamp(day).to_period(_ALIAS[frequency]).start_time)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Model):
    """One line of the register."""

    metric: str | list[str] = Field(description="metric id, or a list of them")
    org: str | list[str] = Field(description="organisation code, a list of codes, or 'all'")
    period: Period = Field(description="first period of the new regime (YYYY-MM or YYYY-MM-DD)")
    kind: Kind = Field(
        description="rebase: new limits from this period; break: a definition or recording change "
        "(rebase, drawn as a discontinuity, 'not comparable'); note: a label on the chart"
    )
    reason: str = Field(min_length=3, description="why; printed on the chart and in the narrative")

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> dt.date:
        return parse_month_or_date(value)

    @field_validator("metric", "org")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("give at least one")
        return value


class Register(_Model):
    annotations: list[Entry] = Field(default_factory=list)


@dataclass(frozen=True)
class Annotation:
    """One (metric, organisation) entry after lists are expanded; `org` is None for `all`."""

    metric_id: str
    org: str | None
    period: pd.Timestamp
    kind: str
    reason: str
    line: Line | None
    index: int

    def applies(self, metric_id: str, org: str | None) -> bool:
        return self.metric_id == metric_id and (self.org is None or self.org == org)

    @property
    def rebases(self) -> bool:
        return self.kind in REBASING


@dataclass(frozen=True)
class Registered:
    """The loaded register: its expanded entries and where they came from (for data checks' errors)."""

    entries: tuple[Annotation, ...]
    doc: Located | None

    def for_series(self, metric_id: str, org: str | None) -> tuple[Annotation, ...]:
        return tuple(a for a in self.entries if a.applies(metric_id, org))

    @property
    def file(self) -> Path | None:
        return self.doc.file if self.doc else None


EMPTY = Registered((), None)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def load_annotations(file: Path | str, catalogue: Catalogue) -> Registered:
    """Load and check the register; a missing file is an empty register (a project need not have one)."""
    file = Path(file)
    if not file.exists():
        return EMPTY
    doc = load_yaml(file)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping with 'annotations: [...]'", file=doc.file, line=Line(1, 1))
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        raise_validation_error(exc, doc, [*Register.model_fields, *Entry.model_fields])
        raise
    ids = [m.id for m in catalogue.metrics]
    out: list[Annotation] = []
    seen: dict[tuple[str, str | None, pd.Timestamp, str], Line | None] = {}
    for i, entry in enumerate(register.annotations):
        metrics = _listed(entry.metric)
        for k, metric_id in enumerate(metrics):
            if metric_id not in ids:
                path = ("annotations", i, "metric") + ((k,) if isinstance(entry.metric, list) else ())
                close = difflib.get_close_matches(metric_id, ids, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; metrics are: {', '.join(ids)}"
                raise ConfigError(
                    f"unknown metric '{metric_id}'{hint}",
                    file=doc.file,
                    line=doc.line_of(path),
                    field=f"annotations[{i}].metric",
                )
            metric = catalogue.metric(metric_id)
            orgs: list[str | None] = [None] if entry.org == "all" else list(_listed(entry.org))
            start = period_start(entry.period, metric.frequency)
            for org in orgs:
                key = (metric_id, org, start, entry.kind)
                line = doc.line_of(("annotations", i))
                if key in seen:
                    raise ConfigError(
                        f"duplicate entry: {entry.kind} of '{metric_id}' for {org or 'all'} in "
                        f"{start:%Y-%m-%d} is also at line {seen[key]}; keep one",
                        file=doc.file,
                        line=line,
                        field=f"annotations[{i}]",
                    )
                seen[key] = line
                out.append(Annotation(metric_id, org, start, entry.kind, entry.reason.strip(), line, i))
    return Registered(tuple(out), doc)


def check_annotations(registered: Registered, catalogue: Catalogue, metrics: pd.DataFrame, orgs: Iterable[str]) -> None:
    """Checks against the data: the organisation exists, the period lies inside the series, and a rebase
    leaves at least two points with a value on each side (up to the next rebase)."""
    if not registered.entries or registered.doc is None:
        return
    doc = registered.doc
    known = sorted(set(map(str, orgs)))
    # only the registered metrics' rows: grouping every row of the snapshot cost about 0.1 s of CPU per build
    valued = metrics[metrics["value"].notna() & metrics["metric_id"].isin({a.metric_id for a in registered.entries})]
    by_series = {
        k: g["period"].sort_values().to_numpy() for k, g in valued.groupby(["metric_id", "org_code"], observed=True)
    }
    for a in registered.entries:
        where = ("annotations", a.index)
        if a.org is not None and a.org not in known:
            close = difflib.get_close_matches(a.org, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(
                f"unknown organisation '{a.org}'{hint}",
                file=doc.file,
                line=doc.line_of((*where, "org")),
                field=f"annotations[{a.index}].org",
            )
        series = [(k[1], v) for k, v in by_series.items() if k[0] == a.metric_id and (a.org is None or k[1] == a.org)]
        if not series:
            raise ConfigError(
                f"no data for '{a.metric_id}' at {a.org or 'any organisation'}",
                file=doc.file,
                line=doc.line_of((*where, "metric")),
                field=f"annotations[{a.index}].metric",
            )
        metric = catalogue.metric(a.metric_id)
        first = min(pd.Timestamp(v[0]) for _, v in series)
        last = max(pd.Timestamp(v[-1]) for _, v in series)
        if not first <= a.period <= last:
            raise ConfigError(
                f"period {a.period:%Y-%m-%d} is outside the data of '{a.metric_id}' "
                f"({first:%Y-%m-%d} to {last:%Y-%m-%d}, {metric.frequency})",
                file=doc.file,
                line=doc.line_of((*where, "period")),
                field=f"annotations[{a.index}].period",
            )
        if not a.rebases:
            continue
        for org, periods in series:
            cuts = sorted({b.period for b in registered.for_series(a.metric_id, str(org)) if b.rebases})
            i = cuts.index(a.period)
            lo = cuts[i - 1] if i > 0 else pd.Timestamp.min
            hi = cuts[i + 1] if i + 1 < len(cuts) else pd.Timestamp.max
            ps = pd.DatetimeIndex(periods)
            before = int(((ps >= lo) & (ps < a.period)).sum())
            after = int(((ps >= a.period) & (ps < hi)).sum())
            if min(before, after) < 2:
                side = "before" if before < 2 else "from"
                raise ConfigError(
                    f"this {a.kind} leaves {min(before, after)} point(s) of '{a.metric_id}' at {org} "
                    f"{side} {a.period:%Y-%m-%d}; a group needs at least 2 (move or remove the entry)",
                    file=doc.file,
                    line=doc.line_of((*where, "period")),
                    field=f"annotations[{a.index}].period",
                )


def suggestion(
    metric_ids: Sequence[str], org: str, period: pd.Timestamp, kind: str, reason: str, frequency: str
) -> str:
    """A ready-to-paste register entry (YAML), as `reporting review` prints it."""
    when = f"{period:%Y-%m}" if frequency in ("monthly", "quarterly") else f"{period:%Y-%m-%d}"
    metric = metric_ids[0] if len(metric_ids) == 1 else "[" + ", ".join(metric_ids) + "]"
    return f"  - metric: {metric}\n    org: {org}\n    period: {when}\n    kind: {kind}\n    reason: {reason}\n"


def dump_schema() -> dict[str, Any]:
    """JSON Schema of templates/annotations.yaml, for editors and `reporting schema annotations`."""
    return Register.model_json_schema()
