"""Resource limits: one place for every cap, with safe defaults, overridable per project or per process.

Precedence: the environment (REPORTING_LIMIT_<NAME>, e.g. REPORTING_LIMIT_SOURCE_BYTES=2000000000) over
schedules.yaml `limits:` (applied by configure() when the schedules are loaded) over the defaults below.
Each limit, when hit, is a one-line error naming the file and the limit, never a hang or a silent cut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from reporting.errors import ConfigError, ReportingError

__all__ = ["ENV_PREFIX", "Limits", "NoSpace", "configure", "current", "no_space"]

ENV_PREFIX = "REPORTING_LIMIT_"


@dataclass(frozen=True)
class Limits:
    source_bytes: int = 500_000_000  # one source file or HTTP body
    yaml_bytes: int = 2_000_000  # one YAML file (catalogue, template, schedules, recipients)
    yaml_nodes: int = 200_000  # YAML nodes after alias expansion (alias bombs)
    template_seconds: float = 10.0  # rendering one text block / one pack's text
    template_output_chars: int = 1_000_000  # one rendered text block
    template_range: int = 10_000  # largest range() a template may make


_configured: Limits = Limits()


def configure(**values: float | int | None) -> Limits:
    """Set the project's limits (schedules.yaml `limits:`); unknown names are a programming error."""
    global _configured
    # replace() checks the names at run time; a dict of mixed field types cannot say which value is which type.
    given: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    _configured = replace(Limits(), **given)
    return current()


def current() -> Limits:
    """The limits in force: the configured ones with any REPORTING_LIMIT_* variable on top."""
    changes: dict[str, Any] = {}  # each value converted to its field's type below
    for f in fields(Limits):
        raw = os.environ.get(ENV_PREFIX + f.name.upper())
        if raw:
            try:
                default = getattr(_configured, f.name)
                changes[f.name] = int(float(raw)) if isinstance(default, int) else float(raw)
            except ValueError:
                raise ConfigError(
                    f"environment variable {ENV_PREFIX + f.name.upper()}={raw!r} is not a number",
                    field=ENV_PREFIX + f.name.upper(),
                ) from None
    return replace(_configured, **changes) if changes else _configured


class NoSpace(ReportingError):
    """The disk filled up while writing; nothing half-written was published."""


def no_space(exc: BaseException, path: object) -> BaseException:
    """A full disk (ENOSPC, EDQUOT) as the one-line "no space left on <path>"; any other error unchanged."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = exc.filename or path
        return NoSpace(f"no space left on {where} (the disk or quota is full); nothing half-written was published")
    return exc
