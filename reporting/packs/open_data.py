"""Open data beside every pack: the pack's numbers as a Frictionless Data Package (datapackage.json + CSV).

    write_data_package(pack, batch, directory, stem, doc=None) -> [datapackage.json, <stem>-metrics.csv,
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
the package, naming the metric. `rows()` reads the pack's JSON data file (packs.data_file), so the means,
limits and point types are those of the charts (the views), never a whole-series figure.)
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
from reporting.files import atomic_write

__all__ = ["FIELDS", "LICENCE", "rows", "write_data_package"]

LICENCE = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
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
    (
        "point_type",
        "string",
        "SPC point type: common_cause, special_cause_improvement, special_cause_concern, "
        "special_cause_neutral_high or special_cause_neutral_low",
    ),
    ("variation", "string", "Making Data Count variation icon (latest period only)"),
    ("assurance", "string", "Making Data Count assurance icon against the target (latest period only)"),
    ("target", "number", "Target in force for the period"),
    (
        "rank",
        "integer",
        "Rank of the organisation in the pack's league table for the metric, over the table's "
        "periods (given on the latest period's row; empty if the pack has none)",
    ),
    ("peer_group", "string", "Peer group the organisation is compared with"),
)
DICTIONARY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("metric_id", "string", "Metric id"),
    ("title", "string", "Title"),
    ("unit", "string", "Unit"),
    ("definition", "string", "Definition"),
    ("numerator", "string", "How the numerator is counted"),
    ("denominator", "string", "How the denominator is counted"),
    ("direction", "string", "Whether higher or lower is better"),
    ("frequency", "string", "Period length"),
    ("source", "string", "Data source"),
    ("suppress_below", "integer", "Counts below this are suppressed"),
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


def _suppressed(own: pd.DataFrame) -> dict[pd.Timestamp, bool]:
    """period -> whether disclosure control withheld the value, read from the period's first row in `own` (one
    pass over the rows: an indexed lookup per chart point cost more than the rest of the table)."""
    flags = own["suppressed"].tolist() if "suppressed" in own else [False] * len(own)
    out: dict[pd.Timestamp, bool] = {}
    for period, flag in zip(pd.to_datetime(own["period"]), flags, strict=True):
        if period not in out:
            out[period] = bool(flag) if flag is not None and not pd.isna(flag) else False
    return out


def rows(pack: Any, batch: Any, doc: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The metrics table: one row per metric x organisation x period the pack shows, read from the pack's data
    file (packs.data_file: the same views, limits and disclosure as every chart), so the open data can never
    say something the pack does not. A stale metric shows no points, so it has no rows. `doc` is that data
    file's document when the caller has made it already (`pack_data(batch, pack)`)."""
    from reporting.packs.data_file import pack_data

    key = pack.org_code if pack.org_code in batch.frames else None
    frame: pd.DataFrame = batch.frames[key]
    catalogue = batch.catalogue
    doc = pack_data(batch, pack) if doc is None else doc
    ranks = _ranks(pack, {s["metric"]: s["title"] for s in doc["series"]})
    out = []
    stale = {s["metric"] for s in doc["series"] if s["stale"]}
    for series in doc["series"]:
        if not series["view"]["primary"] or series["stale"]:
            continue
        metric_id, org = series["metric"], series["org"]
        metric = catalogue.metric(metric_id)
        if getattr(metric, "disclosure", None) is None:
            raise ConfigError(
                f"metric '{metric_id}' has no disclosure rule, so its numbers cannot be published "
                "as open data; add `disclosure: {suppress_below: N}` to it in the catalogue",
                field=f"metrics.{metric_id}.disclosure",
            )
        withheld = _suppressed(frame[(frame["metric_id"] == metric_id) & (frame["org_code"] == org)])
        latest = series["latest"]["period"]
        for point in series["points"]:
            period = pd.Timestamp(point["period"])
            if period not in withheld:
                continue  # a gap on the chart: no row in the data either
            suppressed = withheld[period]
            is_latest = point["period"] == latest
            target = metric.target_for(org, period.date()) if org else None
            out.append(
                {
                    "metric_id": metric_id,
                    "org_code": org or "",
                    "org_name": pack.org_name or "",
                    "period": period.date().isoformat(),
                    "value": None if suppressed else point["value"],
                    "numerator": None if suppressed else point["numerator"],
                    "denominator": None if suppressed else point["denominator"],
                    "suppressed": suppressed,
                    "mean": point["mean"],
                    "lower_process_limit": point["lower_limit"],
                    "upper_process_limit": point["upper_limit"],
                    "point_type": "" if suppressed else (point["point_type"] or ""),
                    "variation": (series["variation"] or "") if is_latest else "",
                    "assurance": (series["assurance"] or "") if is_latest else "",
                    "target": _number(target),
                    "rank": ranks.get(metric_id) if is_latest else None,
                    "peer_group": batch.peer_group or "",
                }
            )
    # a metric the pack lists with no chart of its own (e.g. every point suppressed, so no limits): its latest
    # period, as the summary table has it
    done = {r["metric_id"] for r in out}
    for metric_id in _shown_periods(pack):
        if metric_id in done or metric_id in stale or not pack.org_code:
            continue
        own = frame[(frame["metric_id"] == metric_id) & (frame["org_code"] == pack.org_code)]
        if own.empty:
            continue
        data = own.sort_values("period").iloc[-1]
        flag = data.get("suppressed", False)
        suppressed = bool(flag) if flag is not None and not pd.isna(flag) else False
        out.append(
            {
                "metric_id": metric_id,
                "org_code": pack.org_code,
                "org_name": pack.org_name or "",
                "period": pd.Timestamp(data["period"]).date().isoformat(),
                "value": None if suppressed else _number(data.get("value")),
                "numerator": None if suppressed else _number(data.get("numerator")),
                "denominator": None if suppressed else _number(data.get("denominator")),
                "suppressed": suppressed,
                "mean": None,
                "lower_process_limit": None,
                "upper_process_limit": None,
                "point_type": "",
                "variation": "",
                "assurance": "",
                "target": None,
                "rank": None,
                "peer_group": batch.peer_group or "",
            }
        )
    return out


def _dictionary(pack: Any, batch: Any, metric_ids: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for metric_id in metric_ids:
        m = batch.catalogue.metric(metric_id)
        out.append(
            {
                "metric_id": m.id,
                "title": m.title,
                "unit": m.unit,
                "definition": m.description or "",
                "numerator": m.numerator or m.value or "",
                "denominator": m.denominator or "",
                "direction": m.direction,
                "frequency": m.frequency,
                "source": m.source,
                "suppress_below": m.disclosure.suppress_below,
                "licence": ATTRIBUTION,
            }
        )
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
    return {
        "fields": [{"name": n, "type": t, "description": d} for n, t, d in fields],
        "primaryKey": key,
        "missingValues": [""],
    }


def write_data_package(
    pack: Any, batch: Any, directory: Path, stem: str, doc: dict[str, Any] | None = None
) -> list[Path]:
    """Write the package's three files into `directory`; returns their paths (descriptor first). `doc`: as
    for `rows`."""
    records = rows(pack, batch, doc)
    metric_ids = list(dict.fromkeys([r["metric_id"] for r in records] + list(_shown_periods(pack))))
    metrics_csv = directory / f"{stem}-metrics.csv"
    dictionary_csv = directory / f"{stem}-dictionary.csv"
    _write_csv(metrics_csv, FIELDS, records)
    _write_csv(dictionary_csv, DICTIONARY_FIELDS, _dictionary(pack, batch, metric_ids))
    sources = [{"title": s} for s in pack.provenance.sources] or [{"title": "NHS England statistics"}]
    descriptor = {
        "profile": "data-package",
        "name": stem.lower().replace("_", "-"),
        "title": f"{pack.title}: the numbers" + (f" ({pack.org_name})" if pack.org_name else ""),
        "description": (
            f"The numbers shown in '{pack.title}' for {pack.period_label}, with disclosure control "
            "applied exactly as in the pack (suppressed values are empty, with suppressed=true)."
        ),
        "version": pack.version,
        "created": pack.provenance.built_at,
        "licenses": [LICENCE],
        "sources": sources,
        "keywords": ["NHS", "statistical process control", "Making Data Count"],
        "resources": [
            {
                "name": "metrics",
                "path": metrics_csv.name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": "Metrics by organisation and period",
                "schema": _schema(FIELDS, ["metric_id", "org_code", "period"]),
            },
            {
                "name": "dictionary",
                "path": dictionary_csv.name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": "Data dictionary",
                "schema": _schema(DICTIONARY_FIELDS, ["metric_id"]),
            },
        ],
    }
    descriptor_path = directory / "datapackage.json"
    atomic_write(descriptor_path, json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    return [descriptor_path, metrics_csv, dictionary_csv]
