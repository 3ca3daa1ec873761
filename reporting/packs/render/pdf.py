"""PDF from the Office output, with LibreOffice headless (the way great-tables makes images from HTML).

    to_pdf(source, out_dir, *, profile_dir=None) -> out_dir/<source stem>.pdf
    libreoffice_available() -> bool

Word documents go through a small LibreOffice Basic macro, because `soffice --convert-to pdf` does NOT
rebuild a table of contents (LibreOffice 7.4 keeps the cached placeholder even with w:updateFields and
w:dirty): the macro opens the document hidden, updates every index and refreshes every field twice (the
second pass settles page numbers that moved when the TOC grew), then exports a tagged PDF with bookmarks.
The macro lives in the Standard library of a private LibreOffice profile that this module writes itself
(macros in the profile's own "My Macros" are trusted, so no security setting is touched). PowerPoint and
Excel files are converted with plain `--convert-to pdf` (tagged PDF too).

With a `profile_dir` (a worker's own profile, as packs.build passes), conversions go through a warm
LibreOffice kept listening on that profile (`_warm_office`: started once per worker, driven over UNO by a
Python that has Debian's python3-uno, restarted when it dies; the same TOC refresh and tagged PDF as the
macro), which saves LibreOffice's fixed start on every PDF after the first. Where no Python can `import uno`,
every call starts LibreOffice as below.

Every call uses its own profile directory (a temporary one, removed afterwards, unless `profile_dir` is
given), so parallel builds never share a running LibreOffice or a locked profile. Passing the same
`profile_dir` to calls that run one after another saves LibreOffice's first-start work (about a second);
two calls running AT THE SAME TIME must not share one. A `profile_dir` belongs to this module: it is created
if missing and its Standard Basic library is overwritten with the macro, so never point it at a person's
own LibreOffice profile. Each conversion is time-limited (`TIMEOUT_S`); on
time-out the whole LibreOffice process group is killed.

Errors: no LibreOffice on PATH -> PdfUnavailable (says what to install); LibreOffice failing or writing no
PDF -> PdfError carrying its stderr; both are ReportingErrors, so the CLI prints them as one line.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reporting.errors import ReportingError
from reporting.files import atomic_path
from reporting.packs.render import _warm_office

__all__ = [
    "INSTALL_HINT",
    "PdfError",
    "PdfUnavailable",
    "TIMEOUT_S",
    "libreoffice_available",
    "outline",
    "release_profile",
    "to_pdf",
]

TIMEOUT_S = 180.0
INSTALL_HINT = "apt-get install -y libreoffice-writer libreoffice-impress libreoffice-calc"
WRITER = {".docx", ".doc", ".odt", ".rtf"}
PLAIN = {
    ".pptx": "impress_pdf_Export",
    ".ppt": "impress_pdf_Export",
    ".odp": "impress_pdf_Export",
    ".xlsx": "calc_pdf_Export",
    ".xls": "calc_pdf_Export",
    ".ods": "calc_pdf_Export",
}
_TAGGED = '{"UseTaggedPDF":{"type":"boolean","value":"true"},"ExportBookmarks":{"type":"boolean","value":"true"}}'


class PdfError(ReportingError):
    """LibreOffice could not turn an Office file into a PDF; the message carries its stderr."""


class PdfUnavailable(PdfError):
    """LibreOffice is not installed, so no PDF can be made."""


_MACRO = """
Sub ExportPdf(inPath As String, outPath As String, errPath As String)
  Dim doc As Object
  On Error GoTo Failed
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden" : load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(inPath), "_blank", 0, load())
  If IsNull(doc) Then GoTo Unreadable
  If Not HasUnoInterfaces(doc, "com.sun.star.text.XDocumentIndexesSupplier") Then GoTo Unreadable
  For pass = 1 To 2
    indexes = doc.getDocumentIndexes()
    For i = 0 To indexes.getCount() - 1
      indexes.getByIndex(i).update()
    Next
    doc.getTextFields().refresh()
  Next
  Dim options(1) As New com.sun.star.beans.PropertyValue
  options(0).Name = "UseTaggedPDF" : options(0).Value = True
  options(1).Name = "ExportBookmarks" : options(1).Value = True
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = "FilterName" : store(0).Value = "writer_pdf_Export"
  store(1).Name = "FilterData" : store(1).Value = options()
  doc.storeToURL(ConvertToURL(outPath), store())
  doc.close(True)
  Exit Sub
Unreadable:
  message = "the file could not be opened as a text document (damaged, or not a Word file)"
  GoTo Report
Failed:
  message = "LibreOffice Basic error " & Err & " at macro line " & Erl & ": " & Error$
Report:
  On Error Resume Next
  n = FreeFile()
  Open errPath For Output As #n
  Print #n, message
  Close #n
  If Not IsNull(doc) Then doc.close(True)
End Sub
"""
_MODULE = "Module1"
_DOCTYPE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {root} PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "{dtd}">\n'
_LIBRARY_NS = 'xmlns:library="http://openoffice.org/2000/library"'


def _soffice() -> str | None:
    """The LibreOffice executable on PATH (`soffice`, else `libreoffice`), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_available() -> bool:
    return _soffice() is not None


def to_pdf(
    source: Path,
    out_dir: Path,
    *,
    profile_dir: Path | None = None,
    timeout_s: float = TIMEOUT_S,
    edit: Callable[[Any], None] | None = None,
) -> Path:
    """Convert `source` (.docx with TOC and fields updated; .pptx/.xlsx as they are) to out_dir/<stem>.pdf.

    `edit(pdf)` changes the open pikepdf document before its one reproducible save (a build puts the charts'
    alt text back there, rather than opening and saving the PDF a second time). An existing PDF of that name
    is replaced only once the new one is complete.
    """
    source = Path(source)
    executable = _soffice()
    if executable is None:
        raise PdfUnavailable(
            "cannot make a PDF: LibreOffice is not installed (no 'soffice' or 'libreoffice' on "
            f"PATH); install it with `{INSTALL_HINT}`, or leave pdf out of the pack's formats"
        )
    suffix = source.suffix.lower()
    if suffix not in WRITER and suffix not in PLAIN:
        raise PdfError(
            f"{source}: cannot convert a '{suffix}' file to PDF; expected one of "
            f"{', '.join(sorted(WRITER | PLAIN.keys()))}"
        )
    if not source.is_file():
        raise PdfError(f"{source}: no such file to convert to PDF")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reporting-pdf-") as scratch:
        work = Path(scratch)
        profile = Path(profile_dir) if profile_dir is not None else work / "profile"
        # A plain copy under a plain name: the macro URL and LibreOffice's argument parsing never see the
        # caller's path (quotes, commas, spaces, non-ASCII).
        staged = work / f"in{suffix}"
        shutil.copyfile(source, staged)
        produced = work / "out" / "in.pdf"
        produced.parent.mkdir()
        warm = None if profile_dir is None else _warm_office.office_for(executable, profile, _common(profile))
        if warm is not None:
            _convert_warm(warm, source, staged, produced, suffix, timeout_s)
        elif suffix in WRITER:
            if not (profile / "user" / "registrymodifications.xcu").is_file():
                # LibreOffice's first start copies its default Basic libraries over whatever the profile
                # holds, so let it create the profile first and write the macro afterwards.
                _run([executable, *_common(profile), "--terminate_after_init"], source, timeout_s)
            _install_macro(profile)
            errors = work / "macro-error.txt"
            macro = f'macro:///Standard.{_MODULE}.ExportPdf("{staged}","{produced}","{errors}")'
            result = _run([executable, *_common(profile), macro], source, timeout_s)
            if errors.exists():
                said = "; ".join(filter(None, (errors.read_text(errors="replace").strip(), _tail(result.stderr))))
                raise PdfError(f"{source}: LibreOffice could not convert it to PDF: {said}")
        else:
            result = _run(
                [
                    executable,
                    *_common(profile),
                    "--convert-to",
                    f"pdf:{PLAIN[suffix]}:{_TAGGED}",
                    "--outdir",
                    str(produced.parent),
                    str(staged),
                ],
                source,
                timeout_s,
            )
        if warm is None and (result.returncode != 0 or not produced.is_file() or produced.stat().st_size == 0):
            raise PdfError(
                f"{source}: LibreOffice wrote no PDF (exit code {result.returncode}): "
                f"{_tail(result.stderr) or _tail(result.stdout) or 'no message'}"
            )
        target = out_dir / f"{source.stem}.pdf"
        with atomic_path(target) as partial:
            reproducible(produced, partial, _created(source), edit)
    return target


def outline(pdf: Path) -> list[tuple[int, str, int]]:
    """The PDF's bookmarks as (level from 1, title, page number from 1), in order: for a Word document that
    LibreOffice exported (ExportBookmarks), its headings and the pages LibreOffice laid them out on."""
    import pikepdf

    found: list[tuple[int, str, int]] = []
    with pikepdf.open(pdf) as document:
        pages: dict[object, int] = {page.objgen: n for n, page in enumerate(document.pages, start=1)}

        def walk(items: list[pikepdf.OutlineItem], level: int) -> None:
            for item in items:
                destination: object = item.destination
                if destination is None and item.action is not None:
                    destination = item.action.get("/D")
                if isinstance(destination, pikepdf.Array) and len(destination):
                    page = pages.get(destination[0].objgen)
                    if page is not None:
                        found.append((level, str(item.title), page))
                walk(item.children, level + 1)

        with document.open_outline() as tree:
            walk(tree.root, 1)
    return found


_CREATED = re.compile(rb"<dcterms:created[^>]*>(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)")


def _created(source: Path) -> str | None:
    """The Office file's created time (reporting.office_package: the pack's period) as a PDF date, if it has one."""
    try:
        with zipfile.ZipFile(source) as zf:
            match = _CREATED.search(zf.read("docProps/core.xml"))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    return None if match is None else "D:" + b"".join(match.groups()).decode() + "Z"


def reproducible(produced: Path, target: Path, created: str | None, edit: Callable[[Any], None] | None = None) -> None:
    """`produced` written to `target` so that converting the same file again gives the same bytes.

    LibreOffice stamps each export with the time (/CreationDate), a fresh /ID and a /DocChecksum over both:
    the dates become the source's own created time (none when it has none), the checksum goes (no reader
    needs it), and qpdf derives the whole /ID from the content. Nothing else in its output varies between runs
    of the same input (the fonts' subset prefixes come from the content too).
    """
    import pikepdf

    with pikepdf.open(produced) as document:
        for key in ("/CreationDate", "/ModDate"):
            if created is None:
                if key in document.docinfo:
                    del document.docinfo[key]
            else:
                document.docinfo[key] = pikepdf.String(created)
        for key in ("/DocChecksum", "/ID"):  # qpdf keeps an existing /ID's first half: drop it to derive both
            if key in document.trailer:
                del document.trailer[key]
        if edit is not None:
            edit(document)
        document.save(target, deterministic_id=True)


def _convert_warm(
    warm: _warm_office.WarmOffice, source: Path, staged: Path, produced: Path, suffix: str, timeout_s: float
) -> None:
    """Through this worker's listening LibreOffice (the same TOC refresh and tagged PDF as the macro)."""
    try:
        said = warm.convert(
            staged,
            produced,
            "writer_pdf_Export" if suffix in WRITER else PLAIN[suffix],
            writer=suffix in WRITER,
            timeout_s=timeout_s,
        )
    except TimeoutError:
        raise PdfError(f"{source}: LibreOffice did not finish the PDF within {timeout_s:g} s") from None
    except _warm_office.OfficeGone as exc:
        raise PdfError(f"{source}: LibreOffice wrote no PDF: {_tail(str(exc)) or 'it stopped'}") from None
    if said is not None:
        raise PdfError(f"{source}: LibreOffice could not convert it to PDF: {_tail(said)}")
    if not produced.is_file() or produced.stat().st_size == 0:
        raise PdfError(f"{source}: LibreOffice wrote no PDF: {_tail(warm.said()) or 'no message'}")


def release_profile(profile: Path) -> None:
    """Stop the warm LibreOffice that uses `profile`, if any (call before removing the profile)."""
    _warm_office.forget(profile)


def _common(profile: Path) -> list[str]:
    return [
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
    ]


def _run(command: list[str], source: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run LibreOffice in its own process group, killing the whole group if it outlives `timeout_s`."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfError(f"{source}: LibreOffice did not finish the PDF within {timeout_s:g} s") from None
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _tail(text: str, limit: int = 2000) -> str:
    """LibreOffice's own words, minus its harmless Java warning, on one line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and "javaldx" not in line]
    return " | ".join(lines)[-limit:]


def _install_macro(profile: Path) -> None:
    """Write the Standard Basic library (its Module1 is our macro) into an initialised `profile`."""
    basic = profile / "user" / "basic"
    standard = basic / "Standard"
    standard.mkdir(parents=True, exist_ok=True)
    for kind, root, dtd in (
        ("script", "library:libraries", "libraries.dtd"),
        ("dialog", "library:libraries", "libraries.dtd"),
    ):
        (basic / f"{kind}.xlc").write_text(
            _DOCTYPE.format(root=root, dtd=dtd)
            + f'<library:libraries {_LIBRARY_NS} xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            ' <library:library library:name="Standard" library:link="false"/>\n</library:libraries>\n'
        )
    elements = f' <library:element library:name="{_MODULE}"/>\n'
    (standard / "script.xlb").write_text(
        _DOCTYPE.format(root="library:library", dtd="library.dtd")
        + f'<library:library {_LIBRARY_NS} library:name="Standard" library:readonly="false" '
        f'library:passwordprotected="false">\n{elements}</library:library>\n'
    )
    (standard / "dialog.xlb").write_text(
        _DOCTYPE.format(root="library:library", dtd="library.dtd")
        + f'<library:library {_LIBRARY_NS} library:name="Standard" library:readonly="false" '
        'library:passwordprotected="false"/>\n'
    )
    for name, code in ((_MODULE, _MACRO),):
        (standard / f"{name}.xba").write_text(
            _DOCTYPE.format(root="script:module", dtd="module.dtd")
            + f'<script:module xmlns:script="http://openoffice.org/2000/script" script:name="{name}" '
            f'script:language="StarBasic">{escape(code, {chr(34): "&quot;"})}</script:module>\n'
        )
