"""``reporting spc``: one SPC chart from a CSV, points to CSV and the verdict (icons, assurance) to JSON.

Why a separate module with ``register``: the CLI stays thin and the heavy imports (pandas, the engine) load
only when the command runs. Any ReportingError becomes one line on stderr and exit code 2, and nothing is
written: outputs go to temporary files that replace the targets only once everything has succeeded.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from reporting.commands._files import write_atomically
from reporting.errors import ReportingError, StatsError

__all__ = ["register", "run_spc", "summary_json"]

_INTEGER = re.compile(r"^[+-]?\d+$")
_ASSURANCE_ICON = {"consistent_pass": "pass", "consistent_fail": "fail", "inconsistent": "inconsistent"}


def _read_input(path: Path) -> Any:
    """Read the CSV as text so that the engine, not pandas, decides what is a bad value and names the row."""
    import pandas as pd

    if not path.is_file():
        raise StatsError(f"{path}: input file not found")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StatsError(f"{path}: cannot read CSV: {str(exc).splitlines()[0]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if "x" in frame.columns:
        xs = frame["x"].dropna().str.strip()
        if len(xs) and xs.map(lambda v: bool(_INTEGER.match(v))).all():
            frame["x"] = pd.to_numeric(frame["x"].str.strip(), errors="coerce").astype("Int64")
    return frame


def _parse_rebase(values: list[str] | None, integer_x: bool) -> tuple[date | int, ...]:
    out: list[date | int] = []
    for v in values or []:
        try:
            out.append(int(v) if integer_x and _INTEGER.match(v.strip()) else date.fromisoformat(v.strip()))
        except ValueError:
            raise StatsError(f"option '--rebase': expected a date YYYY-MM-DD, got {v!r}") from None
    return tuple(out)


def run_spc(frame: Any, options: Any) -> Any:
    """Run the engine on a CLI input frame (columns x, y, optional numerator, denominator, group, target)."""
    from reporting.stats.constants import RATIO_CHARTS
    from reporting.stats.spc import spc

    kw: dict[str, Any] = {}
    if options.chart in RATIO_CHARTS:
        kw.update(numerator="numerator", denominator="denominator")
    if "group" in frame.columns:
        kw["phase"] = "group"
    if "target" in frame.columns and options.target is None:
        kw["target"] = "target"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # they are carried in result.warnings and printed by the command
        return spc(frame, options, **kw)


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN -> null, numpy -> Python, timestamps -> ISO dates."""
    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def summary_json(result: Any) -> dict[str, Any]:
    """The verdict for one series, in the vocabulary of the conformance set's expected_summary.json."""
    row = result.summary.iloc[0]
    groups = [{k: _clean(v) for k, v in g.items()} for g in result.groups.to_dict("records")]
    keys = (
        "chart",
        "improvement",
        "n",
        "latest_x",
        "latest_y",
        "last_point_type",
        "last_special_cause_type",
        "variation_icon",
        "assurance",
        "mean",
        "lpl",
        "upl",
        "target",
    )
    out = {k: _clean(row[k]) for k in keys}
    out["assurance_icon"] = _ASSURANCE_ICON.get(out["assurance"]) if out["assurance"] else None
    out["groups"] = groups
    out["warnings"] = list(result.warnings)
    opts = result.options
    out["options"] = {
        "chart": opts.chart,
        "improvement": opts.improvement,
        "target": opts.target,
        "rebase": [str(d) for d in opts.rebase],
        "fix_after_n_points": opts.fix_after_n_points,
        "screen_outliers": opts.screen_outliers,
    }
    return out


def _points_csv(result: Any) -> str:
    import pandas as pd

    pts = result.points.drop(columns=["row"], errors="ignore").copy()
    if pd.api.types.is_datetime64_any_dtype(pts["x"].dtype):
        xs = pts["x"]
        fmt = "%Y-%m-%d" if (xs == xs.dt.normalize()).all() else "%Y-%m-%dT%H:%M:%S"
        pts["x"] = xs.dt.strftime(fmt)
    from reporting.cells import csv_frame

    text: str = csv_frame(pts).to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return text


def register(app: typer.Typer) -> None:
    """Add the ``spc`` command to ``app``."""

    @app.command("spc")
    def spc_command(
        input_csv: Annotated[
            Path,
            typer.Argument(
                metavar="INPUT.csv",
                help="Columns x (ISO date or integer), y; "
                "numerator, denominator for p/pp/u/up; optional group "
                "(a new phase where it changes) and target.",
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="Per-point CSV to write.")],
        chart: Annotated[str, typer.Option("--chart", help="xmr, p, pp, u, up, c or run.")] = "xmr",
        improvement: Annotated[str, typer.Option("--improvement", help="increase, decrease or neutral.")] = "increase",
        target: Annotated[float | None, typer.Option("--target", help="Target for the assurance icon.")] = None,
        rebase: Annotated[
            list[str] | None,
            typer.Option("--rebase", help="Start a new group at this date (YYYY-MM-DD); repeat for several."),
        ] = None,
        fix_after: Annotated[
            int | None, typer.Option("--fix-after", help="Fix the limits after N points (N >= 12).")
        ] = None,
        no_screen_outliers: Annotated[
            bool,
            typer.Option("--no-screen-outliers", help="Keep large moving ranges in the limits (MDC Excel parity)."),
        ] = False,
        summary: Annotated[Path | None, typer.Option("--summary", help="JSON verdict to write.")] = None,
    ) -> None:
        """Statistical process control chart (Making Data Count rules) from a CSV."""
        from reporting.stats.spc import ChartKind, Improvement, SPCOptions

        try:
            frame = _read_input(input_csv)
            integer_x = "x" in frame.columns and str(frame["x"].dtype) == "Int64"
            options = SPCOptions(
                chart=cast("ChartKind", chart),  # SPCOptions checks both and raises a one-line StatsError
                improvement=cast("Improvement", improvement),
                target=target,
                rebase=_parse_rebase(rebase, integer_x),
                fix_after_n_points=fix_after,
                screen_outliers=not no_screen_outliers,
            )
            try:
                result = run_spc(frame, options)
            except StatsError as exc:
                raise StatsError(f"{input_csv}: {exc}") from None
            targets = [(out, _points_csv(result))]
            if summary is not None:
                targets.append((summary, json.dumps(summary_json(result), indent=2) + "\n"))
            write_atomically(targets)
        except ReportingError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        for w in result.warnings:
            typer.echo(f"warning: {w}", err=True)
