"""The metric catalogue: the shipped file loads; every mistake an analyst can make names file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from project_fixtures import BASIC_CATALOGUE, MakeProject

from reporting.data.catalogue import Metric, TargetTable, load_catalogue
from reporting.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_catalogue_defines_the_demo_metrics() -> None:
    catalogue = load_catalogue(REPO / "templates" / "metrics.yaml")
    ids = {m.id for m in catalogue.metrics}
    assert {
        "ae_4hr",
        "ae_attendances",
        "trolley_wait_4hr",
        "discharges_before_5pm",
        "discharges_total",
        "emergency_admissions",
    } <= ids
    ae = catalogue.metric("ae_4hr")
    assert (ae.chart, ae.unit, ae.direction, ae.improvement) == ("auto", "percent", "higher_is_better", "increase")
    assert ae.target_for("RJ1", dt.date(2023, 3, 1)) is None
    assert ae.target_for("RJ1", dt.date(2023, 9, 1)) == 0.76
    assert ae.target_for("RJ1", dt.date(2025, 7, 1)) == 0.78
    assert catalogue.metric("discharges_before_5pm").frequency == "weekly"
    assert catalogue.orgs is not None and catalogue.orgs.peer_groups["acute"].column == "reports_ga_beds_2022_2025"


def _load(make_project: MakeProject, text: str) -> None:
    project = make_project(text)
    load_catalogue(project.catalogue_file)


def _error(make_project: MakeProject, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(make_project, text)
    return info.value


def test_yaml_syntax_error_names_file_and_line(make_project: MakeProject) -> None:
    broken = BASIC_CATALOGUE.replace("    title: A&E attendances", "    title: [A&E attendances")
    err = _error(make_project, broken)
    assert err.file is not None and str(err.file).endswith("metrics.yaml")
    assert err.line is not None and 16 <= err.line <= 17
    assert "YAML syntax error" in str(err) and "metrics.yaml:" in str(err)


def test_unknown_key_is_an_error_with_a_suggestion(make_project: MakeProject) -> None:
    err = _error(
        make_project,
        BASIC_CATALOGUE.replace("    numerator: attendances - breaches", "    numerater: attendances - breaches"),
    )
    assert err.line == 12
    assert err.field == "metrics[0].numerater"
    assert "unknown key 'numerater' (did you mean 'numerator'?)" in str(err)
    assert "metric 'ae_4hr'" in str(err)


def test_ratio_chart_without_denominator(make_project: MakeProject) -> None:
    err = _error(make_project, BASIC_CATALOGUE.replace("    denominator: attendances\n", ""))
    assert err.line == 6  # the metric's first line
    assert "needs both numerator and denominator; 'denominator' is missing" in str(err)


def test_ratio_chart_with_a_plain_value(make_project: MakeProject) -> None:
    text = BASIC_CATALOGUE.replace("    chart: xmr", "    chart: p")
    err = _error(make_project, text)
    assert "chart 'p' needs a numerator and a denominator" in str(err)
    assert err.field == "metrics[1]"


def test_bad_enum_lists_the_choices(make_project: MakeProject) -> None:
    err = _error(make_project, BASIC_CATALOGUE.replace("direction: higher_is_better", "direction: up"))
    assert err.line == 9 and err.field == "metrics[0].direction"
    assert "'higher_is_better', 'lower_is_better' or 'neutral'" in str(err) and "'up'" in str(err)


def test_duplicate_yaml_key_is_an_error(make_project: MakeProject) -> None:
    err = _error(
        make_project,
        BASIC_CATALOGUE.replace(
            "    frequency: monthly\n  - id: ae_attendances",
            "    frequency: monthly\n    unit: count\n  - id: ae_attendances",
        ),
    )
    assert "key 'unit' appears twice (first at line 8)" in str(err)


def test_unknown_source_is_named(make_project: MakeProject) -> None:
    err = _error(make_project, BASIC_CATALOGUE.replace("    source: ae\n    value", "    source: a_e\n    value"))
    assert "unknown source 'a_e' (did you mean 'ae'?)" in str(err) and err.line == 20


def test_duplicate_metric_id(make_project: MakeProject) -> None:
    err = _error(make_project, BASIC_CATALOGUE.replace("id: ae_attendances", "id: ae_4hr"))
    assert "metric id 'ae_4hr' is defined twice" in str(err)


def test_database_url_never_in_yaml(make_project: MakeProject) -> None:
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv",
        "  ae:\n    kind: sql\n    url_env: postgresql://user:secret@db/warehouse\n    query: select 1",
    )
    err = _error(make_project, text)
    assert "environment variable" in str(err) and err.field == "sources.ae.url_env"
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv",
        "  ae:\n    kind: sql\n    url: sqlite:///x.db\n    query: select 1",
    )
    assert "unknown key 'url'" in str(_error(make_project, text))


def test_unsafe_expression_is_rejected(make_project: MakeProject) -> None:
    err = _error(make_project, BASIC_CATALOGUE.replace("value: attendances", "value: __import__('os').system('x')"))
    assert "only column names, numbers" in str(err) and err.field == "metrics[1].value"


def test_rate_needs_per_and_target_table() -> None:
    with pytest.raises(ValueError, match="needs 'per'"):
        Metric(
            id="x",
            title="x",
            unit="rate",
            direction="neutral",
            chart="u",
            source="s",
            numerator="a",
            denominator="b",
            frequency="monthly",
        )
    metric = Metric(
        id="x",
        title="x",
        unit="rate",
        per=1000,
        direction="lower_is_better",
        chart="u",
        source="s",
        numerator="a",
        denominator="b",
        frequency="monthly",
        target=TargetTable(default=2.0, by_org={"RAA": 1.5}, by_period={dt.date(2025, 4, 1): 1.8}),
    )
    assert metric.scale == 1000.0
    assert metric.target_for("RAA", dt.date(2025, 5, 1)) == 1.5
    assert metric.target_for("RBB", dt.date(2025, 5, 1)) == 1.8
    assert metric.target_for("RBB", dt.date(2025, 1, 1)) == 2.0


def test_missing_catalogue_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_catalogue(tmp_path / "nope.yaml")
