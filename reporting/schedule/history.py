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
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from reporting.approval import ApprovalState
from reporting.errors import ReportingError
from reporting.redact import redact

__all__ = ["ADDRESS", "NOT_REAL", "AlreadyDecided", "History", "history_url"]

# runs a person asked for that send the job's recipients nothing new: never the job's last run for what it decides
NOT_REAL = ("test", "resend", "dry_run")
ENV_URL = "REPORTING_HISTORY_URL"
ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
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
approval_events = Table(  # the audit trail: every request, approval and rejection, never updated or deleted
    "approval_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pack", String(100), nullable=False),
    Column("period", String(20), nullable=False),
    Column("org_code", String(20), nullable=False),  # "" for a pack without an organisation
    Column("content_hash", String(64), nullable=False),
    Column("action", String(20), nullable=False),  # requested | approved | rejected
    Column("actor", String(320), nullable=False),  # the approver, or the job that asked
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", Text),
)
approval_decisions = Table(  # one decision per content hash: the unique key is what stops two approvers at once
    "approval_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pack", String(100), nullable=False),
    Column("period", String(20), nullable=False),
    Column("org_code", String(20), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", Text),
    UniqueConstraint("pack", "period", "org_code", "content_hash", name="one_decision_per_content"),
)

pauses = Table(  # jobs paused in the portal ("*": every job); the scheduler skips their scheduled runs
    "job_pauses",
    metadata,
    Column("job_id", String(100), primary_key=True),
    Column("actor", String(320), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
actions = Table(  # every action taken in the portal, with who and what came of it
    "portal_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(320), nullable=False),
    Column("action", String(40), nullable=False),
    Column("job_id", String(100)),
    Column("detail", Text),
)


class AlreadyDecided(ReportingError):
    """A content hash already has its decision; `decision` is that row (who, when, approved or not)."""

    def __init__(self, message: str, decision: dict[str, Any]) -> None:
        super().__init__(message)
        self.decision = decision


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


def _real() -> ColumnElement[bool]:
    """A run that is not NOT_REAL (an old row without a trigger counts as real)."""
    return or_(runs.c.trigger.is_(None), runs.c.trigger.not_in(NOT_REAL))


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

    def latest_run(self, job_id: str, *, real: bool = False) -> dict[str, Any] | None:
        """The job's latest run; `real`: the latest that is not a test, resend or dry run (NOT_REAL)."""
        query = select(runs).where(runs.c.job_id == job_id, *([_real()] if real else []))
        with self._tx() as conn:
            row = conn.execute(query.order_by(runs.c.id.desc()).limit(1)).mappings().first()
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
        """The latest real run that succeeded or was skipped (`send_if: data_changed` compares with its snapshot)."""
        with self._tx() as conn:
            row = (
                conn.execute(
                    select(runs)
                    .where(
                        runs.c.job_id == job_id,
                        runs.c.status.in_(["success", "skipped"]),
                        _real(),
                    )
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
        then: Callable[[Connection, int], object] | None = None,
    ) -> None:
        """`then(conn, delivery id)` runs in the same transaction (schedule.delivery_kinds records a row's kind)."""
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
                number = int(existing[0])
            else:
                number = conn.execute(
                    deliveries.insert().values(
                        job_id=job_id,
                        period=period,
                        recipient=recipient,
                        content_hash=content_hash,
                        attempts=attempts,
                        **values,
                    )
                ).inserted_primary_key[0]
            if then is not None:
                then(conn, int(number))

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

    # approval before distribution (reporting.approval): the audit trail and one decision per content hash

    def request_approval(self, pack: str, period: str, org: str | None, content_hash: str, by: str) -> bool:
        """Record that a draft awaits approval (once per content hash); True when this is the first request."""
        key = _approval_key(pack, period, org, content_hash)
        with self._tx() as conn:
            found = conn.execute(
                select(approval_events.c.id).where(
                    *_match(approval_events, key), approval_events.c.action == "requested"
                )
            ).first()
            if found:
                return False
            conn.execute(approval_events.insert().values(**key, action="requested", actor=by, at=_now(), comment=None))
            return True

    def decide(
        self, pack: str, period: str, org: str | None, content_hash: str, *, approved: bool, by: str, comment: str
    ) -> dict[str, Any]:
        """Approve or reject one content hash, with the audit event, in one transaction. A hash already decided
        (by anyone: a double click, or two approvers at once) raises AlreadyDecided with the decision made."""
        key = _approval_key(pack, period, org, content_hash)
        row = {**key, "approved": approved, "actor": by, "at": _now(), "comment": comment}
        try:
            with self._tx() as conn:
                conn.execute(approval_decisions.insert().values(**row))
                action = "approved" if approved else "rejected"
                conn.execute(
                    approval_events.insert().values(**key, action=action, actor=by, at=row["at"], comment=comment)
                )
        except IntegrityError:
            earlier = self.decision(pack, period, org, content_hash) or {}
            raise AlreadyDecided(
                f"{content_hash[:12]} was already {'approved' if earlier.get('approved') else 'rejected'} by "
                f"{earlier.get('actor')} at {_stamp(earlier.get('at'))}",
                earlier,
            ) from None
        return row

    def decision(self, pack: str, period: str, org: str | None, content_hash: str) -> dict[str, Any] | None:
        key = _approval_key(pack, period, org, content_hash)
        with self._tx() as conn:
            row = conn.execute(select(approval_decisions).where(*_match(approval_decisions, key))).mappings().first()
            return dict(row) if row else None

    def approval_trail(self, pack: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Audit events, oldest first (every pack's when `pack` is None)."""
        query = select(approval_events).order_by(approval_events.c.id).limit(limit)
        if pack is not None:
            query = query.where(approval_events.c.pack == pack)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Drafts requested and not yet decided: the approval queue."""
        decided = {
            (d["pack"], d["period"], d["org_code"], d["content_hash"]) for d in self._all(select(approval_decisions))
        }
        return [
            e
            for e in self.approval_trail()
            if e["action"] == "requested" and (e["pack"], e["period"], e["org_code"], e["content_hash"]) not in decided
        ]

    def approval_state(self, pack: str, approvers: tuple[str, ...]) -> ApprovalState:
        """What a build of `pack` needs to know: its approvers, and each decided hash with its trail."""
        trails: dict[str, list[dict[str, str]]] = {}
        for e in self.approval_trail(pack, limit=100_000):
            trails.setdefault(e["content_hash"], []).append(trail_event(e))
        decided = {
            d["content_hash"]: (bool(d["approved"]), tuple(trails.get(d["content_hash"], [])))
            for d in self._all(select(approval_decisions).where(approval_decisions.c.pack == pack))
        }
        return ApprovalState(approvers, decided)

    def _all(self, query: Any) -> list[dict[str, Any]]:
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # pause and resume, and the portal's action log

    def pause(self, job_id: str, by: str) -> None:
        with self._tx() as conn:
            if conn.execute(select(pauses.c.job_id).where(pauses.c.job_id == job_id)).first() is None:
                conn.execute(pauses.insert().values(job_id=job_id, actor=by, at=_now()))

    def resume(self, job_id: str) -> None:
        with self._tx() as conn:
            conn.execute(pauses.delete().where(pauses.c.job_id == job_id))

    def paused(self, job_id: str) -> dict[str, Any] | None:
        """The pause that stops `job_id`'s scheduled runs (its own, or every job's), if any."""
        with self._tx() as conn:
            row = conn.execute(select(pauses).where(pauses.c.job_id.in_([job_id, "*"]))).mappings().first()
            return dict(row) if row else None

    def record_action(self, by: str, action: str, job_id: str | None, detail: str) -> None:
        """Every analyst sees the actions, whatever their organisations: an address in `detail` is not kept."""
        detail = redact(ADDRESS.sub("<address>", detail))
        with self._tx() as conn:
            conn.execute(actions.insert().values(at=_now(), actor=by, action=action, job_id=job_id, detail=detail))

    def actions(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._all(select(actions).order_by(actions.c.id.desc()).limit(limit))


def trail_event(row: Mapping[str, Any]) -> dict[str, str]:
    """One audit event as the manifest and the portal show it."""
    return {
        "action": str(row["action"]),
        "by": str(row["actor"]),
        "at": _stamp(row["at"]),
        "content_sha256": str(row["content_hash"]),
        "comment": str(row["comment"] or ""),
    }


def _stamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")
    return str(value)


def _approval_key(pack: str, period: str, org: str | None, content_hash: str) -> dict[str, str]:
    return {"pack": pack, "period": period, "org_code": org or "", "content_hash": content_hash}


def _match(table: Table, key: Mapping[str, str]) -> list[Any]:
    return [table.c[name] == value for name, value in key.items()]
