"""Assembly context -> Pack tree: the walk over a template's sections, block by block.

The one place where templates meet data is the block rules (packs.blocks); this module walks the sections,
asks each block's rule for its tree nodes, and adds what the whole pack carries: footnotes (small numbers,
the annotations register, a stale snapshot), provenance and the Office templates. The packs flow one way:
build -> batch (load once, compute once) -> assemble (this walk) -> blocks (the rules) -> assembly (context).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from reporting import __version__
from reporting.packs.assembly import Assembly
from reporting.packs.blocks import block_nodes
from reporting.packs.tree import SUPPRESSED_NOTE, Block, Pack, Provenance, Section

__all__ = ["SnapshotChoice", "assemble_pack", "snapshot_note"]

#: how the build chose its snapshot (packs.build.current_snapshot): hash, chosen, stale_metrics ...
SnapshotChoice = Mapping[str, object]


def assemble_pack(asm: Assembly, *, snapshot_choice: SnapshotChoice, built_at: str | None = None) -> Pack:
    """The pack of one organisation: every section's blocks through their rules, then footnotes and provenance."""
    template, catalogue, snapshot = asm.template, asm.catalogue, asm.snapshot
    sections = []
    for i, section in enumerate(template.sections):
        asm.said.clear()  # a section says each thing once (Assembly.first_time); the next may say it again
        blocks: list[Block] = []
        for j, block in enumerate(section.blocks):
            blocks += block_nodes(asm, block, ("sections", i, "blocks", j))
        sections.append(Section(asm.render(section.title, ("sections", i, "title")), tuple(blocks), section.appendix))
    footnotes = ["Contains public sector information licensed under the Open Government Licence v3.0."]
    if snapshot_choice.get("stale_metrics"):
        footnotes.insert(0, str(snapshot_note(snapshot_choice)))
    footnotes[:0] = asm.annotation_notes()
    if asm.suppressed_any:
        footnotes.insert(
            0, SUPPRESSED_NOTE.format(threshold=min(m.disclosure.suppress_below for m in catalogue.metrics))
        )
    root = Path(asm.doc.file).resolve().parents[2]  # <project>/templates/packs/<pack>.yaml
    provenance = Provenance(
        snapshot.hash,
        asm.template_file,
        asm.template_hash,
        built_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        __version__,
        asm.source_names,
        {"org": asm.org or "", "period": asm.period.date().isoformat(), "peer_group": asm.peer_group or ""},
    )
    office: dict[str, Path] = {
        fmt: (Path(path) if Path(path).is_absolute() else root / path) for fmt, path in template.office.items()
    }
    return Pack(
        template.pack,
        asm.render(template.title, ("title",)),
        asm.render(template.subtitle, ("subtitle",)),
        asm.period.date(),
        asm.period_label,
        template.classification,
        template.audience,
        template.owner,
        template.version,
        tuple(template.formats),
        tuple(sections),
        provenance,
        office,
        asm.org,
        asm.org_name,
        asm.theme,
        tuple(footnotes),
        template.section_slides,
    )


def snapshot_note(choice: SnapshotChoice) -> str | None:
    """The sentence a pack carries when it was built from data older than its catalogue definitions."""
    stale = choice.get("stale_metrics")
    if not stale or not isinstance(stale, list | tuple):
        return None
    return (
        f"Built from snapshot {choice['hash']} ({choice['chosen']}), pulled before the catalogue last changed "
        f"{', '.join(map(str, stale))}: those figures may not match the definitions shown."
    )
