"""Every statement on the webhook tables outside the ingest transaction (app.webhooks says how they are used):
the receivers ``garden webhooks`` manages, the claim of a due delivery and the record of its attempt (the
delivery thread, app.webhooks.deliver), and the delivery log.

A claim is a short transaction of its own: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` (a process never
waits on, nor takes, a row another one is claiming) then an UPDATE setting the lease; on SQLite, where one
writer holds the database at a time, the same conditional UPDATE alone decides. The callers pass the
connection and commit; PostgreSQL connections must be READ COMMITTED (a REPEATABLE READ snapshot would fail a
row another process updated since it began).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from app import models_webhooks
from app.models import table
from app.queries.errors import InvalidParameter, NotFound

SUBSCRIPTION = table(models_webhooks.WebhookSubscription)
DELIVERY = table(models_webhooks.WebhookDelivery)
ATTEMPT = table(models_webhooks.WebhookAttempt)
PENDING, DELIVERED, EXPIRED, CANCELLED = "pending", "delivered", "expired", "cancelled"


# --- receivers ------------------------------------------------------------------------------------------------


def subscriptions(conn: Connection) -> list[dict[str, Any]]:
    """The stored receivers, oldest first, with their pending deliveries counted."""
    pending = (select(func.count()).where(DELIVERY.c.url == SUBSCRIPTION.c.url, DELIVERY.c.state == PENDING)
               .scalar_subquery())  # fmt: skip
    query = select(SUBSCRIPTION.c.url, SUBSCRIPTION.c.secret, SUBSCRIPTION.c.created_at, pending.label("pending"))
    return [dict(row) for row in conn.execute(query.order_by(SUBSCRIPTION.c.id)).mappings()]


def add_subscription(conn: Connection, url: str, secret: str, now: dt.datetime) -> None:
    """Store a receiver; InvalidParameter (``url``) if that URL is stored already."""
    if conn.execute(select(SUBSCRIPTION.c.id).where(SUBSCRIPTION.c.url == url)).first() is not None:
        raise InvalidParameter("url", f"{url} is subscribed already; remove it first to change its secret")
    conn.execute(insert(SUBSCRIPTION).values(url=url, secret=secret, created_at=now))


def remove_subscription(conn: Connection, url: str, now: dt.datetime) -> int:
    """Drop a stored receiver and cancel its pending deliveries (kept, with their log: state ``cancelled``); how
    many. NotFound (``url``) if no receiver is stored at ``url``."""
    if conn.execute(delete(SUBSCRIPTION).where(SUBSCRIPTION.c.url == url)).rowcount == 0:
        raise NotFound(f"no receiver is subscribed at {url}", "url")
    pending = and_(DELIVERY.c.url == url, DELIVERY.c.state == PENDING)
    cancelled = conn.execute(update(DELIVERY).where(pending).values(state=CANCELLED, finished_at=now))
    return int(cancelled.rowcount)


# --- delivery -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery one process holds until ``lease_until``."""

    id: int
    event_id: str
    url: str
    secret: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int


def _free(now: dt.datetime) -> Any:
    return or_(DELIVERY.c.lease_until.is_(None), DELIVERY.c.lease_until < now)


def has_work(conn: Connection, now: dt.datetime, created_before: dt.datetime) -> bool:
    """Whether a pending delivery nobody holds is due or expired: one indexed read, so that an idle outbox (or one
    whose work another process holds) costs no write (nor, on SQLite, a wait for the write lock of an ingest)."""
    pending = DELIVERY.c.state == PENDING
    work = or_(DELIVERY.c.next_attempt_at <= now, DELIVERY.c.created_at < created_before)
    return conn.execute(select(DELIVERY.c.id).where(pending, work, _free(now)).limit(1)).first() is not None


def expire(conn: Connection, now: dt.datetime, created_before: dt.datetime) -> int:
    """Mark expired every pending delivery committed before ``created_before`` that nobody holds; how many."""
    stale = and_(DELIVERY.c.state == PENDING, DELIVERY.c.created_at < created_before, _free(now))
    done = conn.execute(update(DELIVERY).where(stale).values(state=EXPIRED, finished_at=now, lease_until=None))
    return int(done.rowcount)


def claim(conn: Connection, now: dt.datetime, lease_until: dt.datetime, holder: str) -> Claimed | None:
    """Take the delivery due first that no process holds, until ``lease_until``; None if none is due. One
    statement: UPDATE … WHERE id = (the first due row, FOR UPDATE SKIP LOCKED on PostgreSQL) RETURNING."""
    due = and_(DELIVERY.c.state == PENDING, DELIVERY.c.next_attempt_at <= now, _free(now))
    first = select(DELIVERY.c.id).where(due).order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id).limit(1)
    if conn.dialect.name == "postgresql":
        first = first.with_for_update(skip_locked=True)
    columns = (DELIVERY.c.id, DELIVERY.c.event_id, DELIVERY.c.url, DELIVERY.c.secret, DELIVERY.c.payload,
               DELIVERY.c.created_at, DELIVERY.c.attempts)  # fmt: skip
    taken = (update(DELIVERY).where(DELIVERY.c.id == first.scalar_subquery(), due)
             .values(lease_until=lease_until, claimed_by=holder).returning(*columns))  # fmt: skip
    row = conn.execute(taken).mappings().first()
    return None if row is None else Claimed(**row)


@dataclass(frozen=True)
class Attempt:
    """What one POST came to."""

    at: dt.datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    success: bool


def record(conn: Connection, claimed: Claimed, holder: str, attempt: Attempt, retry_at: dt.datetime | None) -> None:
    """Log ``attempt`` and, if this process still holds the delivery, settle it: delivered on success, else due
    again at ``retry_at`` (None: expired)."""
    conn.execute(insert(ATTEMPT).values(delivery_id=claimed.id, attempted_at=attempt.at,
                                        duration_ms=attempt.duration_ms, status_code=attempt.status_code,
                                        error=attempt.error, success=attempt.success))  # fmt: skip
    held = and_(DELIVERY.c.id == claimed.id, DELIVERY.c.claimed_by == holder, DELIVERY.c.state == PENDING)
    values: dict[str, Any] = {"attempts": DELIVERY.c.attempts + 1, "lease_until": None, "claimed_by": None}
    if attempt.success:
        values |= {"state": DELIVERED, "finished_at": attempt.at}
    elif retry_at is None:
        values |= {"state": EXPIRED, "finished_at": attempt.at}
    else:
        values |= {"next_attempt_at": retry_at}
    conn.execute(update(DELIVERY).where(held).values(**values))


# --- the log --------------------------------------------------------------------------------------------------


def deliveries(conn: Connection, limit: int, state: str | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` deliveries (of ``state`` if given), newest first, each with its attempts in order."""
    names = ("id", "event_id", "version", "url", "state", "attempts", "created_at", "next_attempt_at", "finished_at")
    columns = [DELIVERY.c[name] for name in names]
    query = select(*columns).order_by(DELIVERY.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(DELIVERY.c.state == state)
    found = [dict(row) for row in conn.execute(query).mappings()]
    attempts = _attempts(conn, [row["id"] for row in found])
    for row in found:
        row["log"] = attempts.get(row.pop("id"), [])
    return found


def _attempts(conn: Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    columns = (ATTEMPT.c.attempted_at, ATTEMPT.c.duration_ms, ATTEMPT.c.status_code, ATTEMPT.c.error,
               ATTEMPT.c.success)  # fmt: skip
    query = select(ATTEMPT.c.delivery_id, *columns).where(ATTEMPT.c.delivery_id.in_(ids)).order_by(ATTEMPT.c.id)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(query).mappings():
        found.setdefault(row["delivery_id"], []).append({name: row[name] for name in row if name != "delivery_id"})
    return found
