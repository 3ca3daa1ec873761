"""Who gets a job's packs: email addresses (checked strictly) and the recipients CSV mapping each person to
their organisation. Every error names the CSV file, the line and the column.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Collection
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from reporting.errors import ConfigError

__all__ = ["Address", "check_address", "is_address", "read_recipients_csv", "recipients_path"]

# Deliberately strict: local part of letters, digits and . _ % + - ' (no leading/trailing/double dot), a domain
# of dot-separated labels with a letter TLD. Quoted local parts and IP literals are refused on purpose.
_EMAIL = re.compile(
    r"^(?=.{3,254}$)[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def is_address(value: str) -> bool:
    return bool(_EMAIL.match(value))


def check_address(value: str) -> str:
    value = value.strip()
    if not is_address(value):
        raise ValueError(f"{value!r} is not an email address (expected name@organisation.nhs.uk)")
    return value


Address = Annotated[str, AfterValidator(check_address)]


def recipients_path(project: Path, file: str) -> Path:
    """Where a job's `recipients.file` is: absolute as given, else inside the project (never outside it)."""
    path = Path(file)
    if path.is_absolute():
        return path
    resolved = (project / path).resolve()
    if not resolved.is_relative_to(Path(project).resolve()):
        raise ConfigError(
            f"recipients file {file!r} leads outside the project directory; "
            "give an absolute path if it really lives elsewhere",
            field="recipients.file",
        )
    return resolved


def read_recipients_csv(
    path: Path, job_id: str, job_orgs: Collection[str], known_orgs: Collection[str] | None
) -> list[tuple[str, str, int]]:
    """Rows (email, org_code, line) of a job's recipients CSV; errors name the CSV file and line. `job_orgs`:
    the job's `orgs:` (when given, every row must be one of them); `known_orgs`: codes that exist, if known."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"recipients file of job '{job_id}' not found", file=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"recipients file is not UTF-8 text ({exc.reason})", file=path) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if not header:
        raise ConfigError("recipients file is empty; expected a header 'email,org_code[,name]'", file=path, line=1)
    columns = [c.strip().lower() for c in header]
    for column in columns:
        if column not in ("email", "org_code", "name"):
            close = difflib.get_close_matches(column, ["email", "org_code", "name"], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(
                f"unknown column '{column}'{hint}; columns are email, org_code and optionally name",
                file=path,
                line=1,
                field=column,
            )
    for required in ("email", "org_code"):
        if required not in columns:
            raise ConfigError(
                f"recipients file needs a column '{required}' (columns: email, org_code[, name])", file=path, line=1
            )
    i_email, i_org = columns.index("email"), columns.index("org_code")
    known = set(known_orgs) if known_orgs is not None else None
    rows: list[tuple[str, str, int]] = []
    last = reader.line_num
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise ConfigError(
                f"expected {len(columns)} columns ({', '.join(columns)}), found {len(row)}", file=path, line=line
            )
        email, org = row[i_email].strip(), row[i_org].strip()
        try:
            check_address(email)
        except ValueError as exc:
            raise ConfigError(str(exc), file=path, line=line, field="email") from None
        if not org:
            raise ConfigError(f"no organisation code for {email}", file=path, line=line, field="org_code")
        if known is not None and org not in known:
            close = difflib.get_close_matches(org, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"unknown organisation code '{org}'{hint}", file=path, line=line, field="org_code")
        if job_orgs and org not in job_orgs:
            raise ConfigError(
                f"organisation '{org}' is not one of job '{job_id}' orgs "
                f"({', '.join(job_orgs)}), so {email} would get nothing",
                file=path,
                line=line,
                field="org_code",
            )
        rows.append((email, org, line))
    return rows
