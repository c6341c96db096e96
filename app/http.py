"""HTTP conventions shared by every resource: conditional GET, caching headers, gzip, HEAD, links.

``Context`` is the one dependency a route takes: a database session whose first read pins the corpus
version (SQLite and PostgreSQL both give a transaction one snapshot, so the corpus version and the rows come
from the same corpus), the caller's visibility, and ``respond()``, which turns bytes into a response with a
strong ETag, ``304 Not Modified``, ``Cache-Control``, ``Last-Modified`` and gzip.

**The ETag names what determines the bytes, not the bytes** (``Context.etag``): the corpus version and its
``ingested_at``, this package's code (``code_fingerprint``), the path and query string, the content coding the
request takes, the date, the site settings (GARDEN_SITE_URL, _NAME, _DESCRIPTION, GARDEN_REPO_URL,
GARDEN_SCHEMA_BASE_URL, GARDEN_LLMS_LINKS) and GARDEN_PUBLIC_URL, and the caller's visibility. Each path has one
media type, so the path names it, except ``/``, which chooses by Accept and names its choice (``Context.variant``).
Not the database's URL: replicas serving copies of one database (docs/deploy.md) give one tag. The same URL under
the same corpus, code, date and settings always gives the same representation, so the tag is still a strong
validator, and it is known before the route runs: ``revalidate`` (a dependency of every route that answers through
Context) answers a matching ``If-None-Match`` with a 304 right
after the corpus version is read, the request's one database read, without running the route or building the
body. Decisions:

* Only ``If-None-Match`` is decided before the route, and ``*`` is not: a URL that would be a 404 (or a 4xx for
  its parameters) must not become a 304 because an ``If-Modified-Since`` is later than the last ingest.
  ``If-Modified-Since`` and ``*`` are decided by ``respond`` once the route has produced its 200. Every answer
  that carries the tag is a 200 (errors are problems, without it), so a client holds a tag only from a 200 of
  the same URL, which that URL would answer again; a tag a client made up misleads only itself.
* ``-gz`` (a strong validator differs per content coding, RFC 9110 §8.8.3) marks a request that takes gzip,
  also when the body is too small to be compressed: the same bytes then carry two tags, which is allowed; two
  bodies never share one.
* The response cache (app.cache) keeps the tags of its 200s, keyed as the tag is (path, query, gzip); a stored
  agent file (app.agent.store, generations named by the same parts) carries its URL's tag, as one built in
  memory does.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
import anyio.to_thread
import orjson
from fastapi import Depends, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

import app
from app.budget import estimate
from app.db import get_engine
from app.deadline import current_guard
from app.negotiation import NotModified, accepts_gzip, not_modified
from app.problems import ApiProblem
from app.queries.common import Listing, Scope
from app.queries.corpus import stored_version
from app.queries.paging import page_body, page_extras
from app.settings import Settings, get_settings

JSON = "application/json"
MARKDOWN = "text/markdown; charset=utf-8"
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class CorpusVersion:
    """The stored corpus as a request sees it."""

    version: int
    ingested_at: dt.datetime | None


@dataclass
class Context:
    """Everything a route needs: the session, the corpus it sees, who is asking, and how to answer."""

    request: Request
    session: Session
    corpus: CorpusVersion
    preview: bool
    settings: Settings
    release: Callable[[], Awaitable[None]]
    headers: dict[str, str] = field(default_factory=dict)
    streaming: bool = False
    #: The representation a route chose by the request's Accept (``/``: html or json), or "" where the path names
    #: it. Part of the ETag, and the response then varies on Accept.
    variant: str = ""

    @cached_property
    def gzip_ok(self) -> bool:
        return accepts_gzip(self.request.headers.get("accept-encoding", ""))

    @cached_property
    def etag(self) -> str:
        """The strong validator of this request's 200 (see the module's docstring): known before the route runs."""
        corpus, settings, scope = self.corpus, self.settings, self.request.scope
        ingested = corpus.ingested_at.isoformat() if corpus.ingested_at is not None else ""
        parts = (
            corpus.version,
            ingested,
            code_fingerprint(),
            scope["path"],
            scope["query_string"].decode("latin-1"),
            self.today,
            *settings.site_identity(),
            "preview" if self.preview else "public",
            self.variant,
        )
        digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()
        return f'"{digest}-gz"' if self.gzip_ok else f'"{digest}"'

    @property
    def today(self) -> dt.date:
        return self.settings.effective_today()

    def url(self, path: str, params: Sequence[tuple[str, str]] = ()) -> str:
        """A URL on this API, for ``next`` links and Link headers; ``params`` may repeat a name (``api_url``)."""
        return api_url(self.settings, path, params)

    @property
    def last_modified(self) -> dt.datetime | None:
        """The last ingest, or midnight today if later: claim states turn stale with the date (app.derive)."""
        if self.corpus.ingested_at is None:
            return None
        midnight = dt.datetime.combine(self.today, dt.time(), dt.UTC)
        return max(self.corpus.ingested_at.astimezone(dt.UTC), midnight).replace(microsecond=0)

    @property
    def scope(self) -> Scope:
        return Scope(self.session, preview=self.preview, today=self.today, site=self.settings.site_url,
                     repo=self.settings.repo_url, corpus=(self.corpus.version, self.corpus.ingested_at))  # fmt: skip

    def page(self, listing: Listing, path: str) -> Response:
        """A list body ``{items, total, totalRelation, next, nextCursor, …}`` with a ``Link: rel="next"`` header on
        all but the last page. With a token budget, the items kept are those that fit in this body as it is sent,
        its real ``next`` URL included (app.queries.paging.page_body)."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "cursor"]

        def build(items: list[dict[str, Any]], cursor: str | None, truncated: bool | None) -> dict[str, Any]:
            next_url = None if cursor is None else self.url(path, [*query, ("cursor", cursor)])
            return {"items": items, "total": listing.total, "totalRelation": listing.relation, "next": next_url,
                    "nextCursor": cursor, **page_extras(listing, truncated)}  # fmt: skip

        body, data = page_body(listing, build)
        if body["next"] is not None:
            self.headers["Link"] = f'<{body["next"]}>; rel="next"'
        return self.respond(data, JSON)

    def json(self, payload: Any) -> Response:
        return self.respond(orjson.dumps(payload), JSON)

    def stream(self, chunks: Iterator[bytes], media_type: str) -> Response:
        """A streamed 200 read from this request's session, which the stream takes over and closes at its end."""
        use_gzip = self.gzip_ok
        headers, unchanged = self.validated()
        if unchanged:
            return Response(status_code=304, headers=headers)
        self.streaming = True  # get_context leaves the session and its slot to the stream
        source = _GzipStream(chunks) if use_gzip else chunks

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in iterate_in_threadpool(iter(source)):
                    yield chunk
            finally:
                await self.release()

        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        return StreamingResponse(body(), media_type=media_type, headers=headers)

    def validated(self) -> tuple[dict[str, str], bool]:
        """The caching headers of this request's 200 (ETag, Last-Modified, Cache-Control, Vary, X-Corpus-Version),
        and whether the request's If-None-Match or If-Modified-Since makes it a 304."""
        headers = self.cache_headers()
        return headers, _not_modified(self.request, self.etag, self.last_modified)

    def cache_headers(self) -> dict[str, str]:
        headers = {
            **self.headers,
            "ETag": self.etag,
            "X-Corpus-Version": str(self.corpus.version),
            "Vary": "Accept, Accept-Encoding, Authorization" if self.variant else "Accept-Encoding, Authorization",
            "Cache-Control": "private, no-store" if self.preview else f"public, max-age={self.settings.cache_max_age}",
        }
        modified = self.last_modified
        if modified is not None:
            headers["Last-Modified"] = format_datetime(modified, usegmt=True)
        return headers

    def respond(self, body: bytes, media_type: str) -> Response:
        """A cacheable 200: strong ETag, 304 on a matching If-None-Match or If-Modified-Since, gzip when asked
        and worth it."""
        headers, unchanged = self.validated()
        if unchanged:
            return Response(status_code=304, headers=headers)
        if media_type == JSON:
            headers["X-Token-Estimate"] = str(estimate(body))
        if self.gzip_ok and len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=media_type, headers=headers)


def api_url(settings: Settings, path: str, params: Sequence[tuple[str, str]] = ()) -> str:
    """``GARDEN_PUBLIC_URL`` + path + query, or the path and query alone when it is unset.

    Never built from the request's ``Host`` (or forwarded) headers: any client may send one, and a shared cache
    keeping a ``next`` link that names a host of the client's choosing would hand it to everyone. A relative
    reference resolves against the URL the client fetched (RFC 3986 §5), so links work behind a proxy that keeps
    the paths; one that mounts the API under a prefix (``/api/``) needs ``GARDEN_PUBLIC_URL`` with that prefix.
    """
    query = urlencode(list(params)) if params else ""
    target = f"{path}?{query}" if query else path
    return f"{settings.public_url or ''}{target}"


def read_corpus(session: Session) -> CorpusVersion:
    """The corpus version and last ingest; the first read of a session, so it pins the snapshot."""
    return CorpusVersion(*stored_version(session))


@lru_cache
def code_fingerprint() -> str:
    """A digest of this package's source: a release that builds other bytes never serves an older one's tags
    or stored files."""
    hasher = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(app.__file__).parent.rglob("*.py")):
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def _not_modified(request: Request, etag: str, last_modified: dt.datetime | None) -> bool:
    headers = request.headers
    return not_modified(headers.get("if-none-match", ""), headers.get("if-modified-since", ""), etag, last_modified)


class _GzipStream:
    """Compresses a stream of chunks on the fly (gzip container, one member)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        for chunk in self.chunks:
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()


def preview_access(request: Request, settings: Settings) -> bool:
    """Whether the request carries the preview token. An Authorization header that does not is a 401 that says
    why: this server has no preview access configured at all (GARDEN_PREVIEW_TOKEN unset), the header is not
    ``Bearer <token>``, or the token is not this server's. The token itself is never echoed or logged."""
    header = request.headers.get("authorization")
    if header is None:
        return False
    scheme, _, token = header.partition(" ")
    expected = settings.preview_token.get_secret_value() if settings.preview_token else None
    if expected is None:
        detail = ("This server has no preview access configured (GARDEN_PREVIEW_TOKEN is not set), so no bearer "
                  "token grants it: send no Authorization header for the published articles, or set "
                  "GARDEN_PREVIEW_TOKEN on the server and restart it.")  # fmt: skip
    elif scheme.lower() != "bearer":
        detail = "The bearer token does not grant preview access: the Authorization header must be 'Bearer <token>'."
    else:
        # compare_digest runs in time independent of where the strings differ; the token is never logged.
        given = token.strip().encode("utf-8", "surrogateescape")
        if hmac.compare_digest(given, expected.encode()):
            return True
        detail = "The bearer token does not grant preview access: it is not this server's GARDEN_PREVIEW_TOKEN."
    raise ApiProblem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="garden-api preview"'})


def is_heavy(path: str) -> bool:
    """Heavy routes read the whole corpus, or rank it: ``/search``, ``/llms.txt``, ``/graph/…``, the sitemaps
    (``/sitemap.xml``, ``/sitemaps/…``: every public article's URL), the change log's stream ``/changes.jsonl``,
    and every agent file under ``/agents/`` except one article's (``/agents/articles/…``), the feeds included; a
    topic's file too, since building one (or finding that a topic has none) reads the whole index. Everything else
    reads one item or one bounded page."""
    if path in ("/search", "/llms.txt", "/sitemap.xml", "/changes.jsonl") or path.startswith(("/graph/", "/sitemaps/")):
        return True
    return path.startswith("/agents/") and not path.startswith("/agents/articles/")


@dataclass(frozen=True, slots=True)
class Slots:
    """A worker's database slots (app.main makes them): ``GARDEN_POOL_SIZE`` for ordinary requests and
    ``GARDEN_HEAVY_REQUESTS`` of their own for heavy ones (``is_heavy``), so that no burst of searches or
    feed downloads can hold every slot while single-item reads wait behind it."""

    light: anyio.Semaphore
    heavy: anyio.Semaphore

    def for_path(self, path: str) -> anyio.Semaphore:
        return self.heavy if is_heavy(path) else self.light


def database_busy(detail: str) -> ApiProblem:
    """The 503 for a database that cannot take the request now: the client should retry shortly."""
    return ApiProblem(503, "Service Unavailable", detail, headers={"Retry-After": "1"})


async def take_slot(slots: anyio.Semaphore, settings: Settings) -> None:
    """Wait for a slot, for ``GARDEN_POOL_TIMEOUT`` at most, and never past the request's deadline: then 503."""
    guard = current_guard.get()
    wait = settings.pool_timeout if guard is None else min(settings.pool_timeout, guard.remaining())
    try:
        with anyio.fail_after(wait):
            await slots.acquire()
    except TimeoutError:
        raise database_busy(f"Every database slot stayed busy for {wait:.3g} s (GARDEN_POOL_TIMEOUT); "
                            "retry shortly.") from None  # fmt: skip


async def get_context(request: Request) -> AsyncIterator[Context]:
    """Take a database slot, open a session pinned to one corpus version, and work out the caller's visibility.

    A request holds a slot (``Slots``) from before its first query until its response, or its stream, ends; it
    waits for one on the event loop, not in a thread, and for ``GARDEN_POOL_TIMEOUT`` at most. The pool has a
    connection for every slot, so no request thread ever waits for a connection. (With threads waiting on the
    pool, a burst of requests could occupy every thread while the requests holding connections wait for a
    thread to finish in: a stall until the pool timeout, then 503s.) A request answered 503 at its deadline
    (app.deadline) keeps its slot until its thread returns, and gives it back then: the session is closed
    shielded from that request's cancellation.
    """
    settings = get_settings()
    preview = preview_access(request, settings)
    slots = request.app.state.db_slots.for_path(request.scope["path"])
    await take_slot(slots, settings)
    session = Session(get_engine())
    released = False

    async def release() -> None:
        nonlocal released
        if not released:
            released = True
            try:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(session.close)
            finally:
                slots.release()

    context = None
    try:
        corpus = await anyio.to_thread.run_sync(read_corpus, session)
        context = Context(request, session, corpus, preview, settings, release)
        yield context
    finally:
        if context is None or not context.streaming:
            await release()


ContextDep = Annotated[Context, Depends(get_context)]


async def revalidate(ctx: ContextDep) -> None:
    """A route dependency: a request whose If-None-Match names this URL's tag (``Context.etag``) is answered 304
    here, before the route runs, its one database read being the corpus version. ``*`` and If-Modified-Since
    are left to ``Context.respond``, after the route: they must not turn a 404 into a 304. No I/O, so it runs on
    the event loop."""
    if_none_match = ctx.request.headers.get("if-none-match", "")
    if if_none_match and if_none_match.strip() != "*" and not_modified(if_none_match, "", ctx.etag, None):
        raise NotModified(ctx.cache_headers())


def holding_nul(pairs: Iterable[tuple[str, Any]]) -> str | None:
    """The first name (NULs taken out) whose name or value (a string, or a list of them) holds a NUL character."""
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        if "\x00" in name or any("\x00" in item for item in values if isinstance(item, str)):
            return name.replace("\x00", "")
    return None


async def reject_nul(request: Request) -> None:
    """No stored text holds a NUL character (PostgreSQL's text cannot), so a request naming one names nothing:
    a query parameter holding one is a 422 naming it, a path holding one a 404, on every database."""
    name = holding_nul(request.query_params.multi_items())
    if name is not None:
        raise ApiProblem(422, "Invalid parameter", f"{name}: must not contain the NUL character (%00).",
                         parameter=name)  # fmt: skip
    if "\x00" in request.scope["path"]:
        raise ApiProblem(404, "Not Found", "Nothing is stored at a path holding the NUL character (%00).")


class HeadAsGet:
    """Answer HEAD like GET without the body, for every GET route (Starlette routes only GET otherwise)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
