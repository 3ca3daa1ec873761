"""Periods and baselines as analysts write them in YAML (the catalogue, pack templates, the annotations
register): '2023-10' is a month, '2023-10-02' a day; the JSON Schemas describe them the same way."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

__all__ = ["PERIOD_SCHEMA", "Baseline", "Period", "parse_month_or_date"]


def parse_month_or_date(value: Any) -> dt.date:
    """'2023-10' (a month) or '2023-10-02' / a YAML date; the period's start is worked out by the caller."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"expected a period as YYYY-MM or YYYY-MM-DD, got {value!r}")


#: how the JSON Schemas describe a period an analyst writes (the loaders turn it into a date)
PERIOD_SCHEMA = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}(-\d{2})?$",
    "description": "a period: YYYY-MM (a month) or YYYY-MM-DD",
}
Period = Annotated[dt.date, WithJsonSchema(PERIOD_SCHEMA)]


class Baseline(BaseModel):
    """Fixed limits: computed from a baseline and run forward. `points: N` is the first N points of the chart;
    `from`/`to` are periods (YYYY-MM or YYYY-MM-DD), and the chart then starts at `from`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    points: int | None = Field(None, ge=2, description="the first N points shown fix the limits")
    from_: Period | None = Field(None, alias="from", description="first period of the baseline")
    to: Period | None = Field(None, description="last period of the baseline")

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _period(cls, value: Any) -> dt.date | None:
        return None if value is None else parse_month_or_date(value)

    @model_validator(mode="after")
    def _one(self) -> Baseline:
        if (self.points is None) == (self.from_ is None and self.to is None):
            raise ValueError("give either 'points' or 'from' and 'to'")
        if self.points is None and (self.from_ is None or self.to is None):
            raise ValueError("a baseline by period needs both 'from' and 'to'")
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError(f"baseline 'to' ({self.to}) is before 'from' ({self.from_})")
        return self
