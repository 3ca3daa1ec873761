"""The load-once, compute-once step of a build: every organisation's data, disclosure and SPC at once.

A build for many organisations (a national body's pack for every trust) must not read the snapshot and run
the engine once per pack. `prepare` resolves each organisation's period (one shared period when there are
several), applies disclosure, and runs SPC for every (metric, organisation) series in ONE vectorised call;
cross-organisation results (funnels, caterpillars, league tables) are computed once and kept in the batch's
memo. The `Batch` is picklable, so parallel workers receive it once and only put each organisation's pack
together (`Batch.pack`: its assembly context, walked by packs.assemble through the block rules) and write it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from reporting._yaml import Located
from reporting.approval import ApprovalState
from reporting.charts.theme import DEFAULT_THEME
from reporting.data.annotations import EMPTY, Registered, check_annotations, load_annotations
from reporting.data.catalogue import Catalogue
from reporting.data.snapshot import Snapshot
from reporting.errors import ConfigError, DataError, ReportingError, StatsError
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.packs.assemble import assemble_pack
from reporting.packs.assembly import OFFSETS, Assembly, metric_ids_used, resolve_period, selected
from reporting.packs.blocks.peers import check_pack_group
from reporting.packs.checks import check_template
from reporting.packs.data_file import NoPrevious, PreviousPack
from reporting.packs.tree import Pack
from reporting.packs.views import View, build_views, template_views
from reporting.stats.disclosure import disclose
from reporting.stats.spc import SPCOptions, spc_metrics

__all__ = ["Batch", "assemble", "prepare"]

ALL = "\0all"  # the disclosure table key of a pack that covers every organisation


def _disclosed(frame: pd.DataFrame, catalogue: Catalogue, tables: tuple[str, ...] = ("metric_id",)) -> pd.DataFrame:
    return disclose(frame, catalogue, tables)  # the one disclosure stage (stats.disclosure), linked metrics too


def _targets(catalogue: Catalogue, frame: pd.DataFrame) -> pd.Series:
    """Each row's target (NaN where none): constant targets without a per-row call, tables row by row."""
    out = pd.Series(np.nan, index=frame.index, dtype=float)
    for metric_id, idx in frame.groupby("metric_id", sort=False).groups.items():
        metric = catalogue.metric(str(metric_id))
        if metric.target is None or isinstance(metric.target, float | int):
            out.loc[idx] = np.nan if metric.target is None else float(metric.target)
        else:
            rows = frame.loc[idx]
            out.loc[idx] = np.array(
                [
                    np.nan if (v := metric.target_for(None if pd.isna(o) else str(o), p.date())) is None else v
                    for o, p in zip(rows["org_code"], rows["period"], strict=True)
                ],
                dtype=float,
            )
    return pd.to_numeric(out, errors="coerce")


def _spc_all(rows: pd.DataFrame, options: Mapping[str, SPCOptions]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SPC for every view's rows (packs.views) in one vectorised call; `metric_id` holds each view's key.

    Views with fewer than two values get no SPC (their chart says "no data")."""
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    result = spc_metrics(
        rows.drop(columns=["_metric", "_view"]), {k: v for k, v in options.items() if k in set(rows["metric_id"])}
    )
    real = dict(zip(rows["metric_id"], rows["_metric"], strict=False))
    view = dict(zip(rows["metric_id"], rows["_view"], strict=False))
    pts, summary = result.points, result.summary
    for frame in (pts, summary):
        frame["_view"] = frame["metric_id"].map(view)
        frame["metric_id"] = frame["metric_id"].map(real)
    return pts, summary


@dataclass
class Batch:
    """The data loaded, disclosure applied and the engine run ONCE for every organisation of a build
    (vectorised: one SPC call for all their series; funnels and league tables computed once and shared), so
    that each organisation's pack is only put together and rendered. Picklable: parallel builds ship it to
    each worker once. An organisation whose data cannot be used fails alone: its error is kept and raised
    when its pack is asked for, while the others' packs are built."""

    catalogue: Catalogue
    template: t.PackTemplate
    doc: Located
    template_hash: str
    snapshot: Snapshot
    peer_group: str | None
    periods: dict[str | None, pd.Timestamp]
    frames: dict[str | None, pd.DataFrame]
    points: dict[str | None, pd.DataFrame]
    summaries: dict[str | None, dict[str, dict[str, Any]]]
    errors: dict[str | None, ReportingError]
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)
    #: how the build chose its snapshot (packs.build.current_snapshot); a stale one is named in every pack
    snapshot_choice: dict[str, Any] = field(default_factory=dict)
    #: every view of every metric: {org: {(metric_id, view key): summary row + SeriesInfo fields}}
    views: dict[str | None, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    #: each metric's views, the first being the one summary rows and narratives use outside a chart
    metric_views: dict[str, tuple[View, ...]] = field(default_factory=dict)
    annotations: Registered = EMPTY
    #: approvers and decisions given by the caller (a job's, from the history database); see reporting.approval
    approval: ApprovalState | None = None

    @property
    def default_org(self) -> str | None:
        """The organisation of a pack asked for without one: the template's `org` parameter, if any."""
        return {k: v.default for k, v in self.template.parameters.items()}.get("org")

    def pack(
        self,
        org: str | None,
        *,
        commentary: Callable[[dt.date, str | None], Mapping[str, tuple[str, str, str]]] | None = None,
        built_at: str | None = None,
        previous: Callable[[dt.date, str | None], PreviousPack | NoPrevious] | None = None,
    ) -> Pack:
        """One organisation's pack (`commentary(period, org)` returns the service leads' commentary,
        `previous(period, org)` the numbers of the pack published before this one)."""
        asm = self.assembly(org)
        asm.commentary = commentary(asm.period.date(), asm.org) if commentary else {}
        asm.previous = previous(asm.period.date(), asm.org) if previous else None
        return assemble_pack(asm, snapshot_choice=self.snapshot_choice, built_at=built_at)

    def assembly(self, org: str | None) -> Assembly:
        """The context one organisation's blocks are written in (the commentary workbook reads its narratives)."""
        org = self.default_org if org is None else org
        if org in self.errors:
            raise self.errors[org]
        if org not in self.periods:
            raise ConfigError(f"organisation {org!r} is not part of this build", field="org")
        template, catalogue, snapshot = self.template, self.catalogue, self.snapshot
        orgs = snapshot.orgs
        names = orgs.loc[orgs["org_code"] == org, "org_name"] if org else pd.Series(dtype=str)
        org_name = str(names.iloc[0]) if len(names) else org
        theme = DEFAULT_THEME.with_overrides(t.theme_overrides(template.theme)) if template.theme else DEFAULT_THEME
        asm = Assembly(
            catalogue,
            template,
            self.doc,
            self.template_hash,
            snapshot,
            org,
            org_name,
            self.periods[org],
            self.periods[org] + OFFSETS[template.cadence] - pd.Timedelta(days=1),
            self.peer_group,
            theme,
            frame=self.frames[org],
            points=self.points[org],
            summary=self.summaries[org],
            memo=self.memo,
            views=self.views.get(org, {}),
            metric_views=self.metric_views,
            annotations=self.annotations,
        )
        return asm

    def warm(self) -> None:
        """Compute the shared cross-organisation results now (by assembling one pack), so that parallel
        workers receive them instead of each computing them again."""
        if self.periods:
            self.pack(next(iter(self.periods)))


def assemble(
    catalogue: Catalogue,
    template: t.PackTemplate,
    doc: Located,
    template_hash: str,
    snapshot: Snapshot,
    *,
    org: str | None,
    period: str | None = None,
    peer_group: str | None = None,
    commentary: Callable[[dt.date, str | None], Mapping[str, tuple[str, str, str]]] | None = None,
    built_at: str | None = None,
) -> Pack:
    """One pack on its own: a Batch of one organisation."""
    batch = prepare(catalogue, template, doc, template_hash, snapshot, orgs=[org], period=period, peer_group=peer_group)
    return batch.pack(org, commentary=commentary, built_at=built_at)


def prepare(
    catalogue: Catalogue,
    template: t.PackTemplate,
    doc: Located,
    template_hash: str,
    snapshot: Snapshot,
    *,
    orgs: Sequence[str | None],
    period: str | None = None,
    peer_group: str | None = None,
    annotations: Registered | None = None,
) -> Batch:
    """Load-once, compute-once step of a build for `orgs` (None: the template's default organisation).

    `annotations` defaults to the project's templates/annotations.yaml (none if the file is absent)."""
    check_template(template, doc, catalogue)
    if annotations is None:
        annotations = load_annotations(Path(doc.file).resolve().parents[1] / "annotations.yaml", catalogue)
    check_annotations(annotations, catalogue, snapshot.metrics, snapshot.orgs["org_code"].astype(str))
    params = {k: v.default for k, v in template.parameters.items()}
    check_pack_group(snapshot.orgs, peer_group or params.get("peer_group"), doc, given=peer_group is not None)
    peer_group = peer_group or params.get("peer_group")
    period = period or (params.get("period") if params.get("period") not in (None, "latest") else None)
    wanted = list(dict.fromkeys(org or params.get("org") for org in orgs))
    metrics = snapshot.metrics
    errors: dict[str | None, ReportingError] = {}
    known = set(metrics["org_code"].unique())
    for org in wanted:
        if org is not None and org not in known:
            close = difflib.get_close_matches(org, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors[org] = DataError(
                f"no data for organisation '{org}' in snapshot {snapshot.hash}{hint}", field="--org"
            )
    # the period follows the metrics the pack shows; SPC runs for every metric, because text may quote any
    probe = Assembly(
        catalogue, template, doc, template_hash, snapshot, None, None, pd.Timestamp(0), pd.Timestamp(0), peer_group
    )
    used = metric_ids_used(probe) or [m.id for m in catalogue.metrics]
    metric_views = template_views(template, catalogue, [m.id for m in catalogue.metrics], lambda o: selected(probe, o))
    cadence_metrics = [m.id for m in catalogue.metrics if m.id in used and m.frequency == template.cadence]
    found: dict[str | None, pd.DataFrame | None] = {
        org: (metrics if org is None else None) for org in wanted if org not in errors
    }
    real = [org for org in found if org is not None]
    if real:
        chosen = metrics[metrics["org_code"].isin(real)]
        for code, rows in chosen.groupby("org_code", sort=False, observed=True):
            found[str(code)] = rows
    # every organisation asked for that is in the snapshot has rows (the others are errors above)
    by_org = {org: rows for org, rows in found.items() if rows is not None}
    periods: dict[str | None, pd.Timestamp] = {}
    for org, mine in by_org.items():
        try:
            periods[org] = resolve_period(
                template.cadence, mine[mine["metric_id"].isin(cadence_metrics or used)], period
            )
        except DataError as exc:
            errors[org] = DataError(f"{org}: {exc.reason}" if org else exc.reason, field=exc.field)
    if period is None and len(periods) > 1:
        # a run for many organisations is for ONE period: the latest any of them has; one that stopped
        # reporting earlier gets no pack for an older period but an error that says so
        common = max(periods.values())
        label = format_period(common, template.cadence)
        for org, start in list(periods.items()):
            if start < common:
                errors[org] = DataError(
                    f"{org}: no data for {label}, the period of this run (its latest is "
                    f"{format_period(start, template.cadence)})",
                    field="period",
                )
                del periods[org]
    parts = []
    for org, start in periods.items():
        mine = by_org[org]
        end = start + OFFSETS[template.cadence] - pd.Timedelta(days=1)
        # a pack without an organisation covers all of them, as one table; otherwise each organisation's rows
        # are its own table for disclosure (one organisation's secondary suppression never depends on another's)
        parts.append(mine[mine["period"] <= end].assign(_pack=org if org is not None else ALL))
    frames: dict[str | None, pd.DataFrame] = {}
    points: dict[str | None, pd.DataFrame] = {}
    summaries: dict[str | None, dict[str, dict[str, Any]]] = {}
    views: dict[str | None, dict[tuple[str, str], dict[str, Any]]] = {}
    if parts:
        frame = _disclosed(pd.concat(parts, ignore_index=True), catalogue, tables=("metric_id", "_pack"))
        frame["target"] = _targets(catalogue, frame)
        for key, rows in frame.drop(columns=["target"]).groupby("_pack", sort=False):
            frames[None if key == ALL else str(key)] = rows.drop(columns=["_pack"]).reset_index(drop=True)
        if periods:
            last_end = max(periods.values()) + OFFSETS[template.cadence] - pd.Timedelta(days=1)
            _engine(catalogue, frame, periods, points, summaries, errors, metric_views, annotations, last_end, views)
    return Batch(
        catalogue,
        template,
        doc,
        template_hash,
        snapshot,
        peer_group,
        periods,
        frames,
        points,
        summaries,
        errors,
        views=views,
        metric_views=metric_views,
        annotations=annotations,
    )


def _engine(
    catalogue: Catalogue,
    frame: pd.DataFrame,
    periods: dict[str | None, pd.Timestamp],
    points: dict[str | None, pd.DataFrame],
    summaries: dict[str | None, dict[str, dict[str, Any]]],
    errors: dict[str | None, ReportingError],
    metric_views: Mapping[str, tuple[View, ...]],
    annotations: Registered,
    period_end: pd.Timestamp,
    views: dict[str | None, dict[tuple[str, str], dict[str, Any]]],
) -> None:
    """SPC for every view (packs.views) of every organisation's series in one call; if some organisation's
    data cannot be charted, the call is repeated per organisation so that only that one fails. (A pack
    without an organisation keeps its own call: its frame holds every organisation, and its summary is the
    first series of each metric.)"""
    rows, options, infos, bad = build_views(frame, catalogue, metric_views, annotations, period_end)
    for key, exc in bad.items():
        org = None if key == ALL else str(key)
        errors[org] = DataError(f"{org or 'all organisations'}: {exc.reason}", field=exc.field)
        periods.pop(org, None)
    calls: list[tuple[list[str | None], pd.DataFrame]] = []
    everyone = (rows["_pack"] == ALL) if len(rows) else pd.Series(False, index=rows.index)
    if None in periods:
        calls.append(([None], rows[everyone]))
    orgs_real: list[str | None] = [org for org in periods if org is not None]
    if orgs_real:
        calls.append((orgs_real, rows[~everyone]))
    for orgs, part in calls:
        try:
            results = [(orgs, *_spc_all(part, options))]
        except StatsError:
            results = []
            for org in orgs:
                try:
                    results.append(([org], *_spc_all(part[part["_pack"] == (org or ALL)], options)))
                except StatsError as exc:
                    errors[org] = DataError(f"{org or 'all organisations'}: {exc}", field="value")
                    periods.pop(org, None)
        for done, pts, summary in results:
            keyed = org_keyed(done)
            pts_by = pts.groupby("org_code", sort=False).groups if keyed and len(pts) else {}
            sum_by = summary.groupby("org_code", sort=False).groups if keyed and len(summary) else {}
            for org in done:
                if org in errors:
                    continue
                if org is None:
                    points[org] = pts
                    mine = summary
                else:
                    points[org] = pts.loc[pts_by[org]].reset_index(drop=True) if org in pts_by else pd.DataFrame()
                    mine = summary.loc[sum_by[org]] if org in sum_by else pd.DataFrame()
                pack = org if org is not None else ALL
                rows_by: dict[tuple[str, str], dict[str, Any]] = {}
                for r in mine.to_dict("records"):
                    k = (str(r["metric_id"]), str(r["_view"]))
                    if k in rows_by:  # a pack of every organisation: the first series of each metric
                        continue
                    info = infos.get((pack, k[0], str(r["org_code"]), k[1]))
                    rows_by[k] = {**cast("dict[str, Any]", r), **(info.as_row() if info else {})}
                for (p, metric_id, series_org, view), info in infos.items():
                    k = (metric_id, view)
                    if p == pack and k not in rows_by and (org is None or series_org == org):
                        rows_by[k] = {
                            "metric_id": metric_id,
                            "org_code": series_org,
                            "variation_icon": None,
                            "assurance": None,
                            "last_valid_y": np.nan,
                            "last_valid_x": info.latest,
                            "n": 0,
                            **info.as_row(),
                        }
                views[org] = rows_by
                summaries[org] = {
                    m: rows_by[(m, vs[0].key)] for m, vs in metric_views.items() if (m, vs[0].key) in rows_by
                }


def org_keyed(orgs: list[str | None]) -> bool:
    return orgs != [None]
