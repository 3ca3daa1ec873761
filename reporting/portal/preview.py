"""Live preview: a pack's HTML edition rendered in memory (never published) for one organisation and period,
again whenever a template, the catalogue or the annotations file is saved (watchfiles; the page hears of it
by server-sent events and reloads the preview). A template that does not validate shows its errors as
file:line:column instead of the preview.

Renders run on one worker thread that keeps its chart Renderer (one Chromium, the project's chart cache), so
a re-render draws only the charts that changed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from reporting.errors import ReportingError
from reporting.project import Project

__all__ = ["Previewer", "watched"]


def watched(project: Project) -> list[Path]:
    """What a preview depends on that an analyst edits: templates/ (packs, catalogue, annotations)."""
    return [project.root / "templates"]


class Previewer:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preview")
        self._local = threading.local()

    def _renderer(self) -> Any:
        if getattr(self._local, "renderer", None) is None:
            from reporting.charts import Renderer, project_cache

            self._local.renderer = Renderer(project_cache(self.project.root)).__enter__()
        return self._local.renderer

    def _render(self, pack_id: str, org: str | None, period: str | None) -> tuple[str, list[str]]:
        """(HTML of the edition, []) or ("", the problems as file:line:column lines)."""
        from reporting.packs.build import prepare_build
        from reporting.packs.commentary_files import commentary_reader
        from reporting.packs.data_file import previous_pack
        from reporting.packs.render.html import page

        try:
            batch = prepare_build(self.project, pack_id, period=period, orgs=[org], offline=True)
            pack = batch.pack(
                org,
                commentary=commentary_reader(self.project, batch.template),
                previous=partial(previous_pack, self.project.outputs, batch.template.pack),
            )
            specs = pack.chart_specs()
            images = self._renderer().render(specs, "svg")
            return page(pack, {s.content_hash(): i.path for s, i in zip(specs, images, strict=True)}), []
        except ReportingError as exc:  # ConfigError: file:line:column, shown relative to the project
            return "", [str(exc).replace(f"{self.project.root}/", "")]

    async def render(self, pack_id: str, org: str | None, period: str | None) -> tuple[str, list[str]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._render, pack_id, org, period)

    async def changes(self, stop: asyncio.Event) -> AsyncIterator[list[str]]:
        """The files saved under the watched folders, as they are saved (until `stop`)."""
        from watchfiles import awatch

        async for batch in awatch(*watched(self.project), stop_event=stop, debounce=200, step=50):
            names = sorted({Path(path).name for _, path in batch if not Path(path).name.startswith(".")})
            if names:
                yield names
