"""A copy of the bundled real data with small counts planted, for the disclosure attacks (issue 18).

Every metric family of the shipped catalogue gets cells under the threshold, for several organisations,
in months the packs show (the latest one included, so summaries, narratives and the email meet them):

- A&E: four-hour breaches (`ae_over_4hr` itself; `ae_4hr` and `ae_attendances` share its columns);
- A&E complement: breaches = attendances - v, so the within-4-hours numerator of `ae_4hr` is the small one;
- trolley waits: `emergency_admissions_over_4hours` (`trolley_wait_4hr`, linked to `emergency_admissions`);
- discharges: `discharged_total` (`discharges_total`, the denominator of `discharges_before_5pm`).

`plant(level)` gives each cell its small count v: "low" (every cell 1), "high" (every cell 4) or "mixed"
(alternately 4 and 1). Everything else is the bundled data, byte for byte, so two projects built from two
levels differ ONLY in suppressed cells: whatever differs between their published packs is a leak.
`publish` builds packs from one level and returns every published part; `differences` compares two.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from published import email_texts

from reporting.charts import Renderer
from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.packs.build import build
from reporting.project import Project

THRESHOLD = 5
ORGS = ("RJ1", "RXW", "R0B")  # with planted cells (RXW has long names)
PEER = "R0A"  # none planted: its pack shows the others only in comparisons
LEVELS = ("low", "high", "mixed")
FORMATS = ["pptx", "docx", "xlsx", "html"]
BUILT_AT = "2026-01-01T00:00:00+00:00"

# (file, org, period column value, column, kind): kind "count" sets the column to v; "complement" sets it
# to (the row's `total_attendances`) - v
CELLS: tuple[tuple[str, str, str, str, str], ...] = (
    ("ae", "RJ1", "2024-09-01", "attendances_over_4hours", "count"),
    ("ae", "RJ1", "2025-01-01", "attendances_over_4hours", "count"),
    ("ae", "RXW", "2025-07-01", "attendances_over_4hours", "count"),  # the latest month
    ("ae", "R0B", "2024-11-01", "attendances_over_4hours", "complement"),
    ("ae", "RJ1", "2025-05-01", "emergency_admissions_over_4hours", "count"),
    ("ae", "RXW", "2024-10-01", "emergency_admissions_over_4hours", "count"),
    ("ae", "R0B", "2025-07-01", "emergency_admissions_over_4hours", "count"),  # the latest month
    ("discharges", "RJ1", "2025-07-07", "discharged_total", "count"),
    ("discharges", "RXW", "2025-06-02", "discharged_total", "count"),
    ("discharges", "R0B", "2025-08-25", "discharged_total", "count"),  # the latest week
)
FILES = {
    "ae": ("ae_trust_monthly_2021_2025.csv", "period"),
    "discharges": ("discharges_weekly_2022_2025.csv", "week_start"),
}


def value(level: str, index: int) -> int:
    """The planted small count of cell `index` at `level` (always 1..THRESHOLD-1)."""
    if level == "low":
        return 1
    if level == "high":
        return THRESHOLD - 1
    if level == "mixed":
        return THRESHOLD - 1 if index % 2 == 0 else 1
    raise ValueError(f"level {level!r}: expected one of {', '.join(LEVELS)}")


def plant(templates: Path, root: Path, level: str) -> Project:
    """A project at `root`: the shipped templates, the bundled data with CELLS planted at `level`, pulled."""
    shutil.copytree(templates, root / "templates")
    (root / "data").mkdir()
    catalogue = (root / "templates" / "metrics.yaml").read_text()
    for key, (name, period_column) in FILES.items():
        text = (resources.files("reporting") / "demo_data" / name).read_text("utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        wanted = {
            (org, period, column): (i, kind) for i, (f, org, period, column, kind) in enumerate(CELLS) if f == key
        }
        found = 0
        for row in rows:
            for column in ("attendances_over_4hours", "emergency_admissions_over_4hours", "discharged_total"):
                hit = wanted.get((row["org_code"], row[period_column], column))
                if hit is None:
                    continue
                index, kind = hit
                v = value(level, index)
                row[column] = str(v if kind == "count" else int(row["total_attendances"]) - v)
                found += 1
        assert found == len(wanted), f"{name}: planted {found} of {len(wanted)} cells"
        with open(root / "data" / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        catalogue = catalogue.replace(f"    kind: demo\n    file: {name}\n", f"    kind: csv\n    path: data/{name}\n")
    (root / "templates" / "metrics.yaml").write_text(catalogue)
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    return project


_HASH = re.compile(rb"(?<![0-9a-f])[0-9a-f]{12,64}(?![0-9a-f])")  # snapshot/content hashes (12+ hex digits)
# An email gives the packs' size ("615 KB in all"). The Office files hold the snapshot hash, which changes with
# any input, and deflate compresses two hashes to different lengths, so the size moves by a kilobyte with the
# hash alone. Every file's bytes are compared with the hashes masked, so the size carries nothing else.
_SIZE = re.compile(rb"\b\d[\d,.]* [KM]B\b")

Published = dict[str, bytes]  # "pack/period/org/file[:part[:part]]" or "email ..." -> bytes


def _parts(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A file, or every part of a zip (Office file), recursing into embedded workbooks."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _parts(f"{name}:{member}", zf.read(member))
    else:
        yield name, _HASH.sub(b"HASH", data)


def publish(root: Path, level: str, packs: list[str], orgs: list[str], templates: Path) -> Published:
    """Build `packs` for `orgs` from a project planted at `level`; every published part, hashes masked."""
    project = plant(templates, root, level)
    out: Published = {}
    # one chart cache for every level: it is keyed by the chart's whole spec, so a chart that depends on a hidden
    # count has another key and is drawn again, and one that does not is drawn once instead of three times
    with Renderer(cache=root.parent / "chart-cache") as renderer:
        for pack in packs:
            for result in build(project, pack, orgs=orgs, formats=FORMATS, renderer=renderer, built_at=BUILT_AT):
                where = result.directory.relative_to(project.root / "outputs")
                for path in sorted(result.directory.rglob("*")):
                    if path.is_file() and path.name != "manifest.json":
                        out.update(_parts(f"{where}/{path.name}", path.read_bytes()))
                texts = email_texts(result, project, renderer, pack)
                email = "\n".join(f"{w}: {t}" for w, t in texts).encode()
                out[f"email {where}"] = _SIZE.sub(b"SIZE", _HASH.sub(b"HASH", email))
    return out


def differences(one: Published, two: Published) -> list[str]:
    """Every part that differs, with the text around its first difference."""
    found = []
    for name in sorted(set(one) | set(two)):
        a, b = one.get(name), two.get(name)
        if a == b:
            continue
        if a is None or b is None:
            found.append(f"{name}: only in one build")
            continue
        i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        context = (a[max(0, i - 80) : i + 40], b[max(0, i - 80) : i + 40])
        found.append(f"{name}: {context[0]!r} <> {context[1]!r}")
    return found
