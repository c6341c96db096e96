"""An in-process cache of whole public responses, keyed on the corpus version: repeat reads skip the framework.

``ResponseCache`` is ASGI middleware in front of the routes. A public ``GET`` (no ``Authorization``) whose
response is a ``200`` with an ``ETag`` and ``Cache-Control: public`` is kept, headers and body, under its
path, query string and whether the client takes gzip (the bytes differ by content coding). Not under its
``Host``: no response depends on it (links come from ``GARDEN_PUBLIC_URL`` or are relative, app.http.api_url),
so a client cannot fill the cache with copies, or with answers naming a host of its choosing. The next
identical request is answered from memory, ``304 Not Modified`` included, without routing, validation or a
database session.

An entry is served only while it is still true: it records the corpus version its response carries
(``X-Corpus-Version``) and the date it was made (claim states turn stale with the date), and both must
match the present ones. ``CorpusWatch`` tells the present version cheaply: on SQLite, ``PRAGMA
data_version`` on a connection of its own changes whenever another connection commits, so a re-ingest by
any process is seen on the very next request; on PostgreSQL a thread of the worker's re-reads the version
every ``poll`` seconds (0.25) on a connection of its own, so an old-but-whole response can be served for that
long after a re-ingest, and the event loop never waits on the database. Either way a response is always one
corpus version's, never a mix. A new version empties the cache.

``CorpusWatch.subscribe`` is the live events' wake-up (app.change_stream): a subscriber is called, from the
watch's thread, with each new version the watch reads. On PostgreSQL that is the poller above; on SQLite the
first subscription starts a poller of the same kind, on a connection of its own, that reads ``data_version``
every ``poll`` seconds (a PRAGMA, no table read, until another connection commits). One poller per process,
however many subscribers; none at all without one.

Memory is bounded: entries are evicted least-recently-used beyond ``GARDEN_RESPONSE_CACHE_MB`` (32 by
default; 0 turns the cache off), and a response larger than an eighth of that (the feeds on a big corpus) is
passed through and not kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from app.db import client_timeouts
from app.negotiation import accepts_gzip, http_date, not_modified
from app.queries.corpus import sqlite_data_version, sqlite_version_row, version_row
from app.settings import get_settings

log = logging.getLogger("garden.api")

_Key = tuple[str, bytes, bool]  # path, query string, gzip or not

# Headers a 304 does not repeat: they describe a body it does not have (RFC 9110 §15.4.5).
_BODY_HEADERS = frozenset({b"content-type", b"content-length", b"content-encoding", b"x-token-estimate"})


@dataclass(slots=True)
class _Entry:
    version: int
    today: dt.date
    headers: list[tuple[bytes, bytes]]
    headers_304: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    last_modified: dt.datetime | None

    @property
    def size(self) -> int:
        """Bytes held, counting Python's objects: about 100 per header pair and 600 for the entry and its key."""
        return len(self.body) + sum(len(k) + len(v) + 100 for k, v in self.headers) * 2 + 600


class CorpusWatch:
    """The stored corpus version, re-read only when the database may have changed."""

    def __init__(self, engine: Callable[[], Engine], poll: float = 0.25) -> None:
        self._engine = engine
        self.poll = poll
        self.version = -1
        self._probe: sqlite3.Connection | None = None
        self._opened = False
        self._data_version: int | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._subscribers: list[Callable[[int], None]] = []
        self._lock = threading.Lock()

    def current(self) -> int:
        """The corpus version now (-1 before the first ingest). The first call opens the watch: the app's
        lifespan makes it, in a thread, so that no request waits for it."""
        if not self._opened:
            self._open()
        probe = self._probe
        if probe is not None:
            data_version = sqlite_data_version(probe)
            if data_version != self._data_version:
                self._data_version = data_version
                self.version = self._read(lambda: sqlite_version_row(probe))
        return self.version

    def _open(self) -> None:
        self._opened = True
        url = self._engine().url
        if url.get_backend_name() == "sqlite":
            if url.database not in (None, "", ":memory:"):
                self._probe = sqlite3.connect(url.database, check_same_thread=False, isolation_level=None)
            return
        # A connection of the watch's own, not the pool's: the requests' slots never wait for it.
        # Client-side timeouts as the API's (app.db): a server gone away ends a poll in an error, not a hang.
        timeouts = client_timeouts(url, get_settings().request_timeout)
        engine = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True, isolation_level="AUTOCOMMIT",
                               connect_args=timeouts)  # fmt: skip
        self.version = self._read(lambda: self._fetch(engine))
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, args=(engine,), name="corpus-watch", daemon=True)
        self._poller.start()

    @staticmethod
    def _fetch(engine: Engine) -> tuple[int] | None:
        with engine.connect() as connection:
            return version_row(connection)

    def _poll(self, engine: Engine) -> None:
        """Re-read the version every ``poll`` seconds until closed; tell the subscribers of each change."""
        last = self.version
        try:
            while not self._stop.wait(self.poll):
                self.version = version = self._read(lambda: self._fetch(engine))
                if version != last:
                    last = version
                    self._publish(version)
        finally:
            engine.dispose()

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(version)`` from the watch's thread with every new version it reads (it must return at
        once: hand the version to an event loop); on SQLite, start the poller if none runs. Returns the function
        that unsubscribes. Opens the watch if needed: call it in a thread."""
        if not self._opened:
            self._open()
        with self._lock:
            self._subscribers.append(callback)
            database = self._engine().url.database
            if self._poller is None and self._probe is not None and database:
                self._stop.clear()
                self._poller = threading.Thread(target=self._poll_sqlite, args=(database,), name="corpus-watch",
                                                daemon=True)  # fmt: skip
                self._poller.start()

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _poll_sqlite(self, database: str) -> None:
        """SQLite's poller (for subscribers only): ``data_version`` every ``poll`` seconds on its own connection,
        the version read when it moved, the subscribers told when that changed."""
        try:
            probe = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        except sqlite3.Error:
            log.warning("the corpus watch could not open %s: no live events", database, exc_info=True)
            return
        data_version: int | None = None
        last: int | None = None
        try:
            while not self._stop.wait(self.poll):
                try:
                    moved = sqlite_data_version(probe)
                except sqlite3.Error:  # locked or briefly unavailable: try again at the next poll
                    continue
                if moved == data_version:
                    continue
                data_version = moved
                version = self._read(lambda: sqlite_version_row(probe))
                if version < 0:  # unreadable (or no corpus yet): read again at the next poll, moved or not
                    data_version = None
                if version != last:
                    last = version
                    self._publish(version)
        finally:
            probe.close()

    def _publish(self, version: int) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(version)
            except Exception:  # one subscriber's failure must not stop the watch or the others
                log.exception("a corpus watch subscriber failed")

    @staticmethod
    def _read(fetch: Callable[[], tuple[int] | None]) -> int:
        try:
            row = fetch()
        except Exception:  # no corpus table yet, or the database is briefly unavailable: do not serve from cache
            return -1
        return int(row[0]) if row else -1

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
        self._probe = None
        if self._poller is not None:
            self._stop.set()
            self._poller.join(timeout=5)
            self._poller = None
        self._opened = False


class ResponseCache:
    """ASGI middleware: answers repeat public GETs from memory while the corpus version and date hold."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        watch: CorpusWatch,
        today: Callable[[], dt.date],
        skip_prefixes: tuple[str, ...] = ("/mcp",),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.watch = watch
        self._today = today
        self.skip_prefixes = skip_prefixes
        self.entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self.size = 0
        self.version = -1

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if self.max_bytes <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.skip_prefixes):
            await self.app(scope, receive, send)
            return
        accept_encoding = if_none_match = if_modified_since = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)  # preview answers are private: never stored, never served
                return
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if_modified_since = value.decode("latin-1")
        key = (path, scope["query_string"], accepts_gzip(accept_encoding))
        version = self._current_version()
        today = self._today()
        entry = self.entries.get(key)
        if entry is not None and entry.version == version and entry.today == today:
            self.entries.move_to_end(key)
            if not_modified(if_none_match, if_modified_since, entry.etag, entry.last_modified):
                # Copies: middleware outside this one (CORS) adds to the list it is sent.
                await send({"type": "http.response.start", "status": 304, "headers": list(entry.headers_304)})
                await send({"type": "http.response.body", "body": b""})
            else:
                await send({"type": "http.response.start", "status": 200, "headers": list(entry.headers)})
                await send({"type": "http.response.body", "body": entry.body})
            return
        await self._miss(scope, receive, send, key, today)

    def _current_version(self) -> int:
        version = self.watch.current()
        if version != self.version:
            self.entries.clear()
            self.size = 0
            self.version = version
        return version

    async def _miss(self, scope: AsgiScope, receive: Receive, send: Send, key: _Key, today: dt.date) -> None:
        start_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        keep = False

        async def capture(message: Message) -> None:
            nonlocal size, keep
            if message["type"] == "http.response.start":
                start_headers.extend(message["headers"])  # as the app made them, before outer middleware adds any
                keep = message["status"] == 200 and _storable(message["headers"])
            elif message["type"] == "http.response.body" and keep:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_entry:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        self._store(key, start_headers, b"".join(chunks), today)
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: _Key, headers: list[tuple[bytes, bytes]], body: bytes,
               today: dt.date) -> None:  # fmt: skip
        found = {name.lower(): value for name, value in headers}
        try:
            version = int(found[b"x-corpus-version"])
        except (KeyError, ValueError):
            return
        if version != self.version:  # answered from a corpus other than the one the watch sees: do not keep
            return
        last_modified = http_date(found[b"last-modified"].decode("latin-1")) if b"last-modified" in found else None
        entry = _Entry(
            version=version,
            today=today,
            headers=headers,
            headers_304=[(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS],
            body=body,
            etag=found[b"etag"].decode("latin-1"),
            last_modified=last_modified,
        )
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        self.entries[key] = entry
        self.size += entry.size
        while self.size > self.max_bytes and self.entries:
            _, evicted = self.entries.popitem(last=False)
            self.size -= evicted.size


def _storable(headers: list[tuple[bytes, bytes]]) -> bool:
    """A public 200 with an ETag, unless it varies on Accept (``/``): the key does not hold the Accept header.
    Never an event stream (app.change_stream): it has no end to store, whatever its other headers say."""
    has_etag = public = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type" and value.lower().startswith(b"text/event-stream"):
            return False
        if lowered == b"etag":
            has_etag = True
        elif lowered == b"cache-control":
            public = value.startswith(b"public")
        elif lowered == b"vary" and b"accept" in (part.strip().lower() for part in value.split(b",")):
            return False
    return has_etag and public
