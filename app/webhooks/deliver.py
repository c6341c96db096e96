"""The delivery thread of a serving process: it claims due deliveries from the outbox, POSTs each one signed
with the Standard Webhooks scheme, and records the attempt (decisions: app.webhooks; statements:
app.queries.webhooks).

It runs beside request handling, never in its way: a daemon thread with an engine (and so a connection) of
its own, not the request pool's, started and stopped by app.main's lifespan. Each look for work is a few
indexed statements every GARDEN_WEBHOOK_POLL_INTERVAL seconds; deliveries are sent one at a time, each POST
bounded by GARDEN_WEBHOOK_TIMEOUT (httpx's timeout), each claim held by a lease longer than that.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import orjson
from sqlalchemy import Connection, Engine
from standardwebhooks import Webhook

from app.db import make_engine
from app.queries import webhooks as queries
from app.settings import Settings

log = logging.getLogger("garden.webhooks")
JITTER = 0.25


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def signed_headers(event_id: str, secret: str, body: bytes, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``at``: webhook-id, -timestamp and -signature."""
    signature = Webhook(secret).sign(event_id, at, body.decode())
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature,
            "content-type": "application/json", "user-agent": "garden-api-webhooks"}  # fmt: skip


class Deliverer:
    """Delivers the outbox of the database at ``url`` (see the module). ``clock`` and ``jitter`` are for tests."""

    def __init__(self, url: str, settings: Settings, *, clock: Callable[[], dt.datetime] = utcnow,
                 jitter: Callable[[], float] = random.random) -> None:  # fmt: skip
        self.url, self.settings, self.clock, self.jitter = url, settings, clock, jitter
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = dt.timedelta(seconds=3 * settings.webhook_timeout + 2)
        self._client: httpx.Client | None = None  # made at the first POST (its TLS context costs ~10 ms)
        self._engine: Engine | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="garden-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the attempt in progress, if any (at most one POST's timeout)."""
        self._stop.set()
        if self._thread is None:
            self.close()
        else:  # the thread closes its client and engine as it ends (not under its feet, should it be mid-attempt)
            self._thread.join(self.settings.webhook_timeout + 5)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._engine is not None:
            self._engine.dispose()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.settings.webhook_poll_interval):
                try:
                    self.run_once()
                except Exception as error:  # the database away, say: the outbox keeps everything; next look
                    log.warning("webhook delivery: %s: %s", type(error).__name__, error)
        finally:
            self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self._engine is None:
            self._engine = make_engine(self.url)
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                yield conn

    def run_once(self) -> int:
        """Mark what expired, then deliver every due delivery no one holds; how many attempts were made."""
        now = self.clock()
        oldest = now - dt.timedelta(seconds=self.settings.webhook_expiry)
        with self._transaction() as conn:
            idle = not queries.has_work(conn, now, oldest)
        if idle:
            return 0
        with self._transaction() as conn:  # a write transaction of its own (SQLite: no read snapshot to upgrade)
            queries.expire(conn, now, oldest)
        made = 0
        while not self._stop.is_set():
            now = self.clock()
            with self._transaction() as conn:
                claimed = queries.claim(conn, now, now + self.lease, self.holder)
            if claimed is None:
                return made
            attempt = self.post(claimed)
            with self._transaction() as conn:
                queries.record(conn, claimed, self.holder, attempt, self.retry_at(claimed, attempt))
            made += 1
        return made

    def post(self, claimed: queries.Claimed) -> queries.Attempt:
        """One signed POST of ``claimed``: a 2xx is success; any other status, or no answer in time, is not."""
        body = orjson.dumps(claimed.payload)
        at = self.clock()
        headers = signed_headers(claimed.event_id, claimed.secret, body, at)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            if self._client is None:
                self._client = httpx.Client(timeout=self.settings.webhook_timeout, follow_redirects=False)
            # The status is the answer: the receiver's body is never read (a never-ending one cannot hold the lease).
            with self._client.stream("POST", claimed.url, content=body, headers=headers) as response:
                status = response.status_code
        except Exception as failed:  # any failure to send (a bad host name too) is a failed attempt, then a retry
            error = f"{type(failed).__name__}: {failed}"[:500]
        duration = round((time.monotonic() - started) * 1000)
        success = status is not None and 200 <= status < 300
        if not success:
            log.info("webhook %s to %s failed: %s", claimed.event_id, claimed.url, error or f"status {status}")
        return queries.Attempt(at, duration, status, error, success)

    def retry_at(self, claimed: queries.Claimed, attempt: queries.Attempt) -> dt.datetime | None:
        """When to try again after ``attempt`` failed (exponential backoff plus jitter); None if that would be
        past the delivery's expiry."""
        if attempt.success:
            return attempt.at
        failures = claimed.attempts + 1
        base = self.settings.webhook_retry_base * 2 ** min(failures - 1, 60)
        delay = min(base, self.settings.webhook_retry_max) * (1 + JITTER * self.jitter())
        retry = attempt.at + dt.timedelta(seconds=delay)
        expires = claimed.created_at + dt.timedelta(seconds=self.settings.webhook_expiry)
        return None if retry >= expires else retry
