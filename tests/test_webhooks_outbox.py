"""Webhooks in one process (issue 17, item 5): what ingest enqueues (and never, when it rolls back), the event as
anonymous readers may see it, the delivery thread's retries, backoff, expiry, claims and log, against a loopback
receiver. Both backends; a fake clock instead of waiting. The multi-process proofs: tests/test_webhooks.py."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from standardwebhooks import Webhook

from app.ingest import derived, ingest
from app.queries import webhooks as queries
from app.settings import Settings
from app.webhooks.deliver import Deliverer
from app.webhooks.subscription import checked_url, new_secret
from tests.conftest import CONTENT, api_client, sql_rows

TODAY = dt.date(2026, 11, 22)
SECRET = new_secret()
EDITED = "composting-without-the-guesswork"
PUBLISHED = "street-trees-and-urban-heat"  # a draft in content/
HIDDEN = "rainwater-harvesting-for-small-gardens"


class Receiver:
    """A loopback HTTP receiver: answers ``fail_first`` attempts of each webhook-id with 500 (or ``stall`` seconds
    of silence first), then verifies the signature (200, or 400 if it does not verify). ``calls``: every request
    as (webhook-id, status answered, the verified event or None)."""

    def __init__(self, secret: str, fail_first: int = 0, always_fail: bool = False) -> None:
        self.secret, self.fail_first, self.always_fail = secret, fail_first, always_fail
        self.calls: list[tuple[str, int, dict[str, Any] | None]] = []
        self.lock = threading.Lock()
        self.stall = threading.Event()
        self.stall.set()  # cleared: each request waits until it is set again
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.arrived.set()
                receiver.stall.wait(60)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, event = receiver.answer(body, headers)
                with receiver.lock:  # before answering: the sender may be gone (killed) by now
                    receiver.calls.append((headers.get("webhook-id", ""), status, event))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            seen = sum(1 for event_id, _, _ in self.calls if event_id == headers.get("webhook-id"))
        if self.always_fail or seen < self.fail_first:
            return 500, None
        try:
            return 200, Webhook(self.secret).verify(body, headers)
        except Exception:
            return 400, None

    def successes(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(event_id, event) for event_id, status, event in self.calls if status == 200 and event]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stall.set()
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


def _ingest(engine: Engine, tree: Path) -> int:
    report = ingest(engine, [tree], today=TODAY, prune=True)
    assert report.ok, report.errors
    return report.corpus_version


def _subscribe(engine: Engine, url: str, secret: str = SECRET) -> None:
    with engine.begin() as conn:
        queries.add_subscription(conn, url, secret, dt.datetime.now(dt.UTC))


def _outbox(db_url: str) -> list[tuple]:
    return sql_rows(db_url, "SELECT version, url, state, attempts, payload FROM webhook_delivery ORDER BY id")


def _status(directory: Path, status: str) -> None:
    for name in ("article.md", "agent.md"):
        path = directory / name
        text = re.sub(r"^status: \w+$", f"status: {status}", path.read_text(encoding="utf-8"), count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")
    artifact = directory / "artifact.json"
    data = json.loads(artifact.read_text(encoding="utf-8"))
    data["status"] = status
    if directory.name == EDITED:
        data["claims"][0]["claim"] += " Edited."
    artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _deliverer(db_url: str, clock: Clock, **settings: Any) -> Deliverer:
    values = {"webhook_retry_base": 30.0, "webhook_retry_max": 3600.0, "webhook_expiry": 3600.0,
              "webhook_timeout": 5.0} | settings  # fmt: skip
    return Deliverer(db_url, Settings(**values), clock=clock, jitter=lambda: 0.0)


def test_each_commit_enqueues_one_event_per_receiver_counted_as_anonymous_readers_see_it(
    engine: Engine, db_url: str, tree: Path
) -> None:
    _subscribe(engine, "http://127.0.0.1:9/a")
    _subscribe(engine, "http://127.0.0.1:9/b")
    assert _ingest(engine, tree) == 1
    first = _outbox(db_url)
    assert [(row[0], row[1], row[2]) for row in first] == [(1, "http://127.0.0.1:9/a", "pending"),
                                                           (1, "http://127.0.0.1:9/b", "pending")]  # fmt: skip
    payload = _json(first[0][4])
    assert payload["type"] == "corpus.changed" and payload["data"]["version"] == 1
    assert payload["data"]["changes"] is None and payload["data"]["changesUrl"] is None  # the log starts after it

    articles = tree / "articles" / "2026"
    _status(articles / EDITED, "published")  # a claim's text edited
    _status(articles / PUBLISHED, "published")
    _status(articles / HIDDEN, "draft")
    assert _ingest(engine, tree) == 2
    assert _ingest(engine, tree) == 2  # unchanged: no commit, no event
    second = [row for row in _outbox(db_url) if row[0] == 2]
    assert len(second) == 2 and _json(second[0][4]) == _json(second[1][4])
    data = _json(second[0][4])["data"]
    assert data["changesUrl"] == "/changes?since=1"
    with api_client(db_url) as client:  # what /changes tells an anonymous caller, counted
        entries = client.get("/changes?since=1&limit=500").json()["items"]
    expected = {kind: {"added": 0, "updated": 0, "removed": 0} for kind in ("article", "claim", "source")}
    for entry in entries:
        expected[entry["type"]][entry["action"]] += 1
    assert data["changes"] == expected
    assert expected["article"] == {"added": 1, "updated": 0, "removed": 1} and expected["claim"]["updated"] == 1
    assert HIDDEN not in json.dumps(data) and PUBLISHED not in json.dumps(data)


def test_garden_webhooks_setting_adds_receivers_and_a_stored_url_wins(
    engine: Engine, db_url: str, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import get_settings

    other = new_secret()
    _subscribe(engine, "http://127.0.0.1:9/a")
    configured = [{"url": "http://127.0.0.1:9/a", "secret": other}, {"url": "http://127.0.0.1:9/b", "secret": other}]
    monkeypatch.setenv("GARDEN_WEBHOOKS", json.dumps(configured))
    get_settings.cache_clear()
    try:
        _ingest(engine, tree)
    finally:
        monkeypatch.delenv("GARDEN_WEBHOOKS")
        get_settings.cache_clear()
    rows = sql_rows(db_url, "SELECT url, secret FROM webhook_delivery ORDER BY url")
    assert rows == [("http://127.0.0.1:9/a", SECRET), ("http://127.0.0.1:9/b", other)]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_an_ingest_that_rolls_back_enqueues_nothing(
    engine: Engine, db_url: str, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _subscribe(engine, "http://127.0.0.1:9/a")
    assert _ingest(engine, tree) == 1
    _status(tree / "articles" / "2026" / PUBLISHED, "published")

    def fail(*_: object) -> None:  # after the enqueue, before the commit
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(derived.Derived, "finish", fail)
    with pytest.raises(RuntimeError, match="disk is full"):
        ingest(engine, [tree], today=TODAY, prune=True)
    assert [row[0] for row in _outbox(db_url)] == [1]
    assert sql_rows(db_url, "SELECT version FROM corpus") == [(1,)]


def test_a_receiver_failing_twice_gets_one_verified_delivery_with_backoff_and_a_log(
    engine: Engine, db_url: str, tree: Path
) -> None:
    with Receiver(SECRET, fail_first=2) as receiver:
        _subscribe(engine, receiver.url)
        _ingest(engine, tree)
        clock = Clock()  # after the commit: its delivery is due
        deliverer = _deliverer(db_url, clock)
        try:
            assert deliverer.run_once() == 1  # 500
            assert deliverer.run_once() == 0  # not due for 30 s
            clock.advance(29.9)
            assert deliverer.run_once() == 0
            clock.advance(0.1)
            assert deliverer.run_once() == 1  # 500 again; the next in 60 s
            clock.advance(59)
            assert deliverer.run_once() == 0
            clock.advance(1)
            assert deliverer.run_once() == 1  # 200
            clock.advance(3600)
            assert deliverer.run_once() == 0  # delivered: never sent again
        finally:
            deliverer.close()
        [(event_id, event)] = receiver.successes()
    assert event["type"] == "corpus.changed" and event["data"]["version"] == 1
    assert [call[0] for call in receiver.calls] == [event_id] * 3  # the same webhook-id on every attempt
    with engine.connect() as conn:
        [logged] = queries.deliveries(conn, 10)
    assert logged["event_id"] == event_id and logged["state"] == "delivered" and logged["attempts"] == 3
    assert [attempt["status_code"] for attempt in logged["log"]] == [500, 500, 200]
    assert [attempt["success"] for attempt in logged["log"]] == [False, False, True]
    assert all(attempt["duration_ms"] >= 0 and attempt["error"] is None for attempt in logged["log"])


def test_a_delivery_that_keeps_failing_expires_and_stays_in_the_log(engine: Engine, db_url: str, tree: Path) -> None:
    with Receiver(SECRET, always_fail=True) as receiver:
        _subscribe(engine, receiver.url)
        _ingest(engine, tree)
        clock = Clock()
        deliverer = _deliverer(db_url, clock, webhook_expiry=100.0)
        try:
            assert deliverer.run_once() == 1  # next in 30 s
            clock.advance(30)
            assert deliverer.run_once() == 1  # next in 60 s: t+90
            clock.advance(60)
            assert deliverer.run_once() == 1  # next would be t+210, past the expiry at t+100: expired now
            clock.advance(3600)
            assert deliverer.run_once() == 0
        finally:
            deliverer.close()
    with engine.connect() as conn:
        [logged] = queries.deliveries(conn, 10, "expired")
    assert [attempt["status_code"] for attempt in logged["log"]] == [500, 500, 500]


def test_a_delivery_nobody_sent_in_time_is_marked_expired_not_dropped(engine: Engine, db_url: str, tree: Path) -> None:
    _subscribe(engine, "http://127.0.0.1:9/never-tried")
    _ingest(engine, tree)
    clock = Clock()
    clock.advance(101)
    deliverer = _deliverer(db_url, clock, webhook_expiry=100.0)
    try:
        assert deliverer.run_once() == 0
    finally:
        deliverer.close()
    assert [(row[2], row[3]) for row in _outbox(db_url)] == [("expired", 0)]


def _ingest_and_try_once(engine: Engine, db_url: str, tree: Path) -> dict[str, Any]:
    """Ingest, let a deliverer make its one attempt, and return the delivery as the log shows it."""
    _ingest(engine, tree)
    deliverer = _deliverer(db_url, Clock())
    try:
        assert deliverer.run_once() == 1
    finally:
        deliverer.close()
    with engine.connect() as conn:
        [logged] = queries.deliveries(conn, 10)
    return logged


def test_an_unreachable_receiver_is_logged_as_an_error_and_retried(engine: Engine, db_url: str, tree: Path) -> None:
    with Receiver(SECRET) as receiver:
        url = receiver.url
    _subscribe(engine, url)  # nothing listens there any more
    logged = _ingest_and_try_once(engine, db_url, tree)
    [attempt] = logged["log"]
    assert logged["state"] == "pending" and attempt["status_code"] is None and "ConnectError" in attempt["error"]


@pytest.mark.parametrize("url", ["http://a..b/hook", "http://xn--/hook"])
def test_a_host_that_cannot_be_sent_to_is_a_failed_attempt_not_a_stuck_delivery(
    engine: Engine, db_url: str, tree: Path, url: str
) -> None:
    """A URL stored before the check knew better (or by hand) fails inside httpx: logged and retried like any other
    failure, not an exception that leaves the delivery leased and the log empty. The command refuses it now."""
    _subscribe(engine, url)
    logged = _ingest_and_try_once(engine, db_url, tree)
    [attempt] = logged["log"]
    assert logged["state"] == "pending" and logged["attempts"] == 1 and attempt["error"] and not attempt["success"]
    with pytest.raises(ValueError, match="cannot be sent to"):
        checked_url(url)


def test_one_process_holds_a_claim_until_its_lease_runs_out(engine: Engine, tree: Path) -> None:
    _subscribe(engine, "http://127.0.0.1:9/a")
    _ingest(engine, tree)
    now = dt.datetime.now(dt.UTC)
    lease = now + dt.timedelta(seconds=10)
    with engine.begin() as conn:
        first = queries.claim(conn, now, lease, "one")
    assert first is not None
    with engine.begin() as conn:
        assert queries.claim(conn, now + dt.timedelta(seconds=9), lease, "two") is None
    with engine.begin() as conn:  # the holder died: after the lease, another process takes it
        again = queries.claim(conn, now + dt.timedelta(seconds=11), lease + dt.timedelta(seconds=11), "two")
    assert again is not None and again.event_id == first.event_id


def test_postgresql_claims_skip_a_row_another_transaction_is_claiming(engine: Engine, backend: str, tree: Path) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: its claim is the conditional UPDATE alone")
    _subscribe(engine, "http://127.0.0.1:9/a")
    _subscribe(engine, "http://127.0.0.1:9/b")
    _ingest(engine, tree)
    now = dt.datetime.now(dt.UTC)
    lease = now + dt.timedelta(seconds=10)
    with engine.connect() as one, engine.connect() as two:
        for conn in (one, two):
            conn.execution_options(isolation_level="READ COMMITTED")
        with one.begin():
            first = queries.claim(one, now, lease, "one")  # row locked, not yet committed
            with two.begin():
                second = queries.claim(two, now, lease, "two")  # skips it at once, takes the other
                third = queries.claim(two, now, lease, "two")
    assert first is not None and second is not None and first.url != second.url and third is None


def test_finished_deliveries_are_kept_as_long_as_the_change_log_keeps_their_version(
    engine: Engine, db_url: str, tree: Path
) -> None:
    """Each ingest drops the delivered (and expired, cancelled) deliveries the change log no longer covers, with
    their attempts; a pending one stays until it is delivered or expires."""
    with Receiver(SECRET) as receiver:
        _subscribe(engine, receiver.url)
        _subscribe(engine, "http://127.0.0.1:9/unreachable")  # port 9 (discard): refused, so it stays pending
        _ingest(engine, tree)
        clock = Clock()
        deliverer = _deliverer(db_url, clock)
        try:
            assert deliverer.run_once() == 2
        finally:
            deliverer.close()
        assert [(row[0], row[2]) for row in _outbox(db_url)] == [(1, "delivered"), (1, "pending")]
        _status(tree / "articles" / "2026" / EDITED, "published")  # edits a claim: version 2
        report = ingest(engine, [tree], today=TODAY, prune=True, change_retention=1)
        assert report.ok and report.corpus_version == 2
    states = [(row[0], row[1], row[2]) for row in _outbox(db_url)]
    assert states == [(1, "http://127.0.0.1:9/unreachable", "pending"), (2, receiver.url, "pending"),
                      (2, "http://127.0.0.1:9/unreachable", "pending")]  # fmt: skip
    attempts = sql_rows(db_url, "SELECT d.version, d.state FROM webhook_attempt a JOIN webhook_delivery d "
                                "ON d.id = a.delivery_id")  # fmt: skip
    assert attempts == [(1, "pending")]  # the delivered one's attempt went with it
