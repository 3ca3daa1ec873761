"""Pack templates: the shipped ones load and check; every template mistake names file, line and field."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from reporting.data.catalogue import load_catalogue
from reporting.errors import ConfigError
from reporting.packs.checks import check_template
from reporting.packs.template import schema
from reporting.packs.template_load import load_template, template_files

REPO = Path(__file__).resolve().parents[2]
GOOD = """\
pack: t
title: T
cadence: monthly
formats: [pptx]
sections:
  - id: one
    title: One
    blocks:
      - cover: {}
      - spc: {metric: ae_4hr}
"""


def _project(tmp_path: Path, text: str, name: str = "t", extra: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(textwrap.dedent(text))
    for other, body in (extra or {}).items():
        (folder / f"{other}.yaml").write_text(textwrap.dedent(body))
    (tmp_path / "templates" / "metrics.yaml").write_text((REPO / "templates" / "metrics.yaml").read_text())
    return tmp_path


def _error(tmp_path: Path, text: str, **kw: object) -> ConfigError:
    root = _project(tmp_path, text, **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as info:
        template, doc, _ = load_template(root, "t")
        check_template(template, doc, load_catalogue(root / "templates" / "metrics.yaml"))
    return info.value


def test_shipped_templates_load_and_check() -> None:
    catalogue = load_catalogue(REPO / "templates" / "metrics.yaml")
    names = [p.stem for p in template_files(REPO)]
    assert names == ["board", "monthly-performance", "weekly-executive"]
    for name in names:
        template, doc, digest = load_template(REPO, name)
        check_template(template, doc, catalogue)
        assert len(digest) == 16
    board, _, _ = load_template(REPO, "board")
    assert board.formats == ["docx", "pdf", "pptx"] and board.sections[0].title == "Executive summary"
    assert [s.id for s in board.sections] == ["summary", "urgent_care", "flow", "appendix"]  # inherited


def test_published_schema_is_current() -> None:
    assert json.loads((REPO / "pack.schema.json").read_text()) == schema()


def test_unknown_block_suggests(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("- spc: {metric: ae_4hr}", "- spcc: {metric: ae_4hr}"))
    assert err.line == 10 and "unknown block 'spcc' (did you mean 'spc'?)" in str(err)
    assert str(err.file).endswith("t.yaml")


def test_unknown_key_and_unknown_metric(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("{metric: ae_4hr}", "{metric: ae_4hr, period: 12}"))
    assert "unknown key 'period' (did you mean 'periods'?)" in str(err) and err.line == 10
    err = _error(tmp_path / "b", GOOD.replace("{metric: ae_4hr}", "{metric: ae_4h}"))
    assert "unknown metric 'ae_4h' (did you mean 'ae_4hr'?)" in str(err) and err.line == 10
    # the column too, as file:line:column (editors open there): the `metric` key inside the flow mapping
    assert err.column == 15 and "t.yaml:10:15, field" in str(err)


def test_funnel_needs_a_ratio_metric(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("- spc: {metric: ae_4hr}", "- funnel: {metric: ae_attendances}"))
    assert "needs a metric with a numerator and denominator" in str(err)


def test_empty_loop_selection_is_an_error(tmp_path: Path) -> None:
    err = _error(
        tmp_path, GOOD.replace("- spc: {metric: ae_4hr}", "- for_each: {tag: no_such_tag, blocks: [{text: x}]}")
    )
    assert "no metric has the tag 'no_such_tag'" in str(err)


def test_extends_overrides_by_section_id_and_refuses_cycles(tmp_path: Path) -> None:
    child = (
        "pack: t\nextends: base\ntitle: Child\nsections:\n  - id: one\n    title: Replaced\n    blocks: [{cover: {}}]\n"
    )
    root = _project(tmp_path, child, extra={"base": GOOD.replace("pack: t", "pack: base")})
    template, _, _ = load_template(root, "t")
    assert template.title == "Child" and template.sections[0].title == "Replaced" and template.formats == ["pptx"]
    cycle = _project(
        tmp_path / "c",
        child.replace("extends: base", "extends: base"),
        extra={"base": GOOD.replace("pack: t", "pack: base").replace("title: T", "extends: t\ntitle: T")},
    )
    with pytest.raises(ConfigError, match="goes round in a circle"):
        load_template(cycle, "t")


def test_missing_pack_and_wrong_id(tmp_path: Path) -> None:
    root = _project(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="no pack template 'x'"):
        load_template(root, "x")
    root = _project(tmp_path / "w", GOOD.replace("pack: t", "pack: other"))
    with pytest.raises(ConfigError, match="does not match the file name"):
        load_template(root, "t")
