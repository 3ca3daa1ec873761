"""`reporting funnel`: a funnel plot's numbers from a CSV of group, numerator, denominator.

Kept thin: read, call `reporting.stats.funnel.funnel`, write. Any ReportingError becomes one line on
stderr and exit code 2; outputs are written to temporary files and moved into place only when
everything has succeeded, so a failed run never leaves a partial or stale-looking file behind.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from reporting.cells import csv_frame
from reporting.commands._files import write_atomically
from reporting.errors import ReportingError, StatsError

__all__ = ["funnel_command", "register"]

EXIT_ERROR = 2
OPTION_KEYS: tuple[str, ...] = (
    "data_type",
    "sr_method",
    "limit",
    "draw_adjusted",
    "trim_by",
    "multiplier",
    "SHMI_rounding",
)
"""Keys read from an --options file (the conformance cases' options.json); other keys are ignored."""


def register(app: typer.Typer) -> None:
    """Add the `funnel` command to the product's Typer app."""
    app.command("funnel", help="Funnel plot (Spiegelhalter 2005, as FunnelPlotR 0.6.0) per group.")(funnel_command)


def funnel_command(
    input_csv: Annotated[
        Path, typer.Argument(metavar="INPUT.csv", help="CSV with columns group, numerator, denominator.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Per-group CSV to write.")],
    data_type: Annotated[str | None, typer.Option("--type", "--data-type", help="PR, SR or RC.")] = None,
    sr_method: Annotated[str | None, typer.Option("--method", "--sr-method", help="SHMI (default) or CQC.")] = None,
    limit: Annotated[str | None, typer.Option("--limit", help="95 or 99.8 (99 = 99.8). Default 99.8.")] = None,
    overdispersion: Annotated[
        bool | None,
        typer.Option(
            "--overdispersion/--no-overdispersion",
            "--draw-adjusted/--no-draw-adjusted",
            help="Adjust limits for overdispersion (default on).",
        ),
    ] = None,
    trim_by: Annotated[float | None, typer.Option("--trim-by", help="Winsorise/truncate share per tail (0.1).")] = None,
    multiplier: Annotated[
        float | None, typer.Option("--multiplier", help="Scale values and limits (e.g. 100).")
    ] = None,
    shmi_rounding: Annotated[
        bool | None,
        typer.Option("--shmi-rounding/--no-shmi-rounding", help="Round SHMI expected counts to 2 d.p. (on)."),
    ] = None,
    options: Annotated[
        Path | None,
        typer.Option("--options", help="JSON with FunnelPlotR-style keys (as the cases' options.json); flags win."),
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="JSON summary to write (phi, tau2, outliers).")
    ] = None,
) -> None:
    """Compute a funnel for INPUT.csv and write the per-group table (and optionally a summary)."""
    try:
        settings = _settings(
            options,
            data_type=data_type,
            sr_method=sr_method,
            limit=limit,
            draw_adjusted=overdispersion,
            trim_by=trim_by,
            multiplier=multiplier,
            SHMI_rounding=shmi_rounding,
        )
        result = _run(input_csv, settings)
        table = result.points.assign(outlier=result.points["outlier"].astype(int))
        writes: list[tuple[Path, str]] = [(out, csv_frame(table).to_csv(index=False))]
        if summary is not None:
            writes.append((summary, json.dumps(_json_safe(result.summary()), indent=2) + "\n"))
        write_atomically(writes)
    except ReportingError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_ERROR) from None


def _settings(options: Path | None, **flags: Any) -> dict[str, Any]:
    """Built-in defaults < options file < explicit flags."""
    merged: dict[str, Any] = {
        "sr_method": "SHMI",
        "limit": 99.8,
        "draw_adjusted": True,
        "trim_by": 0.1,
        "multiplier": 1.0,
        "SHMI_rounding": True,
    }
    if options is not None:
        try:
            loaded = json.loads(options.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StatsError(f"{options}: cannot read options JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise StatsError(f"{options}: options JSON must be an object")
        merged.update({k: loaded[k] for k in OPTION_KEYS if k in loaded})
    merged.update({k: v for k, v in flags.items() if v is not None})
    if merged.get("data_type") is None:
        raise StatsError("field 'data_type': give --type PR, SR or RC")
    return merged


def _run(input_csv: Path, settings: dict[str, Any]) -> Any:
    import pandas as pd

    from reporting.stats.funnel import funnel

    try:
        data = pd.read_csv(input_csv, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise StatsError(f"{input_csv}: file not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise StatsError(f"{input_csv}: cannot read CSV ({str(exc).splitlines()[0] if str(exc) else exc})") from exc
    try:
        return funnel(
            data,
            data_type=settings["data_type"],
            sr_method=settings["sr_method"],
            limit=settings["limit"],
            overdispersion=bool(settings["draw_adjusted"]),
            trim_by=float(settings["trim_by"]),
            multiplier=float(settings["multiplier"]),
            shmi_rounding=bool(settings["SHMI_rounding"]),
        )
    except StatsError as err:
        raise StatsError(f"{input_csv}: {err}") from err
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{input_csv}: bad option value ({exc})") from exc


def _json_safe(value: Any) -> Any:
    """NaN/inf are not JSON; write them as null rather than producing a file other tools reject."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
