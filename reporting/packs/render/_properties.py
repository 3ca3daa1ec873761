"""The one document-properties policy for a pack's Office files (title, author, keywords ... in File > Info)."""

from __future__ import annotations

from reporting.office_package import DocumentProperties
from reporting.packs.render._draft import is_draft, title
from reporting.packs.tree import Pack

__all__ = ["document_properties"]


def document_properties(pack: Pack, language: str = "en-GB") -> DocumentProperties:
    """The same fields, filled the same way, for the pack's .pptx, .docx and .xlsx.

    Created/modified are the pack's period (see reporting.office_package): a rebuild is the same bytes.
    """
    prov = pack.provenance
    return DocumentProperties(
        title=title(pack.title),
        created=pack.period,
        subject=pack.subtitle or pack.period_label,
        author=pack.owner or pack.audience or "reporting",
        last_modified_by=f"reporting {prov.package_version}",
        keywords="; ".join(
            part for part in (pack.id, pack.period.isoformat(), pack.org_code or "", "draft" * is_draft()) if part
        ),
        category=pack.classification,
        description=(
            f"Data snapshot {prov.snapshot_hash}; template {prov.template_path} ({prov.template_hash}); "
            f"reporting {prov.package_version}"
        ),
        version=pack.version,
        language=language,
    )
