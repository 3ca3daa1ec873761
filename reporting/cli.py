"""The command line: thin, with heavy imports inside commands, and every ReportingError as one line + exit 2."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from reporting.commands._context import err, out, progress, project, pull, state
from reporting.commands.build import build_one, print_result
from reporting.errors import ReportingError

__all__ = ["COMMAND_MODULES", "CommandImportError", "app", "main", "register_commands"]


def _flags_without_type() -> None:
    """Typer 0.2x labels every option with its type, so flags read `--dry-run <bool>` as if they took a value;
    a flag takes none, so its help shows no type (other options keep theirs)."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "_reporting", False):
        return

    def display(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display._reporting = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display  # type: ignore[method-assign]


_flags_without_type()

app = typer.Typer(
    name="reporting",
    help="Board and executive performance packs from NHS performance data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Pull data from the catalogue's sources and look at it.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@app.callback()
def _root(
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Project directory holding templates/ "
            "and schedules.yaml (default: $REPORTING_HOME or the current "
            "directory).",
        ),
    ] = None,
) -> None:
    state.directory, state.project = project_dir, None


def _load_table(catalogue: Any, dataset: Any) -> Any:
    from rich.table import Table

    from reporting.data.summary import latest_national, missing_periods

    table = Table(title="Metrics loaded", title_justify="left")
    for column in (
        "metric",
        "title",
        "chart",
        "rows",
        "orgs",
        "first",
        "last",
        "gaps",
        "missing",
        "zero den.",
        "skipped",
        "latest, all orgs",
    ):
        table.add_column(
            column,
            justify="right" if column in {"rows", "orgs", "gaps", "missing", "zero den.", "skipped"} else "left",
            no_wrap=column == "metric",
        )
    for load in dataset.loads:
        metric = catalogue.metric(load.metric_id)
        first = f"{load.first_period:%Y-%m-%d}" if load.first_period is not None else "–"
        last = f"{load.last_period:%Y-%m-%d}" if load.last_period is not None else "–"
        table.add_row(
            metric.id,
            metric.title,
            f"{metric.chart} {metric.frequency}",
            f"{load.rows:,}",
            str(load.orgs),
            first,
            last,
            f"{load.missing:,}",
            f"{missing_periods(metric, dataset.metrics)[0]:,}",
            f"{load.zero_denominator:,}",
            f"{load.skipped:,}",
            latest_national(metric, dataset.metrics),
        )
    return table


@app.command()
def demo(
    packs: Annotated[bool, typer.Option(help="Also build every pack in templates/packs/.")] = True,
) -> None:
    """Pull the bundled real NHS data, summarise each metric, and build the shipped packs."""
    catalogue, dataset, snapshot = pull()
    out.print(_load_table(catalogue, dataset))
    out.print(
        f"{len(dataset.metrics):,} rows, {len(catalogue.metrics)} metrics, {len(dataset.orgs)} organisations "
        f"in the reference data."
    )
    out.print(f"Snapshot [bold]{snapshot.hash}[/bold] in {project().snapshots}")
    if packs:
        from reporting.charts import Renderer, project_cache
        from reporting.packs.template_load import template_files

        with Renderer(
            project_cache(project().root)
        ) as renderer:  # one browser for all the packs (started only if a chart needs it)
            for path in template_files(project().root):
                for result in build_one(path.stem, steps=True, renderer=renderer):
                    print_result(result)
    out.print(
        "[dim]Contains public sector information licensed under the Open Government Licence v3.0 "
        "(source: NHS England, NHS Digital ODS).[/dim]"
    )


@app.command()
def validate(
    remote: Annotated[
        bool, typer.Option("--remote", help="Also read sql and http sources (default: check them without connecting).")
    ] = False,
) -> None:
    """Check everything a build or a scheduled run needs (catalogue, data, pack templates, Office templates,
    schedules) and report every error at once; exit 2 if there is any. Nothing is written."""
    from reporting.validate import validate as run_checks

    with progress() as bar:
        bar.add_task("validating", total=None)
        report = run_checks(project(), remote=remote)
    for line in report.passed:
        out.print(f"[green]OK[/green] {line}", soft_wrap=True)
    for warning in report.warnings:
        err.print(f"warning: {warning}", soft_wrap=True, markup=False, highlight=False)
    for problem in report.errors:
        err.print(f"error: {problem}", soft_wrap=True, markup=False, highlight=False)
    if report.errors:
        err.print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)", markup=False)
        raise typer.Exit(2)
    out.print(f"[green]valid[/green]: {len(report.warnings)} warning(s)")


@data_app.command("pull")
def datapull() -> None:
    """Run every source and write an immutable snapshot (nothing is written if any row is bad)."""
    catalogue, dataset, snapshot = pull()
    out.print(_load_table(catalogue, dataset))
    out.print(f"Snapshot [bold]{snapshot.hash}[/bold]: {len(dataset.metrics):,} rows")


@data_app.command("show")
def data_show(
    metric: Annotated[str, typer.Argument(help="Metric id from the catalogue.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation code: show its recent periods.")] = None,
    periods: Annotated[int, typer.Option(help="How many recent periods to show with --org.")] = 12,
) -> None:
    """Latest values of a metric from the latest snapshot (by organisation, or one organisation's history)."""
    from rich.table import Table

    from reporting.data.catalogue import load_catalogue
    from reporting.data.snapshot import latest_snapshot
    from reporting.data.summary import history, latest_by_org
    from reporting.formatting import format_value

    proj = project()
    definition = load_catalogue(proj.require_catalogue()).metric(metric)
    snapshot = latest_snapshot(proj.snapshots)
    if org:
        rows = history(snapshot.metrics, snapshot.orgs, metric, org, periods)
        title = f"{definition.title}: {org} {rows.attrs.get('org_name') or ''}".rstrip()
    else:
        rows = latest_by_org(snapshot.metrics, snapshot.orgs, metric)
        title = f"{definition.title}: latest value per organisation"
    table = Table(title=title, title_justify="left", caption=f"snapshot {snapshot.hash}", caption_justify="left")
    columns = ["period"] if org else ["org_code", "org_name", "period"]
    for column in [*columns, "value", "numerator", "denominator", "flag"]:
        table.add_column(column, justify="right" if column in {"value", "numerator", "denominator"} else "left")
    for row in rows.itertuples(index=False):
        cells = [f"{row.period:%Y-%m-%d}"] if org else [row.org_code, _text(row.org_name), f"{row.period:%Y-%m-%d}"]
        # the value, numerator and denominator columns are floats (NaN when missing): cast() only tells mypy
        value, numerator, denominator = (cast(float, x) for x in (row.value, row.numerator, row.denominator))
        table.add_row(
            *cells,
            format_value(value, definition.unit, definition.decimals, definition.per),
            "" if numerator != numerator else f"{numerator:,.0f}",
            "" if denominator != denominator else f"{denominator:,.0f}",
            _text(row.flag),
        )
    out.print(table)


def _text(value: object) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(cast(str | float, value)) else str(value)  # text columns: str or NaN


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="Which file: catalogue, pack, schedules or annotations.")] = "catalogue",
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write every schema file into the project directory "
            "(pack, catalogue and schedules .schema.json) instead of printing one.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of a configuration file (for editor autocompletion)."""
    from reporting.schemas import SCHEMAS, render, write_schemas

    if write:
        for path in write_schemas(project().root):
            out.print(f"wrote {path}")
        return
    name = f"{kind}.schema.json"
    if name not in SCHEMAS:
        raise ReportingError(f"unknown schema '{kind}'; expected one of: catalogue, pack, schedules, annotations")
    print(render(name), end="")


#: modules of reporting.commands whose `register(app)` adds their commands, in the order `--help` lists them
COMMAND_MODULES = ("build", "jobs", "approve", "serve", "spc", "funnel", "review")


class CommandImportError(ImportError):
    """A command module cannot be imported: a broken install, never a command quietly missing from the CLI."""


def register_commands(
    app: typer.Typer, names: Sequence[str] = COMMAND_MODULES, package: str = "reporting.commands"
) -> None:
    """Import each command module and let it add its commands; the bodies live there, out of this module."""
    for name in names:
        module = f"{package}.{name}"
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            missing = exc.name or str(exc)
            why = "does not exist" if missing == module else f"needs the module '{missing}', which is not installed"
            raise CommandImportError(
                f"the command module {module} cannot be imported: it {why}; the installation is broken: "
                "reinstall reporting with its dependencies",
                name=missing,
            ) from exc
        loaded.register(app)


register_commands(app)


def main() -> None:
    """Entry point: typer handles usage errors itself; our own errors become one line and exit code 2."""
    from rich.markup import escape

    from reporting.redact import install_log_redaction, redact

    install_log_redaction(logging.WARNING)
    try:
        app()
    except ReportingError as exc:
        err.print(f"[red]error:[/red] {escape(redact(exc))}", soft_wrap=True, markup=True)
        sys.exit(2)
    except OSError as exc:
        from reporting.limits import no_space

        full = no_space(exc, "the disk")
        if full is exc:
            raise
        err.print(f"[red]error:[/red] {escape(redact(full))}", soft_wrap=True, markup=True)
        sys.exit(2)
