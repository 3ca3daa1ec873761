"""A real project (shipped catalogue and pack templates, bundled data) pulled once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.project import Project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("demo-project")
    shutil.copytree(REPO / "templates", root / "templates")
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    return project
