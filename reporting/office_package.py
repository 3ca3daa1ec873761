"""The one way an Office file (.pptx, .docx, .xlsx) is written: saved, made deterministic, written atomically.

python-pptx, python-docx and openpyxl each stamp the save time into the zip entries and docProps/core.xml,
and each fills the document properties its own way. Everything they save passes through `save` (or
`package_bytes`), which

- writes docProps/core.xml whole from one `DocumentProperties` (the same fields, the same way, in all three
  formats). Created and modified are the start of the period the document reports on, at midnight UTC:
  never the save or build time, so the same pack rebuilt from the same inputs is the same bytes. When it
  was built is in the pack's manifest.json;
- rewrites the zip with its entries in the order the library saved them, each with a fixed time
  (1980-01-01, the zip epoch), deflate compression and the same permissions, made on no particular system;
  chart workbooks embedded in a deck or document (`*.xlsx` parts) get the same treatment and times;
- writes the file atomically (reporting.files).

Board secretaries need "identical when rebuilt": a file's sha256 is then its content hash.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from xml.sax.saxutils import escape

from reporting.files import atomic_write

__all__ = ["DocumentProperties", "Saveable", "normalise", "package_bytes", "save"]

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CORE_PART = "docProps/core.xml"

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_W3CDTF = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


class Saveable(Protocol):
    """A python-pptx Presentation, python-docx Document or openpyxl Workbook: anything that saves to a stream."""

    def save(self, file: BinaryIO, /) -> None: ...


@dataclass(frozen=True)
class DocumentProperties:
    """What File > Info shows, the same in every format. Empty fields are left out of the file."""

    title: str
    created: dt.date  # created and modified: this date at 00:00:00 UTC
    subject: str = ""
    author: str = ""
    last_modified_by: str = ""
    keywords: str = ""
    category: str = ""
    description: str = ""  # "Comments" in Word and PowerPoint
    version: str = ""
    language: str = "en-GB"

    @property
    def stamp(self) -> str:
        """Created/modified as the W3CDTF UTC form docProps/core.xml uses."""
        return f"{self.created.isoformat()}T00:00:00Z"

    def core_xml(self) -> bytes:
        """docProps/core.xml for these properties (revision 1: a generated file has no editing history)."""

        def element(tag: str, value: str) -> str:
            return f"<{tag}>{escape(_XML_ILLEGAL.sub('', value))}</{tag}>" if value else ""

        dates = "".join(
            f'<dcterms:{tag} xsi:type="dcterms:W3CDTF">{self.stamp}</dcterms:{tag}>' for tag in ("created", "modified")
        )
        body = "".join(
            (
                element("dc:title", self.title),
                element("dc:subject", self.subject),
                element("dc:creator", self.author),
                element("cp:keywords", self.keywords),
                element("dc:description", self.description),
                element("cp:lastModifiedBy", self.last_modified_by),
                "<cp:revision>1</cp:revision>",
                dates,
                element("cp:category", self.category),
                element("dc:language", self.language),
                element("cp:version", self.version),
            )
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"{body}</cp:coreProperties>"
        ).encode()


def normalise(data: bytes, properties: DocumentProperties) -> bytes:
    """The package in `data` made deterministic, with docProps/core.xml written from `properties`."""
    return _rezip(data, properties.stamp.encode(), properties.core_xml())


def _rezip(data: bytes, stamp: bytes, core: bytes | None) -> bytes:
    """Fixed entry times, compression and permissions; `core` replaces core.xml (None: only its times are set).

    A member whose content stays as it is keeps its compressed bytes (`_copy_deflated`): the libraries save with
    Python's zipfile at zlib's default level, so deflating it again would give the same bytes, at twice the cost
    of the rest of the rewrite (tests/test_office_package_copy.py compares the two on every format)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 0
            if info.filename == CORE_PART:
                blob = source.read(info.filename)
                blob = core if core is not None else _W3CDTF.sub(rb"\g<1>" + stamp + rb"\g<2>", blob)
            elif info.filename.endswith(".xlsx"):  # a native chart's workbook: its own clock and zip dates
                blob = _rezip(source.read(info.filename), stamp, None)
            elif _copy_deflated(data, info, target, entry):
                continue
            else:
                blob = source.read(info.filename)
            target.writestr(entry, blob)
    return out.getvalue()


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader: 30 bytes, names' lengths last


def _copy_deflated(data: bytes, info: zipfile.ZipInfo, target: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    """Write `info`'s deflated bytes from the package `data` into `target` as `entry`: the bytes `writestr`
    would write after inflating and deflating them again at the default level. False (nothing written) for a
    member that is not plainly deflated, or large enough for ZIP64, which `writestr` then writes."""
    if (
        info.compress_type != zipfile.ZIP_DEFLATED
        or info.flag_bits & 0x1  # encrypted
        or info.file_size * 1.05 > zipfile.ZIP64_LIMIT
        or not isinstance(target.fp, io.BytesIO)
    ):
        return False
    header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    start = info.header_offset + _LOCAL_HEADER.size + header[-2] + header[-1]
    entry.file_size, entry.compress_size, entry.CRC = info.file_size, info.compress_size, info.CRC
    entry.flag_bits = 0x00
    # what ZipFile._open_to_write and _ZipWriteFile.close do for a writestr, with the compressed bytes known
    # (its checks: the mode is "w", the compression is deflate and ZIP64 is not needed; a package's names are
    # unique)
    target.fp.seek(target.start_dir)
    entry.header_offset = target.fp.tell()
    target.fp.write(entry.FileHeader(False))
    target.fp.write(data[start : start + info.compress_size])
    target.filelist.append(entry)
    target.NameToInfo[entry.filename] = entry
    target.start_dir = target.fp.tell()
    return True


def package_bytes(
    document: Saveable, properties: DocumentProperties, rewrite: Callable[[bytes], bytes] | None = None
) -> bytes:
    """The saved document as deterministic bytes; `rewrite` edits the saved package first (e.g. alt text)."""
    buffer = io.BytesIO()  # openpyxl leaves its zip open when a write to a file fails (a full disk): use memory
    document.save(buffer)
    data = buffer.getvalue()
    if rewrite is not None:
        data = rewrite(data)
    return normalise(data, properties)


def save(
    document: Saveable,
    path: Path,
    properties: DocumentProperties,
    rewrite: Callable[[bytes], bytes] | None = None,
) -> Path:
    """Save `document` at `path`: deterministic bytes (see the module docstring), written atomically."""
    return atomic_write(Path(path), package_bytes(document, properties, rewrite))
