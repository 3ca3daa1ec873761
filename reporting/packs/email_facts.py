"""What a pack's email says beside its headline: the protective marking, the footnotes and the "data not current"
line. Written into manifest.json at build time (`"email"`), so a resend, which never rebuilds the pack, says the
same as the original did; the runner and the resend both build the footer and the intro line from these facts
with the functions here, so the two emails cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from reporting.packs.tree import Pack

__all__ = ["EmailFacts", "email_facts", "email_footer", "facts_from_manifest", "with_stale"]


class EmailFacts(TypedDict):
    classification: str  # "" for none
    footnotes: list[str]
    stale: list[str]  # "Title (latest: period)" of each summary row whose data is not current


def email_facts(pack: Pack) -> EmailFacts:
    """The facts of one assembled pack (its summary tables' stale rows, in order, each once)."""
    from reporting.packs.assembly import STALE_TEXT
    from reporting.packs.tree import SummaryTable

    stale = [
        f"{r.title} (latest: {r.period_label})"
        for b in pack.blocks()
        if isinstance(b, SummaryTable)
        for r in b.rows
        if r.latest.text == STALE_TEXT
    ]
    return {
        "classification": pack.classification or "",
        "footnotes": list(pack.footnotes),
        "stale": list(dict.fromkeys(stale)),
    }


def facts_from_manifest(manifest: Mapping[str, object]) -> EmailFacts | None:
    """The facts a build wrote into its manifest; None for a build made before they were written."""
    found = manifest.get("email")
    if not isinstance(found, Mapping):
        return None
    footnotes, stale = found.get("footnotes"), found.get("stale")
    return {
        "classification": str(found.get("classification") or ""),
        "footnotes": [str(f) for f in footnotes] if isinstance(footnotes, list) else [],
        "stale": [str(s) for s in stale] if isinstance(stale, list) else [],
    }


def email_footer(facts: EmailFacts, snapshot_hash: str) -> str:
    """The email's footer: classification | snapshot | footnotes."""
    return " | ".join(x for x in (facts["classification"], f"snapshot {snapshot_hash}", *facts["footnotes"]) if x)


def with_stale(intro: str, facts: EmailFacts) -> str:
    """The intro with the executive summary's one "data not current" line after it, when some data is stale."""
    from reporting.packs.assembly import STALE_PREFIX

    if not facts["stale"]:
        return intro
    return f"{intro}\n\n{STALE_PREFIX}: {'; '.join(facts['stale'])}."
