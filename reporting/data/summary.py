"""Small read-only views over a MetricFrame for the command line (latest values, one org's history)."""

from __future__ import annotations

import pandas as pd

from reporting.data.catalogue import Metric
from reporting.errors import DataError
from reporting.formatting import format_value

__all__ = ["history", "latest_by_org", "latest_national", "missing_periods"]

_ALIAS = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q", "daily": "D"}


def _of(frame: pd.DataFrame, metric_id: str) -> pd.DataFrame:
    rows = frame[frame["metric_id"] == metric_id]
    if rows.empty:
        raise DataError(f"no rows for metric '{metric_id}' in the snapshot; run 'reporting data pull'", field="metric")
    return rows


def latest_by_org(frame: pd.DataFrame, orgs: pd.DataFrame, metric_id: str) -> pd.DataFrame:
    """Each organisation's latest period with a value (gaps are skipped, so a late submitter still shows)."""
    rows = _of(frame, metric_id)
    rows = rows[rows["value"].notna()].sort_values(["org_code", "period"]).groupby("org_code", as_index=False).tail(1)
    if rows.empty:
        raise DataError(
            f"metric '{metric_id}' has no values in the snapshot (every row is a gap or has a zero denominator)",
            field="metric",
        )
    return rows.merge(orgs[["org_code", "org_name"]], on="org_code", how="left").reset_index(drop=True)


def history(frame: pd.DataFrame, orgs: pd.DataFrame, metric_id: str, org_code: str, periods: int) -> pd.DataFrame:
    rows = _of(frame, metric_id)
    mine = rows[rows["org_code"] == org_code]
    if mine.empty:
        import difflib

        close = difflib.get_close_matches(org_code, sorted(rows["org_code"].unique()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise DataError(f"no rows for organisation '{org_code}' in metric '{metric_id}'{hint}", field="--org")
    out = mine.sort_values("period").tail(periods).reset_index(drop=True)
    names = orgs.loc[orgs["org_code"] == org_code, "org_name"]
    out.attrs["org_name"] = str(names.iloc[0]) if len(names) else ""
    return out


def latest_national(metric: Metric, frame: pd.DataFrame) -> str:
    """The latest period's all-organisation figure: pooled ratio for ratio metrics, sum for counts."""
    rows = frame[(frame["metric_id"] == metric.id) & frame["value"].notna()]
    if rows.empty:
        return "–"
    last = rows["period"].max()
    rows = rows[rows["period"] == last]
    if metric.is_ratio:
        value = rows["numerator"].sum() / rows["denominator"].sum() * metric.scale
    elif metric.unit == "count":
        value = rows["value"].sum()
    else:
        value = rows["value"].median()
    label = "median " if not metric.is_ratio and metric.unit != "count" else ""
    orgs = f"{len(rows)} org" + ("s" if len(rows) != 1 else "")
    return f"{label}{format_value(value, metric.unit, metric.decimals, metric.per)} ({last:%Y-%m-%d}, {orgs})"


def missing_periods(metric: Metric, frame: pd.DataFrame) -> tuple[int, int]:
    """(periods with no row inside each organisation's series, between its first and last row, summed;
    organisations with any): a month a source left out is a gap on every chart, so the pull says so."""
    rows = frame.loc[frame["metric_id"] == metric.id, ["org_code", "period"]]
    if rows.empty:
        return 0, 0
    ordinal = rows["period"].dt.to_period(_ALIAS[metric.frequency]).astype("int64")
    spans = ordinal.groupby(rows["org_code"], observed=True).agg(["min", "max", "nunique"])
    missing = (spans["max"] - spans["min"] + 1 - spans["nunique"]).clip(lower=0)
    return int(missing.sum()), int((missing > 0).sum())
