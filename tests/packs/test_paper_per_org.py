"""Issue 13a, item 8: the Board paper's essentials can differ per organisation (`paper: {orgs: ...}`), so a
build for several trusts does not print one trust's agenda item and risk numbers on every cover; the About page
speaks board language, not developer notes."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.packs.template_load import load_template
from reporting.packs.tree import Cover, Heading, Pack, Text

REPO = Path(__file__).resolve().parents[2]


def cover(pack: Pack) -> dict[str, str]:
    return dict(next(b for b in pack.blocks() if isinstance(b, Cover)).details)


def test_each_trust_prints_its_own_references(assembled: Callable[..., Pack]) -> None:
    rj1, rxw = cover(assembled("board", org="RJ1")), cover(assembled("board", org="RXW"))
    assert "Risk 1234" in rj1["BAF and risk references"] and "Risk 1234" not in rxw["BAF and risk references"]
    assert (rj1["Agenda item"], rxw["Agenda item"]) == ("7.2", "5.1")
    assert rj1["Meeting"] == rxw["Meeting"] == "Public Board of Directors"  # not in RXW's own keys: shared
    assert rxw["Meeting date"] == "11 September 2025"


def _template(tmp_path: Path, paper: str) -> Path:
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    (tmp_path / "templates" / "metrics.yaml").write_text((REPO / "templates" / "metrics.yaml").read_text())
    (folder / "t.yaml").write_text(
        "pack: t\ntitle: T\ncadence: monthly\nformats: [docx]\n"
        + textwrap.dedent(paper)
        + "sections:\n  - title: One\n    blocks:\n      - cover: {}\n"
    )
    return tmp_path


def test_an_unknown_key_for_one_trust_is_refused_with_its_line(tmp_path: Path) -> None:
    root = _template(tmp_path, "paper:\n  agenda_item: '1'\n  orgs:\n    RXW:\n      agenda: '2'\n")
    with pytest.raises(ConfigError) as info:
        load_template(root, "t")
    assert info.value.line == 9 and "agenda" in str(info.value) and "agenda_item" in str(info.value)


def test_a_trust_without_its_own_keys_gets_the_shared_ones(tmp_path: Path) -> None:
    root = _template(tmp_path, "paper:\n  agenda_item: '1'\n  orgs:\n    RXW: {agenda_item: '2'}\n")
    template, _, _ = load_template(root, "t")
    assert template.paper is not None
    assert template.paper.for_org("RXW").agenda_item == "2" and template.paper.for_org("RJ1").agenda_item == "1"


def test_the_about_page_speaks_board_language(assembled: Callable[..., Pack]) -> None:
    appendix = assembled("board", org="RJ1").sections[-1].blocks
    at = next(i for i, b in enumerate(appendix) if isinstance(b, Heading) and b.text == "About this paper")
    about = appendix[at + 1]
    assert isinstance(about, Text)
    text = " ".join(about.paragraphs)
    assert about.paragraphs[0] == (
        "This paper covers Guy's and St Thomas' NHS Foundation Trust for July 2025, compared with non-specialist acute trusts with a type 1 A&E."
    )
    for developer in ("Built for", "File > Info", "period 2025-07-01", "manifest.json", "organisation RJ1"):
        assert developer not in text
    assert "templates/packs/board.yaml" in text and "/work" not in text  # the template as the project names it
