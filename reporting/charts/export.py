"""Static export: every chart of a build in ONE Chromium/kaleido session, cached by content hash.

Kaleido 1.x drives a Chromium. We point it at the system browser (BROWSER_PATH, default /usr/bin/chromium),
keep one browser open for the whole build (`Renderer` is a context manager, on a private event loop with a
deadline per call; see `_Browser`), turn MathJax off (it would
fetch from the network) and write each image to a cache keyed by the ChartSpec's content hash, so an
unchanged chart is never rendered twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from reporting.charts import raster
from reporting.charts.spec import ChartSpec
from reporting.errors import ReportingError
from reporting.files import atomic_path, atomic_write

__all__ = ["ChartExportError", "Image", "Renderer", "find_chromium", "render_all"]

Format = Literal["png", "svg"]
#: Bump when figure.py changes how a spec is drawn: part of every cache key, with the plotly version.
RENDERER_VERSION = "5"  # 3: sparklines drawn with Pillow (raster.py); 4: "No data" charts too; 5: icons, alpha
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium; `make demo` does this when run "
    "as root) or set BROWSER_PATH to a Chrome/Chromium executable"
)
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


#: what kaleido's tab says when its page's scripts had not loaded before the first figure was sent
_NOT_READY = "kaleido_scopes is not defined"


def _cache_key(spec: ChartSpec) -> str:
    import hashlib

    import plotly

    return hashlib.sha256(f"{spec.content_hash()}|{RENDERER_VERSION}|{plotly.__version__}".encode()).hexdigest()[:24]


def project_cache(root: Path) -> Path:
    """The chart cache of a project: <project>/.reporting/cache (REPORTING_CHART_CACHE overrides it)."""
    return Path(os.environ.get("REPORTING_CHART_CACHE") or Path(root) / ".reporting" / "cache")


def default_cache() -> Path:
    """Without a project: REPORTING_CHART_CACHE, else a private directory of this process (never a shared
    /tmp folder whose images anyone could replace)."""
    configured = os.environ.get("REPORTING_CHART_CACHE")
    return Path(configured) if configured else Path(tempfile.mkdtemp(prefix="reporting-charts-"))


class _Seals:
    """Keyed content hashes of cached images: `<image>.seal` holds HMAC-SHA256(key, bytes) with a random key
    kept in the cache directory (mode 0600). An image whose seal is missing or wrong (changed, truncated,
    planted by someone else) is not trusted: it is drawn again."""

    def __init__(self, folder: Path) -> None:
        import secrets

        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_file = folder / "cache.key"
        if not key_file.exists():
            part = folder / f"cache.key.{os.getpid()}.part"
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            try:
                os.link(part, key_file)  # first writer wins; others use its key
            except FileExistsError:
                pass
            finally:
                part.unlink(missing_ok=True)
        self.key = key_file.read_bytes()

    def _mac(self, data: bytes) -> str:
        import hmac

        return hmac.new(self.key, data, "sha256").hexdigest()

    def seal(self, path: Path) -> None:
        seal = path.with_name(path.name + ".seal")
        atomic_write(seal, self._mac(path.read_bytes()))

    def trusted(self, path: Path) -> bool:
        import hmac

        seal = path.with_name(path.name + ".seal")
        try:
            return hmac.compare_digest(seal.read_text().strip(), self._mac(path.read_bytes()))
        except OSError:
            return False


class Renderer:
    """One browser for many charts. Use as `with Renderer() as r: images = r.render(specs)`.

    The browser starts on the first chart that needs it, not on entry: cached charts, native Office charts
    and Pillow sparklines need none, so a PowerPoint/Excel pack often builds without starting Chromium."""

    # One tab: with native Office charts and Pillow sparklines a build draws a few pictures at most, and a
    # second tab costs more to open than it saves (2 charts: 1.4x the time with two tabs, same run).
    def __init__(self, cache: Path | None = None, workers: int = 1, timeout: float = 90) -> None:
        self.cache = cache or default_cache()
        self.workers, self.timeout = workers, timeout
        self.rendered = 0  # charts actually drawn by the browser (cache misses), for tests and benchmarks
        self.drawn = 0  # sparklines drawn without the browser (charts/raster.py)
        self._open = False
        self._browser: _Browser | None = None

    def __enter__(self) -> Renderer:
        os.environ["BROWSER_PATH"] = find_chromium()  # a missing browser is one clear error up front
        self._open = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        self._open = False

    @property
    def started(self) -> bool:
        """Whether Chromium was started (for tests and benchmarks)."""
        return self._browser is not None

    def _write(self, jobs: list[dict[str, Any]]) -> Any:
        """One batched call, with a deadline; a browser that stops answering, or whose tab was not ready, is
        replaced once."""
        deadline = 60 + 5 * len(jobs)
        if self._browser is None:
            self._browser = _Browser(self.workers, self.timeout)
        try:
            errors = self._browser.write(jobs, deadline)
            if not errors or not any(_NOT_READY in str(e) for e in errors):
                return errors
        except TimeoutError:
            pass
        # no answer in time, or a tab whose kaleido page had not loaded its scripts (seen under heavy load:
        # "ReferenceError: kaleido_scopes is not defined"): a new browser, once
        self._browser.close()
        self._browser = _Browser(self.workers, self.timeout)
        try:
            return self._browser.write(jobs, deadline)
        except TimeoutError:
            raise ChartExportError(
                f"Chromium did not finish {len(jobs)} chart(s) within {deadline} s, twice; {INSTALL_HINT}"
            ) from None

    def render(self, specs: Sequence[ChartSpec], fmt: Format = "png") -> list[Image]:
        """Images for `specs`, in order; misses are drawn in one batched call to the open browser."""
        seals = _Seals(self.cache)
        jobs: list[dict[str, Any]] = []
        images: list[Image] = []
        with ExitStack() as stack:  # each picture is written beside its cache file, moved in when all are done
            for spec in specs:
                width, height = spec.size
                path = self.cache / f"{_cache_key(spec)}.{fmt}"
                images.append(Image(path, fmt, width, height, spec.alt_text, spec.title))
                if path.exists() and seals.trusted(path):
                    continue
                if fmt == "png" and raster.can_draw(spec):
                    with atomic_path(path) as part:
                        raster.draw(spec, part)
                    seals.seal(path)
                    self.drawn += 1
                elif all(j["final"] != path for j in jobs):  # the same chart twice: drawn once
                    from reporting.charts.figure import to_figure  # plotly only when a picture is drawn

                    scale = spec.theme.scale if fmt == "png" else 1
                    # kaleido picks the format from the file suffix, so the temporary file ends with it
                    part = stack.enter_context(atomic_path(path, suffix=f".part.{fmt}"))
                    jobs.append(
                        {
                            "fig": to_figure(spec),
                            "path": str(part),
                            "final": path,
                            "opts": {"format": fmt, "width": width, "height": height, "scale": scale},
                        }
                    )
            if jobs:
                if not self._open:
                    raise ChartExportError("Renderer used outside its `with` block")
                errors = self._write([{k: v for k, v in job.items() if k != "final"} for job in jobs])
                if errors:
                    raise ChartExportError(f"{len(errors)} chart(s) failed to render: {errors[0]}")
        for job in jobs:
            seals.seal(job["final"])
        self.rendered += len(jobs)
        return images


class _Browser:
    """One kaleido/Chromium on a private asyncio loop in a daemon thread.

    Not kaleido's global sync server: that one blocks its event loop on a queue between calls and can hang
    for good (seen here in long multi-pack runs); here the loop always runs, every call has a deadline, and a
    browser that stops answering is closed and replaced.
    """

    def __init__(self, workers: int, timeout: float) -> None:
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="reporting-kaleido", daemon=True)
        self.thread.start()
        try:
            self.kaleido = self._call(self._open(workers, timeout), 120)
        except ChartExportError:
            self._stop_loop()
            raise
        except Exception as exc:  # choreographer raises its own types for a browser that will not start
            self._stop_loop()
            raise ChartExportError(
                f"Chromium would not start for chart export ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
            ) from exc

    @staticmethod
    async def _open(workers: int, timeout: float) -> Any:
        import kaleido

        browser = kaleido.Kaleido(n=workers, timeout=timeout, mathjax=False)
        await browser.open()
        return browser

    def _call(self, coroutine: Any, deadline: float) -> Any:
        import asyncio
        import concurrent.futures

        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(deadline)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError from None

    def write(self, jobs: list[dict[str, Any]], deadline: float) -> Any:
        return self._call(self.kaleido.write_fig_from_object(jobs), deadline)

    def close(self) -> None:
        try:
            self._call(self.kaleido.close(), 30)
        except Exception:  # noqa: BLE001 - closing a broken browser must not hide the real error
            pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def render_all(specs: Iterable[ChartSpec], fmt: Format = "png", cache: Path | None = None) -> list[Image]:
    """Convenience: open one browser, render everything, close it."""
    with Renderer(cache) as renderer:
        return renderer.render(list(specs), fmt)
