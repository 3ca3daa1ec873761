"""The command line: thin, with heavy imports inside commands, and every ReportingError as one line + exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reporting.errors import ReportingError
from reporting.project import Project

__all__ = ["app", "main"]

app = typer.Typer(name="reporting", help="Board and executive performance packs from NHS performance data.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
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
    project_dir: Annotated[Path | None, typer.Option("--project", help="Project directory holding templates/ "
                                                     "and schedules.yaml (default: $REPORTING_HOME or the current "
                                                     "directory).")] = None,
) -> None:
    state.directory, state.project = project_dir, None


def _progress() -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                    transient=True, disable=not err.is_terminal)


def _pull() -> tuple[Any, Any, Any]:
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull

    proj = project()
    catalogue = load_catalogue(proj.require_catalogue())
    with _progress() as bar:
        task = bar.add_task("loading", total=None)
        dataset, snapshot = pull(catalogue, proj.root, proj.snapshots, catalogue_file=proj.catalogue_file,
                                 progress=lambda what: bar.update(task, description=what))
    return catalogue, dataset, snapshot


def _load_table(catalogue: Any, dataset: Any) -> Any:
    from rich.table import Table

    from reporting.data.summary import latest_national

    table = Table(title="Metrics loaded", title_justify="left")
    for column in ("metric", "title", "chart", "rows", "orgs", "first", "last", "gaps", "zero den.", "skipped",
                   "latest, all orgs"):
        table.add_column(column, justify="right" if column in {"rows", "orgs", "gaps", "zero den.", "skipped"}
                         else "left")
    for load in dataset.loads:
        metric = catalogue.metric(load.metric_id)
        first = f"{load.first_period:%Y-%m-%d}" if load.first_period is not None else "–"
        last = f"{load.last_period:%Y-%m-%d}" if load.last_period is not None else "–"
        table.add_row(metric.id, metric.title, f"{metric.chart} {metric.frequency}", f"{load.rows:,}",
                      str(load.orgs), first, last, f"{load.missing:,}", f"{load.zero_denominator:,}",
                      f"{load.skipped:,}", latest_national(metric, dataset.metrics))
    return table


@app.command()
def demo(
    packs: Annotated[bool, typer.Option(help="Also build every pack in templates/packs/.")] = True,
) -> None:
    """Pull the bundled real NHS data, summarise each metric, and build the shipped packs."""
    catalogue, dataset, snapshot = _pull()
    out.print(_load_table(catalogue, dataset))
    out.print(f"{len(dataset.metrics):,} rows, {len(catalogue.metrics)} metrics, {len(dataset.orgs)} organisations "
              f"in the reference data.")
    out.print(f"Snapshot [bold]{snapshot.hash}[/bold] in {project().snapshots}")
    if packs:
        from reporting.charts import Renderer
        from reporting.packs.template import template_files

        with Renderer() as renderer:  # one browser for all the packs (started only if a chart needs it)
            for path in template_files(project().root):
                for result in _build(path.stem, renderer=renderer):
                    _print_result(result)
    out.print("[dim]Contains public sector information licensed under the Open Government Licence v3.0 "
              "(source: NHS England, NHS Digital ODS).[/dim]")


@app.command()
def validate(
    remote: Annotated[bool, typer.Option(help="Also read sql and http sources (default: check them without "
                                          "connecting).")] = False,
) -> None:
    """Check the metric catalogue and every local source's data; nothing is written."""
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import load

    proj = project()
    catalogue = load_catalogue(proj.require_catalogue())
    local = [n for n, s in catalogue.sources.items() if remote or s.kind in {"csv", "excel", "demo"}]
    with _progress() as bar:
        task = bar.add_task("validating", total=None)
        dataset = load(catalogue, proj.root, sources=local,
                       progress=lambda what: bar.update(task, description=what))
    skipped = sorted(set(catalogue.sources) - set(local))
    for name in skipped:
        source = catalogue.sources[name]
        env = getattr(source, "url_env", None)
        if env and env not in __import__("os").environ:
            raise ReportingError(f"{proj.catalogue_file}: source '{name}' needs environment variable {env}, "
                                 f"which is not set")
    out.print(f"[green]OK[/green] {proj.catalogue_file}: {len(catalogue.metrics)} metrics, "
              f"{len(catalogue.sources)} sources; {len(dataset.metrics):,} rows checked"
              + (f"; not connected to: {', '.join(skipped)} (use --remote)" if skipped else ""))
    from reporting.packs.assemble import check_template
    from reporting.packs.template import load_template, template_files

    for path in template_files(proj.root):
        template, doc, _ = load_template(proj.root, path.stem)
        check_template(template, doc, catalogue)
        out.print(f"[green]OK[/green] {path}: {len(template.sections)} sections, formats {', '.join(template.formats)}")
    if (proj.root / "schedules.yaml").exists():
        from reporting.schedule.runner import load_project_schedules

        schedules = load_project_schedules(proj)
        out.print(f"[green]OK[/green] {proj.root / 'schedules.yaml'}: jobs {', '.join(j.id for j in schedules.jobs)}")


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
        table.add_row(*cells, format_value(row.value, definition.unit, definition.decimals, definition.per),
                      "" if row.numerator != row.numerator else f"{row.numerator:,.0f}",
                      "" if row.denominator != row.denominator else f"{row.denominator:,.0f}", _text(row.flag))
    out.print(table)


def _text(value: object) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="Which file: catalogue, pack or schedules.")] = "catalogue",
) -> None:
    """Print the JSON Schema of a configuration file (for editor autocompletion)."""
    from reporting.data.catalogue import dump_schema
    from reporting.packs.template import schema as pack_schema
    from reporting.schedule.config import schema as schedules_schema

    schemas = {"catalogue": dump_schema, "pack": pack_schema, "schedules": schedules_schema}
    if kind not in schemas:
        raise ReportingError(f"unknown schema '{kind}'; expected one of: {', '.join(schemas)}")
    print(json.dumps(schemas[kind](), indent=2))


@app.command()
def build(
    pack: Annotated[str, typer.Argument(help="Pack template name (templates/packs/NAME.yaml).")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM or YYYY-MM-DD; default: the latest with data.")] = None,
    org: Annotated[list[str] | None, typer.Option("--org", help="Organisation code (repeatable).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Comma-separated: pptx,docx,xlsx,pdf.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory under outputs/.")] = None,
    all_orgs: Annotated[bool, typer.Option("--all-orgs", help="One pack for every organisation with data.")] = False,
    orgs_from: Annotated[Path | None, typer.Option("--orgs-from", help="File of organisation codes, one a line.")] = None,
    executor: Annotated[str, typer.Option(help="local | processes | dask | dask=tcp://host:8786")] = "local",
    workers: Annotated[int, typer.Option(help="Workers for processes / a local Dask cluster.")] = 2,
    peer_group: Annotated[str | None, typer.Option(help="Peer group for funnels and league tables "
                                                        "(default: the template's).")] = None,
) -> None:
    """Build one pack from the latest snapshot (pulling the data first if there is none); with several
    organisations, one pack each, in parallel with --executor."""
    formats = fmt.split(",") if fmt else None
    orgs = list(org or [])
    if orgs_from is not None:
        try:
            orgs += [line.split(",")[0].strip() for line in orgs_from.read_text().splitlines()
                     if line.strip() and not line.startswith("#")]
        except OSError as exc:
            raise ReportingError(f"{orgs_from}: cannot read: {exc.strerror}") from exc
    if all_orgs:
        if not (project().snapshots / "LATEST").exists():
            _pull()
        from reporting.packs.build import orgs_with_data

        usable, left_out = orgs_with_data(project(), pack, period=period, peer_group=peer_group)
        err.print(f"--all-orgs: {len(usable)} organisations have data for this pack's period; "
                  f"{len(left_out)} without are left out")
        orgs += [org for org in usable if org not in orgs]
    if len(orgs) <= 1 and executor == "local" and not all_orgs:
        for result in _build(pack, period=period, orgs=orgs or None, formats=formats, out=out_dir,
                             peer_group=peer_group):
            _print_result(result)
        return
    _build_many(pack, list(dict.fromkeys(orgs)), period=period, formats=formats, executor=executor, workers=workers,
                peer_group=peer_group)


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
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not err.is_terminal) as bar:
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


def _build(pack: str, **kwargs: Any) -> Any:
    from reporting.data.snapshot import LATEST
    from reporting.packs.build import build as build_pack

    proj = project()
    if not (proj.snapshots / LATEST).exists():
        _pull()
    with _progress() as bar:
        task = bar.add_task("building", total=None)
        return build_pack(proj, pack, progress=lambda what: bar.update(task, description=what), **kwargs)


def _print_result(result: Any) -> None:
    out.print(f"[bold]{result.pack}[/bold] {result.period}{' ' + result.org if result.org else ''} -> "
              f"{result.directory}")
    for path in result.files:
        out.print(f"  {path.name}  ({path.stat().st_size / 1024:,.0f} KB)")
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
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write the emails as .eml files instead of sending.")] = False,
) -> None:
    """Run one job now: pull, build, deliver; exit 1 if any recipient was not reached (run again to retry them)."""
    from reporting.schedule.runner import run_once

    with _progress() as bar:
        task = bar.add_task("running", total=None)
        report = run_once(project(), job, period=period, dry_run=dry_run,
                          progress=lambda what: bar.update(task, description=what))
    out.print(f"[bold]{report.job_id}[/bold] {report.period or ''}: {report.status}; "
              f"{'written' if dry_run else 'sent'} {len(report.sent)}, already had it {len(report.already)}, "
              f"failed {len(report.failed)}")
    for org, error in report.build_failed.items():
        err.print(f"[red]pack not built:[/red] {org}: {error}")
    for recipient, error in report.failed.items():
        err.print(f"[red]not reached:[/red] {recipient}: {error}")
    if report.error:
        err.print(f"[red]error:[/red] {report.error}")
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
    now = dt.datetime.now(dt.timezone.utc)
    for job in schedules.jobs:
        next_run = job.trigger().get_next_fire_time(None, now)
        table.add_row(job.id, job.pack, job.every or job.cron or "", job.timezone,
                      f"{next_run:%a %d %b %Y %H:%M %Z}" if next_run else "–", job.send_if,
                      str(len(job.recipients_for(project().root))),
                      job.executor + (f" ×{job.workers}" if job.executor in {"processes", "dask"} else ""))
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
        runs.add_row(str(r["id"]), r["job_id"], r["period"] or "", r["trigger"] or "", f"{r['started']:%Y-%m-%d %H:%M:%S}",
                     f"{r['finished']:%H:%M:%S}" if r["finished"] else "", r["status"], str(len(files)),
                     (r["error"] or "")[:80])
    out.print(runs)
    deliveries = Table(title="Deliveries", title_justify="left")
    for column in ("job", "period", "recipient", "org", "status", "attempts", "when", "error"):
        deliveries.add_column(column)
    for d in store.deliveries(job, limit * 10):
        deliveries.add_row(d["job_id"], d["period"], d["recipient"], d["org_code"] or "", d["status"],
                           str(d["attempts"]), f"{d['updated']:%Y-%m-%d %H:%M:%S}", (d["error"] or "")[:60])
    out.print(deliveries)


def _register_analysis_commands() -> None:
    """The analysts' spc and funnel commands live in reporting.commands (kept out of this module's size)."""
    import importlib

    for name in ("spc", "funnel"):  # a command that cannot be imported is a broken install: fail loudly
        importlib.import_module(f"reporting.commands.{name}").register(app)


_register_analysis_commands()


def main() -> None:
    """Entry point: typer handles usage errors itself; our own errors become one line and exit code 2."""
    try:
        app()
    except ReportingError as exc:
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True, markup=True)
        sys.exit(2)
