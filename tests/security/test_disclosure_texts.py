"""Every kind of text we publish is audited on its own (issue 18): narratives (text blocks, the executive
summary, summary-table sentences, commentary, the cover), captions and footnotes, chart alt text, speaker
notes and the email. None may hold a suppressed count, its complement (denominator - numerator), the hidden
rate of a suppressed period beside that period's name, or a rate and a count whose product pins a
suppressed count to an interval narrower than the threshold.

The fixture is the bundled real data with thresholds that hide SOME of Guy's and St Thomas' months and not
others (A&E breaches under 4,300: 10 of 24 months, the latest included; trolley waits under 200; weekly
discharges under 670), so the texts talk about visible months beside hidden ones and a leak is a distinctive
number. A control plants a leak in each kind of text and shows the audit finds it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from published import count_pattern, email_texts

from reporting.charts import Renderer
from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.data.snapshot import latest_snapshot
from reporting.formatting import format_period, format_value
from reporting.packs.batch import prepare
from reporting.packs.build import BuildResult
from reporting.packs.template_load import load_template, template_files
from reporting.packs.tree import ChartBlock, Commentary, Cover, DataTable, Pack, SummaryTable, Text
from reporting.project import Project

ORG = "RJ1"
REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in template_files(REPO))
_DATES = re.compile(r"\b(?:\d{1,2} )?[A-Z][a-z]{2,8}\.? \d{4}\b|\b\d{4}-\d\d(?:-\d\d)?\b|\b20\d\d(?:/\d\d)?\b")
_THRESHOLD = re.compile(r"fewer than \d[\d,]*")
KINDS = ("narrative", "captions", "alt text", "notes", "email")
BUILT_AT = "2026-01-01T00:00:00+00:00"
#: (metric whose rule changes, new rule), in catalogue order
RULES = (
    ("ae_4hr", "{suppress_below: 4300}"),
    ("ae_over_4hr", "{suppress_below: 4300}"),
    ("trolley_wait_4hr", "{suppress_below: 200}"),
    ("discharges_before_5pm", "{suppress_below: 670}"),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("texts") / "p"
    shutil.copytree(REPO / "templates", root / "templates")
    path = root / "templates" / "metrics.yaml"
    text = path.read_text()
    for metric, rule in RULES:
        head, tail = text.split(f"  - id: {metric}\n", 1)
        tail = tail.replace("disclosure: {suppress_below: 5}", f"disclosure: {rule}", 1)
        text = head + f"  - id: {metric}\n" + tail
    head, tail = text.split("  - id: discharges_total\n", 1)
    tail = tail.replace("    frequency: weekly\n", "    frequency: weekly\n    disclosure: {suppress_below: 670}\n", 1)
    path.write_text(head + "  - id: discharges_total\n" + tail)
    pull(load_catalogue(path), root, Project(root).snapshots)
    return Project(root)


class Hidden:
    """What must not be published about the organisation's suppressed cells of one pack."""

    def __init__(self, project: Project, pack_id: str) -> None:
        catalogue = load_catalogue(project.catalogue_file)
        template, doc, digest = load_template(project.root, pack_id)
        snapshot = latest_snapshot(project.snapshots)
        batch = prepare(catalogue, template, doc, digest, snapshot, orgs=[ORG])
        shown = batch.frames[ORG]
        hidden = shown[shown["suppressed"].astype(bool)][["metric_id", "period"]]
        raw = snapshot.metrics[snapshot.metrics["org_code"] == ORG].merge(hidden, on=["metric_id", "period"])
        self.counts: dict[int, str] = {}
        self.rates: list[tuple[str, str]] = []  # (the hidden rate as shown, the period's name)
        self.threshold = {m.id: m.disclosure.suppress_below for m in catalogue.metrics}
        for row in raw.itertuples():
            metric = catalogue.metric(str(row.metric_id))
            what = f"{metric.id} {pd.Timestamp(row.period):%Y-%m-%d}"
            for name, number in (("value", row.value), ("numerator", row.numerator), ("denominator", row.denominator)):
                if pd.notna(number) and (name != "value" or metric.unit == "count") and number >= 100:
                    self.counts[int(number)] = f"{what} {name}"
            if pd.notna(row.numerator) and pd.notna(row.denominator):
                if row.denominator - row.numerator >= 100:
                    self.counts[int(row.denominator - row.numerator)] = f"{what} complement"
                label = format_value(float(row.value), metric.unit, metric.decimals, metric.per)
                self.rates.append((label, format_period(pd.Timestamp(row.period), metric.frequency)))
        self.width = min(self.threshold.values())

    def leaks(self, texts: list[tuple[str, str]]) -> list[str]:
        found = []
        pattern = count_pattern(self.counts)
        for where, original in texts:
            text = _THRESHOLD.sub("fewer than N", original)  # the published threshold is not a count
            for match in pattern.finditer(text):
                found.append(f"{where}: {self.counts[int(match.group(1).replace(',', ''))]} in {text!r}")
            for rate, period in self.rates:
                if rate in text and period in text:
                    found.append(f"{where}: the hidden rate {rate} of {period} in {text!r}")
            found += [f"{where}: {m}" for m in self._products(text)]
        return found

    def _products(self, text: str) -> Iterator[str]:
        """A rate and a count in one text whose product, at the rate's shown precision, leaves a hidden count
        in an interval narrower than the threshold (e.g. '21.9% of 17,951')."""
        text = _DATES.sub(" ", text)  # "July 2025", "2025-07-01", "2025/26" are not counts
        rates = [(float(m.group(1)), len(m.group(2) or "")) for m in re.finditer(r"(\d+(?:\.(\d+))?)\s?%", text)]
        counts = [
            int(m.replace(",", "")) for m in re.findall(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d{3,})(?![\d.,]?\d|%)", text)
        ]
        for rate, decimals in rates:
            half = 0.5 * 10**-decimals
            for n in counts:
                low, high = (rate - half) / 100 * n, (rate + half) / 100 * n
                for c, what in self.counts.items():
                    if low <= c <= high and high - low < self.width:
                        yield f"{what} = {c} lies in [{low:.0f}, {high:.0f}] from {rate}% of {n:,}"


def texts_by_kind(pack: Pack) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for section in pack.sections:
        for block in section.blocks:
            where = f"{pack.id} / {section.title}"
            if isinstance(block, Text):
                out["narrative"] += [(where, p) for p in block.paragraphs]
            elif isinstance(block, Cover):
                out["narrative"] += [(where, t) for t in (block.title, block.subtitle, *(v for _, v in block.details))]
            elif isinstance(block, Commentary):
                out["narrative"] += [(where, block.commentary), (where, block.actions)]
            elif isinstance(block, SummaryTable):
                out["narrative"] += [(f"{where} / {r.title}", r.narrative) for r in block.rows]
                out["captions"] += [(where, t) for t in (block.title, block.caption, *block.footnotes)]
                out["alt text"] += [(where, r.sparkline.alt_text) for r in block.rows if r.sparkline]
            elif isinstance(block, DataTable):
                out["captions"] += [(where, t) for t in (block.title, block.caption, *block.footnotes)]
            elif isinstance(block, ChartBlock):
                out["captions"] += [(where, block.caption), (where, block.spec.title), (where, block.spec.subtitle)]
                out["alt text"].append((f"{where} / {block.spec.title}", block.spec.alt_text))
                out["notes"].append((f"{where} / {block.spec.title}", block.notes))
    return {k: [(w, t) for w, t in v if t] for k, v in out.items()}


@pytest.fixture(scope="module")
def audited(project: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Hidden, dict]]:
    from project_fixtures import assemble_pack

    out = {}
    with Renderer(cache=tmp_path_factory.mktemp("icons")) as renderer:
        for pack_id in SHIPPED:
            pack = assemble_pack(project, pack_id, org=ORG, built_at=BUILT_AT)
            texts = texts_by_kind(pack)
            period = pack.period.isoformat()
            result = BuildResult(
                pack_id, ORG, period, project.root / "outputs" / pack_id / period / ORG, (), {}, tree=pack
            )
            texts["email"] = email_texts(result, project, renderer, pack_id)
            out[pack_id] = (Hidden(project, pack_id), texts)
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("pack_id", SHIPPED)
def test_no_suppressed_value_in_any_text_we_publish(audited: dict, pack_id: str, kind: str) -> None:
    hidden, texts = audited[pack_id]
    assert len(hidden.counts) > 10 and hidden.rates  # the fixture hides some months of this pack
    leaks = hidden.leaks(texts[kind])
    assert leaks == [], f"{pack_id}, {kind}: {len(leaks)} leak(s):\n" + "\n".join(leaks[:20])


def test_every_kind_of_text_is_read_and_a_planted_leak_is_found_in_each(audited: dict) -> None:
    hidden, texts = audited["board"]
    assert all(texts[k] for k in KINDS), {k: len(v) for k, v in texts.items()}
    count, what = next(iter(hidden.counts.items()))
    rate, period = hidden.rates[0]
    plants = {
        "narrative": f"Breaches were {count:,} last month.",
        "captions": f"{count} attendances",
        "alt text": f"{rate} in {period}.",
        "notes": f"{round(count / 17951 * 100, 1)}% of 17,951 attendances",
        "email": f"({count:,})",
    }
    for kind, text in plants.items():
        assert hidden.leaks([*texts[kind], ("planted", text)]), f"{kind}: the planted {text!r} ({what}) was not found"
    # not a leak: the same count as part of a longer number, a percentage, a date
    assert hidden.leaks([("x", f"{count}1 and {count}.5% and 1{count}")]) == []
