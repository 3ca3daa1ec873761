"""The command line: thin, with heavy imports inside commands, and every ReportingError as one line + exit 2."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reporting.errors import ReportingError
from reporting.project import Project

__all__ = ["app", "main"]


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

out = Console(highlight=False)
if not out.is_terminal:  # logs and CI: wide enough that tables keep one line per row
    out = Console(highlight=False, width=160)
err = Console(stderr=True, highlight=False)


class _State:
    project: Project | None = None
    directory: Path | None = None


state = _State()


def project() -> Project:
    if state.project is None:
        state.project = Project.locate(state.directory)
    return state.project


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


def _progress() -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _pull() -> tuple[Any, Any, Any]:
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull

    proj = project()
    catalogue = load_catalogue(proj.require_catalogue())
    with _progress() as bar:
        task = bar.add_task("loading", total=None)
        dataset, snapshot = pull(
            catalogue,
            proj.root,
            proj.snapshots,
            catalogue_file=proj.catalogue_file,
            progress=lambda what: bar.update(task, description=what),
        )
    return catalogue, dataset, snapshot


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
    catalogue, dataset, snapshot = _pull()
    out.print(_load_table(catalogue, dataset))
    out.print(
        f"{len(dataset.metrics):,} rows, {len(catalogue.metrics)} metrics, {len(dataset.orgs)} organisations "
        f"in the reference data."
    )
    out.print(f"Snapshot [bold]{snapshot.hash}[/bold] in {project().snapshots}")
    if packs:
        from reporting.charts import Renderer, project_cache
        from reporting.packs.template import template_files

        with Renderer(
            project_cache(project().root)
        ) as renderer:  # one browser for all the packs (started only if a chart needs it)
            for path in template_files(project().root):
                for result in _build(path.stem, renderer=renderer):
                    _print_result(result)
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

    with _progress() as bar:
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
def data_pull() -> None:
    """Run every source and write an immutable snapshot (nothing is written if any row is bad)."""
    catalogue, dataset, snapshot = _pull()
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
        table.add_row(
            *cells,
            format_value(row.value, definition.unit, definition.decimals, definition.per),
            "" if row.numerator != row.numerator else f"{row.numerator:,.0f}",
            "" if row.denominator != row.denominator else f"{row.denominator:,.0f}",
            _text(row.flag),
        )
    out.print(table)


def _text(value: object) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


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


@app.command()
def build(
    pack: Annotated[str, typer.Argument(help="Pack template name (templates/packs/NAME.yaml).")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM or YYYY-MM-DD; default: the latest with data.")] = None,
    org: Annotated[list[str] | None, typer.Option("--org", help="Organisation code (repeatable).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Comma-separated: pptx,docx,xlsx,pdf,html.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory under outputs/.")] = None,
    all_orgs: Annotated[bool, typer.Option("--all-orgs", help="One pack for every organisation with data.")] = False,
    orgs_from: Annotated[
        Path | None, typer.Option("--orgs-from", help="File of organisation codes, one a line.")
    ] = None,
    executor: Annotated[str, typer.Option(help="local | processes | dask | dask=tcp://host:8786")] = "local",
    workers: Annotated[int, typer.Option(help="Workers for processes / a local Dask cluster.")] = 2,
    peer_group: Annotated[
        str | None, typer.Option(help="Peer group for funnels and league tables (default: the template's).")
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(
            "--snapshot",
            help="Build from this snapshot hash, even if the catalogue has changed since (the pack says so).",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Build from the latest snapshot without pulling, even "
            "if the catalogue has changed since (the pack says so).",
        ),
    ] = False,
) -> None:
    """Build one pack from the latest snapshot; the data are pulled first if there is no snapshot or the
    catalogue changed a metric since the last pull (a failing pull fails the build). With several
    organisations, one pack each, in parallel with --executor."""
    formats = fmt.split(",") if fmt else None
    if snapshot and offline:
        raise ReportingError("give --snapshot HASH or --offline, not both")
    orgs = list(org or [])
    if orgs_from is not None:
        try:
            orgs += [
                line.split(",")[0].strip()
                for line in orgs_from.read_text().splitlines()
                if line.strip() and not line.startswith("#")
            ]
        except OSError as exc:
            raise ReportingError(f"{orgs_from}: cannot read: {exc.strerror}") from exc
    orgs = _known_orgs(orgs)
    if all_orgs:
        if not (project().snapshots / "LATEST").exists():
            _pull()
        from reporting.packs.build import orgs_with_data

        usable, left_out = orgs_with_data(project(), pack, period=period, peer_group=peer_group)
        err.print(
            f"--all-orgs: {len(usable)} organisations have data for this pack's period; "
            f"{len(left_out)} without are left out"
        )
        orgs += [org for org in usable if org not in orgs]
    if len(orgs) <= 1 and executor == "local" and not all_orgs:
        for result in _build(
            pack,
            period=period,
            orgs=orgs or None,
            formats=formats,
            out=out_dir,
            peer_group=peer_group,
            snapshot_hash=snapshot,
            offline=offline,
        ):
            _print_result(result)
        return
    chosen = None
    if snapshot or offline:
        from reporting.data.catalogue import load_catalogue
        from reporting.packs.build import current_snapshot

        chosen, _ = current_snapshot(
            project(), load_catalogue(project().require_catalogue()), snapshot_hash=snapshot, offline=offline
        )
    _build_many(
        pack,
        list(dict.fromkeys(orgs)),
        period=period,
        formats=formats,
        executor=executor,
        workers=workers,
        peer_group=peer_group,
        snapshot=chosen,
    )


def _build_many(pack: str, orgs: list[str], **kwargs: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from reporting.packs.template import load_template
    from reporting.schedule.executors import build_many, parse_executor

    parse_executor(kwargs["executor"])
    load_template(project().root, pack)  # template errors before any worker starts
    if not (project().snapshots / "LATEST").exists():
        _pull()
    failures = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(f"{pack}: 0 failed", total=len(orgs))

        def done(outcome: Any) -> None:
            nonlocal failures
            failures += not outcome.ok
            bar.update(task, advance=1, description=f"{pack}: {failures} failed")

        outcomes = build_many(project().root, pack, orgs, on_done=done, **kwargs)
    table = Table(title=f"{pack}: {len(outcomes) - failures} built, {failures} failed", title_justify="left")
    for column in ("org", "status", "seconds", "where / error"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(o.org, "ok" if o.ok else "[red]failed[/red]", f"{o.seconds:.1f}", o.directory or o.error or "")
    out.print(table)
    if failures:
        raise typer.Exit(1)


def _known_orgs(orgs: list[str]) -> list[str]:
    """Organisation codes as the data spell them: `rj1` is RJ1. An unknown code is left as given, so that in a
    build for many organisations it fails alone, with "did you mean" (packs.batch)."""
    if not orgs:
        return orgs
    from reporting.data.snapshot import LATEST, latest_snapshot

    proj = project()
    if not (proj.snapshots / LATEST).exists():
        return [o.upper() if o.islower() else o for o in orgs]
    codes = set(latest_snapshot(proj.snapshots).metrics["org_code"].astype(str))
    by_upper = {code.upper(): code for code in codes}
    return [code if code in codes else by_upper.get(code.strip().upper(), code) for code in orgs]


def _build(pack: str, **kwargs: Any) -> Any:
    from reporting.packs.build import build as build_pack

    proj = project()
    with _progress() as bar:
        task = bar.add_task("building", total=None)
        return build_pack(proj, pack, progress=lambda what: bar.update(task, description=what), **kwargs)


def _print_result(result: Any) -> None:
    out.print(
        f"[bold]{result.pack}[/bold] {result.period}{' ' + result.org if result.org else ''} -> {result.directory}"
    )
    for path in result.files:
        out.print(f"  {path.name}  ({path.stat().st_size / 1024:,.0f} KB)")
    for path in getattr(result, "open_data", ()):
        out.print(f"  {path.name}  ({path.stat().st_size / 1024:,.0f} KB, open data)")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def commentary(
    pack: Annotated[str, typer.Argument(help="Pack template name.")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM; default: the latest with data.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation code.")] = None,
) -> None:
    """Write the commentary workbook service leads fill in; the next build merges it."""
    from reporting.packs.build import write_commentary_for_pack

    path = write_commentary_for_pack(project(), pack, period=period, org=org)
    out.print(f"Commentary workbook: {path}")


@app.command("run-once")
def run_once_command(
    job: Annotated[str, typer.Argument(help="Job id from schedules.yaml.")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM or YYYY-MM-DD; default: the job's period rule.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the emails as .eml files instead of sending.")
    ] = False,
    resend: Annotated[
        list[str] | None,
        typer.Option(
            "--resend",
            help="Send again to this address although an earlier attempt may have been delivered "
            "(its outcome is unknown); same Message-ID. Repeatable.",
        ),
    ] = None,
) -> None:
    """Run one job now: pull, build, deliver; exit 1 if any recipient was not reached (run again to retry them)."""
    from reporting.schedule.runner import run_once

    with _progress() as bar:
        task = bar.add_task("running", total=None)
        report = run_once(
            project(),
            job,
            period=period,
            dry_run=dry_run,
            resend=tuple(resend or ()),
            progress=lambda what: bar.update(task, description=what),
        )
    out.print(
        f"[bold]{report.job_id}[/bold] {report.period or ''}: {report.status}; "
        f"{'written' if dry_run else 'sent'} {len(report.sent)}, already had it {len(report.already)}, "
        f"failed {len(report.failed)}"
    )
    from rich.markup import escape

    from reporting.redact import redact

    for org, error in report.build_failed.items():
        err.print(f"[red]pack not built:[/red] {org}: {escape(redact(error))}")
    for recipient, error in report.failed.items():
        err.print(f"[red]not reached:[/red] {recipient}: {escape(redact(error))}")
    if report.error:
        err.print(f"[red]error:[/red] {escape(redact(report.error))}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("run")
def run_command() -> None:
    """The scheduler daemon: runs every job of schedules.yaml on time (one per project; SIGHUP reloads)."""
    from reporting.schedule.daemon import run_daemon

    run_daemon(project(), say=lambda text: out.print(text))


@app.command()
def jobs() -> None:
    """List the jobs of schedules.yaml with their next run times."""
    import datetime as dt

    from rich.table import Table

    from reporting.schedule.runner import load_project_schedules

    schedules = load_project_schedules(project())
    table = Table(title="Jobs", title_justify="left")
    for column in ("job", "pack", "when", "timezone", "next run", "send if", "recipients", "built on"):
        table.add_column(column)
    now = dt.datetime.now(dt.UTC)
    for job in schedules.jobs:
        next_run = job.trigger().get_next_fire_time(None, now)
        table.add_row(
            job.id,
            job.pack,
            job.every or job.cron or "",
            job.timezone,
            f"{next_run:%a %d %b %Y %H:%M %Z}" if next_run else "–",
            job.send_if,
            str(len(job.recipients_for(project().root))),
            job.executor + (f" ×{job.workers}" if job.executor in {"processes", "dask"} else ""),
        )
    out.print(table)


@app.command()
def history(
    job: Annotated[str | None, typer.Option("--job", help="Only this job.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
) -> None:
    """Runs and deliveries from the run-history database."""
    from rich.table import Table

    from reporting.schedule.history import History

    store = History.open(project().root)
    runs = Table(title="Runs", title_justify="left")
    for column in ("id", "job", "period", "trigger", "started", "finished", "status", "files", "error"):
        runs.add_column(column)
    for r in store.runs(job, limit):
        files = json.loads(r["files"] or "[]")
        runs.add_row(
            str(r["id"]),
            r["job_id"],
            r["period"] or "",
            r["trigger"] or "",
            f"{r['started']:%Y-%m-%d %H:%M:%S}",
            f"{r['finished']:%H:%M:%S}" if r["finished"] else "",
            r["status"],
            str(len(files)),
            (r["error"] or "")[:80],
        )
    out.print(runs)
    deliveries = Table(title="Deliveries", title_justify="left")
    for column in ("job", "period", "recipient", "org", "status", "attempts", "when", "error"):
        deliveries.add_column(column)
    for d in store.deliveries(job, limit * 10):
        deliveries.add_row(
            d["job_id"],
            d["period"],
            d["recipient"],
            d["org_code"] or "",
            d["status"],
            str(d["attempts"]),
            f"{d['updated']:%Y-%m-%d %H:%M:%S}",
            (d["error"] or "")[:60],
        )
    out.print(deliveries)


def _register_analysis_commands() -> None:
    """The analysts' spc and funnel commands live in reporting.commands (kept out of this module's size)."""
    import importlib

    for name in ("spc", "funnel", "review"):  # a command that cannot be imported is a broken install: fail loudly
        importlib.import_module(f"reporting.commands.{name}").register(app)


_register_analysis_commands()


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
