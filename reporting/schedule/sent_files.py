"""The files each delivery sent, by name, sha256 and size, recorded when the message is sent: the record a resend
checks the published files against (the database is the record; outputs/ and its manifest.json can be rewritten
by anyone who can write there, so they cannot certify themselves).

A table of its own beside history's (as `delivery_kinds`), created on first use, so an existing database gains
it without a migration; a delivery sent before it existed has no rows (`sent_files` gives None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Engine

from reporting.schedule.delivery_kinds import delivery_id
from reporting.schedule.history import History

if TYPE_CHECKING:
    from reporting.delivery.compose import PackFile

__all__ = ["SentFile", "record_sent_files", "sent_files"]

metadata = MetaData()
delivery_files = Table(
    "delivery_files",
    metadata,
    Column("delivery_id", Integer, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("attached", Boolean, nullable=False),  # False: too large, the email linked to the published file
)


@dataclass(frozen=True)
class SentFile:
    name: str
    sha256: str
    size: int
    attached: bool


def _engine(history: History) -> Engine:
    metadata.create_all(history.engine)  # checks first: cheap, and right for any engine (not keyed by id)
    return history.engine


def record_sent_files(
    history: History, record: Sequence[object], message: EmailMessage, files: Sequence[Path | PackFile]
) -> None:
    """Record the files delivery `record` (job, period, recipient, org, key) sends in `message`: the bytes
    attached, or the file on disk for one only linked (too large to attach)."""
    job_id, period, recipient, _, key = (str(x) for x in record)
    number = delivery_id(history, job_id, period, recipient, key)
    attached = {str(p.get_filename()): p.get_payload(decode=True) for p in message.iter_attachments()}
    rows = []
    for f in files:
        name = f.name
        data = attached.get(name)
        if not isinstance(data, bytes):
            data = f.read_bytes() if isinstance(f, Path) else f.data
        rows.append(
            {
                "delivery_id": number,
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "attached": name in attached,
            }
        )
    with _engine(history).begin() as conn:  # a retry of the same delivery (same row) records its files again
        conn.execute(delivery_files.delete().where(delivery_files.c.delivery_id == number))
        if rows:
            conn.execute(delivery_files.insert(), rows)


def sent_files(history: History, number: int) -> tuple[SentFile, ...] | None:
    """The files delivery `number` sent, in name order; None when none were recorded (sent before this record)."""
    with _engine(history).begin() as conn:
        rows = conn.execute(
            select(delivery_files).where(delivery_files.c.delivery_id == number).order_by(delivery_files.c.name)
        ).mappings()
        found = tuple(SentFile(str(r["name"]), str(r["sha256"]), int(r["size"]), bool(r["attached"])) for r in rows)
    return found or None
