"""LibreOffice as an independent reader of the Office files we write (headless, own profile per call)."""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise RuntimeError("LibreOffice is not installed; `make test` installs it (scripts/apt-packages.txt)")
    return found


@cache
def _profile() -> Path:
    """One LibreOffice profile for the test process, removed at exit: a fresh profile per call cost seconds of
    first-start set-up on every conversion. Conversions run one at a time, so they never share it at once."""
    folder = Path(tempfile.mkdtemp(prefix="reporting-tests-lo-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def to_pdf(path: Path, outdir: Path) -> Path:
    """Convert with LibreOffice (a cold start, not the product's warm office); fails the test if LibreOffice
    cannot read the file."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = _profile()
    result = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = outdir / (path.stem + ".pdf")
    assert result.returncode == 0 and pdf.exists(), (result.stdout, result.stderr)
    return pdf


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))
