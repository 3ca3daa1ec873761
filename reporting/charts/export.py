"""Static export: every chart of a build in ONE Chromium/kaleido session, cached by content hash.

Kaleido 1.x drives a Chromium. We point it at the system browser (BROWSER_PATH, default /usr/bin/chromium),
keep one browser open for the whole build (`Renderer` is a context manager), turn MathJax off (it would
fetch from the network) and write each image to a cache keyed by the ChartSpec's content hash, so an
unchanged chart is never rendered twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from reporting.charts.figure import to_figure
from reporting.charts.spec import ChartSpec
from reporting.errors import ReportingError

__all__ = ["ChartExportError", "Image", "Renderer", "find_chromium", "render_all"]

Format = Literal["png", "svg"]
#: Bump when figure.py changes how a spec is drawn: part of every cache key, with the plotly version.
RENDERER_VERSION = "2"
INSTALL_HINT = ("install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium; `make demo` does this when run "
                "as root) or set BROWSER_PATH to a Chrome/Chromium executable")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ChartExportError(ReportingError):
    """Static chart export failed: no browser, or the browser could not render a chart."""


@dataclass(frozen=True)
class Image:
    path: Path
    format: Format
    width: int
    height: int
    alt_text: str
    title: str


def find_chromium() -> str:
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ChartExportError(f"BROWSER_PATH={configured!r} is not an executable; {INSTALL_HINT}")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChartExportError(f"no Chromium found for chart export; {INSTALL_HINT}")


def _cache_key(spec: ChartSpec) -> str:
    import hashlib

    import plotly

    return hashlib.sha256(f"{spec.content_hash()}|{RENDERER_VERSION}|{plotly.__version__}".encode()).hexdigest()[:24]


def default_cache() -> Path:
    return Path(os.environ.get("REPORTING_CHART_CACHE", Path(tempfile.gettempdir()) / "reporting-chart-cache"))


class Renderer:
    """One browser for many charts. Use as `with Renderer() as r: images = r.render(specs)`."""

    def __init__(self, cache: Path | None = None, workers: int = 2, timeout: float = 90) -> None:
        self.cache = cache or default_cache()
        self.workers, self.timeout = workers, timeout
        self.rendered = 0  # charts actually drawn by the browser (cache misses), for tests and benchmarks
        self._open = False

    def __enter__(self) -> Renderer:
        import kaleido

        os.environ["BROWSER_PATH"] = find_chromium()
        try:
            kaleido.start_sync_server(n=self.workers, timeout=self.timeout, mathjax=False, silence_warnings=True)
        except Exception as exc:  # choreographer raises its own types for a browser that will not start
            raise ChartExportError(f"Chromium would not start for chart export ({type(exc).__name__}: {exc}); "
                                   f"{INSTALL_HINT}") from exc
        self._open = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        import kaleido

        if self._open:
            kaleido.stop_sync_server(silence_warnings=True)
            self._open = False

    def render(self, specs: Sequence[ChartSpec], fmt: Format = "png") -> list[Image]:
        """Images for `specs`, in order; misses are drawn in one batched call to the open browser."""
        import kaleido

        self.cache.mkdir(parents=True, exist_ok=True)
        jobs, images = [], []
        for spec in specs:
            width, height = spec.size
            path = self.cache / f"{_cache_key(spec)}.{fmt}"
            images.append(Image(path, fmt, width, height, spec.alt_text, spec.title))
            if not path.exists() and all(j["path"] != str(path) for j in jobs):
                scale = spec.theme.scale if fmt == "png" else 1
                jobs.append({"fig": to_figure(spec), "path": str(path) + ".part",
                             "opts": {"format": fmt, "width": width, "height": height, "scale": scale}})
        if jobs:
            if not self._open:
                raise ChartExportError("Renderer used outside its `with` block")
            # kaleido picks the format from the file suffix, so write to `<hash>.png.part.png` then rename
            for job in jobs:
                job["path"] = job["path"] + f".{fmt}"
            errors = kaleido.write_fig_from_object_sync(jobs)
            if errors:
                raise ChartExportError(f"{len(errors)} chart(s) failed to render: {errors[0]}")
            for job in jobs:
                final = Path(job["path"][: -len(f".part.{fmt}")])
                os.replace(job["path"], final)
            self.rendered += len(jobs)
        return images


def render_all(specs: Iterable[ChartSpec], fmt: Format = "png", cache: Path | None = None) -> list[Image]:
    """Convenience: open one browser, render everything, close it."""
    with Renderer(cache) as renderer:
        return renderer.render(list(specs), fmt)
