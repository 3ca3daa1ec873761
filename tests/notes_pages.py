"""Pages of a converted PDF that hold nothing but a table's or a chart's notes: what a secretary would fix by hand
(issue 13). Shared by the Word and Excel print tests."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from office import pdf_pages

#: lines every page carries (header and footer), left out before a page is judged
FRAME = re.compile(r"^(OFFICIAL.*|Page \d+ of \d+)$")


def words(text: str) -> str:
    return " ".join(text.split())


def pages_of_notes_only(pdf: Path, notes: Sequence[str]) -> list[int]:
    """Pages whose every line (header and footer aside) is part of one of `notes`: nothing but notes there."""
    notes = [words(n) for n in notes]
    found = []
    for page in range(1, pdf_pages(pdf) + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        lines = [words(line) for line in text.splitlines() if line.strip() and not FRAME.match(line.strip())]
        if lines and all(any(line in note for note in notes) for line in lines):
            found.append(page)
    return found
