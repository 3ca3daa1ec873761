"""The shipped JSON Schemas say exactly what the tool says (issue 14: board.yaml failed pack.schema.json
because the schema ignored `extends`, `theme` was free-form in the schema and strict in the tool, and no
catalogue schema shipped)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_fixtures import BASIC_CATALOGUE
from pydantic import ValidationError

from reporting.data.catalogue import Catalogue
from reporting.packs.template import PackTemplate
from reporting.schedule.config import Schedules
from reporting.schemas import SCHEMAS, render, schema_for

REPO = Path(__file__).resolve().parents[1]
SHIPPED = [
    REPO / "templates" / "metrics.yaml",
    REPO / "schedules.yaml",
    *sorted((REPO / "templates" / "packs").glob("*.yaml")),
]


class _TextDates(yaml.SafeLoader):
    """YAML as an editor's schema checker sees it: dates stay text (JSON has no date type)."""


_TextDates.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((REPO / name).read_text()))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_the_generated_one(name: str) -> None:
    assert (REPO / name).read_text() == render(name), f"run `reporting --project . schema --write` ({name})"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_yaml_validates_and_links_its_schema(path: Path) -> None:
    text = path.read_text()
    name = schema_for(path)
    link = text.splitlines()[0]
    assert link.startswith("# yaml-language-server: $schema=") and link.endswith(name)
    assert (path.parent / link.split("=", 1)[1]).resolve() == REPO / name
    errors = [e.message for e in _validator(name).iter_errors(_load(text))]
    assert errors == [], errors


def test_test_yaml_validates() -> None:
    from data.test_shaping import SITES_CATALOGUE
    from test_stale_builds import PACK as STALE_PACK
    from test_validate import PACK

    for text, name in [
        (BASIC_CATALOGUE, "catalogue.schema.json"),
        (SITES_CATALOGUE, "catalogue.schema.json"),
        (PACK, "pack.schema.json"),
        (STALE_PACK, "pack.schema.json"),
    ]:
        assert [e.message for e in _validator(name).iter_errors(_load(text))] == []


def test_a_pack_that_extends_needs_only_pack() -> None:
    validator = _validator("pack.schema.json")
    assert validator.is_valid({"pack": "child", "extends": "monthly-performance", "title": "Child"})
    assert not validator.is_valid({"pack": "child", "title": "Child"})  # no cadence, formats, sections
    assert not validator.is_valid({"pack": "child", "extends": "x", "theme": {"fontsize": 3}})


# ------------------------------------------------------------------------------------------- property test
SEEDS = {
    "pack.schema.json": (
        PackTemplate,
        [
            _load((REPO / "templates" / "packs" / f"{n}.yaml").read_text())
            for n in ("monthly-performance", "weekly-executive")
        ],
    ),
    "schedules.schema.json": (Schedules, [_load((REPO / "schedules.yaml").read_text())]),
    "catalogue.schema.json": (Catalogue, [_load((REPO / "templates" / "metrics.yaml").read_text())]),
}
_VALIDATORS = {name: _validator(name) for name in SEEDS}


def _mappings(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if isinstance(node, dict) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        found += _mappings(value, (*path, key))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def documents(draw: st.DrawFn, name: str) -> Any:
    """A shipped document with a few random edits: a key added, removed or given a value of another type."""
    _, seeds = SEEDS[name]
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        mapping = _get(doc, draw(st.sampled_from(_mappings(doc))))
        action = draw(st.sampled_from(["add", "remove", "retype", "number"]))
        if action == "add":
            mapping[draw(st.sampled_from(["zz_unknown", "colour", "titel"]))] = 1
        elif mapping:
            key = draw(st.sampled_from(sorted(mapping, key=str)))
            if action == "remove":
                del mapping[key]
            elif action == "retype":
                mapping[key] = draw(st.sampled_from([{"zz": 1}, [[1]], 12345]))
            else:
                mapping[key] = draw(st.sampled_from([-1, 0, 7, 1000000]))
    return doc


def _pydantic_accepts(model: Any, doc: Any) -> bool:
    try:
        model.model_validate(doc)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_schema_and_models_accept_and_reject_the_same_documents(name: str) -> None:
    model, _ = SEEDS[name]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
    @given(documents(name))
    def check(doc: Any) -> None:
        by_schema = _VALIDATORS[name].is_valid(doc)
        assert by_schema == _pydantic_accepts(model, doc), (by_schema, json.dumps(doc, default=str)[:3000])

    check()
