"""Run history and the delivery log, in SQLite (or any SQLAlchemy URL from REPORTING_HISTORY_URL).

The delivery log is what makes delivery idempotent: a row per (job, period, recipient, pack content hash);
once it says `sent`, no retry, rerun or restarted daemon sends that pack to that person again. A new pack
content (the data changed) is a new key, so a corrected pack does go out.

Each delivery moves sending -> committed -> sent (or failed_temporary / failed_permanent / unknown):
`sending` is written before the SMTP conversation starts, `committed` just before the final "." of DATA (the
moment the server may accept it), `sent` after its "250". A row left at `sending` by a crash was never
accepted (resent safely); one left at `committed`, or `unknown` (no reply after the whole message went),
may have been: it is not resent without a person saying so (see docs/architecture.md).

Every run records the host and process running it, so a run left `running` by a crash is recognised
(`recover_interrupted`) and marked `interrupted`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    select,
    update,
)
from sqlalchemy.engine import Engine

from reporting.redact import redact

__all__ = ["History", "history_url"]

ENV_URL = "REPORTING_HISTORY_URL"
metadata = MetaData()
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(100), nullable=False),
    Column("period", String(20)),
    Column("trigger", String(20)),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("snapshot", String(40)),
    Column("files", Text),
    Column("error", Text),
)
run_owners = Table(  # who runs a run: a run whose process is gone was interrupted (own table: old databases)
    "run_owners",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
)
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(100), nullable=False),
    Column("period", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("org_code", String(20)),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(30), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer),
    UniqueConstraint("job_id", "period", "recipient", "content_hash", name="one_delivery_per_pack"),
)


def history_url(project: Path) -> str:
    return os.environ.get(ENV_URL) or f"sqlite:///{project / '.reporting' / 'history.sqlite'}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class History:
    engine: Engine

    @classmethod
    def open(cls, project: Path) -> History:
        url = history_url(project)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        metadata.create_all(engine)
        return cls(engine)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self.engine.begin() as conn:
            yield conn

    def start_run(self, job_id: str, trigger: str) -> int:
        with self._tx() as conn:
            result = conn.execute(
                runs.insert().values(job_id=job_id, trigger=trigger, started=_now(), status="running")
            )
            run_id = int(result.inserted_primary_key[0])
            conn.execute(run_owners.insert().values(run_id=run_id, host=socket.gethostname(), pid=os.getpid()))
            return run_id

    def recover_interrupted(self) -> list[dict[str, Any]]:
        """Runs still `running` whose process (on this host) is gone: marked `interrupted` and returned."""
        host = socket.gethostname()
        found = []
        with self._tx() as conn:
            rows = (
                conn.execute(
                    select(runs, run_owners.c.host, run_owners.c.pid)
                    .join(run_owners, run_owners.c.run_id == runs.c.id)
                    .where(runs.c.status == "running")
                )
                .mappings()
                .all()
            )
            for row in rows:
                if row["host"] != host or _alive(int(row["pid"])):
                    continue
                conn.execute(
                    update(runs)
                    .where(runs.c.id == row["id"])
                    .values(
                        status="interrupted",
                        finished=_now(),
                        error="interrupted: the process running it stopped before it finished (killed or crashed)",
                    )
                )
                found.append(dict(row))
        return found

    def latest_run(self, job_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = (
                conn.execute(select(runs).where(runs.c.job_id == job_id).order_by(runs.c.id.desc()).limit(1))
                .mappings()
                .first()
            )
            return dict(row) if row else None

    def delivery_status(self, job_id: str, period: str, recipient: str, content_hash: str) -> str | None:
        with self._tx() as conn:
            row = conn.execute(
                select(deliveries.c.status).where(
                    deliveries.c.job_id == job_id,
                    deliveries.c.period == period,
                    deliveries.c.recipient == recipient,
                    deliveries.c.content_hash == content_hash,
                )
            ).first()
            return str(row[0]) if row else None

    def finish_run(
        self,
        run_id: int,
        status: str,
        *,
        period: str | None = None,
        snapshot: str | None = None,
        files: list[str] | None = None,
        error: str | None = None,
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished=_now(),
                    status=status,
                    period=period,
                    snapshot=snapshot,
                    files=json.dumps(files or []),
                    error=None if error is None else redact(error),
                )
            )

    def last_success(self, job_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = (
                conn.execute(
                    select(runs)
                    .where(runs.c.job_id == job_id, runs.c.status.in_(["success", "skipped"]))
                    .order_by(runs.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            return dict(row) if row else None

    def delivered(self, job_id: str, period: str, recipient: str, content_hash: str) -> bool:
        with self._tx() as conn:
            row = conn.execute(
                select(deliveries.c.status).where(
                    deliveries.c.job_id == job_id,
                    deliveries.c.period == period,
                    deliveries.c.recipient == recipient,
                    deliveries.c.content_hash == content_hash,
                )
            ).first()
            return bool(row and row[0] in {"sent", "dry_run"})

    def record_delivery(
        self,
        job_id: str,
        period: str,
        recipient: str,
        org_code: str | None,
        content_hash: str,
        status: str,
        attempts: int,
        error: str | None,
        run_id: int,
    ) -> None:
        with self._tx() as conn:
            key = (
                deliveries.c.job_id == job_id,
                deliveries.c.period == period,
                deliveries.c.recipient == recipient,
                deliveries.c.content_hash == content_hash,
            )
            existing = conn.execute(select(deliveries.c.id, deliveries.c.attempts).where(*key)).first()
            values = {
                "status": status,
                "error": None if error is None else redact(error),
                "updated": _now(),
                "run_id": run_id,
                "org_code": org_code,
            }
            if existing:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id == existing[0])
                    .values(attempts=existing[1] + attempts, **values)
                )
            else:
                conn.execute(
                    deliveries.insert().values(
                        job_id=job_id,
                        period=period,
                        recipient=recipient,
                        content_hash=content_hash,
                        attempts=attempts,
                        **values,
                    )
                )

    def runs(self, job_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if job_id:
            query = query.where(runs.c.job_id == job_id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def deliveries(self, job_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if job_id:
            query = query.where(deliveries.c.job_id == job_id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
