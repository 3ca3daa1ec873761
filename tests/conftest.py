"""Shared fixtures. The expensive ones live here, built once per session and shared read-only: the demo
project (shipped catalogue and pack templates, bundled data pulled), the scheduled copy of it, assembled demo
packs, the charted sample pack and one chart Renderer. A test that writes copies the project first
(`project_fixtures.copy_project`); packs are frozen dataclasses, so sharing them cannot leak an edit.

Small per-test projects on disk (`make_project`) are cheap and stay per test."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import approval_project_maker
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, BUILT_AT, REPO, MakeProject, assemble_pack
from sample_pack import sample_pack
from smtp_server import SmtpTestServer

from reporting.charts import Renderer
from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.packs.tree import Pack
from reporting.project import Project


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `first` run first. The differential attacker's module fixture builds 36 packs (about 150 s);
    collected last, one xdist worker built it alone at the end while the other sat idle. Started first, the
    other worker takes the rest of the suite meanwhile. Stable, so every other test keeps its order."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """A project directory with templates/metrics.yaml and the given data files (paths relative to it)."""

    def make(catalogue: str = BASIC_CATALOGUE, files: dict[str, str] | None = None) -> Project:
        root = tmp_path / "project"
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "templates" / "metrics.yaml").write_text(textwrap.dedent(catalogue))
        for name, text in ({"data/ae.csv": BASIC_CSV} if files is None else files).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return Project(root)

    return make


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The shipped catalogue and pack templates with the bundled data pulled, once per session. Read-only."""
    root = tmp_path_factory.mktemp("demo-project")
    shutil.copytree(REPO / "templates", root / "templates")
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    return project


@pytest.fixture(scope="session")
def pulled(demo_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project plus the shipped recipients, for the scheduler tests (a copy: the pull is not redone)."""
    root = tmp_path_factory.mktemp("scheduled")
    for name in ("templates", "snapshots"):  # all that the pull made: not what a test may have added
        shutil.copytree(demo_project.root / name, root / name)
    shutil.copytree(REPO / "recipients", root / "recipients")
    return root


@pytest.fixture(scope="session")
def assembled(demo_project: Project) -> Callable[..., Pack]:
    """`assembled(template, org=..., **kw)`: the demo pack assembled once per session for each set of
    arguments (built_at fixed). A test that checks assembly itself (determinism, errors) calls
    `assemble_pack` instead."""
    packs: dict[tuple[str, tuple[tuple[str, object], ...]], Pack] = {}

    def get(name: str, **kw: object) -> Pack:
        kw.setdefault("built_at", BUILT_AT)
        key = (name, tuple(sorted(kw.items())))
        if key not in packs:
            packs[key] = assemble_pack(demo_project, name, **kw)
        return packs[key]

    return get


@pytest.fixture(scope="session")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renderer]:
    """One Chromium (started on the first chart that needs one) and one chart cache for the session. Tests
    that count what a renderer draws or starts make their own."""
    with Renderer(cache=tmp_path_factory.mktemp("chart-cache")) as r:
        yield r


@pytest.fixture(scope="session")
def charted_sample(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    """The sample pack (sample_pack.py) with its charts rendered, once for the session."""
    return sample_pack(tmp_path_factory.mktemp("sample-charts"))


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for the test."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def approval_project(
    pulled: Path, tmp_path: Path, smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Project]:
    """The pulled demo project sending to the test server, with a Board job that needs approval
    (tests/approval_fixtures.py)."""
    return approval_project_maker(pulled, tmp_path, smtp, monkeypatch)
