"""Load schedules.yaml and check it whole, before anything runs: the models (schedule.config), then what needs
the project and the environment (packs, formats, distribution lists, organisations, recipients files, the
SMTP password). Every error is a ConfigError naming the file, the line and the field.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reporting._yaml import Located, _dotted, load_yaml, raise_validation_error
from reporting.approval import ApprovalOptions, check_approvers
from reporting.errors import ConfigError
from reporting.schedule.config import (
    ENV_SMTP,
    Job,
    LimitsConfig,
    Parameters,
    Publish,
    Recipients,
    Retries,
    Schedules,
    Smtp,
)

__all__ = ["load_schedules"]


def _vocabulary() -> set[str]:
    words: set[str] = set()
    for model in (Schedules, Smtp, Publish, Parameters, Retries, Recipients, Job, LimitsConfig, ApprovalOptions):
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
    return words


def load_schedules(
    path: Path, project: Path, *, known_orgs: Collection[str] | None = None, environ: Mapping[str, str] | None = None
) -> Schedules:
    """Load and check schedules.yaml completely, before anything runs; every error is a ConfigError naming the
    file (schedules.yaml, or the recipients CSV), the line and the field.

    `known_orgs`: organisation codes that exist (e.g. from the latest snapshot); when given, `orgs`,
    `parameters.org` and every recipients CSV row are checked against them. `environ` defaults to os.environ.
    """
    env = os.environ if environ is None else environ
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError("expected a mapping with 'smtp' and 'jobs'", file=doc.file, line=1)
    smtp = doc.data.get("smtp")
    if isinstance(smtp, dict):
        for key in smtp:
            if str(key).lower() in ("password", "passwd", "pass", "secret"):
                raise ConfigError(
                    f"unknown key '{key}': the SMTP password never goes in schedules.yaml; it comes "
                    f"from the environment variable {ENV_SMTP['password']}",
                    file=doc.file,
                    line=doc.line_of(("smtp", key)),
                    field=f"smtp.{key}",
                )
    try:
        schedules = Schedules.model_validate(doc.data)
    except ValidationError as exc:
        raise_validation_error(exc, doc, _vocabulary())
        raise  # unreachable
    from reporting.limits import configure

    configure(**schedules.limits.model_dump())
    _check_smtp(schedules, doc, env)
    _check_jobs(schedules, doc, Path(project), known_orgs)
    return schedules


def _check_smtp(schedules: Schedules, doc: Located, env: Mapping[str, str]) -> None:
    port = env.get(ENV_SMTP["port"])
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError(
            f"environment variable {ENV_SMTP['port']}={port!r} is not a port number (1-65535)",
            file=doc.file,
            line=doc.line_of(("smtp", "port")),
            field="smtp.port",
        )
    user = env.get(ENV_SMTP["user"]) or schedules.smtp.user
    if user and not env.get(ENV_SMTP["password"]):
        source = "smtp.user is set" if schedules.smtp.user else f"{ENV_SMTP['user']} is set"
        raise ConfigError(
            f"{source}, so the environment variable {ENV_SMTP['password']} must hold the SMTP password; it is not set",
            file=doc.file,
            line=doc.line_of(("smtp", "user") if schedules.smtp.user else ("smtp",)),
            field="smtp.user",
        )


def _check_jobs(schedules: Schedules, doc: Located, project: Path, known_orgs: Collection[str] | None) -> None:
    from reporting.packs.template_load import load_template, template_files

    packs = {p.stem: p for p in template_files(project)}
    known = set(known_orgs) if known_orgs is not None else None
    first_line: dict[str, int | None] = {}

    def fail(message: str, *where: Any) -> None:
        raise ConfigError(message, file=doc.file, line=doc.line_of(where), field=_dotted(where))

    for i, job in enumerate(schedules.jobs):
        if job.id in first_line:
            fail(f"job id '{job.id}' is used twice (first at line {first_line[job.id]})", "jobs", i, "id")
        first_line[job.id] = doc.line_of(("jobs", i, "id"))
        if job.pack not in packs:
            close = difflib.get_close_matches(job.pack, sorted(packs), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; packs are: {', '.join(sorted(packs)) or 'none'}"
            fail(f"unknown pack '{job.pack}'{hint}", "jobs", i, "pack")
        if job.formats:
            template, _, _ = load_template(project, job.pack)
            made = list(template.formats) + (["html"] if template.public else [])
            for k, fmt in enumerate(job.formats):
                if fmt not in made:
                    fail(
                        f"pack '{job.pack}' is not made as {fmt}; its formats are {', '.join(made)}",
                        "jobs",
                        i,
                        "formats",
                        k,
                    )
        for k, name in enumerate(job.recipients.lists):
            if name not in schedules.lists:
                close = difflib.get_close_matches(name, sorted(schedules.lists), n=1)
                hint = (
                    f" (did you mean '{close[0]}'?)"
                    if close
                    else f"; lists are: {', '.join(sorted(schedules.lists)) or 'none (add them under lists:)'}"
                )
                fail(f"unknown distribution list '{name}'{hint}", "jobs", i, "recipients", "lists", k)
        if job.parameters.peer_group is not None:
            _check_peer_group(job.parameters.peer_group, project, fail, ("jobs", i, "parameters", "peer_group"))
        if known is not None:
            for k, org in enumerate(job.orgs):
                if org not in known:
                    close = difflib.get_close_matches(org, sorted(known), n=1)
                    fail(
                        f"unknown organisation code '{org}'" + (f" (did you mean '{close[0]}'?)" if close else ""),
                        "jobs",
                        i,
                        "orgs",
                        k,
                    )
            if job.parameters.org is not None and job.parameters.org not in known:
                fail(f"unknown organisation code '{job.parameters.org}'", "jobs", i, "parameters", "org")
        if job.recipients.file:
            try:
                job.recipients_file(project)
            except ConfigError as exc:
                fail(exc.reason, "jobs", i, "recipients", "file")
            if not job.recipients_file(project).exists():  # type: ignore[union-attr]
                fail(
                    f"recipients file {job.recipients.file!r} not found (looked in {project})",
                    "jobs",
                    i,
                    "recipients",
                    "file",
                )
        check_approvers(job.approval, doc, ("jobs", i, "approval"), project)
        recipients = job.recipients_for(project, schedules.lists, known_orgs=known_orgs)
        if not recipients:
            fail(f"job '{job.id}' has no recipients; give addresses, lists or a file", "jobs", i, "recipients")


def _check_peer_group(group: str, project: Path, fail: Callable[..., None], where: tuple[Any, ...]) -> None:
    """A job's peer group must be one the catalogue defines (or 'all'); the catalogue's own errors are its own."""
    from reporting.data.catalogue import load_catalogue
    from reporting.data.peers import ALL
    from reporting.project import Project

    catalogue_file = Project(project).catalogue_file
    if not catalogue_file.exists():
        return
    try:
        catalogue = load_catalogue(catalogue_file)
    except ConfigError:
        return  # reported where the catalogue is checked
    groups = sorted({*(catalogue.orgs.peer_groups if catalogue.orgs else ()), ALL})
    if group not in groups:
        close = difflib.get_close_matches(group, groups, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        fail(f"unknown peer group '{group}'{hint}; groups are: {', '.join(groups)}", *where)
