"""No module over about 500 lines (issue 17): past that a module holds several jobs and is split by job."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 500
REPORTING = Path(__file__).resolve().parents[1] / "reporting"
CHECKED = tuple(sorted(p.name for p in REPORTING.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()))


def oversized(root: Path, names: tuple[str, ...], limit: int = MAX_LINES) -> list[str]:
    """Modules under `root` (the named packages and files) longer than `limit` lines, with their length."""
    found = []
    for name in names:
        path = root / name
        for module in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            lines = len(module.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append(f"{module.relative_to(root)}: {lines} lines")
    return found


def test_no_checked_module_is_over_the_limit() -> None:
    assert all((REPORTING / name).exists() for name in CHECKED)
    assert oversized(REPORTING, CHECKED) == []


def test_the_check_finds_a_module_over_the_limit(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "big.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    (package / "small.py").write_text("x = 1\n" * MAX_LINES, encoding="utf-8")
    (tmp_path / "leaf.py").write_text("x = 1\n" * (MAX_LINES + 2), encoding="utf-8")
    assert oversized(tmp_path, ("pkg", "leaf.py")) == [
        f"pkg/sub/big.py: {MAX_LINES + 1} lines",
        f"leaf.py: {MAX_LINES + 2} lines",
    ]
