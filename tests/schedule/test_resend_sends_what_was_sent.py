"""A resend sends exactly the bytes the original delivery sent (review 16, finding 4): checked against the sha256 and
size the delivery log recorded when the original went, not against manifest.json (which anyone who can write to
outputs/ can rewrite), never through a symlink, and attaching the very bytes it checked (a file rewritten after
the check is not what goes). A delivery sent before files were recorded falls back to the manifest check, and
says so. Real SMTP server (aiosmtpd), real SQLite history, real builds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jobs_fixtures import BURST, NO_SLEEP
from smtp_server import SmtpTestServer

from reporting.project import Project
from reporting.schedule import resend as rs
from reporting.schedule.history import History
from reporting.schedule.resend import ResendRefused, resend_delivery
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # every test builds and sends a pack

RJ1 = "performance.rj1@example.nhs.uk"


def _sent(project: Project) -> tuple[History, dict[str, Any], Path, Path]:
    """A real run of the burst job; RJ1's delivery row and the RJ1 and RXW workbooks it published."""
    assert len(run_once(project, "monthly-performance", sleep=NO_SLEEP).sent) == 4
    history = History.open(project.root)
    row = next(d for d in history.deliveries("monthly-performance") if d["recipient"] == RJ1)
    files = [Path(f) for f in json.loads(history.runs("monthly-performance")[0]["files"])]
    rj1 = next(f for f in files if f.name.endswith("-RJ1.xlsx"))
    rxw = next(f for f in files if f.name.endswith("-RXW.xlsx"))
    return history, row, rj1, rxw


def _certify(manifest: Path, name: str, data: bytes) -> None:
    """Rewrite manifest.json so it vouches for `data` as file `name` (what someone with write access can do)."""
    m = json.loads(manifest.read_text())
    for entry in m["files"]:
        if entry["name"] == name:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    manifest.write_text(json.dumps(m))


def test_the_original_send_records_its_files_and_a_swapped_file_is_refused_whatever_the_manifest_says(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    from reporting.schedule.sent_files import sent_files  # new with the fix

    project = scheduled(BURST)
    history, row, rj1, rxw = _sent(project)
    published = rj1.read_bytes()
    (recorded,) = sent_files(history, int(row["id"])) or ()
    assert (recorded.name, recorded.sha256, recorded.size, recorded.attached) == (
        rj1.name,
        hashlib.sha256(published).hexdigest(),
        len(published),
        True,
    )
    # another trust's pack in place of RJ1's, the manifest rewritten to vouch for it: refused
    rj1.write_bytes(rxw.read_bytes())
    _certify(rj1.parent / "manifest.json", rj1.name, rxw.read_bytes())
    with pytest.raises(ResendRefused, match=f"changed on disk .* recorded when delivery #{row['id']} was sent"):
        resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    # the same as a symbolic link to it: refused, not followed
    rj1.unlink()
    rj1.symlink_to(rxw)
    with pytest.raises(ResendRefused, match="is a symbolic link, not the published file"):
        resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    assert len(smtp.for_recipient(RJ1)) == 1  # nothing resent
    rj1.unlink()
    rj1.write_bytes(published)  # the published bytes back: resent, and those are the bytes attached
    done = resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    assert done.status == "sent" and done.checked == "delivery log"
    (attached,) = list(smtp.for_recipient(RJ1)[-1].message().iter_attachments())
    assert attached.get_payload(decode=True) == published
    assert [f.sha256 for f in sent_files(history, done.delivery or 0) or ()] == [recorded.sha256]


def test_a_resend_attaches_the_bytes_it_checked_not_a_later_rewrite(
    scheduled: Callable[..., Project], smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = scheduled(BURST)
    _, row, rj1, _ = _sent(project)
    published = rj1.read_bytes()
    real_send = rs._send

    def racing(*args: Any, **kwargs: Any) -> Any:  # another writer between the check and the send
        rj1.write_bytes(b"NOT THE PUBLISHED PACK")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(rs, "_send", racing)
    done = resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    assert done.status == "sent"
    (attached,) = list(smtp.for_recipient(RJ1)[-1].message().iter_attachments())
    assert attached.get_payload(decode=True) == published


def test_a_delivery_sent_before_files_were_recorded_is_checked_against_the_manifest_and_says_so(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    from reporting.schedule.sent_files import delivery_files, sent_files  # new with the fix

    project = scheduled(BURST)
    history, row, rj1, rxw = _sent(project)
    with history.engine.begin() as conn:  # as an older version left it: no file list
        conn.execute(delivery_files.delete())
    assert sent_files(history, int(row["id"])) is None
    rj1.unlink()
    rj1.symlink_to(rxw)  # a symlink is refused on this path too, even with the manifest vouching for it
    _certify(rj1.parent / "manifest.json", rj1.name, rxw.read_bytes())
    with pytest.raises(ResendRefused, match="is a symbolic link"):
        resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    rj1.unlink()
    rj1.write_bytes(rxw.read_bytes() + b"edited")  # a plain file, changed, and the manifest does not vouch for it
    with pytest.raises(ResendRefused, match=r"its sha256 is not the one in manifest.json"):
        resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    _certify(rj1.parent / "manifest.json", rj1.name, rj1.read_bytes())  # the manifest restored to the file
    done = resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="lost", sleep=NO_SLEEP)
    assert done.status == "sent" and done.checked == "manifest.json"
