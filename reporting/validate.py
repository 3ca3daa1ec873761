"""`reporting validate`: everything a build or a scheduled run will need, checked up front, ALL errors at once.

Each check is a function `check(ctx)` that records what it finds on `ctx.report`; nothing is written. A check
that raises a ReportingError has that error recorded (so one broken file never hides the others), and later
checks work with whatever the earlier ones could load (`ctx.catalogue` holds the valid part of a catalogue
that has errors, so the templates are still checked against it).

A new kind of configuration file plugs in with one call, as the annotations register does (`_annotations`):

    register(lambda ctx: ctx.run(load_annotations, ctx.project.root / "templates" / "annotations.yaml",
                                 ctx.catalogue), name="annotations")

`ctx.run(fn, ...)` records a ReportingError that `fn` raises, and every ReportingError in a list it returns.
Warnings (unused metrics, packs that take every metric, a snapshot older than the catalogue) are kept apart
and never change the exit code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reporting.errors import ReportingError
from reporting.project import Project

__all__ = ["CHECKS", "Context", "Report", "register", "validate"]


@dataclass
class Report:
    """What validate found: errors (exit 2), warnings, and one OK line per file that passed."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def error(self, problem: ReportingError | str) -> None:
        text = str(problem)
        if text not in self.errors:
            self.errors.append(text)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Context:
    project: Project
    remote: bool = False
    report: Report = field(default_factory=Report)
    catalogue: Any = None  # the catalogue (only its valid metrics and sources if it has errors)
    catalogue_doc: Any = None
    catalogue_complete: bool = False
    orgs: Any = None  # the organisation reference as read now (None if it could not be read)
    templates: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # pack -> (PackTemplate, Located)
    defined_ids: list[str] = field(default_factory=list)  # every metric id the catalogue names, valid or not
    frames: list[Any] = field(default_factory=list)  # every metric's rows as built now (for the annotations check)
    data_complete: bool = False  # every metric was built without an error

    def run(self, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call `check`; record a ReportingError it raises and each ReportingError in a list it returns."""
        try:
            result = check(*args, **kwargs)
        except ReportingError as exc:
            self.report.error(exc)
            return None
        if isinstance(result, list) and all(isinstance(r, ReportingError) for r in result):
            for problem in result:
                self.report.error(problem)
        return result


Check = Callable[[Context], None]
CHECKS: list[tuple[str, Check]] = []


def register(check: Check, *, name: str | None = None) -> Check:
    """Add a check; checks run in the order they were registered (after the built-in ones)."""
    CHECKS.append((name or check.__name__, check))
    return check


def validate(project: Project, *, remote: bool = False) -> Report:
    ctx = Context(project, remote)
    for _, check in CHECKS:
        try:
            check(ctx)
        except ReportingError as exc:
            ctx.report.error(exc)
    return ctx.report


# ------------------------------------------------------------------------------------------------ catalogue
def _catalogue(ctx: Context) -> None:
    from reporting._yaml import load_yaml
    from reporting.data.catalogue import Catalogue, Metric, _vocabulary, reference_errors
    from reporting.data.org_config import OrgReference
    from reporting.data.source_config import Source
    from reporting.errors import ConfigError
    from reporting.validation_errors import config_errors

    path = ctx.project.require_catalogue()
    doc = load_yaml(path)
    ctx.catalogue_doc = doc
    if not isinstance(doc.data, dict):
        raise ConfigError("expected a mapping with 'sources' and 'metrics'", file=doc.file, line=1)
    raw_metrics = doc.data.get("metrics")
    ctx.defined_ids = (
        [str(m["id"]) for m in raw_metrics if isinstance(m, dict) and "id" in m]
        if isinstance(raw_metrics, list)
        else []
    )
    try:
        catalogue = Catalogue.model_validate(doc.data)
        ctx.catalogue_complete = True
    except ValidationError as exc:
        for problem in config_errors(exc, doc, _vocabulary()):
            ctx.report.error(problem)
        catalogue = _partial_catalogue(doc.data, Catalogue, Metric, OrgReference, Source)
    for problem in reference_errors(catalogue, doc):
        ctx.report.error(problem)
    ctx.catalogue = catalogue
    if ctx.catalogue_complete:
        ctx.report.passed.append(f"{path}: {len(catalogue.metrics)} metrics, {len(catalogue.sources)} sources")


def _partial_catalogue(data: dict[str, Any], catalogue: Any, metric: Any, orgs: Any, source: Any) -> Any:
    """The metrics and sources that are valid on their own, so templates can still be checked against them."""

    def valid(model: Any, value: Any) -> Any:
        try:
            return model.validate_python(value) if isinstance(model, TypeAdapter) else model.model_validate(value)
        except (ValidationError, ValueError, TypeError):
            return None

    sources = {}
    for name, raw in (data.get("sources") or {}).items() if isinstance(data.get("sources"), dict) else []:
        parsed = valid(TypeAdapter(source), raw)
        if parsed is not None:
            sources[name] = parsed
    metrics, seen = [], set()
    for raw in data.get("metrics") or [] if isinstance(data.get("metrics"), list) else []:
        parsed = valid(metric, raw)
        if parsed is not None and parsed.id not in seen:
            seen.add(parsed.id)
            metrics.append(parsed)
    ref = valid(orgs, data.get("orgs")) if data.get("orgs") is not None else None
    return catalogue.model_construct(sources=sources, orgs=ref, metrics=metrics)


# ------------------------------------------------------------------------------------------------ data
def _data(ctx: Context) -> None:
    """Read every local source once and build every metric from it; each metric's first bad row is reported."""
    from reporting._yaml import load_yaml
    from reporting.data.frame import build_metric
    from reporting.data.orgs import build_orgs
    from reporting.data.sources import read_source

    catalogue = ctx.catalogue
    if catalogue is None:
        return
    local = {n for n, s in catalogue.sources.items() if ctx.remote or s.kind in {"csv", "excel", "demo"}}
    for name in sorted(set(catalogue.sources) - local):
        env = getattr(catalogue.sources[name], "url_env", None)
        if env and env not in os.environ:
            ctx.report.error(
                f"{ctx.project.catalogue_file}: source '{name}' needs environment variable {env}, which is not set"
            )
    org_sources = [entry.source for entry in catalogue.orgs.sources] if catalogue.orgs else []
    needed = [m.source for m in catalogue.metrics] + org_sources
    tables: dict[str, Any] = {}
    for name in dict.fromkeys(needed):
        if name in local and name in catalogue.sources:
            tables[name] = ctx.run(read_source, name, catalogue.sources[name], ctx.project.root)
    rows, built = 0, 0
    for metric in catalogue.metrics:
        table = tables.get(metric.source)
        if table is None:
            continue
        result = ctx.run(build_metric, metric, catalogue.sources[metric.source], table)
        if result is not None:
            rows += len(result[0])
            built += 1
            ctx.frames.append(result[0])
            if result[1].aggregated:
                ctx.report.warn(
                    f"metric '{metric.id}': {result[1].aggregated:,} duplicate rows combined by "
                    f"aggregate: {metric.aggregate}"
                )
    if catalogue.orgs is not None and all(tables.get(name) is not None for name in org_sources):
        doc = load_yaml(ctx.project.catalogue_file)
        ctx.orgs = ctx.run(build_orgs, catalogue.orgs, tables, catalogue.sources, doc)
    ctx.data_complete = ctx.catalogue_complete and built == len(catalogue.metrics)
    skipped = sorted(set(catalogue.sources) - local)
    ctx.report.passed.append(
        f"{rows:,} rows checked" + (f"; not connected to: {', '.join(skipped)} (use --remote)" if skipped else "")
    )


# ------------------------------------------------------------------------------------------------ templates
def _templates(ctx: Context) -> None:
    from reporting._yaml import Located
    from reporting.packs.checks import template_problems
    from reporting.packs.office_templates import check_office_template, default_docx, default_pptx
    from reporting.packs.template import PackTemplate
    from reporting.packs.template_load import merged_document, template_errors, template_files

    office: dict[Path, str] = {}
    for path in template_files(ctx.project.root):
        merged = ctx.run(merged_document, ctx.project.root, path.stem)
        if merged is None:
            continue
        data, doc, _ = merged
        try:
            template = PackTemplate.model_validate(data)
        except ValidationError as exc:
            for problem in template_errors(exc, Located(data, doc.lines, doc.file)):
                ctx.report.error(problem)
            template = _pruned(PackTemplate, data, exc)
            if template is not None and ctx.catalogue is not None:  # the rest is still checked
                for problem in template_problems(template, doc, ctx.catalogue, ctx.defined_ids):
                    ctx.report.error(problem)
            continue
        if template.pack != path.stem:
            from reporting.errors import ConfigError

            ctx.report.error(
                ConfigError(
                    f"pack id '{template.pack}' does not match the file name '{path.name}'",
                    file=path,
                    line=doc.line_of(("pack",)),
                    field="pack",
                )
            )
        ctx.templates[path.stem] = (template, doc)
        before = len(ctx.report.errors)
        if ctx.catalogue is not None:
            for problem in template_problems(template, doc, ctx.catalogue, ctx.defined_ids):
                ctx.report.error(problem)
        for fmt in ("pptx", "docx"):
            if fmt in template.formats or (fmt == "docx" and "pdf" in template.formats):
                given = template.office.get(fmt)
                chosen = (
                    (Path(given) if Path(given).is_absolute() else ctx.project.root / given)
                    if given
                    else (default_pptx(ctx.project.root) if fmt == "pptx" else default_docx(ctx.project.root))
                )
                office.setdefault(chosen, fmt)
        if template.metrics is None:
            ctx.report.warn(
                f"{path}: no 'metrics:' selection, so this pack covers every catalogue metric and a "
                f"metric added to the catalogue will appear in it; add e.g. metrics: [ae_4hr]"
            )
        if len(ctx.report.errors) == before:
            ctx.report.passed.append(
                f"{path}: {len(template.sections)} sections, formats {', '.join(template.formats)}"
            )
    for chosen, fmt in office.items():
        problems = check_office_template(chosen, fmt)
        for problem in problems:
            ctx.report.error(problem)
        if not problems:
            ctx.report.passed.append(
                f"{chosen}: has every {'slide layout' if fmt == 'pptx' else 'style'} the renderer needs"
            )


def _pruned(model: Any, data: Any, exc: ValidationError, rounds: int = 8) -> Any:
    """The template with the parts that have errors taken out (an unknown key removed, a bad block replaced
    by an empty page break so later blocks keep their positions and lines), so that the rest of it can still
    be checked against the catalogue. None if it cannot be made valid that way."""
    import copy

    data = copy.deepcopy(data)
    for _ in range(rounds):
        changed = False
        for err in exc.errors():
            if _drop(data, [p for p in err["loc"] if isinstance(p, str | int)], err["type"]):
                changed = True
        if not changed:
            return None
        try:
            return model.model_validate(data)
        except ValidationError as again:
            exc = again
    return None


def _drop(data: Any, loc: list[Any], kind: str) -> bool:
    """Take out the part at `loc`: the key itself if unknown, else the innermost block that holds it."""
    nodes, node = [], data
    for part in loc:
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and part < len(node)
        ):
            nodes.append((node, part))
            node = node[part]
    if not nodes:
        return False
    if kind == "extra_forbidden":
        parent, key = nodes[-1]
        if isinstance(parent, dict):
            del parent[key]
            return True
    for parent, key in reversed(nodes):
        if isinstance(parent, list) and isinstance(key, int) and len(nodes) > 2:  # a block in a list of blocks
            if parent[key] == {"page_break": None}:
                return False
            parent[key] = {"page_break": None}
            return True
    parent, key = nodes[-1]
    if isinstance(parent, dict) and kind != "missing":
        del parent[key]
        return True
    return False


def _unused(ctx: Context) -> None:
    """Warn about catalogue metrics no pack shows: usually a metric added but not yet selected anywhere."""
    from reporting.packs.assembly import pack_metrics

    if ctx.catalogue is None or not ctx.templates:
        return
    shown: set[str] = set()
    for template, _ in ctx.templates.values():
        shown.update(pack_metrics(ctx.catalogue, template))
        from reporting.packs.checks import metric_refs

        shown.update(metric_id for _, metric_id, _ in metric_refs(template))
    for metric in ctx.catalogue.metrics:
        if metric.id not in shown:
            ctx.report.warn(
                f"{ctx.project.catalogue_file}: metric '{metric.id}' is in no pack (select it in a "
                f"pack's metrics: to show it)"
            )


def _staleness(ctx: Context) -> None:
    """Warn when the latest snapshot was pulled before the catalogue last changed a metric's definition."""
    from reporting.data.snapshot import LATEST, latest_snapshot, stale_definitions

    if not ctx.catalogue_complete or not (ctx.project.snapshots / LATEST).exists():
        return
    try:
        snapshot = latest_snapshot(ctx.project.snapshots)
    except ReportingError as exc:
        ctx.report.warn(f"latest snapshot cannot be read ({exc}); the next build pulls again")
        return
    changed = stale_definitions(snapshot, ctx.catalogue)
    if changed:
        ctx.report.warn(
            f"snapshot {snapshot.hash} was pulled before the catalogue changed {', '.join(changed)}; "
            f"the next build pulls the data again"
        )


# ------------------------------------------------------------------------------------------------ annotations
def _annotations(ctx: Context) -> None:
    """The register of breaks, rebases and notes: its own rules, then against the data as read now."""
    import pandas as pd

    from reporting.data.annotations import check_annotations, load_annotations

    if ctx.catalogue is None:
        return
    path = ctx.project.root / "templates" / "annotations.yaml"
    before = len(ctx.report.errors)
    register_ = ctx.run(load_annotations, path, ctx.catalogue)
    if register_ is None or register_.doc is None:
        return
    if ctx.data_complete and ctx.frames and ctx.orgs is not None:
        ctx.run(
            check_annotations,
            register_,
            ctx.catalogue,
            pd.concat(ctx.frames, ignore_index=True),
            ctx.orgs["org_code"].astype(str),
        )
    if len(ctx.report.errors) == before:
        ctx.report.passed.append(f"{path}: {len(register_.entries)} entries")


def _stale_data(ctx: Context) -> None:
    """Stale metrics and p/u charts on overdispersed data in each pack's default organisation (from the latest
    snapshot): warnings, not errors, because the pack still says the truth about them."""
    from reporting.commands.review import review
    from reporting.data.snapshot import LATEST

    if not ctx.catalogue_complete or not (ctx.project.snapshots / LATEST).exists():
        return
    for pack in ctx.templates:
        try:
            findings = review(ctx.project, pack)
        except ReportingError:
            continue  # the pack's own data problems are `build`'s to report
        for f in findings:
            if f.kind in ("stale", "overdispersed"):
                ctx.report.warn(f"{pack} ({f.org}): {f.message}")


# ------------------------------------------------------------------------------------------------ schedules
def _schedules(ctx: Context) -> None:
    from reporting._yaml import load_yaml
    from reporting.schedule.config import Schedules
    from reporting.schedule.load import _vocabulary, load_schedules
    from reporting.validation_errors import config_errors

    path = ctx.project.root / "schedules.yaml"
    if not path.exists():
        return
    doc = load_yaml(path)
    if isinstance(doc.data, dict):
        try:
            Schedules.model_validate(doc.data)
        except ValidationError as exc:
            for problem in config_errors(exc, doc, _vocabulary()):
                ctx.report.error(problem)
            return
    known = list(ctx.orgs["org_code"].astype(str)) if ctx.orgs is not None else None
    schedules = ctx.run(load_schedules, path, ctx.project.root, known_orgs=known)
    if schedules is not None:
        ctx.report.passed.append(f"{path}: jobs {', '.join(j.id for j in schedules.jobs)}")


def _builtin(checks: Iterable[tuple[str, Check]]) -> None:
    for name, check in checks:
        register(check, name=name)


_builtin(
    [
        ("catalogue", _catalogue),
        ("data", _data),
        ("templates", _templates),
        ("schedules", _schedules),
        ("annotations", _annotations),
        ("unused metrics", _unused),
        ("staleness", _staleness),
        ("stale data", _stale_data),
    ]
)
