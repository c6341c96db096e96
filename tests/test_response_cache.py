"""The response cache (app/cache.py): repeat reads skip the database, and never serve what is no longer true."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.cache import ResponseCache
from tests.conftest import api_client, app_statements

TOKEN = "cache-preview-token"
IDENTITY = {"Accept-Encoding": "identity"}


def test_a_repeated_public_get_is_answered_without_touching_the_database(content_db: str) -> None:
    with api_client(content_db) as client:
        first = client.get("/articles?limit=3", headers=IDENTITY)
        assert first.status_code == 200
        with app_statements() as statements:
            again = client.get("/articles?limit=3", headers=IDENTITY)
            not_modified = client.get("/articles?limit=3", headers={**IDENTITY, "If-None-Match": first.headers["etag"]})
            head = client.head("/articles?limit=3", headers=IDENTITY)
        assert statements == []
        assert again.content == first.content
        assert {k: v for k, v in again.headers.items() if k != "date"} == {
            k: v for k, v in first.headers.items() if k != "date"
        }
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == first.headers["etag"]
        assert "content-type" not in not_modified.headers and "x-token-estimate" not in not_modified.headers
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == first.headers["etag"]


def test_the_gzip_and_identity_answers_are_kept_apart(content_db: str) -> None:
    with api_client(content_db) as client:
        plain = client.get("/articles", headers=IDENTITY)
        zipped = client.get("/articles", headers={"Accept-Encoding": "gzip"})
        plain_again = client.get("/articles", headers=IDENTITY)
        zipped_again = client.get("/articles", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain_again.headers and plain_again.content == plain.content
    assert zipped_again.headers["content-encoding"] == "gzip" and zipped_again.headers["etag"].endswith('-gz"')
    assert zipped_again.json() == zipped.json() == plain.json()


def test_a_forged_host_never_reaches_another_client_through_the_cache(content_db: str) -> None:
    """Links never name the Host a client sent (app.http.api_url), so the cache keys on path and query alone:
    a forged Host neither poisons the entry others are served nor makes a copy of its own."""
    with api_client(content_db) as client:
        forged = client.get("/articles?limit=2", headers={**IDENTITY, "Host": "attacker.example"})
        with app_statements() as statements:
            honest = client.get("/articles?limit=2", headers=IDENTITY)
    assert statements == []  # the same entry
    assert honest.content == forged.content and b"attacker" not in honest.content
    assert "attacker" not in honest.headers["link"] and honest.json()["next"].startswith("/articles?")


def test_preview_requests_are_never_served_from_or_stored_in_the_cache(content_db: str) -> None:
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        public = client.get("/articles?limit=100").json()["total"]
        preview = client.get("/articles?limit=100", headers={"Authorization": f"Bearer {TOKEN}"})
        assert preview.json()["total"] > public  # content/ holds a draft
        assert preview.headers["cache-control"] == "private, no-store"
        assert client.get("/articles?limit=100").json()["total"] == public
        with app_statements() as statements:
            client.get("/articles?limit=100", headers={"Authorization": f"Bearer {TOKEN}"})
        assert statements  # answered by the routes, not from memory


def test_cors_headers_are_added_once_to_a_cached_answer(content_db: str) -> None:
    with api_client(content_db, GARDEN_CORS_ORIGINS='["https://frontend.example"]') as client:
        for _ in range(3):
            response = client.get("/topics", headers={"Origin": "https://frontend.example"})
            assert response.headers["access-control-allow-origin"] == "https://frontend.example"
            assert response.headers["vary"].count("Origin") == 1


def test_errors_are_not_kept(content_db: str) -> None:
    with api_client(content_db) as client:
        client.get("/articles/no-such-article")
        with app_statements() as statements:
            missing = client.get("/articles/no-such-article")
        assert missing.status_code == 404 and statements


def test_zero_megabytes_turns_the_cache_off(content_db: str) -> None:
    with api_client(content_db, GARDEN_RESPONSE_CACHE_MB="0") as client:
        client.get("/topics")
        with app_statements() as statements:
            assert client.get("/topics").status_code == 200
        assert statements


# The middleware alone, around a tiny app: what it keeps, for how long, and how much.


class Counter:
    """An ASGI app answering ``size`` bytes under the corpus version it is told, counting its calls."""

    def __init__(self, size: int = 100) -> None:
        self.calls = 0
        self.size = size
        self.version = 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        headers = [
            (b"content-type", b"text/plain"),
            (b"etag", f'"v{self.version}-{self.calls}"'.encode()),
            (b"cache-control", b"public, max-age=60"),
            (b"x-corpus-version", str(self.version).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        half = self.size // 2
        await send({"type": "http.response.body", "body": b"x" * half, "more_body": True})
        await send({"type": "http.response.body", "body": b"y" * (self.size - half)})


class FixedWatch:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def current(self) -> int:
        return self.counter.version


def call(cache: ResponseCache, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, bytes]:
    import asyncio

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "scheme": "http", "path": path, "query_string": b"",
             "headers": headers or [(b"host", b"test")]}  # fmt: skip
    asyncio.run(cache(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def make_cache(counter: Counter, max_bytes: int, today: list[dt.date]) -> ResponseCache:
    return ResponseCache(counter, max_bytes=max_bytes, watch=FixedWatch(counter), today=lambda: today[0])  # type: ignore[arg-type]


def test_a_new_corpus_version_or_a_new_day_is_answered_afresh() -> None:
    counter, today = Counter(), [dt.date(2026, 11, 22)]
    cache = make_cache(counter, 1 << 20, today)
    call(cache, "/a"), call(cache, "/a")
    assert counter.calls == 1
    counter.version = 2
    call(cache, "/a")
    assert counter.calls == 2
    today[0] = dt.date(2026, 11, 23)  # claim states may turn stale at midnight
    call(cache, "/a"), call(cache, "/a")
    assert counter.calls == 3


def test_memory_stays_under_the_limit_least_recently_used_first() -> None:
    counter, today = Counter(size=1000), [dt.date(2026, 11, 22)]
    cache = make_cache(counter, 8 * 1024, today)  # room for about six 1000-byte answers; at most 1 KiB each
    paths = [f"/p{i}" for i in range(20)]
    for path in paths:
        call(cache, path)
    assert cache.size <= 8 * 1024 and 0 < len(cache.entries) < 20
    kept = {key[0] for key in cache.entries}  # (path, query, gzip)
    assert kept == set(paths[-len(kept) :])  # the newest survive
    calls = counter.calls
    assert call(cache, paths[-1]) == (200, b"x" * 500 + b"y" * 500)
    assert counter.calls == calls


@pytest.mark.parametrize("size", [2000])
def test_an_answer_too_big_to_keep_is_passed_through_whole(size: int) -> None:
    counter, today = Counter(size=size), [dt.date(2026, 11, 22)]
    cache = make_cache(counter, 8 * 1024, today)  # entries up to 1 KiB
    assert call(cache, "/big") == (200, b"x" * (size // 2) + b"y" * (size - size // 2))
    call(cache, "/big")
    assert counter.calls == 2 and not cache.entries
