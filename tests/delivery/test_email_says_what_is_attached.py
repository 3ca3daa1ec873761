"""Issue 13a, item 7: an email says exactly what is attached or where the files are (the shipped bodies never
claim "attached", since compose decides), and the HTML edition names its snapshot once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from reporting.delivery.compose import EmailContent, compose
from reporting.packs.tree import DataTable, Heading, Pack, Text

REPO = Path(__file__).resolve().parents[2]


def contradictions(text: str) -> list[str]:
    """Sentences that say files are attached in an email that attached none."""
    if "not attached" not in text:
        return []
    return [s for s in re.split(r"(?<=[.;])\s+", text) if re.search(r"\bis attached\b|\bare attached\b", s)]


def _email(folder: Path, intro: str, limit: int) -> str:
    pack = folder / "pack.pptx"
    pack.write_bytes(b"x" * 5000)
    content = EmailContent(
        subject="Weekly", title="Weekly Executive Pack", intro=intro, items=(), attachments=(pack,), links=()
    )
    message = compose(content, "reports@example.nhs.uk", "ceo@example.nhs.uk", attach_limit_bytes=limit)
    return str(message.get_body(("plain",)).get_content())


def test_shipped_bodies_do_not_say_attached() -> None:
    jobs = yaml.safe_load((REPO / "schedules.yaml").read_text(encoding="utf-8"))["jobs"]
    assert [j["id"] for j in jobs if "attach" in str(j.get("body", "")).lower()] == []


def test_a_too_large_pack_is_not_said_to_be_attached(tmp_path: Path) -> None:
    body = next(
        j["body"]
        for j in yaml.safe_load((REPO / "schedules.yaml").read_text())["jobs"]
        if j["id"] == "weekly-executive"
    )
    text = _email(tmp_path, body, limit=1000)
    assert "so they are not attached" in text and contradictions(text) == []
    attached = _email(tmp_path, body, limit=10_000)
    assert "ATTACHED\n\n- pack.pptx" in attached


def test_the_check_finds_the_old_wording(tmp_path: Path) -> None:
    old = "Good morning. This week's executive pack is attached; exceptions are listed below."
    assert contradictions(_email(tmp_path, old, limit=1000))


def test_the_html_footer_does_not_repeat_the_snapshot(assembled: Callable[..., Pack], tmp_path: Path) -> None:
    from reporting.packs.render import html

    full = assembled("board", org="RJ1")
    keep = (Text, Heading, DataTable)  # no chart that would need drawing first
    sections = tuple(
        dataclasses.replace(s, blocks=tuple(b for b in s.blocks if isinstance(b, keep))) for s in full.sections
    )
    page = html.render(dataclasses.replace(full, sections=sections), tmp_path / "p.html", {}).read_text()
    assert page.count(full.provenance.snapshot_hash[:12]) == 1  # in "About this paper" only
    bare = dataclasses.replace(full, sections=sections[:1])  # a pack without an about block keeps the line
    assert "Built from data snapshot" in html.render(bare, tmp_path / "q.html", {}).read_text()
