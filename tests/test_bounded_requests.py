"""Bounded requests (issue 12, findings 4 and 5): a request is answered within GARDEN_REQUEST_TIMEOUT, a request
that finds no free database slot within GARDEN_POOL_TIMEOUT is a 503 with Retry-After, and heavy requests
(/search, the whole-corpus agent files) run on slots of their own, so a burst of them cannot starve single-item
reads.

A slow database is played by a query function that sleeps in the request thread, holding the request's slot and
session as a slow query would; the database's own limits (SQLite's progress handler, PostgreSQL's
statement_timeout, the guard aborting a connection) are tested with real slow statements. Margins are generous:
each bound is checked against a time several times shorter than what the old code took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import app.routers.search
from app.db import make_engine
from app.deadline import Guard, current_guard
from app.queries import claims
from app.settings import get_settings
from tests.conftest import api_client

NO_CACHE = {"GARDEN_RESPONSE_CACHE_MB": "0"}


def slowed(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, seconds: float) -> None:
    """``owner.name`` sleeps ``seconds`` in the request thread before doing its work, as a slow query would."""
    real: Callable[..., Any] = getattr(owner, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, slow)


def timed(client: TestClient, path: str) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - start


@contextmanager
def in_background(client: TestClient, paths: list[str]) -> Iterator[list[Future[tuple[httpx.Response, float]]]]:
    with ThreadPoolExecutor(len(paths)) as pool:
        futures = [pool.submit(timed, client, path) for path in paths]
        time.sleep(0.5)  # they hold their slots now
        yield futures


def first_ids(client: TestClient) -> tuple[str, str]:
    claim = client.get("/claims?limit=1").json()["items"][0]
    return claim["claimId"], claim["slug"]


def test_a_request_that_finds_no_free_slot_is_a_503_within_the_pool_timeout(
    content_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**NO_CACHE, "GARDEN_POOL_SIZE": "1", "GARDEN_POOL_TIMEOUT": "0.5", "GARDEN_REQUEST_TIMEOUT": "20"}
    with api_client(content_db, **env) as client:
        claim_id, slug = first_ids(client)
        slowed(monkeypatch, claims, "get_claim", 4)
        with in_background(client, [f"/claims/{claim_id}"]) as (slow,):
            response, took = timed(client, f"/articles/{slug}")
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/problem+json"
            assert "GARDEN_POOL_TIMEOUT" in response.json()["detail"]
            assert took < 2.0, f"waited {took:.2f} s for a slot"
            assert not slow.done()
        assert slow.result()[0].status_code == 200


def test_a_request_past_its_deadline_is_a_503_and_its_slot_comes_back(
    content_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**NO_CACHE, "GARDEN_POOL_SIZE": "1", "GARDEN_POOL_TIMEOUT": "0.5", "GARDEN_REQUEST_TIMEOUT": "1"}
    with api_client(content_db, **env) as client:
        claim_id, slug = first_ids(client)
        slowed(monkeypatch, claims, "get_claim", 4)
        started = time.monotonic()
        response, took = timed(client, f"/claims/{claim_id}")
        assert response.status_code == 503 and response.headers["retry-after"] == "1", response.text
        assert "GARDEN_REQUEST_TIMEOUT" in response.json()["detail"]
        assert took < 2.5, f"answered after {took:.2f} s"
        # The late request still holds its slot while its thread works, then gives it back by itself.
        assert client.get(f"/articles/{slug}").status_code == 503
        while client.get(f"/articles/{slug}").status_code != 200:
            assert time.monotonic() - started < 20, "the slot never came back"
            time.sleep(0.2)
        assert time.monotonic() - started > 3.5, "served before the late thread returned"


def test_a_burst_of_heavy_requests_does_not_hold_up_a_single_item_read(
    content_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot for each kind, three slow searches in flight: /claims/{id} is answered at once. On one shared
    slot (the old code) it waited behind them, the first search's 3 s at least."""
    env = {**NO_CACHE, "GARDEN_POOL_SIZE": "1", "GARDEN_HEAVY_REQUESTS": "1", "GARDEN_POOL_TIMEOUT": "20",
           "GARDEN_REQUEST_TIMEOUT": "30"}  # fmt: skip
    with api_client(content_db, **env) as client:
        claim_id, slug = first_ids(client)
        slowed(monkeypatch, app.routers.search, "search", 3)
        searches = [f"/search?q={word}" for word in ("soil", "compost", "water")]
        with in_background(client, searches) as heavy:
            for path in (f"/claims/{claim_id}", f"/articles/{slug}"):
                response, took = timed(client, path)
                assert response.status_code == 200, response.text
                assert took < 1.5, f"{path} waited {took:.2f} s behind the searches"
            assert not any(future.done() for future in heavy)
        assert [future.result()[0].status_code for future in heavy] == [200, 200, 200]


def test_feeds_and_whole_corpus_files_count_as_heavy_and_single_items_do_not() -> None:
    from app.http import is_heavy

    heavy = ["/search", "/llms.txt", "/graph/nodes.json", "/agents/index.json", "/agents/garden-queries.json",
             "/agents/feeds/claims.jsonl", "/agents/verification-report.json", "/agents/diagnostics.json",
             "/agents/topics/x.json"]  # fmt: skip
    light = ["/claims/x", "/claims", "/articles/x", "/articles", "/agents/articles/x.json",
             "/series", "/topics/x", "/readyz"]  # fmt: skip
    assert [path for path in heavy if not is_heavy(path)] == []
    assert [path for path in light if is_heavy(path)] == []


@contextmanager
def api_engine(db_url: str, monkeypatch: pytest.MonkeyPatch, timeout: str) -> Iterator[Any]:
    monkeypatch.setenv("GARDEN_REQUEST_TIMEOUT", timeout)
    get_settings.cache_clear()
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
        monkeypatch.delenv("GARDEN_REQUEST_TIMEOUT")
        get_settings.cache_clear()


SLOW_SQL = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM "
    "(SELECT x FROM c LIMIT 2000000000)",
    "postgresql": "SELECT pg_sleep(60)",
}


def test_a_slow_statement_of_a_request_stops_at_its_deadline(
    content_db: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the progress handler interrupts it at the request's deadline. PostgreSQL: statement_timeout, set
    to GARDEN_REQUEST_TIMEOUT on the connections requests use, cancels it on the server. Either is a 503 then."""
    with api_engine(content_db, monkeypatch, "1") as engine:
        token = current_guard.set(Guard(time.monotonic() + 1))
        try:
            start = time.monotonic()
            with pytest.raises(OperationalError), engine.connect() as conn:
                conn.execute(text(SLOW_SQL[backend]))
            assert time.monotonic() - start < 3
        finally:
            current_guard.reset(token)
        with engine.connect() as conn:  # outside requests (ingest, migrations): no limit of the API's
            assert conn.execute(text("SELECT 1")).scalar() == 1
            if backend == "postgresql":
                assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_an_aborted_connection_frees_its_thread_and_the_pool_recovers(
    content_db: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's abort (what app.deadline does a second after a 503) ends a statement the database would not end
    by itself: here one far below the server's own limit."""
    with api_engine(content_db, monkeypatch, "60") as engine:
        guard = Guard(time.monotonic() + 60)
        outcome: list[BaseException] = []

        def run() -> None:
            current_guard.set(guard)
            try:
                with engine.connect() as conn:
                    conn.execute(text(SLOW_SQL[backend]))
            except BaseException as error:
                outcome.append(error)

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.7)
        assert guard.abort() == 1
        worker.join(timeout=5)
        assert not worker.is_alive(), "the statement went on after its connection was aborted"
        assert len(outcome) == 1 and isinstance(outcome[0], OperationalError)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
