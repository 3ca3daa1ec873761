"""``reporting spc``: outputs, the summary vocabulary, and errors as one line + exit 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from reporting.commands.spc import register


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    register(app)

    @app.command("other")
    def _other() -> None:  # keeps "spc" a sub-command, as in the real CLI
        """Nothing."""

    return app


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


FIRST_YEAR = [5, 6, 5, 7, 6, 5, 6, 7, 5, 6, 9, 6]
XMR_CSV = "x,y\n" + "".join(f"2024-{m:02d}-01,{v}\n" for m, v in zip(range(1, 13), FIRST_YEAR))
XMR_CSV += "".join(f"2025-{m:02d}-01,{v}\n" for m, v in zip(range(1, 9), [6, 5, 7, 6, 5, 6, 7, 6]))


def run(app: typer.Typer, *args: str) -> object:
    return CliRunner().invoke(app, ["spc", *args])


def test_writes_points_and_summary(app: typer.Typer, tmp_path: Path) -> None:
    src = write(tmp_path, XMR_CSV)
    res = run(app, str(src), "--target", "2", "--out", str(tmp_path / "o.csv"), "--summary", str(tmp_path / "s.json"))
    assert res.exit_code == 0, res.output
    pts = pd.read_csv(tmp_path / "o.csv")
    assert {"x", "y", "mean", "lpl", "upl", "point_type", "special_cause_type", "rebase_group"} <= set(pts.columns)
    assert pts["x"].iloc[0] == "2024-01-01" and len(pts) == 20
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["variation_icon"] == "common_cause"
    assert summary["assurance"] == "consistent_pass" and summary["assurance_icon"] == "pass"
    assert summary["warnings"] == [] and len(summary["groups"]) == 1
    assert summary["groups"][0]["first_x"] == "2024-01-01"


def test_options_reach_the_engine(app: typer.Typer, tmp_path: Path) -> None:
    src = write(tmp_path, XMR_CSV)
    res = run(
        app,
        str(src),
        "--improvement",
        "decrease",
        "--rebase",
        "2024-07-01",
        "--fix-after",
        "12",
        "--no-screen-outliers",
        "--out",
        str(tmp_path / "o.csv"),
        "--summary",
        str(tmp_path / "s.json"),
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["options"] == {
        "chart": "xmr",
        "improvement": "decrease",
        "target": None,
        "rebase": ["2024-07-01"],
        "fix_after_n_points": 12,
        "screen_outliers": False,
    }
    assert [g["first_x"] for g in summary["groups"]] == ["2024-01-01", "2024-07-01"]


def test_ratio_chart_with_integer_x_and_phases(app: typer.Typer, tmp_path: Path) -> None:
    rows = "".join(f"{i},{10 + i % 3},{100 + i},{1 if i <= 10 else 2}\n" for i in range(1, 21))
    src = write(tmp_path, "x,numerator,denominator,group\n" + rows)
    res = run(app, str(src), "--chart", "p", "--out", str(tmp_path / "o.csv"), "--summary", str(tmp_path / "s.json"))
    assert res.exit_code == 0, res.output
    pts = pd.read_csv(tmp_path / "o.csv")
    assert pts["x"].tolist() == list(range(1, 21))
    assert pts["rebase_group"].tolist() == [0] * 10 + [1] * 10
    assert json.loads((tmp_path / "s.json").read_text())["warnings"] == [
        "Some groups have 'n < 12' observations. These have trial limits, which will be revised with each "
        "additional observation until 'n = fix_after_n_points' has been reached."
    ]


@pytest.mark.parametrize(
    ("csv", "args", "message"),
    [
        ("x,y\n2024-01-01,1\n2024-02-01,abc\n", [], "in.csv: row 2, field 'y': expected a number, got 'abc'"),
        ("x,y\n2024-01-01,1\n2024-01-01,2\n", [], "in.csv: row 2, field 'x': duplicate x"),
        ("x,y\n2024-01-01,1\n", [], "in.csv: row 1, field 'x': the series has 1 row; SPC needs at least 2 points"),
        (XMR_CSV, ["--fix-after", "5"], "option 'fix_after_n_points': expected a whole number >= 12, got 5"),
        (XMR_CSV, ["--chart", "xbar"], "option 'chart': expected one of xmr, p, pp, u, up, c, run, got 'xbar'"),
        (XMR_CSV, ["--rebase", "July"], "option '--rebase': expected a date YYYY-MM-DD, got 'July'"),
        (
            "x,numerator,denominator\n1,5,0\n2,3,10\n",
            ["--chart", "p"],
            "in.csv: row 1, field 'denominator': expected a denominator > 0, got 0",
        ),
        (
            "x,numerator,denominator\n1,12,10\n2,3,10\n",
            ["--chart", "p"],
            "in.csv: row 1, field 'denominator': denominator 10 is below numerator 12",
        ),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(
    app: typer.Typer, tmp_path: Path, csv: str, args: list[str], message: str
) -> None:
    src = write(tmp_path, csv)
    out, summ = tmp_path / "o.csv", tmp_path / "s.json"
    res = run(app, str(src), *args, "--out", str(out), "--summary", str(summ))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert not out.exists() and not summ.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary files left behind


def test_a_failed_run_leaves_an_existing_output_untouched(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    out.write_text("previous\n")
    src = write(tmp_path, "x,y\n1,1\n2,oops\n")
    assert run(app, str(src), "--out", str(out)).exit_code == 2
    assert out.read_text() == "previous\n"


def test_missing_input_file(app: typer.Typer, tmp_path: Path) -> None:
    res = run(app, str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv"))
    assert res.exit_code == 2
    assert "input file not found" in res.stderr


def test_rebase_date_not_in_data_is_a_warning_on_stderr(app: typer.Typer, tmp_path: Path) -> None:
    src = write(tmp_path, XMR_CSV)
    res = run(app, str(src), "--rebase", "2030-01-01", "--out", str(tmp_path / "o.csv"))
    assert res.exit_code == 0
    assert "warning: rebase date 2030-01-01 is not an x of the data and was ignored" in res.stderr
