"""Build a pack: snapshot + template -> Pack -> charts (one batch) -> files -> outputs/<pack>/<period>[/<org>]/.

Nothing half-made is ever published: every format is written into a temporary directory inside outputs/,
with a manifest, and the directory is moved into place only when all of them succeeded. Formats already
published for the pack and not built this time are kept (packs.publish.carry_over). Output paths are
built from validated ids and may not leave outputs/.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting.charts import Renderer, project_cache
from reporting.data.catalogue import load_catalogue
from reporting.data.snapshot import Snapshot, latest_snapshot
from reporting.errors import ConfigError
from reporting.files import dir_mode
from reporting.limits import no_space
from reporting.packs.assemble import snapshot_note
from reporting.packs.batch import Batch, prepare
from reporting.packs.commentary_files import commentary_reader
from reporting.packs.data_file import previous_pack
from reporting.packs.publish import (
    approval_state,
    carry_over,
    entry,
    inputs_hash,
    publish,
    remove_abandoned,
    safe_output_dir,
)
from reporting.packs.render._draft import drafting
from reporting.packs.template_load import load_template
from reporting.packs.tree import Pack
from reporting.project import Project

if TYPE_CHECKING:  # pdf_ua imports pikepdf: only a build that makes a PDF loads it
    from reporting.packs.pdf_ua import Failure

__all__ = [
    "BuildResult",
    "build",
    "build_from",
    "check_formats",
    "orgs_with_data",
    "prepare_build",
]

FORMATS = ("pptx", "docx", "xlsx", "pdf", "html")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    pack: str
    org: str | None
    period: str
    directory: Path
    files: tuple[Path, ...]
    manifest: dict[str, Any]
    warnings: tuple[str, ...] = ()
    tree: Pack | None = None  # the assembled pack (for email headlines); not part of the output
    open_data: tuple[Path, ...] = ()  # the data package beside the pack (datapackage.json first)

    @property
    def content_hash(self) -> str:
        """The delivery log's key: what the pack was made from (data snapshot, template, parameters, files).

        Not the files' bytes: a rebuild from the same inputs must count as the same pack even where a file's
        bytes could change without its inputs (another LibreOffice or library version), or a rerun would send
        it again to people who already have it."""
        m = self.manifest
        made = sorted(f["name"] for f in m["files"] if not f.get("kept_from_earlier_build"))
        key = json.dumps([m["snapshot_hash"], m["template_hash"], m["parameters"], made])
        return hashlib.sha256(key.encode()).hexdigest()


@cache
def _versions() -> dict[str, str]:
    out = {}
    for name in ("reporting", "pandas", "numpy", "plotly", "kaleido", "python-pptx", "python-docx", "openpyxl"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


_LO_PROFILES: dict[int, Path] = {}


def _lo_profile() -> Path:
    """This process's (and thread's) LibreOffice profile, reused by every PDF it makes: LibreOffice's first
    start with a new profile costs about a second. Never shared by two conversions at once (one per thread);
    removed when the process exits."""
    key = threading.get_ident()
    if key not in _LO_PROFILES:
        _LO_PROFILES[key] = Path(tempfile.mkdtemp(prefix=f"reporting-lo-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _LO_PROFILES[key], True)
    return _LO_PROFILES[key]


def _drop_lo_profile() -> None:
    path = _LO_PROFILES.pop(threading.get_ident(), None)
    if path is not None:
        from reporting.packs.render import pdf

        pdf.release_profile(path)  # its warm LibreOffice first, then the profile
        shutil.rmtree(path, ignore_errors=True)


def _render_formats(
    pack: Pack, formats: Sequence[str], directory: Path, stem: str, svgs: dict[str, Path] | None = None
) -> tuple[list[Path], list[str], dict[str, list[Failure]]]:
    """The pack's files in `formats`, warnings, and the PDF/UA failures of the PDF made (checked as its figures'
    alt text is put back, by name: `pdf_ua.check_published` does not read it again)."""
    from reporting.packs.render import docx, html, pptx, xlsx

    files: list[Path] = []
    warnings: list[str] = []
    checked: dict[str, list[Failure]] = {}
    writers: dict[str, Callable[[Pack, Path], Path]] = {
        "pptx": pptx.render,
        "docx": docx.render,
        "xlsx": xlsx.render,
        "html": lambda p, path: html.render(p, path, svgs or {}),
    }
    for fmt in formats:
        if fmt in writers:
            files.append(writers[fmt](pack, directory / f"{stem}.{fmt}"))
    if "pdf" in formats:
        from reporting.packs.render import pdf

        source = next((f for f in files if f.suffix == ".docx"), None) or next(
            (f for f in files if f.suffix == ".pptx"), None
        )
        if source is None:  # PDF asked for alone: make the Word paper to convert, but do not publish it
            source = docx.render(pack, directory / ".pdf-source" / f"{stem}.docx")
        profile = _lo_profile()  # no LibreOffice: PdfUnavailable; the pack fails whole (no paper without its PDF)
        from reporting.packs.pdf_ua import chart_alt_texts, restore_and_check_open

        alts, found = chart_alt_texts(source), []  # the charts' alt text LibreOffice drops, back in its one save
        try:
            edit = lambda doc: found.append(restore_and_check_open(doc, alts)[1])  # noqa: E731 - and checked
            made = pdf.to_pdf(source, directory, profile_dir=profile, edit=edit)
        except BaseException:
            _drop_lo_profile()  # a profile left broken by a failed conversion is not reused
            raise
        checked[made.name] = found[0]
        files.append(made)
        shutil.rmtree(directory / ".pdf-source", ignore_errors=True)
    from reporting.packs.render.docx.contents import fill_contents

    for made_docx in (f for f in files if f.suffix == ".docx"):  # its PDF, if made, has its contents' pages
        try:
            fill_contents(pack, made_docx, directory / f"{stem}.pdf" if "pdf" in formats else None, _lo_profile())
        except BaseException:
            _drop_lo_profile()
            raise
    return files, warnings, checked


def current_snapshot(
    project: Project,
    catalogue: Any,
    *,
    snapshot_hash: str | None = None,
    offline: bool = False,
    progress: Progress | None = None,
) -> tuple[Snapshot, dict[str, Any]]:
    """The snapshot a build uses, and how it was chosen (for the manifest and the pack's note).

    A build never silently uses data older than its definitions: without `snapshot_hash` or `offline`, a
    missing snapshot, or one pulled before the catalogue changed a metric's definition, is pulled again, and
    a failing pull fails the build with the pull's error. `--snapshot HASH` and `--offline` use an older
    snapshot on purpose, and the pack says so."""
    from reporting.data.snapshot import LATEST, read_snapshot, stale_definitions

    if snapshot_hash is not None:
        snapshot, how = read_snapshot(project.snapshots, snapshot_hash), "--snapshot"
    elif offline or (project.snapshots / LATEST).exists():
        snapshot, how = latest_snapshot(project.snapshots), "--offline" if offline else "latest"
    else:
        snapshot, how = None, "pulled: no snapshot yet"
    stale = stale_definitions(snapshot, catalogue) if snapshot is not None else []
    if snapshot is None or (stale and how == "latest"):
        from reporting.data.load import pull

        if snapshot is not None:
            how = f"pulled: the catalogue changed {', '.join(stale)} since snapshot {snapshot.hash}"
        if progress:
            progress("pulling data (" + how.removeprefix("pulled: ") + ")")
        _, snapshot = pull(catalogue, project.root, project.snapshots, catalogue_file=project.catalogue_file)
        stale = []
    return snapshot, {"hash": snapshot.hash, "chosen": how, "stale_metrics": stale}


def prepare_build(
    project: Project,
    pack_id: str,
    *,
    period: str | None = None,
    orgs: Sequence[str | None] | None = None,
    peer_group: str | None = None,
    snapshot: Snapshot | None = None,
    snapshot_hash: str | None = None,
    offline: bool = False,
    progress: Progress | None = None,
) -> Batch:
    """Load the data and run the engine once for every organisation of the build (see packs.batch.Batch)."""
    catalogue = load_catalogue(project.require_catalogue())
    template, doc, template_hash = load_template(project.root, pack_id)
    if snapshot is None:
        snapshot, choice = current_snapshot(
            project, catalogue, snapshot_hash=snapshot_hash, offline=offline, progress=progress
        )
    else:  # chosen by the caller (a scheduled run's fresh pull, or --offline/--snapshot for many organisations)
        from reporting.data.snapshot import stale_definitions

        stale = stale_definitions(snapshot, catalogue) if "definitions" in snapshot.meta else []
        choice = {"hash": snapshot.hash, "chosen": "given", "stale_metrics": stale}
    batch = prepare(
        catalogue,
        template,
        doc,
        template_hash,
        snapshot,
        orgs=list(orgs) if orgs else [None],
        period=period,
        peer_group=peer_group,
    )
    batch.snapshot_choice = choice
    return batch


def orgs_with_data(
    project: Project, pack_id: str, *, period: str | None = None, peer_group: str | None = None
) -> tuple[list[str], list[str]]:
    """(organisations that have data for the pack's period, the others): what `--all-orgs` builds. Without
    this, a national run would list every mental health trust (no A&E data) and every trust that stopped
    reporting as a failure."""
    snapshot = latest_snapshot(project.snapshots)
    frame = snapshot.metrics
    every = sorted(set(frame.loc[frame["value"].notna(), "org_code"].astype(str)))
    batch = prepare_build(project, pack_id, period=period, orgs=every, peer_group=peer_group, snapshot=snapshot)
    return [org for org in every if org in batch.periods], [org for org in every if org not in batch.periods]


def check_formats(batch: Batch, formats: Sequence[str] | None) -> list[str]:
    defaults = list(batch.template.formats) + (["html"] if batch.template.public else [])
    chosen = list(dict.fromkeys(formats or defaults))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ConfigError(
            f"unknown format(s) {', '.join(unknown)}; expected some of {', '.join(FORMATS)}", field="--format"
        )
    if "html" in chosen:
        _check_html_theme(batch)
    return chosen


def _check_html_theme(batch: Batch) -> None:
    """The HTML edition's text colours must meet WCAG AA on its background: refused up front, naming the key."""
    from reporting.charts.theme import DEFAULT_THEME
    from reporting.packs.render.html import contrast_message, theme_contrast_failures
    from reporting.packs.template import theme_overrides

    try:
        theme = (
            DEFAULT_THEME.with_overrides(theme_overrides(batch.template.theme))
            if batch.template.theme
            else DEFAULT_THEME
        )
    except ValueError:
        return  # an unknown theme key is reported where the theme is applied
    for key, background, ratio in theme_contrast_failures(theme):
        path = ("theme", *key.split("."))
        line = batch.doc.line_of(path) if isinstance(batch.doc.data, dict) and "theme" in batch.doc.data else None
        raise ConfigError(
            contrast_message(key, background, ratio), file=batch.doc.file, line=line, field=f"theme.{key}"
        )


def build(
    project: Project,
    pack_id: str,
    *,
    period: str | None = None,
    orgs: Sequence[str | None] | None = None,
    formats: Sequence[str] | None = None,
    out: Path | None = None,
    snapshot: Snapshot | None = None,
    renderer: Renderer | None = None,
    progress: Progress | None = None,
    built_at: str | None = None,
    peer_group: str | None = None,
    snapshot_hash: str | None = None,
    offline: bool = False,
) -> list[BuildResult]:
    """Build one pack for each organisation (or the template's default); returns what was published. The
    first organisation that fails stops the build (per-organisation failures: schedule.executors)."""
    say = progress or (lambda _: None)
    say("reading the latest snapshot")
    batch = prepare_build(
        project,
        pack_id,
        period=period,
        orgs=orgs,
        peer_group=peer_group,
        snapshot=snapshot,
        snapshot_hash=snapshot_hash,
        offline=offline,
        progress=say,
    )
    chosen = check_formats(batch, formats)
    org_list: list[str | None] = list(orgs) if orgs else [None]
    results = []
    own_renderer = renderer is None
    renderer = renderer or Renderer(project_cache(project.root))
    if own_renderer:
        renderer.__enter__()
    try:
        for org in org_list:
            results.append(
                build_from(
                    project,
                    batch,
                    org,
                    chosen,
                    renderer,
                    out=out if len(org_list) == 1 else None,
                    progress=say,
                    built_at=built_at,
                )
            )
    finally:
        if own_renderer:
            renderer.__exit__(None, None, None)
    return results


def build_from(
    project: Project,
    batch: Batch,
    org: str | None,
    formats: list[str],
    renderer: Renderer,
    *,
    out: Path | None = None,
    progress: Progress | None = None,
    built_at: str | None = None,
) -> BuildResult:
    """One organisation's pack from a prepared batch: assemble, draw its charts, write, publish atomically."""
    say = progress or (lambda _: None)
    snapshot = batch.snapshot
    if "pdf" in formats:
        from reporting.packs.render import pdf

        if not pdf.libreoffice_available():  # before anything is written: the published pack stays as it is
            raise pdf.PdfUnavailable(
                f"pack '{batch.template.pack}' is made as pdf but LibreOffice is not installed "
                f"({pdf.INSTALL_HINT}); nothing was built, the published pack is unchanged"
            )
    say(f"assembling {batch.template.pack}" + (f" for {org}" if org else ""))
    pack = batch.pack(
        org,
        commentary=commentary_reader(project, batch.template),
        built_at=built_at,
        previous=partial(previous_pack, project.outputs, batch.template.pack),
    )
    specs = pack.image_specs(formats)
    say(f"rendering {len(specs)} chart images")
    images = renderer.render(specs)
    pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
    svgs = None
    if "html" in formats:  # the HTML edition draws every chart inline as SVG
        vector = pack.chart_specs()
        svgs = {s.content_hash(): i.path for s, i in zip(vector, renderer.render(vector, "svg"), strict=True)}
    parts = [pack.id, pack.period.isoformat()] + ([pack.org_code] if pack.org_code and org else [])
    final = safe_output_dir(project.outputs, *parts, out=out)
    try:
        final.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode())
        remove_abandoned(final.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".building-{pack.id}-{os.getpid()}-", dir=final.parent))
    except OSError as exc:
        raise no_space(exc, final.parent) from exc
    try:
        stem = "-".join(parts)
        say(f"writing {', '.join(formats)}")
        parameters = dict(pack.provenance.parameters)
        inputs = inputs_hash(snapshot.hash, pack.provenance.template_hash, parameters)
        approval = approval_state(final, batch.template.approval, batch.approval)
        with drafting(approval.is_draft(inputs)):  # marked on every page until its content hash is approved
            files, warnings, checked = _render_formats(pack, formats, staging, stem, svgs)
        kept = carry_over(final, staging, inputs)
        warnings += kept.warnings
        note = snapshot_note(batch.snapshot_choice)
        if note:
            warnings.append(note)
        from reporting.packs.pdf_ua import check_published

        accessibility = check_published(files, batch.template.accessibility, checked)
        from reporting.packs.data_file import SCHEMA_VERSION, pack_data, write_pack_data

        numbers = pack_data(batch, pack)  # the data file's document, which the open data is read from too
        open_data: list[Path] = []
        if batch.template.open_data:
            from reporting.packs.open_data import write_data_package

            open_data = write_data_package(pack, batch, staging, stem, numbers)
        warnings += [
            f"{name}: {f['check']} failed" + (f" on page {f['page']}" if f["page"] else "") + f": {f['detail']}"
            for name, failures in accessibility.items()
            for f in failures
        ]
        from reporting.packs.email_facts import email_facts

        data_file = write_pack_data(batch, pack, staging / f"{stem}.data.json", numbers)
        manifest = {
            "pack": pack.id,
            "title": pack.title,
            "period": pack.period.isoformat(),
            "org": pack.org_code,
            "built_at": pack.provenance.built_at,
            "template": str(Path(pack.provenance.template_path).relative_to(project.root))
            if Path(pack.provenance.template_path).is_relative_to(project.root)
            else pack.provenance.template_path,
            "template_hash": pack.provenance.template_hash,
            "snapshot_hash": snapshot.hash,
            "snapshot": dict(batch.snapshot_choice),
            "parameters": parameters,
            "inputs_sha256": inputs,
            "versions": dict(_versions()),
            "chart_images": len(specs),
            "warnings": warnings,
            "email": email_facts(pack),  # what the email says beside the headline: a resend says it again
            "files": [{**entry(f), "built_at": pack.provenance.built_at, "inputs_sha256": inputs} for f in files]
            + kept.entries,
            "data": {
                "name": data_file.name,
                "schema": "docs/pack-data.md",
                "schema_version": SCHEMA_VERSION,
                "sha256": hashlib.sha256(data_file.read_bytes()).hexdigest(),
            },
        }
        if open_data:  # beside the pack, not part of it: not attached to emails, not in the content hash
            manifest["open_data"] = {
                "format": "Frictionless Data Package",
                "descriptor": open_data[0].name,
                "files": [entry(f) for f in open_data],
            }
        if approval.approvers:
            manifest["approval"] = approval.manifest(inputs)
        if any(f.suffix == ".pdf" for f in files) or any(k["name"].endswith(".pdf") for k in kept.entries):
            from reporting.packs.pdf_ua import CHECKS

            failures = {**kept.accessibility, **accessibility}
            manifest["accessibility"] = {"pdf_ua_checks": list(CHECKS), "failures": failures}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        publish(staging, final)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        full = no_space(exc, final.parent)
        if full is not exc:
            raise full from exc
        raise
    return BuildResult(
        pack.id,
        pack.org_code,
        pack.period.isoformat(),
        final,
        tuple(final / f.name for f in files),
        manifest,
        tuple(warnings),
        pack,
        tuple(final / f.name for f in open_data),
    )


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
