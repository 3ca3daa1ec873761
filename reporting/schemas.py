"""The JSON Schemas shipped beside the YAML files analysts edit, GENERATED from the pydantic models, so an
editor's autocompletion and red squiggles say exactly what `reporting validate` says, and a field another
engineer adds to a model appears in the schema with no edit here. `reporting schema --write` rewrites them;
a test fails if a committed schema differs from the generated one.

    pack.schema.json        templates/packs/*.yaml   (a pack that `extends` another needs only `pack`)
    catalogue.schema.json   templates/metrics.yaml
    schedules.schema.json   schedules.yaml
    annotations.schema.json templates/annotations.yaml
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMAS",
    "annotations_schema",
    "catalogue_schema",
    "pack_schema",
    "schedules_schema",
    "schema_for",
    "write_schemas",
]


def pack_schema() -> dict[str, Any]:
    from reporting.packs.template import schema

    return schema()


def catalogue_schema() -> dict[str, Any]:
    from reporting.data.catalogue import dump_schema

    return dump_schema()


def annotations_schema() -> dict[str, Any]:
    from reporting.data.annotations import dump_schema

    return dump_schema()


def schedules_schema() -> dict[str, Any]:
    from reporting.schedule.config import schema

    return schema()


#: file name (at the project root) -> generator
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "pack.schema.json": pack_schema,
    "catalogue.schema.json": catalogue_schema,
    "schedules.schema.json": schedules_schema,
    "annotations.schema.json": annotations_schema,
}


def schema_for(path: Path) -> str:
    """Which schema file a project YAML file is checked against."""
    if path.name == "metrics.yaml":
        return "catalogue.schema.json"
    if path.name == "schedules.yaml":
        return "schedules.schema.json"
    if path.name == "annotations.yaml":
        return "annotations.schema.json"
    return "pack.schema.json"


def render(name: str) -> str:
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"


def write_schemas(root: Path) -> list[Path]:
    written = []
    for name in SCHEMAS:
        path = root / name
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written
