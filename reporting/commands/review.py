"""`reporting review PACK [--org CODE] [--period P] [--json]`: what an analyst should look at before a pack
goes out: step changes that may be data breaks (with evidence and a ready-to-paste annotations.yaml entry),
metrics without current data, and p/u charts on overdispersed data. Suggested, never silent: nothing is
rebased until the entry is in the register.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from reporting.errors import ReportingError

__all__ = ["Finding", "register", "review", "review_command"]


@dataclass(frozen=True)
class Finding:
    kind: str  # step | stale | overdispersed
    metrics: tuple[str, ...]
    org: str | None
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    entry: str = ""  # annotations.yaml text to paste (steps only)
    registered: str = ""  # "templates/annotations.yaml:17" when the register already has it

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "metrics": list(self.metrics),
            "org": self.org,
            "message": self.message,
            "evidence": self.evidence,
            "entry": self.entry or None,
            "registered": self.registered or None,
        }


def review(project: Any, pack: str, *, org: str | None = None, period: str | None = None) -> list[Finding]:
    """The findings for one pack and organisation (the template's default one without --org)."""
    import pandas as pd  # here, not at the top: every command's --help would pay for it

    from reporting.data.annotations import REBASING, suggestion
    from reporting.formatting import format_period, format_value
    from reporting.packs.build import prepare_build
    from reporting.stats.shifts import find_steps

    batch = prepare_build(project, pack, period=period, orgs=[org])
    org = org or batch.default_org
    if org in batch.errors:
        raise batch.errors[org]
    catalogue, register = batch.catalogue, batch.annotations
    frame = batch.frames[org]
    steps: dict[tuple[pd.Timestamp, str], list[tuple[str, Any]]] = {}
    findings: list[Finding] = []
    for metric_id in batch.metric_views:
        metric = catalogue.metric(metric_id)
        rows = frame[frame["metric_id"] == metric_id].sort_values("period")
        if rows["value"].notna().sum() == 0:
            continue
        entries = register.for_series(metric_id, org)
        cuts = sorted({a.period for a in entries if a.kind in REBASING})
        bounds = [pd.Timestamp.min, *cuts, pd.Timestamp.max]
        seen: set[pd.Timestamp] = set()
        for lo, hi in zip(bounds, bounds[1:], strict=False):  # within each registered regime
            part = rows[(rows["period"] >= lo) & (rows["period"] < hi)]
            for s in find_steps(part["period"], part["value"]):
                steps.setdefault((s.period, s.kind), []).append((metric_id, s))
                seen.add(s.period)
        # the registered steps themselves, so the reviewer sees the evidence for what is already known
        for s in find_steps(rows["period"], rows["value"]):
            if s.period in cuts and s.period not in seen:
                steps.setdefault((s.period, s.kind), []).append((metric_id, s))
        info = (batch.views.get(org) or {}).get((metric_id, batch.metric_views[metric_id][0].key)) or {}
        if info.get("stale"):
            findings.append(
                Finding(
                    "stale",
                    (metric_id,),
                    org,
                    f"{metric.title}: no current data (latest: "
                    f"{info.get('latest_label')}); the pack shows it as not current",
                    {
                        "latest": str(pd.Timestamp(info["latest_available"]).date()),
                        "max_lag": metric.max_lag,
                        "frequency": metric.frequency,
                    },
                )
            )
        if info.get("overdispersed") and metric.chart in ("p", "u"):
            findings.append(
                Finding(
                    "overdispersed",
                    (metric_id,),
                    org,
                    f"{metric.title}: chart {metric.chart} on overdispersed data (Laney sigma-z "
                    f"{float(info['sigma_z']):.2f}); its limits are too narrow. Use chart: auto "
                    f"(or {metric.chart}p) in templates/metrics.yaml",
                    {"sigma_z": round(float(info["sigma_z"]), 3), "chart": metric.chart},
                )
            )
    for (when, _kind), found in sorted(steps.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        ids = tuple(dict.fromkeys(m for m, _ in found))
        first = catalogue.metric(ids[0])
        label = format_period(when, first.frequency)
        known = [a for m in ids for a in register.for_series(m, org) if a.period == when and a.kind in REBASING]
        evidence: dict[str, Any] = {"period": str(when.date()), "series": {}}
        parts = []
        for m, s in found:
            metric = catalogue.metric(m)

            def fmt(
                v: float, unit: str = metric.unit, decimals: int = metric.decimals, per: int | None = metric.per
            ) -> str:
                return format_value(v, unit, decimals, per)

            evidence["series"][m] = {
                "kind": s.kind,
                "mean_before": s.mean_before,
                "mean_after": s.mean_after,
                "n_before": s.n_before,
                "n_after": s.n_after,
                "from": str(s.first_before.date()),
                "to": str(s.last_after.date()),
                "moving_range": s.moving_range,
                "moving_range_limit": s.mr_limit,
                "points_on_one_side": s.run_after,
            }
            parts.append(
                f"{metric.title}: mean {fmt(s.mean_before)} over the {s.n_before} periods before, "
                f"{fmt(s.mean_after)} over the {s.n_after} from {label}"
                + (
                    f"; the step ({fmt(s.moving_range)}) is beyond the moving-range limit ({fmt(s.mr_limit)})"
                    if s.kind == "break"
                    else ""
                )
                + f"; {s.run_after} points on one side since"
            )
        entry_kind = "break" if any(s.kind == "break" for _, s in found) else "rebase"
        where = ""
        if known and register.file is not None:
            where = f"{register.file}:{known[0].line}"
        entry = suggestion(
            list(ids), str(org), when, entry_kind, "<why: e.g. a recording or definition change>", first.frequency
        )
        word = "Step change" if entry_kind == "break" else "Sustained shift"
        findings.append(
            Finding("step", ids, org, f"{word} at {label} ({org}). " + ". ".join(parts) + ".", evidence, entry, where)
        )
    return findings


def register(app: typer.Typer) -> None:
    app.command(
        "review",
        help="Step changes, stale data and overdispersion in a pack's series, with "
        "ready-to-paste annotations.yaml entries.",
    )(review_command)


def review_command(
    pack: Annotated[str, typer.Argument(help="Pack template name (templates/packs/NAME.yaml).")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation code (default: the pack's).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="YYYY-MM or YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON.")] = False,
) -> None:
    from reporting.commands._context import out, project

    try:
        findings = review(project(), pack, org=org, period=period)
    except ReportingError:
        raise
    if as_json:
        print(json.dumps([f.as_dict() for f in findings], indent=2, default=str))
        return
    if not findings:
        out.print("Nothing to review: no step changes, stale data or overdispersed p/u charts.")
        return
    for f in findings:
        out.print(
            f"[bold]{f.kind}[/bold] {', '.join(f.metrics)} {f.org or ''}: {f.message}",
            soft_wrap=True,
            markup=True,
            highlight=False,
        )
        if f.registered:
            out.print(f"  already in the register ({f.registered})", highlight=False)
        elif f.entry:
            out.print("  add to templates/annotations.yaml (write the reason):", highlight=False)
            out.print(f.entry.rstrip("\n"), markup=False, highlight=False)
