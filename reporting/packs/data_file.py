"""The pack's numbers as data: `<pack>.data.json` beside the pack files, listed in manifest.json.

Why: the Board's figures must be checkable by a machine (open data, "what changed since last week", an
auditor's script) without scraping slides. Everything here is read from the batch *after* disclosure control,
from the same views the charts were drawn from, so the file, the native charts' caches and the Excel data
sheets say the same numbers. Schema: docs/pack-data.md (`SCHEMA_VERSION` below).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from reporting.files import atomic_write
from reporting.packs.tree import Pack

if TYPE_CHECKING:  # a type only: packs.blocks (imported by packs.batch) reads previous packs from here
    from reporting.packs.batch import Batch

__all__ = [
    "SCHEMA_VERSION",
    "NoPrevious",
    "PreviousPack",
    "PreviousSeries",
    "pack_data",
    "previous_pack",
    "write_pack_data",
]

SCHEMA_VERSION = "1"


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _day(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    try:
        return pd.Timestamp(value).date().isoformat()
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


#: the points' columns the document reads (the group keys, then what it says of each point)
_POINT_COLUMNS = frozenset(
    ("metric_id", "_view", "x", "y", "numerator", "denominator", "mean", "lpl", "upl", "point_type")
    + ("rebase_group", "used_for_limits")
)
_NO_POINTS = pd.DataFrame()


def pack_data(batch: Batch, pack: Pack) -> dict[str, Any]:
    """The document as plain dicts and lists (JSON-ready): one entry per metric x organisation x view."""
    org = pack.org_code
    rows = batch.views.get(org, {})
    points = batch.points.get(org, pd.DataFrame())
    by_view: dict[tuple[str, str], pd.DataFrame] = {}  # (metric, view) -> its points: one group-by, not a mask each
    if len(points) and "_view" in points:
        points = points[[c for c in points.columns if c in _POINT_COLUMNS]]
        by_view = {(str(k[0]), str(k[1])): g for k, g in points.groupby(["metric_id", "_view"], sort=False)}
    series = []
    for metric_id, views in batch.metric_views.items():
        metric = batch.catalogue.metric(metric_id)
        for i, view in enumerate(views):
            row = rows.get((metric_id, view.key))
            if row is None:
                continue
            mine = by_view[(metric_id, view.key)].sort_values("x") if (metric_id, view.key) in by_view else _NO_POINTS
            shown = [
                {
                    "period": _day(p["x"]),
                    "value": _num(p["y"]),
                    "numerator": _num(p.get("numerator")),
                    "denominator": _num(p.get("denominator")),
                    "mean": _num(p["mean"]),
                    "lower_limit": _num(p["lpl"]),
                    "upper_limit": _num(p["upl"]),
                    "point_type": _text(p.get("point_type")),
                    "rebase_group": int(p["rebase_group"]),
                    "used_for_limits": bool(p["used_for_limits"]),
                }
                for p in mine.to_dict("records")
            ]
            notes = row.get("annotations") or ()
            series.append(
                {
                    "metric": metric_id,
                    "title": metric.title,
                    "unit": metric.unit,
                    "frequency": metric.frequency,
                    "org": str(row.get("org_code")) if row.get("org_code") is not None else org,
                    "view": {
                        "periods": view.periods,
                        "baseline": None
                        if view.baseline is None
                        else view.baseline.model_dump(mode="json", by_alias=True, exclude_none=True),
                        "primary": i == 0,
                    },
                    "period_shown": {
                        "first": _day(row.get("window_first")),
                        "last": shown[-1]["period"] if shown else None,
                    },
                    "latest_available": _day(row.get("latest_available")),
                    "stale": bool(row.get("stale")),
                    "max_lag": metric.max_lag,
                    "chart": {"catalogue": metric.chart, "used": row.get("chart_used") or None},
                    "dispersion": {
                        "sigma_z": _num(row.get("sigma_z")),
                        "overdispersed": bool(row.get("overdispersed")),
                    },
                    "baseline": {
                        "first": _day(row.get("baseline_first")),
                        "last": _day(row.get("baseline_last")),
                        "points": int(row.get("baseline_n") or 0),
                        "fixed": bool(row.get("baseline_fixed")),
                        "trial_limits": bool(row.get("trial_limits")),
                    },
                    "annotations": [{"period": _day(a.period), "kind": a.kind, "reason": a.reason} for a in notes],
                    "missing_periods": [_day(m) for m in row.get("missing_periods") or ()],
                    "latest": {
                        "period": _day(row.get("last_valid_x")) if not row.get("stale") else None,
                        "value": None if row.get("stale") else _num(row.get("last_valid_y")),
                        "mean": _num(row.get("mean")),
                        "lower_limit": _num(row.get("lpl")),
                        "upper_limit": _num(row.get("upl")),
                        "target": _num(row.get("target")),
                    },
                    "variation": _text(row.get("variation_icon")),
                    "assurance": _text(row.get("assurance")),
                    "points": shown,
                }
            )
    return {
        "schema_version": SCHEMA_VERSION,
        "pack": pack.id,
        "title": pack.title,
        "org": org,
        "org_name": pack.org_name,
        "period": pack.period.isoformat(),
        "period_label": pack.period_label,
        "snapshot_hash": pack.provenance.snapshot_hash,
        "template_hash": pack.provenance.template_hash,
        "disclosure": "values, numerators and denominators after disclosure control; suppressed cells are null",
        "series": series,
    }


def write_pack_data(batch: Batch, pack: Pack, path: Path, doc: dict[str, Any] | None = None) -> Path:
    """Write the document at `path`; `doc` is `pack_data(batch, pack)` when the caller has made it already (the
    open data is read from the same document)."""
    document = pack_data(batch, pack) if doc is None else doc
    return atomic_write(path, json.dumps(document, indent=1, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------ reading a previous pack
@dataclass(frozen=True)
class PreviousSeries:
    """A metric's primary view as a previous pack published it: its latest figure and icons."""

    metric: str
    title: str
    frequency: str
    period: dt.date | None  # the latest point's period (None: stale or no data then)
    value: float | None
    variation: str | None
    assurance: str | None
    stale: bool


@dataclass(frozen=True)
class PreviousPack:
    """The latest pack of the same template and organisation published for a period before this one."""

    period: dt.date
    file: Path
    series: dict[str, PreviousSeries]  # by metric id (primary views only)


@dataclass(frozen=True)
class NoPrevious:
    """Why there is nothing to compare with (the block rule words it for the pack).

    `first`: no pack published before this one; `no_data`: the previous pack has no data file (built before
    there was one); `unreadable`: the file is missing, not JSON or not in the documented form; `schema`: it
    says another schema version (`detail`). `period` is the previous pack's, when one was found."""

    why: Literal["first", "no_data", "unreadable", "schema"]
    period: dt.date | None = None
    detail: str = ""


def _published(outputs: Path, pack: str, before: dt.date, org: str | None) -> tuple[dt.date, dict[str, Any], Path]:
    """(period, manifest, folder) of the latest published pack before `before`; KeyError when there is none.

    Published means a manifest.json in outputs/<pack>/<period>[/<org>]/ (the swap into place writes it last),
    naming this organisation (a pack built without --org has no org folder but its manifest names it)."""
    root = outputs / pack
    periods = []
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue  # a staging directory, or anything else a person put there
        if day < before:
            periods.append((day, folder))
    for day, folder in sorted(periods, reverse=True):
        for where in ([folder / org] if org else []) + [folder]:
            try:
                manifest = json.loads((where / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(manifest, dict) and manifest.get("pack") == pack and manifest.get("org") == org:
                return day, manifest, where
    raise KeyError(pack)


def _series(doc: dict[str, Any], org: str | None) -> dict[str, PreviousSeries]:
    out: dict[str, PreviousSeries] = {}
    for s in doc["series"]:
        if not s["view"]["primary"] or (org is not None and s.get("org") not in (org, None)):
            continue
        latest = s.get("latest") or {}
        period = latest.get("period")
        out[str(s["metric"])] = PreviousSeries(
            metric=str(s["metric"]),
            title=str(s.get("title") or s["metric"]),
            frequency=str(s["frequency"]),
            period=dt.date.fromisoformat(period) if isinstance(period, str) else None,
            value=_num(latest.get("value")),
            variation=_text(s.get("variation")),
            assurance=_text(s.get("assurance")),
            stale=bool(s.get("stale")),
        )
    return out


def previous_pack(outputs: Path, pack: str, period: dt.date, org: str | None) -> PreviousPack | NoPrevious:
    """The previous published pack's numbers, read from its `<pack>.data.json`, or why there are none.

    Never raises for what is on disk: a missing, unreadable or other-schema file is a sentence in the pack
    ("what changed since last week" must not stop a Monday build)."""
    try:
        day, manifest, folder = _published(outputs, pack, period, org)
    except (KeyError, OSError):
        return NoPrevious("first")
    data = manifest.get("data")
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or Path(name).name != name:
        return NoPrevious("no_data", day)
    try:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return NoPrevious("unreadable", day, name)
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if version != SCHEMA_VERSION:
        return NoPrevious("schema", day, str(version or "unknown"))
    try:
        series = _series(doc, org)
    except (KeyError, TypeError, ValueError, AttributeError):
        return NoPrevious("unreadable", day, name)
    return PreviousPack(day, folder / name, series)
