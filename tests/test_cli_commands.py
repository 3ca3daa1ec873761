"""The CLI loads its commands from reporting.commands and fails loudly when one cannot be imported."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from reporting.cli import CommandImportError, app, register_commands


@pytest.fixture
def commands_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway command package: `good` registers a command, `broken` imports a module that is not installed."""
    package = tmp_path / "throwaway_commands"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(
        "def register(app):\n    @app.command('hello')\n    def hello() -> None:\n        print('hello')\n"
    )
    (package / "broken.py").write_text("import reporting_no_such_dependency\n\n\ndef register(app):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "throwaway_commands"
    for name in [m for m in sys.modules if m.startswith("throwaway_commands")]:
        del sys.modules[name]


def test_a_command_whose_dependency_is_missing_fails_naming_both(commands_package: str) -> None:
    with pytest.raises(CommandImportError) as caught:
        register_commands(typer.Typer(), ("good", "broken"), package=commands_package)
    message = str(caught.value)
    assert "throwaway_commands.broken" in message and "'reporting_no_such_dependency'" in message
    assert "not installed" in message
    assert caught.value.name == "reporting_no_such_dependency"
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_a_missing_command_module_fails_naming_it(commands_package: str) -> None:
    with pytest.raises(CommandImportError, match=r"throwaway_commands\.gone cannot be imported: it does not exist"):
        register_commands(typer.Typer(), ("good", "gone"), package=commands_package)


def test_a_command_module_that_imports_registers_its_commands(commands_package: str) -> None:
    local = typer.Typer()
    register_commands(local, ("good",), package=commands_package)

    @local.callback()
    def _root() -> None:
        """A group, so the command is named on the command line."""

    result = CliRunner().invoke(local, ["hello"])
    assert result.exit_code == 0 and result.output == "hello\n"


def test_every_shipped_command_is_registered() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert {"demo", "validate", "schema", "build", "commentary", "run-once", "run", "jobs", "history"} <= names
    assert {"spc", "funnel", "review"} <= names
