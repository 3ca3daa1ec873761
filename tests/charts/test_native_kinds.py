"""One table of native chart kinds (charts.native_kinds), and both Office writers dispatch on it."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import get_args, get_type_hints

from reporting.charts import native_pptx, native_xlsx
from reporting.charts.native_kinds import NATIVE, PICTURE_ONLY, NativeKind, Shape
from reporting.charts.spec import ChartSpec

SPEC_KINDS = set(get_args(get_type_hints(ChartSpec)["kind"]))
WRITERS: dict[str, Container[str]] = {"pptx": native_pptx.BUILDERS, "xlsx": native_xlsx.BUILDERS}


def problems(
    kinds: set[str],
    native: Mapping[str, NativeKind],
    picture_only: frozenset[str],
    writers: Mapping[str, Container[str]],
) -> list[str]:
    """What is wrong between the spec's kinds, the table and the writers' builders."""
    out = [f"{k}: neither native nor picture-only" for k in sorted(kinds - set(native) - picture_only)]
    out += [f"{k}: both native and picture-only" for k in sorted(set(native) & picture_only)]
    out += [f"{k}: not a ChartSpec kind" for k in sorted((set(native) | picture_only) - kinds)]
    for name, builders in writers.items():
        out += [f"{k}: no {name} builder for shape {v.shape}" for k, v in native.items() if v.shape not in builders]
    return out


def test_every_chart_kind_is_native_in_both_writers_or_picture_only() -> None:
    assert problems(SPEC_KINDS, NATIVE, PICTURE_ONLY, WRITERS) == []
    for builders in (native_pptx.BUILDERS, native_xlsx.BUILDERS):
        assert set(builders) == set(get_args(Shape))


def test_the_check_fails_for_a_kind_without_an_entry_or_a_builder() -> None:
    assert problems({*SPEC_KINDS, "gauge"}, NATIVE, PICTURE_ONLY, WRITERS) == ["gauge: neither native nor picture-only"]
    pptx_only = {**WRITERS, "xlsx": {k: v for k, v in native_xlsx.BUILDERS.items() if k != "bars"}}
    assert problems(SPEC_KINDS, NATIVE, PICTURE_ONLY, pptx_only) == ["league: no xlsx builder for shape bars"]
    assert problems(SPEC_KINDS, {**NATIVE, "icon": NativeKind("lines")}, PICTURE_ONLY, WRITERS) == [
        "icon: both native and picture-only"
    ]


def test_supports_native_follows_the_table() -> None:
    from reporting.charts.spec import Series

    for kind in SPEC_KINDS:
        spec = ChartSpec(kind, "t", "alt", (Series("s", "points", (1,), (1.0,)),))
        assert native_pptx.supports_native(spec) == (kind in NATIVE)
