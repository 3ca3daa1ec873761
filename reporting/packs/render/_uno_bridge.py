"""The warm LibreOffice's other half: run by a Python that has LibreOffice's `uno` module (Debian's
python3-uno, usually /usr/bin/python3), never imported by reporting itself.

    python3 _uno_bridge.py PIPE_NAME DEADLINE_S [OFFICE_GROUP PARENT_PID]

Connects to a LibreOffice listening on the named pipe (started by pdf.py with --accept), says
{"ready": true} on stdout, then reads one JSON request a line on stdin -
{"in": path, "out": path, "filter": "writer_pdf_Export", "writer": true} - and answers each with
{"ok": true} or {"error": "..."}. A Writer document gets what pdf.py's Basic macro does for the cold path:
every index updated and every field refreshed, twice (the second pass settles page numbers that moved when
the table of contents grew), then a tagged PDF with bookmarks.

Given OFFICE_GROUP (LibreOffice's process group) and PARENT_PID (the worker), the bridge kills that group and
exits when the worker dies: on SIGTERM (the parent-death signal _warm_office asks for on Linux), or when a
watcher thread sees that its parent is no longer PARENT_PID (anywhere, within half a second; it also runs while
the main thread waits on a conversion that hangs).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException


def _prop(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _desktop(pipe: str, deadline: float) -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _convert(desktop: object, request: dict[str, object]) -> None:
    url_in = uno.systemPathToFileUrl(str(request["in"]))
    doc = desktop.loadComponentFromURL(url_in, "_blank", 0, (_prop("Hidden", True),))  # type: ignore[attr-defined]
    if doc is None:
        raise ValueError("the file could not be opened (damaged, or not an Office file)")
    try:
        if request.get("writer"):
            if not hasattr(doc, "getDocumentIndexes"):
                raise ValueError("the file could not be opened as a text document (damaged, or not a Word file)")
            for _ in range(2):
                indexes = doc.getDocumentIndexes()
                for i in range(indexes.getCount()):
                    indexes.getByIndex(i).update()
                doc.getTextFields().refresh()
        options = uno.Any(
            "[]com.sun.star.beans.PropertyValue", (_prop("UseTaggedPDF", True), _prop("ExportBookmarks", True))
        )
        store = (_prop("FilterName", request["filter"]), _prop("FilterData", options))
        uno.invoke(
            doc,
            "storeToURL",
            (uno.systemPathToFileUrl(str(request["out"])), uno.Any("[]com.sun.star.beans.PropertyValue", store)),
        )
    finally:
        doc.close(True)


def _guard(office_group: int, parent: int) -> None:
    """Kill LibreOffice's process group and exit once the worker that started us has gone."""

    def end(*_: object) -> None:
        try:
            os.killpg(office_group, signal.SIGKILL)
        except OSError:
            pass
        os._exit(1)

    signal.signal(signal.SIGTERM, end)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        end()

    threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # gone before the handler was in place
        end()


def main() -> None:
    pipe, limit = sys.argv[1], float(sys.argv[2])
    if len(sys.argv) > 4:
        _guard(int(sys.argv[3]), int(sys.argv[4]))
    desktop = _desktop(pipe, time.monotonic() + limit)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            _convert(desktop, json.loads(line))
            answer: dict[str, object] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller as text
            answer = {"error": f"{type(exc).__name__}: {exc}"}
            if type(exc).__name__ in {"DisposedException", "RuntimeException"} and "Binary URP" in str(exc):
                print(json.dumps(answer), flush=True)
                return  # the office is gone: exit, so the caller starts a new one
        print(json.dumps(answer), flush=True)
    try:  # stdin closed: the caller has gone (even if it was killed), so the office goes too
        desktop.terminate()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - it may be gone already
        pass


if __name__ == "__main__":
    main()
