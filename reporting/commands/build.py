"""``reporting build`` and ``reporting commentary``: build packs (one, or one per organisation in parallel) and
write the commentary workbook. Heavy imports stay inside the commands, so ``reporting --help`` stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reporting.commands._context import err, out, progress, project, pull
from reporting.errors import ReportingError

if TYPE_CHECKING:
    from reporting.packs.build import BuildResult

__all__ = ["build", "build_one", "commentary", "print_result", "register"]


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
            pull()
        from reporting.packs.build import orgs_with_data

        usable, left_out = orgs_with_data(project(), pack, period=period, peer_group=peer_group)
        err.print(
            f"--all-orgs: {len(usable)} organisations have data for this pack's period; "
            f"{len(left_out)} without are left out"
        )
        orgs += [org for org in usable if org not in orgs]
    if len(orgs) <= 1 and executor == "local" and not all_orgs:
        for result in build_one(
            pack,
            period=period,
            orgs=orgs or None,
            formats=formats,
            out=out_dir,
            peer_group=peer_group,
            snapshot_hash=snapshot,
            offline=offline,
        ):
            print_result(result)
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

    from reporting.packs.template_load import load_template
    from reporting.schedule.executors import build_many, parse_executor

    parse_executor(kwargs["executor"])
    load_template(project().root, pack)  # template errors before any worker starts
    if not (project().snapshots / "LATEST").exists():
        pull()
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


def build_one(pack: str, *, steps: bool = False, **kwargs: Any) -> list[BuildResult]:
    """`packs.build.build` with a progress bar; `kwargs` are its keyword arguments. With `steps`, each step is
    also a line on stdout when there is no terminal for the bar (a first `make demo` in CI or a log is never
    silent for long)."""
    from reporting.packs.build import build as build_pack

    proj = project()
    with progress() as bar:
        task = bar.add_task("building", total=None)

        def say(what: str) -> None:
            bar.update(task, description=what)
            if steps and not err.is_terminal:
                out.print(f"  {pack}: {what}", markup=False, highlight=False)

        return build_pack(proj, pack, progress=say, **kwargs)


def print_result(result: BuildResult) -> None:
    out.print(
        f"[bold]{result.pack}[/bold] {result.period}{' ' + result.org if result.org else ''} -> {result.directory}"
    )
    for path in result.files:
        out.print(f"  {path.name}  ({path.stat().st_size / 1024:,.0f} KB)")
    for path in getattr(result, "open_data", ()):
        out.print(f"  {path.name}  ({path.stat().st_size / 1024:,.0f} KB, open data)")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")


def commentary(
    pack: Annotated[str, typer.Argument(help="Pack template name.")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM; default: the latest with data.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation code.")] = None,
) -> None:
    """Write the commentary workbook service leads fill in; the next build merges it."""
    from reporting.packs.commentary_files import write_commentary_for_pack

    path = write_commentary_for_pack(project(), pack, period=period, org=org)
    out.print(f"Commentary workbook: {path}")


def register(app: typer.Typer) -> None:
    """Add ``build`` and ``commentary`` to ``app``."""
    app.command()(build)
    app.command()(commentary)
