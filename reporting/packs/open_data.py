"""Open data beside every pack: the pack's numbers as a Frictionless Data Package (datapackage.json + CSV).

    write_data_package(pack, batch, directory, stem) -> [datapackage.json, <stem>-metrics.csv,
                                                         <stem>-dictionary.csv]

Why a Frictionless Data Package and not CSVW: both describe CSV with a JSON schema, but the Data Package is
what the `frictionless` validator, CKAN and data.gov.uk-style portals read directly, and one descriptor
holds both tables, their types, the licence and the sources. The CSV files are tidy:

- `<stem>-metrics.csv`: one row per metric x organisation x period the pack shows (the periods of its
  sparklines/SPC charts; the latest period where a metric has no trend): value, numerator, denominator,
  the SPC mean and process limits, point type, and for the latest period the variation and assurance
  icons, the organisation's rank in the pack's league table (where it has one) and the peer group;
- `<stem>-dictionary.csv`: the data dictionary from the catalogue: title, unit, definition, numerator,
  denominator, direction, frequency, source, disclosure rule, licence attribution.

Disclosure control is the pack's own: the rows come from the same disclosure-applied frame the pack was
built from (batch.frames), and a suppressed value has its value, numerator and denominator left empty with
`suppressed` true, exactly where the pack prints "*". A metric the catalogue gives no disclosure rule stops
the package, naming the metric. (When the pack's JSON data file lands, issue 11, `rows()` can read from it
instead; the package's shape does not change.)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reporting.errors import ConfigError

__all__ = ["FIELDS", "LICENCE", "rows", "write_data_package"]

LICENCE = {"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
           "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."

#: (name, Frictionless type, description) of each column of the metrics table, in order
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("metric_id", "string", "Metric id (see the dictionary table)"),
    ("org_code", "string", "ODS code of the organisation"),
    ("org_name", "string", "Name of the organisation"),
    ("period", "date", "First day of the period (month or week)"),
    ("value", "number", "The metric's value (a proportion 0-1 for percentages); empty when suppressed"),
    ("numerator", "number", "Numerator count; empty when suppressed or not a ratio"),
    ("denominator", "number", "Denominator count; empty when suppressed or not a ratio"),
    ("suppressed", "boolean", "True when disclosure control withheld the value"),
    ("mean", "number", "SPC mean (centre line)"),
    ("lower_process_limit", "number", "SPC lower process limit"),
    ("upper_process_limit", "number", "SPC upper process limit"),
    ("point_type", "string", "SPC point type: common_cause, special_cause_improvement, special_cause_concern, "
                             "special_cause_neutral_high or special_cause_neutral_low"),
    ("variation", "string", "Making Data Count variation icon (latest period only)"),
    ("assurance", "string", "Making Data Count assurance icon against the target (latest period only)"),
    ("target", "number", "Target in force for the period"),
    ("rank", "integer", "Rank of the organisation in the pack's league table for the metric, over the table's "
                        "periods (given on the latest period's row; empty if the pack has none)"),
    ("peer_group", "string", "Peer group the organisation is compared with"),
)
DICTIONARY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("metric_id", "string", "Metric id"), ("title", "string", "Title"), ("unit", "string", "Unit"),
    ("definition", "string", "Definition"), ("numerator", "string", "How the numerator is counted"),
    ("denominator", "string", "How the denominator is counted"),
    ("direction", "string", "Whether higher or lower is better"), ("frequency", "string", "Period length"),
    ("source", "string", "Data source"), ("suppress_below", "integer", "Counts below this are suppressed"),
    ("licence", "string", "Licence and attribution"),
)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _shown_periods(pack: Any) -> dict[str, list[pd.Timestamp]]:
    """metric id -> the periods the pack shows for it (its trend's x values, else its latest period)."""
    from reporting.packs.tree import SummaryTable

    shown: dict[str, list[pd.Timestamp]] = {}
    for block in pack.blocks():
        if not isinstance(block, SummaryTable):
            continue
        for row in block.rows:
            xs: list[pd.Timestamp] = []
            if row.sparkline is not None:
                data = next((s for s in row.sparkline.series if s.role == "data"), None)
                xs = [pd.Timestamp(str(x)) for x in data.x] if data is not None else []
            shown.setdefault(row.metric_id, [])
            shown[row.metric_id] = sorted(set(shown[row.metric_id]) | set(xs)) if xs else shown[row.metric_id]
    return shown


def _ranks(pack: Any, titles: dict[str, str]) -> dict[str, int]:
    """metric id -> the organisation's rank in the pack's league chart for it (bars labelled 'N. Name')."""
    from reporting.packs.tree import ChartBlock

    ranks: dict[str, int] = {}
    if not pack.org_name:
        return ranks
    for block in pack.blocks():
        if not isinstance(block, ChartBlock) or block.spec.kind != "league":
            continue
        metric = next((m for m, t in titles.items() if block.spec.title.startswith(t)), None)
        for series in block.spec.series:
            for label in series.x:
                number, _, name = str(label).partition(". ")
                if name.rstrip(" ◀") == pack.org_name and number.isdigit() and metric:
                    ranks[metric] = int(number)
    return ranks


def rows(pack: Any, batch: Any) -> list[dict[str, Any]]:
    """The metrics table: the pack's own disclosure-applied numbers, one row per metric x org x period."""
    org = pack.org_code
    key = org if org in batch.frames else None
    frame: pd.DataFrame = batch.frames[key]
    points: pd.DataFrame = batch.points[key]
    summaries: dict[str, dict[str, Any]] = batch.summaries[key]
    catalogue = batch.catalogue
    shown = _shown_periods(pack)
    titles = {m: catalogue.metric(m).title for m in shown}
    ranks = _ranks(pack, titles)
    out = []
    for metric_id, periods in shown.items():
        metric = catalogue.metric(metric_id)
        if getattr(metric, "disclosure", None) is None:
            raise ConfigError(f"metric '{metric_id}' has no disclosure rule, so its numbers cannot be published "
                              "as open data; add `disclosure: {suppress_below: N}` to it in the catalogue",
                              field=f"metrics.{metric_id}.disclosure")
        own = frame[(frame["metric_id"] == metric_id) & (frame["org_code"] == org)] if org else \
            frame[frame["metric_id"] == metric_id]
        spc = points[(points["metric_id"] == metric_id) & ((points["org_code"] == org) if org else True)]
        spc = spc.set_index(pd.to_datetime(spc["x"]))
        summary = summaries.get(metric_id, {})
        latest = pd.Timestamp(summary["latest_x"]) if summary.get("latest_x") is not None else None
        own = own.set_index(pd.to_datetime(own["period"]))
        if not periods:   # no trend shown (e.g. every point suppressed): the latest period, as the table has it
            last = latest if latest is not None else (own.index.max() if len(own) else None)
            periods = [last] if last is not None and not pd.isna(last) else []
            latest = latest if latest is not None else (periods[0] if periods else None)
        for period in periods:
            if period not in own.index:
                continue
            data = own.loc[[period]].iloc[0]
            point = spc.loc[[period]].iloc[0] if period in spc.index else None
            suppressed = bool(data.get("suppressed", False))
            is_latest = latest is not None and period == latest
            out.append({
                "metric_id": metric_id, "org_code": org or "", "org_name": pack.org_name or "",
                "period": period.date().isoformat(),
                "value": None if suppressed else _number(data.get("value")),
                "numerator": None if suppressed else _number(data.get("numerator")),
                "denominator": None if suppressed else _number(data.get("denominator")),
                "suppressed": suppressed,
                "mean": _number(point["mean"]) if point is not None else None,
                "lower_process_limit": _number(point["lpl"]) if point is not None else None,
                "upper_process_limit": _number(point["upl"]) if point is not None else None,
                "point_type": (str(point["point_type"]) if point is not None and not suppressed
                               and isinstance(point["point_type"], str) else ""),
                "variation": str(summary.get("variation_icon") or "") if is_latest else "",
                "assurance": str(summary.get("assurance") or "") if is_latest else "",
                "target": _number(point["target"]) if point is not None else None,
                "rank": ranks.get(metric_id) if is_latest else None,
                "peer_group": batch.peer_group or "",
            })
    return out


def _dictionary(pack: Any, batch: Any, metric_ids: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for metric_id in metric_ids:
        m = batch.catalogue.metric(metric_id)
        out.append({"metric_id": m.id, "title": m.title, "unit": m.unit, "definition": m.description or "",
                    "numerator": m.numerator or m.value or "", "denominator": m.denominator or "",
                    "direction": m.direction, "frequency": m.frequency, "source": m.source,
                    "suppress_below": m.disclosure.suppress_below, "licence": ATTRIBUTION})
    return out


def _write_csv(path: Path, fields: Sequence[tuple[str, str, str]], records: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([name for name, _, _ in fields])
        for record in records:
            line = []
            for name, kind, _ in fields:
                value = record.get(name)
                if value is None:
                    line.append("")
                elif kind == "boolean":
                    line.append("true" if value else "false")
                elif kind == "number":
                    line.append(repr(float(value)) if not float(value).is_integer() else str(int(value)))
                else:
                    text = str(value)
                    # a text cell a spreadsheet would run as a formula is written as text, not as a formula
                    line.append("'" + text if text[:1] in ("=", "+", "-", "@") and kind == "string" else text)
            writer.writerow(line)


def _schema(fields: Sequence[tuple[str, str, str]], key: list[str]) -> dict[str, Any]:
    return {"fields": [{"name": n, "type": t, "description": d} for n, t, d in fields], "primaryKey": key,
            "missingValues": [""]}


def write_data_package(pack: Any, batch: Any, directory: Path, stem: str) -> list[Path]:
    """Write the package's three files into `directory`; returns their paths (descriptor first)."""
    records = rows(pack, batch)
    metric_ids = list(dict.fromkeys(r["metric_id"] for r in records)) or list(_shown_periods(pack))
    metrics_csv = directory / f"{stem}-metrics.csv"
    dictionary_csv = directory / f"{stem}-dictionary.csv"
    _write_csv(metrics_csv, FIELDS, records)
    _write_csv(dictionary_csv, DICTIONARY_FIELDS, _dictionary(pack, batch, metric_ids))
    sources = [{"title": s} for s in pack.provenance.sources] or [{"title": "NHS England statistics"}]
    descriptor = {
        "profile": "data-package",
        "name": stem.lower().replace("_", "-"),
        "title": f"{pack.title}: the numbers" + (f" ({pack.org_name})" if pack.org_name else ""),
        "description": (f"The numbers shown in '{pack.title}' for {pack.period_label}, with disclosure control "
                        "applied exactly as in the pack (suppressed values are empty, with suppressed=true)."),
        "version": pack.version,
        "created": pack.provenance.built_at,
        "licenses": [LICENCE],
        "sources": sources,
        "keywords": ["NHS", "statistical process control", "Making Data Count"],
        "resources": [
            {"name": "metrics", "path": metrics_csv.name, "profile": "tabular-data-resource", "format": "csv",
             "mediatype": "text/csv", "encoding": "utf-8", "title": "Metrics by organisation and period",
             "schema": _schema(FIELDS, ["metric_id", "org_code", "period"])},
            {"name": "dictionary", "path": dictionary_csv.name, "profile": "tabular-data-resource", "format": "csv",
             "mediatype": "text/csv", "encoding": "utf-8", "title": "Data dictionary",
             "schema": _schema(DICTIONARY_FIELDS, ["metric_id"])},
        ],
    }
    descriptor_path = directory / "datapackage.json"
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [descriptor_path, metrics_csv, dictionary_csv]
