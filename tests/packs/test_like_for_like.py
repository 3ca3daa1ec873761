"""The shipped packs compare RJ1 with like-for-like peers (templates/metrics.yaml `acute_type1`): no specialist
trust in its A&E funnel, caterpillar or league table, and every count a comparison states is the n it shows."""

from __future__ import annotations

import re
from collections.abc import Callable

from reporting.packs.tree import ChartBlock, DataTable, Pack, Text

SPECIALIST = ("Moorfields", "Sheffield Children", "Liverpool Women", "Queen Victoria", "Alder Hey", "Christie")


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, (pattern, text)
    return int(found.group(1))


def _points(block: ChartBlock) -> int:
    """Organisations plotted: the labelled points of the chart's point series (a funnel draws its outliers as
    series of their own; a leader line's labels are not organisations)."""
    return sum(len(s.labels or ()) for s in block.spec.series if s.role in ("points", "interval"))


def test_no_specialist_trust_in_rj1s_comparisons(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    compared = [
        b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind in ("funnel", "caterpillar", "league")
    ]
    league = [b for b in pack.blocks() if isinstance(b, DataTable) and b.title.startswith("League table")]
    assert len(compared) == 3 and len(league) == 1
    shown = [label for b in compared for s in b.spec.series for label in (s.labels or ())]
    shown += [row[1].text for row in league[0].rows]
    assert shown and not [name for name in shown if any(s in name for s in SPECIALIST)]


def test_every_comparison_states_the_n_it_shows(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    blocks = pack.blocks()
    funnel = next(b for b in blocks if isinstance(b, ChartBlock) and b.spec.kind == "funnel")
    caterpillar = next(b for b in blocks if isinstance(b, ChartBlock) and b.spec.kind == "caterpillar")
    n_funnel = _number(r"funnel plot of (\d+) non-specialist acute trusts", funnel.caption)
    n_cat = _number(r"variation across (\d+) non-specialist", caterpillar.caption)
    assert n_funnel == _points(funnel) == n_cat == _points(caterpillar)
    summary = " ".join(p for b in blocks if isinstance(b, Text) for p in b.paragraphs)
    others = re.search(r"for ([\w-]+) other non-specialist acute trusts with a type 1 A&E", summary)
    assert others is not None and others.group(1) == "118" and n_funnel == 119  # the subject counted once
    league = next(b for b in blocks if isinstance(b, DataTable) and b.title.startswith("League table"))
    n_ranked = _number(r"of the (\d+) ranked", league.caption)
    # the position and each metric's rank, as "25 (24–28)": the rank and its 95% interval, all out of n
    spans = [re.match(r"(\d+) \((\d+)–(\d+)\)$", row[k].text) for row in league.rows for k in (0, 3, 5)]
    ranks = [int(n) for m in spans if m for n in m.groups()]
    assert ranks and max(ranks) <= n_ranked


def test_a_trust_without_a_type_1_ae_gets_its_pack_with_the_comparisons_left_out(
    assembled: Callable[..., Pack],
) -> None:
    pack = assembled("board", org="RBV")  # The Christie: a cancer trust, not in acute_type1 nor type1_ae
    blocks = pack.blocks()
    assert not [b for b in blocks if isinstance(b, ChartBlock) and b.spec.kind in ("funnel", "caterpillar", "league")]
    texts = [p for b in blocks if isinstance(b, Text) for p in b.paragraphs]
    sentence = (
        "The Christie NHS Foundation Trust is not compared with other organisations on A&E 4-hour performance: "
        "the measure applies to trusts with a type 1 A&E department only."
    )
    assert texts.count(sentence) == 1
    assert not [p for p in texts if "the range expected around the average" in p]
