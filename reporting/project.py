"""Where a project lives: templates/, schedules.yaml, snapshots/ and outputs/ under one directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reporting.errors import ConfigError

__all__ = ["Project"]

ENV_HOME = "REPORTING_HOME"


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def locate(cls, directory: Path | str | None = None) -> Project:
        """`--project DIR`, else $REPORTING_HOME, else the current directory."""
        origin = "--project" if directory else ENV_HOME if os.environ.get(ENV_HOME) else "current directory"
        chosen = Path(directory or os.environ.get(ENV_HOME) or Path.cwd()).expanduser().resolve()
        if chosen.is_file():
            raise ConfigError(f"project directory {chosen} is a file, not a directory", field=origin)
        if not chosen.is_dir():
            raise ConfigError(f"project directory {chosen} does not exist", field=origin)
        return cls(chosen)

    @property
    def catalogue_file(self) -> Path:
        return self.root / "templates" / "metrics.yaml"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    def require_catalogue(self) -> Path:
        if not self.catalogue_file.exists():
            raise ConfigError(
                f"no metric catalogue at {self.catalogue_file}; run from a project directory (one "
                f"holding templates/metrics.yaml) or pass --project DIR / set {ENV_HOME}",
                file=self.catalogue_file,
            )
        return self.catalogue_file
