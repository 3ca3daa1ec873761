"""The email comes out exactly as before its HTML moved into a template file.

The expected parts in fixtures/ were rendered by main's `reporting.delivery.email.compose` (the inline
template) before the move, from the fixed inputs below; compose must still give them byte for byte.
Only the random part of each inline image's Content-ID is fixed (secrets.token_hex), so the HTML is stable.
"""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path

import pytest

from reporting.delivery.compose import EmailContent, HeadlineItem, compose

FIXTURES = Path(__file__).parent / "fixtures"
SENDER, RECIPIENT = "reports@example.nhs.uk", "ceo@example.nhs.uk"


def _items() -> tuple[HeadlineItem, ...]:
    return (
        HeadlineItem(
            "A&E attendances", "17,951", "August 2025", "common_cause", None, "Common cause variation.", False
        ),
        HeadlineItem(
            "A&E 4-hour performance",
            "73.8%",
            "August 2025",
            "concern_low",
            "consistent_fail",
            'Special cause concern; the 78% target is consistently missed <b>&</b> "quoted".',
            True,
        ),
        HeadlineItem("Trolley waits <12h>", "7.7%", "", "improvement_low", "inconsistent", "", False),
        HeadlineItem("Discharges before 5pm", "no current data", "week of 22 May 2023", None, None, "", False),
        HeadlineItem("Emergency admissions", "2,261", "August 2025", "neutral_high", "consistent_pass", "x", True),
    )


def _content(folder: Path, *, items: tuple[HeadlineItem, ...] | None = None, **changes: object) -> EmailContent:
    icons = {}
    for i, code in enumerate(("common_cause", "concern_low", "consistent_fail", "neutral_high")):  # not all
        path = folder / f"{code}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]) * 40)  # only its Content-ID is in the parts compared
        icons[code] = path
    files = []
    for name, size in (("pack.pptx", 3000), ("pack.xlsx", 1500)):
        path = folder / name
        path.write_bytes(b"x" * size)
        files.append(path)
    fields: dict[str, object] = {
        "subject": "Weekly Executive Pack – week of 25 August 2025",
        "title": "Weekly Executive Pack & <friends>",
        "intro": "Weekly Executive Pack for Guy's, week of 25 August 2025.\n\nData not current: Discharges.",
        "items": _items() if items is None else items,
        "attachments": tuple(files),
        "links": (("Open the pack", "https://reports.example.nhs.uk/weekly"), ("Shared drive", r"\\srv\packs")),
        "icon_images": icons,
        "footer": "OFFICIAL | snapshot abc123\nContains public sector information",
    }
    fields.update(changes)
    return EmailContent(**fields)  # type: ignore[arg-type]  # the fields above, typed by EmailContent


CASES = {
    "attached": {},
    "too-large-published": {"attach_limit_bytes": 1000, "published_link": "https://reports.example.nhs.uk/p/1"},
    "too-large-links": {"attach_limit_bytes": 1000},
    "too-large-paths": {"attach_limit_bytes": 1000, "links": (), "published_as": "weekly-executive/2025-08-25/RJ1/"},
    "no-exceptions": {"items": tuple(i for i in _items() if not i.exception), "footer": ""},
    "nothing": {"items": (), "attachments": (), "links": (), "intro": ""},
}


def render(folder: Path, case: str) -> tuple[str, str]:
    """(text part, HTML part) of the email for one case, with the temporary folder written as {TMP}."""
    options = dict(CASES[case])
    compose_options = {k: options.pop(k) for k in ("attach_limit_bytes", "published_link") if k in options}
    message = compose(_content(folder, **options), SENDER, RECIPIENT, **compose_options)  # type: ignore[arg-type]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text.replace(str(folder), "{TMP}"), html.replace(str(folder), "{TMP}")


@pytest.fixture
def fixed_cids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: f"{next(counter):0{2 * (n or 16)}x}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_email_is_unchanged(case: str, tmp_path: Path, fixed_cids: None) -> None:
    text, html = render(tmp_path, case)
    assert text == (FIXTURES / f"email-{case}.txt").read_text(encoding="utf-8")
    assert html == (FIXTURES / f"email-{case}.html").read_text(encoding="utf-8")
