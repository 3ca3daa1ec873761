"""Where a pack's commentary workbook lives, and the two ways a build meets it.

Service leads fill in one workbook per pack, organisation and period (`commentary:` in the template names
the file, inside the project). `write_commentary_for_pack` writes the blank workbook with one row per metric
of the pack (and the executive summary's parts); `commentary_reader` gives a build the filled-in rows for
its period, validated on reading (packs.commentary does the reading and writing of the workbook itself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reporting.data.catalogue import load_catalogue
from reporting.data.snapshot import latest_snapshot
from reporting.errors import ConfigError
from reporting.packs.batch import prepare
from reporting.packs.template_load import load_template
from reporting.project import Project

__all__ = ["DEFAULT_COMMENTARY", "commentary_path", "commentary_reader", "write_commentary_for_pack"]


DEFAULT_COMMENTARY = "commentary/{pack}-{org}-{period}.xlsx"


def commentary_path(project: Project, template: Any, org: str | None, period: dt.date) -> Path:
    pattern = template.commentary or DEFAULT_COMMENTARY
    name = pattern.format(pack=template.pack, org=org or "all", period=period.isoformat())
    path = (project.root / name).resolve()
    if not path.is_relative_to(project.root.resolve()):
        raise ConfigError(f"commentary path {name!r} leads outside the project", field="commentary")
    return path


def commentary_reader(
    project: Project, template: Any
) -> Callable[[dt.date, str | None], dict[str, tuple[str, str, str]]]:
    """Reads the filled-in workbook for the pack's period, if there is one (validated on reading)."""

    def read(period: dt.date, org: str | None) -> dict[str, tuple[str, str, str]]:
        path = commentary_path(project, template, org, period)
        if not path.exists():
            return {}
        from reporting.packs.commentary import read_commentary

        catalogue = load_catalogue(project.require_catalogue())
        return read_commentary(
            path, pack_id=template.pack, period=period, known_metrics=[m.id for m in catalogue.metrics]
        )

    return read


def write_commentary_for_pack(
    project: Project, pack_id: str, *, period: str | None = None, org: str | None = None
) -> Path:
    """The workbook service leads fill in for one pack and period: one row per metric of the pack."""
    from reporting.mdc import ASSURANCE, VARIATION
    from reporting.packs.blocks.executive import summary_parts
    from reporting.packs.commentary import summary_rows, write_commentary_workbook
    from reporting.packs.template import ExecutiveSummaryBlock, iter_blocks
    from reporting.packs.tree import SummaryTable

    catalogue = load_catalogue(project.require_catalogue())
    template, doc, template_hash = load_template(project.root, pack_id)
    batch = prepare(
        catalogue, template, doc, template_hash, latest_snapshot(project.snapshots), orgs=[org], period=period
    )
    pack = batch.pack(org)
    asm = batch.assembly(org)  # the generated words the analyst may override (Narrative column)
    rows, seen = [], set()
    for block in pack.blocks():
        if isinstance(block, SummaryTable):
            for r in block.rows:
                if r.metric_id in seen:
                    continue
                seen.add(r.metric_id)
                spc = "; ".join(
                    x
                    for x in (
                        VARIATION.get(r.variation_icon or "", ("", "", ""))[2],
                        ASSURANCE.get(r.assurance or "", ("", "", ""))[2],
                    )
                    if x
                )
                narrative = r.narrative or asm._narrative(r.metric_id, asm.primary(r.metric_id))
                rows.append((r.metric_id, r.title, r.period_label, r.latest.text, spc, narrative))
    if not rows:
        raise ConfigError(
            f"pack '{pack_id}' has no summary table, so there is nothing to comment on", field="summary_table"
        )
    summaries = [
        b for sec in template.sections for b in iter_blocks(sec.blocks) if isinstance(b, ExecutiveSummaryBlock)
    ]
    if summaries:  # analysts' own words for the executive summary: one row per part it writes, with its words
        written = {
            key: "\n\n".join(paragraphs) for key, _, paragraphs in summary_parts(asm, summaries[0].executive_summary)
        }
        rows += summary_rows(pack.period_label, written)
    path = commentary_path(project, template, pack.org_code, pack.period)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_commentary_workbook(rows, path, pack_id=pack_id, period=pack.period, title=pack.title)
