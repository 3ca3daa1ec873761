"""Turn raw source rows into the MetricFrame, the one tidy shape everything downstream takes.

MetricFrame columns: metric_id, org_code, period (datetime64, the start of the period), value, numerator,
denominator, flag. `flag` is "" for a good row, "missing" when an input was blank (value kept as a gap) and
"zero_denominator" when the denominator was 0 (row kept, value missing). Nothing is dropped silently: rows
left out on purpose (`skip_missing`) are counted in the load report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reporting.data.catalogue import Metric
from reporting.data.expr import parse_expression
from reporting.data.source_config import Source
from reporting.data.sources import RawTable
from reporting.errors import DataError

__all__ = [
    "FLAGS",
    "METRIC_FRAME_COLUMNS",
    "MetricLoad",
    "build_metric",
    "empty_metric_frame",
    "validate_metric_frame",
]

METRIC_FRAME_COLUMNS = ("metric_id", "org_code", "period", "value", "numerator", "denominator", "flag")
FLAGS = ("", "missing", "zero_denominator")

#: Date formats tried, in order, when a source does not say; the first that reads the first date wins,
#: and then every row must use it (mixed formats are an error, not a guess).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b-%y",
    "%b %Y",
    "%B %Y",
    "%Y-%m",
)
_HUMAN_FORMAT = {
    "%Y-%m-%d": "YYYY-MM-DD",
    "%d/%m/%Y": "DD/MM/YYYY",
    "%d-%m-%Y": "DD-MM-YYYY",
    "%Y/%m/%d": "YYYY/MM/DD",
    "%Y-%m": "YYYY-MM",
}
_PERIOD_ALIAS = {"daily": "D", "weekly": "W-SUN", "monthly": "M", "quarterly": "Q"}


@dataclass(frozen=True)
class MetricLoad:
    """What one metric's load found: enough to print a summary and to write in a closing note."""

    metric_id: str
    source: str
    rows: int
    orgs: int
    first_period: pd.Timestamp | None
    last_period: pd.Timestamp | None
    missing: int
    zero_denominator: int
    skipped: int
    aggregated: int = 0  # rows combined into others by `aggregate:` (duplicates of an organisation and period)


def empty_metric_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric_id": pd.Series(dtype="string"),
            "org_code": pd.Series(dtype="string"),
            "period": pd.Series(dtype="datetime64[ns]"),
            "value": pd.Series(dtype="float64"),
            "numerator": pd.Series(dtype="float64"),
            "denominator": pd.Series(dtype="float64"),
            "flag": pd.Series(dtype="string"),
        }
    )


def _row(table: RawTable, label: Any) -> int:
    """Human row number of the row with this index label: after `where:` has filtered the rows, a position in
    the filtered frame is not a position in the source, so rows are found by label, never by position."""
    return int(table.rows.loc[label])


def parse_periods(table: RawTable, values: pd.Series, column: str, date_format: str | None) -> pd.Series:
    """Parse a date column with one format for every row; name the first row that does not fit it."""
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    if blank.any():
        pos = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataError(
            "date is blank; expected a date for every row",
            source=table.origin,
            row=_row(table, values.index[pos]),
            field=column,
            row_label=table.row_label,
        )
    if not len(text):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    formats = (date_format,) if date_format else DATE_FORMATS
    first = text.iloc[0]
    chosen = next(
        (f for f in formats if not pd.isna(pd.to_datetime(pd.Series([first]), format=f, errors="coerce").iloc[0])), None
    )
    if chosen is None:
        expected = (
            f"format {date_format!r}"
            if date_format
            else "a date such as 2024-04-01 or 01/04/2024; "
            f"for other layouts set the source's date_format, e.g. {_suggest_format(first)}"
        )
        raise DataError(
            f"cannot read {first!r} as a date; expected {expected}",
            source=table.origin,
            row=_row(table, values.index[0]),
            field=column,
            row_label=table.row_label,
        )
    parsed = pd.to_datetime(text, format=chosen, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        human = _HUMAN_FORMAT.get(chosen, chosen)
        raise DataError(
            f"date {text.iloc[pos]!r} is not in the format used by the rest of the column ({human}); "
            f"mixed date formats are ambiguous, so set 'date_format' or fix the row",
            source=table.origin,
            row=_row(table, values.index[pos]),
            field=column,
            row_label=table.row_label,
        )
    return parsed


def _numbers(table: RawTable, values: pd.Series, column: str, *, counts: bool, purpose: str) -> pd.Series:
    raw = values.astype("string").str.strip()
    # "1,234" is thousands grouping; "100,5" or "1,2,3" is not a number we can read safely
    grouped = raw.str.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False).astype(bool)
    text = raw.where(~grouped, raw.str.replace(",", "", regex=False))
    blank = text.isna() | (text == "") | text.str.upper().isin(["NA", "N/A", "NULL", "NAN", "-"])
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
    bad = (numbers.isna() | np.isinf(numbers)) & ~blank
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"expected a number for {purpose}, got {values.iloc[pos]!r}",
            source=table.origin,
            row=_row(table, values.index[pos]),
            field=column,
            row_label=table.row_label,
        )
    if counts:
        negative = (numbers < 0).fillna(False)
        if negative.any():
            pos = int(np.flatnonzero(negative.to_numpy())[0])
            raise DataError(
                f"expected a count of 0 or more for {purpose}, got {values.iloc[pos]!r}",
                source=table.origin,
                row=_row(table, values.index[pos]),
                field=column,
                row_label=table.row_label,
            )
    return numbers.astype("float64")


def _evaluate(table: RawTable, frame: pd.DataFrame, metric: Metric, field: str, *, counts: bool) -> pd.Series:
    expression = parse_expression(getattr(metric, field))
    columns = {
        c: _numbers(table, frame[c], c, counts=counts, purpose=f"metric '{metric.id}' {field}")
        for c in expression.columns
    }
    result = expression.evaluate(columns)
    if counts:
        negative = (result < 0).fillna(False)
        if negative.any():
            pos = int(np.flatnonzero(negative.to_numpy())[0])
            raise DataError(
                f"{field} '{expression.text}' is {result.iloc[pos]:g} for metric '{metric.id}'; expected 0 or more",
                source=table.origin,
                row=_row(table, frame.index[pos]),
                field=field,
                row_label=table.row_label,
            )
    return result


def build_metric(metric: Metric, source: Source, table: RawTable) -> tuple[pd.DataFrame, MetricLoad]:
    """Rows of one metric from its source table, checked; the rules are in the module docstring."""
    needed = [source.org_code, source.period or "", *metric.where]
    for field in ("value", "numerator", "denominator"):
        if getattr(metric, field) is not None:
            needed += [c for c in parse_expression(getattr(metric, field)).columns]
    for column in needed:
        if column not in table.frame.columns:
            raise table.missing_column(column, f"metric '{metric.id}'")
    frame = table.frame
    if metric.where:
        keep = np.ones(len(frame), dtype=bool)
        for column, wanted in metric.where.items():
            keep &= _where_keep(table, frame, column, wanted, source)
        frame = frame[keep]
    if frame.empty:  # an empty result would replace the last good data with nothing
        why = (
            f"no rows match where {dict(metric.where)}"
            if metric.where and len(table.frame)
            else "the source has no data rows"
        )
        raise DataError(
            f"{why}; metric '{metric.id}' would be empty",
            source=table.origin,
            field=next(iter(metric.where), source.period),
            row_label=table.row_label,
        )
    assert source.period is not None  # checked when the catalogue loads
    periods = parse_periods(table, frame[source.period], source.period, source.date_format)
    periods = periods.dt.to_period(_PERIOD_ALIAS[metric.frequency]).dt.start_time.astype("datetime64[ns]")
    orgs = frame[source.org_code].astype("string").str.strip()
    blank_org = (orgs.isna() | (orgs == "")).to_numpy()
    if blank_org.any():
        pos = int(np.flatnonzero(blank_org)[0])
        raise DataError(
            "organisation code is blank",
            source=table.origin,
            row=_row(table, frame.index[pos]),
            field=source.org_code,
            row_label=table.row_label,
        )

    if metric.is_ratio:
        numerator = _evaluate(table, frame, metric, "numerator", counts=True)
        denominator = _evaluate(table, frame, metric, "denominator", counts=True)
        missing = (numerator.isna() | denominator.isna()).to_numpy()
        zero = (~missing) & (denominator.to_numpy() == 0)
        if metric.unit == "percent":
            over = (~missing) & (numerator.to_numpy() > denominator.to_numpy())
            if over.any():
                pos = int(np.flatnonzero(over)[0])
                raise DataError(
                    f"numerator {numerator.iloc[pos]:g} exceeds denominator {denominator.iloc[pos]:g} "
                    f"for percent metric '{metric.id}'; expected numerator <= denominator",
                    source=table.origin,
                    row=_row(table, frame.index[pos]),
                    field="numerator",
                    row_label=table.row_label,
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(missing | zero, np.nan, numerator.to_numpy() / denominator.to_numpy() * metric.scale)
        num, den = numerator.to_numpy(), denominator.to_numpy()
    else:
        values = _evaluate(table, frame, metric, "value", counts=metric.unit == "count")
        value = values.to_numpy()
        if metric.unit == "percent" and np.isfinite(value).any() and np.nanmedian(value) > 1.5:
            raise DataError(
                f"percent values are stored as fractions (0.742 shows as 74.2%), but metric "
                f"'{metric.id}' has a median of {np.nanmedian(value):g}; divide by 100 in 'value'",
                source=table.origin,
                field="value",
                row_label=table.row_label,
            )
        missing = np.isnan(value)
        zero = np.zeros(len(value), dtype=bool)
        num = den = np.full(len(value), np.nan)

    flag = np.where(zero, "zero_denominator", np.where(missing | ~np.isfinite(value), "missing", ""))
    out = pd.DataFrame(
        {
            "metric_id": pd.array([metric.id] * len(frame), dtype="string"),
            "org_code": orgs.to_numpy(),
            "period": periods.to_numpy(),
            "value": value,
            "numerator": num,
            "denominator": den,
            "flag": pd.array(flag, dtype="string"),
        }
    )
    out["org_code"] = out["org_code"].astype("string")
    rows = table.rows.loc[frame.index].to_numpy() if len(frame) else np.array([], dtype=int)
    skipped = 0
    if metric.skip_missing:
        keep = flag != "missing"
        skipped = int((~keep).sum())
        out, rows = out[keep].reset_index(drop=True), rows[keep]
    aggregated = 0
    if metric.aggregate is not None:
        before = len(out)
        out, rows = _aggregate(out, rows, metric)
        aggregated = before - len(out)
    _check_duplicates(out, rows, table, metric)
    out = out.sort_values(["org_code", "period"], kind="stable").reset_index(drop=True)
    load = MetricLoad(
        metric_id=metric.id,
        source=table.name,
        rows=len(out),
        orgs=int(out["org_code"].nunique()),
        first_period=out["period"].min() if len(out) else None,
        last_period=out["period"].max() if len(out) else None,
        missing=int((out["flag"] == "missing").sum()),
        zero_denominator=int((out["flag"] == "zero_denominator").sum()),
        skipped=skipped,
        aggregated=aggregated,
    )
    return out, load


def _where_keep(table: RawTable, frame: pd.DataFrame, column: str, wanted: object, source: Source) -> np.ndarray:
    """Rows of `frame` that pass one `where:` entry (a value to equal, or a WhereTest)."""
    from reporting.data.source_config import WhereTest

    text = frame[column].astype("string").str.strip()
    if not isinstance(wanted, WhereTest):
        return (text == _where_text(wanted)).fillna(False).to_numpy(dtype=bool)
    keep = np.ones(len(frame), dtype=bool)
    if wanted.equals is not None:
        keep &= (text == _where_text(wanted.equals)).fillna(False).to_numpy(dtype=bool)
    if wanted.not_equals is not None:
        keep &= (text != _where_text(wanted.not_equals)).fillna(True).to_numpy(dtype=bool)
    if wanted.one_of is not None:
        keep &= text.isin([_where_text(v) for v in wanted.one_of]).fillna(False).to_numpy(dtype=bool)
    bounds = [
        (wanted.above, np.greater),
        (wanted.at_least, np.greater_equal),
        (wanted.below, np.less),
        (wanted.at_most, np.less_equal),
    ]
    if any(b is not None for b, _ in bounds):
        numbers = _numbers(table, frame[column], column, counts=False, purpose=f"where '{column}'").to_numpy()
        for bound, test in bounds:
            if bound is not None:
                with np.errstate(invalid="ignore"):
                    keep &= test(numbers, bound) & ~np.isnan(numbers)
    if wanted.from_ is not None or wanted.to is not None:
        fmt = source.date_format if column == source.period else None
        dates = parse_periods(table, frame[column], column, fmt).to_numpy()
        if wanted.from_ is not None:
            keep &= dates >= np.datetime64(wanted.from_)
        if wanted.to is not None:
            keep &= dates < np.datetime64(wanted.to) + np.timedelta64(1, "D")
    return keep


def _aggregate(out: pd.DataFrame, rows: np.ndarray, metric: Metric) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per organisation and period, combining duplicates the way the metric says. A group with a
    blank input stays blank (a sum that silently left one out would be too low), and row numbers are those
    of each group's first row, so later errors still point at the file."""
    how = metric.aggregate
    work = out.assign(_row=rows)
    keys = ["org_code", "period"]
    grouped = work.groupby(keys, sort=False, dropna=False)
    first = grouped.head(1).set_index(keys)
    columns = ["numerator", "denominator"] if metric.is_ratio else ["value"]

    def combine(series: pd.Series) -> float:
        if how == "first":
            return float(series.iloc[0])
        if series.isna().any():
            return float("nan")
        return float(series.sum() if how == "sum" else series.mean())

    combined = grouped[columns].agg(combine)
    result = first.drop(columns=columns).join(combined).reset_index()
    if metric.is_ratio:
        num, den = result["numerator"].to_numpy(), result["denominator"].to_numpy()
        missing, zero = np.isnan(num) | np.isnan(den), (den == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            result["value"] = np.where(missing | zero, np.nan, num / den * metric.scale)
        flag = np.where(zero & ~missing, "zero_denominator", np.where(missing, "missing", ""))
    else:
        flag = np.where(np.isnan(result["value"].to_numpy()), "missing", "")
    result["flag"] = pd.array(flag, dtype="string")
    result["org_code"] = result["org_code"].astype("string")
    new_rows = result.pop("_row").to_numpy()
    return result[list(METRIC_FRAME_COLUMNS)], new_rows


def _suggest_format(text: str) -> str:
    """A date_format that reads `text`, for the error message (e.g. 'Apr-2022' -> "%b-%Y")."""
    for fmt in ("%b-%Y", "%B-%Y", "%b %y", "%d.%m.%Y", "%m/%Y", "%Y%m", "%Y%m%d", "%d %b %y", "%b-%d-%Y", "%Y-%b"):
        try:
            dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return f'date_format: "{fmt}"'
    return 'date_format: "%d/%m/%Y"'


def _where_text(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_duplicates(out: pd.DataFrame, rows: np.ndarray, table: RawTable, metric: Metric) -> None:
    dup = out.duplicated(["org_code", "period"], keep=False).to_numpy()
    if not dup.any():
        return
    first = int(np.flatnonzero(dup)[0])
    org, period = out["org_code"].iloc[first], out["period"].iloc[first]
    same = np.flatnonzero(dup & (out["org_code"] == org).to_numpy() & (out["period"] == period).to_numpy())
    where = " and ".join(f"{table.row_label} {int(rows[i])}" for i in same[:3])
    raise DataError(
        f"duplicate rows for metric '{metric.id}', organisation {org}, {metric.frequency} period "
        f"starting {period:%Y-%m-%d} ({where}); expected one row per organisation and period",
        source=table.origin,
        row=int(rows[same[-1]]),
        field="period",
        row_label=table.row_label,
    )


def validate_metric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a frame has the MetricFrame shape (e.g. one read back from a snapshot); returns it canonicalised."""
    missing = [c for c in METRIC_FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"not a MetricFrame: columns {', '.join(missing)} are missing", field=missing[0])
    out = frame.loc[:, list(METRIC_FRAME_COLUMNS)].copy()
    for column in ("metric_id", "org_code", "flag"):
        out[column] = out[column].astype("string")
    out["period"] = pd.to_datetime(out["period"]).astype("datetime64[ns]")
    for column in ("value", "numerator", "denominator"):
        out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
    unknown = set(out["flag"].dropna().unique()) - set(FLAGS)
    if unknown:
        raise DataError(f"unknown flag(s) {sorted(unknown)}; expected one of {list(FLAGS)}", field="flag")
    dup = out.duplicated(["metric_id", "org_code", "period"])
    if dup.any():
        row = out[dup].iloc[0]
        raise DataError(
            f"duplicate (metric, org, period): ({row.metric_id}, {row.org_code}, {row.period:%Y-%m-%d})",
            row=int(np.flatnonzero(dup.to_numpy())[0]) + 1,
            field="period",
            row_label="row",
        )
    return out.sort_values(["metric_id", "org_code", "period"], kind="stable").reset_index(drop=True)
