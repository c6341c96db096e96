"""Many requests at once on few database connections: every one is answered, none waits for the pool timeout.

A request takes a database slot on the event loop before it touches the database (app.http.get_context), so
request threads never queue for a connection. Without that, a burst larger than the pool could fill every
request thread with requests waiting for a connection, while the requests that held connections waited for
a thread to finish in: nothing moved until the pool timeout, and then the waiters were answered 503.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import running_server

pytestmark = pytest.mark.slow


def test_a_burst_larger_than_the_pool_is_served_whole(content_db: str, tmp_path: Path) -> None:
    env = {"GARDEN_POOL_SIZE": "2", "GARDEN_POOL_TIMEOUT": "3", "GARDEN_RESPONSE_CACHE_MB": "0"}
    with running_server(content_db, tmp_path / "server.log", env=env) as base:
        slugs = [item["slug"] for item in httpx.get(f"{base}/articles?limit=100").json()["items"]]
        paths = [f"/articles/{slug}" for slug in slugs] + [f"/agents/articles/{slug}.json" for slug in slugs]
        paths += ["/claims?limit=200", "/agents/feeds/claims.jsonl", "/agents/feeds/sources.jsonl", "/readyz"]
        paths *= 8

        def fetch(path: str) -> int:
            return httpx.get(f"{base}{path}", timeout=60).status_code

        with ThreadPoolExecutor(64) as pool:
            statuses = list(pool.map(fetch, paths))
    assert len(statuses) > 64 * 2
    assert {status for status in statuses} == {200}, sorted(set(statuses))
