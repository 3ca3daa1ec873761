"""What a delivery row was, when it was not an ordinary run's: a test run's message to the test mailbox (and who
it would have gone to), a draft sent to its approver (not the final pack: never resent, approval sends the
final one), or a resend of a delivered message (which one, who asked, why); and the one-time form
tokens that make a double click on the portal's test-run and resend buttons act once.

Tables of their own beside history's (as `run_owners`), so an existing database gains them without a
migration: `delivery_kinds` (one row per test or resend delivery, keyed by the delivery's id) and
`form_tokens` (a token is claimed once; a second claim, the same form submitted again, is refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal

from sqlalchemy import Column, DateTime, Insert, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from reporting.redact import redact
from reporting.schedule.history import History, deliveries

__all__ = ["Kind", "claim_form", "delivery", "delivery_id", "describe", "kinds_of", "record_kind", "record_sending"]

Kind = Literal["test", "resend", "draft"]

metadata = MetaData()
delivery_kinds = Table(
    "delivery_kinds",
    metadata,
    Column("delivery_id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # test | resend | draft
    Column("actor", String(320), nullable=False),  # who asked
    Column("at", DateTime(timezone=True), nullable=False),
    Column("intended", String(320)),  # test: the recipient the message would have gone to
    Column("original_id", Integer),  # resend: the delivery resent
    Column("reason", Text),  # resend: why
)
form_tokens = Table(
    "form_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("actor", String(320), nullable=False),
    Column("action", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def _engine(history: History) -> Engine:
    """The engine with these tables made if missing: every time (it checks first), as a cache keyed by the engine
    can outlive the database (a new file at the same path, or a collected engine's id reused by a new one)."""
    metadata.create_all(history.engine)
    return history.engine


def claim_form(history: History, token: str, by: str, action: str) -> bool:
    """True the first time `token` is claimed; False when this form was already submitted (a double click)."""
    if not token or len(token) > 64:
        return False
    try:
        with _engine(history).begin() as conn:
            conn.execute(form_tokens.insert().values(token=token, actor=by, action=action, at=dt.datetime.now(dt.UTC)))
    except IntegrityError:
        return False
    return True


def delivery_id(history: History, job_id: str, period: str, recipient: str, content_hash: str) -> int:
    """The id of the delivery row with this key (record_delivery wrote it)."""
    with _engine(history).begin() as conn:
        row = conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.job_id == job_id,
                deliveries.c.period == period,
                deliveries.c.recipient == recipient,
                deliveries.c.content_hash == content_hash,
            )
        ).first()
    if row is None:
        raise LookupError(f"no delivery row for {job_id} {period} {recipient}")
    return int(row[0])


def record_sending(
    history: History,
    record: tuple[str, str, str, str | None, str],
    run_id: int,
    kind: Kind,
    by: str,
    *,
    intended: str | None = None,
    original: int | None = None,
    reason: str | None = None,
) -> int:
    """A test's, a draft's or a resend's delivery row at `sending` and its kind, in one transaction, so no crash or
    locked database in between leaves it looking like an ordinary delivery. `record`: (job, period, recipient,
    organisation, key) as `History.record_delivery` takes them. Returns the delivery's id."""
    numbers: list[int] = []

    def kind_row(conn: Connection, number: int) -> None:
        # a draft's row is the same row when a later run retries it (its key is the draft's): its kind stays
        known = conn.execute(select(delivery_kinds.c.delivery_id).where(delivery_kinds.c.delivery_id == number))
        if known.first() is None:
            conn.execute(_kind_values(number, kind, by, intended, original, reason))
        numbers.append(number)

    _engine(history)
    history.record_delivery(*record, "sending", 0, None, run_id, then=kind_row)
    return numbers[0]


def _kind_values(
    number: int, kind: Kind, by: str, intended: str | None, original: int | None, reason: str | None
) -> Insert:
    return delivery_kinds.insert().values(
        delivery_id=number,
        kind=kind,
        actor=by,
        at=dt.datetime.now(dt.UTC),
        intended=intended,
        original_id=original,
        reason=None if reason is None else redact(reason),
    )


def record_kind(
    history: History,
    delivery: int,
    kind: Kind,
    by: str,
    *,
    intended: str | None = None,
    original: int | None = None,
    reason: str | None = None,
) -> None:
    with _engine(history).begin() as conn:
        conn.execute(_kind_values(delivery, kind, by, intended, original, reason))


def kinds_of(history: History, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """delivery id -> its kind row, for the ids that are a test, a draft or a resend (an ordinary delivery has
    none)."""
    wanted = list(ids)
    if not wanted:
        return {}
    with _engine(history).begin() as conn:
        rows = conn.execute(select(delivery_kinds).where(delivery_kinds.c.delivery_id.in_(wanted))).mappings()
        return {int(r["delivery_id"]): dict(r) for r in rows}


def delivery(history: History, number: int) -> dict[str, Any] | None:
    """One delivery row with its kind (`kind` None for an ordinary delivery)."""
    with _engine(history).begin() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == number)).mappings().first()
    if row is None:
        return None
    found = dict(row)
    extra = kinds_of(history, [number]).get(number)
    found["kind"] = extra["kind"] if extra else None
    found["kind_row"] = extra
    return found


def describe(kind: dict[str, Any] | None) -> str:
    """A delivery's kind in words, for the history (the command and the portal)."""
    if kind is None:
        return ""
    if kind["kind"] == "test":
        return f"test for {kind['intended']}, asked by {kind['actor']}"
    if kind["kind"] == "draft":
        return "draft for approval (approving it sends the final pack)"
    return f"resend of #{kind['original_id']} by {kind['actor']}: {kind['reason']}"
