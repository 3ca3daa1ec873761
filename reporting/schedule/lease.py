"""A lease held in a database: one scheduler per job store (and per history), across machines.

The file lock in <project>/.reporting only stops a second daemon on the same machine and project; two
daemons on two machines (or two project copies) sharing REPORTING_JOBSTORE_URL would both run every job.
The lease is a row (name, holder, expires) in that database: taken when free, expired, or left by a
process that is gone on this host; renewed while the daemon runs; released when it stops. A daemon that
dies without releasing it blocks others for at most `ttl` seconds (immediately, on the same host).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TypedDict, cast

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from reporting.errors import ReportingError

__all__ = ["Lease", "LeaseHeld", "LeaseRow"]

_metadata = MetaData()


class LeaseRow(TypedDict):
    """One row of the leases table: who holds the lease, for which project, until when."""

    name: str
    holder: str
    project: str | None
    expires: dt.datetime


leases = Table(
    "reporting_leases",
    _metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(300), nullable=False),
    Column("project", String(1000)),
    Column("expires", DateTime(timezone=True), nullable=False),
)


class LeaseHeld(ReportingError):
    """Another live process holds the lease."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _gone(holder: str) -> bool:
    """True when the holder ran on this host and its process no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Lease:
    url: str
    name: str = "scheduler"
    project: str = ""
    ttl: float = 60.0
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    engine: Engine | None = None

    def _engine(self) -> Engine:
        if self.engine is None:
            self.engine = create_engine(self.url)
            _metadata.create_all(self.engine)
        return self.engine

    def acquire(self) -> None:
        """Take the lease or raise LeaseHeld naming who has it."""
        expires = _now() + dt.timedelta(seconds=self.ttl)
        with self._engine().begin() as conn:
            row = conn.execute(select(leases).where(leases.c.name == self.name)).mappings().first()
            if row is None:
                try:
                    conn.execute(
                        insert(leases).values(name=self.name, holder=self.holder, project=self.project, expires=expires)
                    )
                    return
                except IntegrityError:
                    row = None
            elif row["holder"] == self.holder or _aware(row["expires"]) < _now() or _gone(row["holder"]):
                taken = conn.execute(
                    update(leases)
                    .where(leases.c.name == self.name, leases.c.holder == row["holder"])
                    .values(holder=self.holder, project=self.project, expires=expires)
                )
                if taken.rowcount == 1:
                    return
        held = self.current()
        who = f"{held['holder']} for {held['project']}" if held else "another process"
        until = f" until {_aware(held['expires']):%Y-%m-%d %H:%M:%S} UTC unless renewed" if held else ""
        raise LeaseHeld(f"the {self.name} lease on this job store is held by {who}{until}")

    def renew(self) -> None:
        with self._engine().begin() as conn:
            done = conn.execute(
                update(leases)
                .where(leases.c.name == self.name, leases.c.holder == self.holder)
                .values(expires=_now() + dt.timedelta(seconds=self.ttl))
            )
        if done.rowcount != 1:
            raise LeaseHeld(f"the {self.name} lease was lost (taken by another process after it expired)")

    def release(self) -> None:
        if self.engine is None:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.name == self.name, leases.c.holder == self.holder))
        self.engine.dispose()
        self.engine = None

    def current(self) -> LeaseRow | None:
        with self._engine().begin() as conn:
            row = conn.execute(select(leases).where(leases.c.name == self.name)).mappings().first()
            return cast(LeaseRow, dict(row)) if row else None
