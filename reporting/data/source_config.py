"""How templates/metrics.yaml declares a source (`sources:`): the five kinds (csv, excel, sql, http, demo),
their fields and checks, and where a source's path may point. The readers are in reporting/data/sources.py.

Secrets never live here: a SQL source names the environment variable holding its URL, and an HTTP URL with
credentials in it is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CsvSource",
    "DemoSource",
    "ExcelSource",
    "FrozenModel",
    "HttpSource",
    "Source",
    "SqlSource",
    "WhereTest",
    "WhereValue",
    "resolve_path",
]

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class FrozenModel(BaseModel):
    """Every catalogue model: an unknown key is an error (a typo gets a suggestion), and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class WhereTest(FrozenModel):
    """A comparison for `where:` (`{at_least: 5}`, `{from: 2023-04-01, to: 2024-03-31}`, `{one_of: [A, B]}`);
    numbers compare as numbers and `from`/`to` as dates (read with the source's date_format)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    equals: str | int | float | bool | None = None
    not_equals: str | int | float | bool | None = None
    one_of: list[str | int | float | bool] | None = None
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    from_: dt.date | None = Field(None, alias="from", description="keep rows dated on or after this date")
    to: dt.date | None = Field(None, description="keep rows dated on or before this date")

    @model_validator(mode="after")
    def _some(self) -> WhereTest:
        if not self.model_fields_set:
            raise ValueError("an empty where test keeps nothing; give e.g. {at_least: 1} or {from: 2024-04-01}")
        return self


WhereValue = str | int | float | bool | WhereTest


class _SourceBase(FrozenModel):
    org_code: str = Field("org_code", description="column holding the organisation code")
    period: str | None = Field("period", description="column holding the date of the period")
    date_format: str | None = Field(None, description="strftime format of the period column; inferred if absent")

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        if value is not None:
            import pandas as pd

            try:
                pd.to_datetime(pd.Series(["2024-01-01"]), format=value, errors="coerce")
            except ValueError as exc:
                raise ValueError(f"not a date format ({exc}); use strftime codes such as %Y-%m-%d") from None
        return value


def _encoding(value: str) -> str:
    import codecs

    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown text encoding {value!r}; e.g. utf-8, cp1252") from None
    return value


class CsvSource(_SourceBase):
    kind: Literal["csv"]
    path: str
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8"

    _check_encoding = field_validator("encoding")(_encoding)


class ExcelSource(_SourceBase):
    kind: Literal["excel"]
    path: str
    sheet: str | int = 0
    header_row: int = Field(1, ge=1, description="spreadsheet row number holding the column names")


class SqlSource(_SourceBase):
    kind: Literal["sql"]
    url_env: str = Field(description="environment variable that holds the SQLAlchemy URL (never the URL itself)")
    query: str

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                "put the database URL in an environment variable and name that variable here "
                "(e.g. url_env: REPORTING_WAREHOUSE_URL); URLs carry passwords and never go in YAML"
            )
        if not _ENV_NAME.match(value):
            raise ValueError(f"expected an environment variable name such as REPORTING_WAREHOUSE_URL, got {value!r}")
        return value


class HttpSource(_SourceBase):
    kind: Literal["http"]
    url: str | None = None
    url_env: str | None = Field(None, description="environment variable holding the URL, when it carries a token")
    format: Literal["csv", "json"] = "csv"
    records_path: str | None = Field(None, description="dotted path to the list of records in a JSON reply")
    timeout: float = Field(30.0, gt=0, description="seconds for the whole transfer of one attempt")
    encoding: str = "utf-8"
    retries: int = Field(3, ge=1, description="attempts in all, with exponential backoff between them")
    backoff: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _one_url(self) -> HttpSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' or 'url_env'")
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if self.url is not None:
            from reporting.redact import credential_in_url

            why = credential_in_url(self.url)
            if why:
                raise ValueError(
                    f"this url {why}; put the URL in an environment variable and name that variable "
                    f"in 'url_env' (URLs with credentials never go in YAML)"
                )
        _encoding(self.encoding)
        return self


class DemoSource(_SourceBase):
    kind: Literal["demo"]
    file: str


Source = Annotated[CsvSource | ExcelSource | SqlSource | HttpSource | DemoSource, Field(discriminator="kind")]


def resolve_path(project: Path, relative: str) -> Path:
    """Source paths are relative to the project and may not climb out of it (`../../etc/passwd`, a symlink
    out); an absolute path is checked by reporting.data.sources.source_file (inside the project, or a
    directory listed in REPORTING_DATA_DIRS, so reading elsewhere is always a visible choice)."""
    path = Path(relative)
    if path.is_absolute():
        return path
    resolved = (project / path).resolve()
    if not resolved.is_relative_to(project.resolve()):
        from reporting.errors import SourceError

        raise SourceError(
            f"path {relative!r} leads outside the project directory; sources read only files inside "
            f"the project (or a directory listed in REPORTING_DATA_DIRS)",
            field="path",
        )
    return resolved
