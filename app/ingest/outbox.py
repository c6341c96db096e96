"""The webhook outbox's enqueue: one delivery per receiver for the version an ingest commits, written in the
ingest transaction (app.ingest.write calls :func:`enqueue` just after the change log), so that an ingest that
rolls back enqueues nothing and one that commits always has its deliveries. What is decided about receivers,
the first ingest and delivery: app.webhooks.

The event (Standard Webhooks: ``type``, ``timestamp``, ``data``) says what changed as anonymous readers see it,
counted from the change entries this transaction just wrote (app.queries.changes maps an entry the same way:
seen only after, added; only before, removed; both, updated; neither, nothing), so it never names a draft:

    {"type": "corpus.changed", "timestamp": "2026-12-01T20:00:00Z",
     "data": {"version": 7, "committedAt": "2026-12-01T20:00:00Z",
              "changes": {"article": {"added": 1, "updated": 0, "removed": 0}, "claim": {…}, "source": {…}},
              "changesUrl": "https://api.example.org/changes?since=6"}}

``changes`` and ``changesUrl`` are null for a version the change log does not cover (the first ingest).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from app import models, models_webhooks
from app.ingest.changes import seen_as
from app.models import table
from app.settings import get_settings

EVENT_TYPE = "corpus.changed"
_CHANGE, _SUBSCRIPTION = table(models.Change), table(models_webhooks.WebhookSubscription)
_DELIVERY = table(models_webhooks.WebhookDelivery)
_ATTEMPT = table(models_webhooks.WebhookAttempt)
KINDS = ("article", "claim", "source")


def receivers(conn: Connection) -> dict[str, str]:
    """URL -> secret: the stored receivers, then GARDEN_WEBHOOKS's other URLs."""
    found = {url: secret for url, secret in conn.execute(select(_SUBSCRIPTION.c.url, _SUBSCRIPTION.c.secret))}
    for configured in get_settings().webhooks:
        found.setdefault(configured.url, configured.secret)
    return found


def public_counts(conn: Connection, version: int) -> dict[str, dict[str, int]]:
    """Per type, the entries of ``version`` anonymous readers see as added, updated and removed."""
    counts = {kind: {"added": 0, "updated": 0, "removed": 0} for kind in KINDS}
    query = select(_CHANGE.c.type, _CHANGE.c.action, _CHANGE.c.public_before, _CHANGE.c.public_after)
    for kind, action, before, after in conn.execute(query.where(_CHANGE.c.version == version)):
        seen = seen_as(action, before, after, preview=False)
        if seen is not None:
            counts[kind][seen] += 1
    return counts


def event(version: int, now: dt.datetime, counts: dict[str, dict[str, int]] | None) -> dict[str, Any]:
    """The Standard Webhooks payload announcing ``version`` (see the module)."""
    stamp = now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    url = None if counts is None else f"{get_settings().public_url or ''}/changes?since={version - 1}"
    data = {"version": version, "committedAt": stamp, "changes": counts, "changesUrl": url}
    return {"type": EVENT_TYPE, "timestamp": stamp, "data": data}


def enqueue(conn: Connection, version: int, now: dt.datetime, logged: bool, retention: int) -> int:
    """One pending delivery of ``version``'s event per receiver, due now; how many. ``logged``: the change log
    recorded this version (not the first ingest). Then :func:`prune` with the change log's ``retention``."""
    prune(conn, version - retention)
    targets = receivers(conn)
    if not targets:
        return 0
    payload = event(version, now, public_counts(conn, version) if logged else None)
    rows = [{"event_id": f"msg_{uuid.uuid4().hex}", "version": version, "url": url, "secret": secret,
             "payload": payload, "created_at": now, "state": "pending", "attempts": 0, "next_attempt_at": now}
            for url, secret in targets.items()]  # fmt: skip
    conn.execute(insert(_DELIVERY), rows)
    return len(rows)


def prune(conn: Connection, floor: int) -> None:
    """Drop the finished deliveries (delivered, expired, cancelled) of versions at or below ``floor``, and their
    attempts: the outbox and its log keep as many versions as the change log (GARDEN_CHANGE_RETENTION), so they
    stay small however many ingests run. A pending delivery is never dropped here (it expires first)."""
    finished = select(_DELIVERY.c.id).where(_DELIVERY.c.version <= floor, _DELIVERY.c.state != "pending")
    conn.execute(delete(_ATTEMPT).where(_ATTEMPT.c.delivery_id.in_(finished)))
    conn.execute(delete(_DELIVERY).where(_DELIVERY.c.id.in_(finished)))
