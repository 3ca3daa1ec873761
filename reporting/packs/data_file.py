"""The pack's numbers as data: `<pack>.data.json` beside the pack files, listed in manifest.json.

Why: the Board's figures must be checkable by a machine (open data, "what changed since last week", an
auditor's script) without scraping slides. Everything here is read from the batch *after* disclosure control,
from the same views the charts were drawn from, so the file, the native charts' caches and the Excel data
sheets say the same numbers. Schema: docs/pack-data.md (`SCHEMA_VERSION` below).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from reporting.files import atomic_write
from reporting.packs.batch import Batch
from reporting.packs.tree import Pack

__all__ = ["SCHEMA_VERSION", "pack_data", "write_pack_data"]

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


def pack_data(batch: Batch, pack: Pack) -> dict[str, Any]:
    """The document as plain dicts and lists (JSON-ready): one entry per metric x organisation x view."""
    org = pack.org_code
    rows = batch.views.get(org, {})
    points = batch.points.get(org, pd.DataFrame())
    series = []
    for metric_id, views in batch.metric_views.items():
        metric = batch.catalogue.metric(metric_id)
        for i, view in enumerate(views):
            row = rows.get((metric_id, view.key))
            if row is None:
                continue
            mine = (
                points[(points["metric_id"] == metric_id) & (points["_view"] == view.key)].sort_values("x")
                if len(points) and "_view" in points
                else pd.DataFrame()
            )
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


def write_pack_data(batch: Batch, pack: Pack, path: Path) -> Path:
    return atomic_write(path, json.dumps(pack_data(batch, pack), indent=1, ensure_ascii=False) + "\n")
