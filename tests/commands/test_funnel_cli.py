"""`reporting funnel` on a tiny Typer app: outputs, option names, one-line errors, no partial files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from reporting.commands.funnel import register

GOOD = "group,numerator,denominator\na,27,170\nb,23,122\nc,35,178\nd,26,184\ne,38,161\n"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    return app


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "input.csv"
    path.write_text(text)
    return path


def _stderr(result: object) -> str:
    try:
        return result.stderr  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, ValueError):
        return result.output  # type: ignore[attr-defined,no-any-return]


def test_writes_table_and_summary(app: typer.Typer, tmp_path: Path) -> None:
    src, out, summ = _write(tmp_path, GOOD), tmp_path / "out.csv", tmp_path / "s.json"
    result = CliRunner().invoke(
        app, ["funnel", str(src), "--type", "PR", "--limit", "95", "--out", str(out), "--summary", str(summ)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    for col in [
        "group",
        "value",
        "zscore",
        "lcl95",
        "ucl95",
        "lcl998",
        "ucl998",
        "od_lcl95",
        "od_ucl95",
        "od_lcl998",
        "od_ucl998",
        "outlier",
    ]:
        assert col in table.columns
    assert set(table["outlier"]) <= {0, 1}
    summary = json.loads(summ.read_text())
    assert {"phi", "tau2", "limit", "limits_used", "outliers"} <= set(summary)
    assert summary["limit"] == "95"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.csv", "out.csv", "s.json"]  # no temp files


def test_no_overdispersion_and_aliases(app: typer.Typer, tmp_path: Path) -> None:
    src, out, summ = _write(tmp_path, GOOD), tmp_path / "out.csv", tmp_path / "s.json"
    result = CliRunner().invoke(
        app,
        [
            "funnel",
            str(src),
            "--data-type",
            "SR",
            "--sr-method",
            "CQC",
            "--no-overdispersion",
            "--out",
            str(out),
            "--summary",
            str(summ),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(summ.read_text())
    assert summary["options"]["sr_method"] == "CQC" and summary["limits_used"] == "unadjusted"
    assert summary["phi"] == 0


def test_duplicate_groups_are_summed(app: typer.Typer, tmp_path: Path) -> None:
    src, out = _write(tmp_path, GOOD + "a,3,30\n"), tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["funnel", str(src), "--type", "PR", "--out", str(out)])
    assert result.exit_code == 0
    row = pd.read_csv(out).set_index("group").loc["a"]
    assert (row["numerator"], row["denominator"]) == (30, 200)


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (
            GOOD.replace("a,27,170", "a,lots,170"),
            ["--type", "PR"],
            "row 1, field 'numerator': expected a number, got 'lots'",
        ),
        (GOOD.replace("b,23,122", "b,23,"), ["--type", "PR"], "row 2, field 'denominator': expected a number"),
        (GOOD.replace("c,35,178", "c,35,0"), ["--type", "PR"], "row 3, field 'denominator': must be > 0"),
        (GOOD.replace("d,26,184", "d,26,-4"), ["--type", "RC"], "row 4, field 'denominator': must be > 0"),
        (GOOD.replace("e,38,161", "e,380,161"), ["--type", "PR"], "row 5, field 'numerator': must not exceed"),
        ("group,numerator,denominator\na,1,10\na,2,10\n", ["--type", "PR"], "at least 2 groups, got 1"),
        ("grp,numerator,denominator\na,1,10\nb,2,10\n", ["--type", "PR"], "field 'group': column not found"),
        (GOOD, ["--type", "ZZ"], "field 'data_type'"),
        (GOOD, ["--type", "SR", "--method", "NOPE"], "field 'sr_method'"),
        (GOOD, ["--type", "PR", "--limit", "90"], "field 'limit'"),
        (GOOD, [], "field 'data_type': give --type"),
    ],
)
def test_errors_are_one_line_exit_2_and_leave_no_file(
    app: typer.Typer, tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    src, out, summ = _write(tmp_path, text), tmp_path / "out.csv", tmp_path / "s.json"
    result = CliRunner().invoke(app, ["funnel", str(src), *args, "--out", str(out), "--summary", str(summ)])
    assert result.exit_code == 2
    err = _stderr(result).strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists() and not summ.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["input.csv"]


def test_missing_input_file(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["funnel", str(tmp_path / "nope.csv"), "--type", "PR", "--out", str(out)])
    assert result.exit_code == 2 and "file not found" in _stderr(result)
    assert not out.exists()


def test_failed_run_keeps_previous_output(app: typer.Typer, tmp_path: Path) -> None:
    src, out = _write(tmp_path, "group,numerator,denominator\na,x,1\n"), tmp_path / "out.csv"
    out.write_text("previous\n")
    result = CliRunner().invoke(app, ["funnel", str(src), "--type", "PR", "--out", str(out)])
    assert result.exit_code == 2 and out.read_text() == "previous\n"


def test_group_names_are_never_formulas_in_the_csv(app: typer.Typer, tmp_path: Path) -> None:
    """OWASP CSV injection (issue 18): `=HYPERLINK(...)` group names were written unchanged."""
    hostile = (
        'group,numerator,denominator\n"=HYPERLINK(""http://evil.example"",""x"")",27,170\n'
        "+cmd|' /C calc'!A0,23,122\n@SUM(1),35,178\n-2+3,26,184\nplain,38,161\n"
    )
    src, out = _write(tmp_path, hostile), tmp_path / "out.csv"
    res = CliRunner().invoke(app, ["funnel", str(src), "--type", "PR", "--out", str(out)])
    assert res.exit_code == 0, res.output
    groups = pd.read_csv(out, dtype=str, keep_default_na=False)["group"].tolist()
    assert sorted(groups) == sorted(
        ['\'=HYPERLINK("http://evil.example","x")', "'+cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3", "plain"]
    )
    numbers = pd.read_csv(out)
    assert numbers["numerator"].tolist() == [27, 23, 35, 26, 38] or numbers["numerator"].dtype.kind in "if"
