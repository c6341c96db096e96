"""Live events: ``GET /changes/stream``, Server-Sent Events, one event per committed corpus version.

The wire (sse-starlette's ``EventSourceResponse``)::

    id: 40                                first: `ready`, where the stream stands (or `resync`, below)
    event: ready
    data: {"version": 42}
    retry: 3000

    id: 41                                one `version` event per version after the position, in order,
    event: version                        then one per new version, live
    data: {"version": 41, "committedAt": "…Z", "changes": 12, "counts": {"article": {…}, …},
           "url": "/changes?since=40"}

and a ``: ping - <time>`` comment every ``PING`` seconds, so that proxies keep the connection. Event data are the
models of app.responses_stream.

Decided where the issue is silent:

* **Every version gets an event**, even one that changed nothing the caller may see (its counts are all 0): the
  version itself is public (``X-Corpus-Version``), so skipping it would hide nothing, and a client that caches
  by version learns that its cache is still whole. Counts follow app.queries.changes' visibility rules: an
  anonymous caller never learns of a draft (a draft changed is a 0; a draft published is "added").
* **The position** is ``Last-Event-ID`` (what an EventSource sends when it reconnects), else the ``since``
  query parameter (for clients that cannot set headers; the header wins when both are sent: on a reconnect it
  is the newer). None: the stream starts at the current version. The first event is ``ready``, whose ``id`` is
  that position, so that a client that loses the connection before any version event resumes without a gap.
* **A position the log cannot continue from** (older than the retained log, or ahead of the corpus: a database
  rebuilt) is a ``resync`` event (the problem /changes answers 410 with, plus the version the stream continues
  from, which is also its ``id``), then the live stream. Not a 410: an EventSource fails for good on any answer
  but a 200 and tells the page nothing, while a ``resync`` event reaches its handler; and with the current
  version as the id, the browser's next reconnect does not ask for the same expired position again.
* **A malformed Last-Event-ID or since** (not a whole number >= 0) is a 422 problem naming it, before the
  stream starts: only a client bug sends one (a browser sends back the ids it was given).
* **Open streams** are requests in progress for ``GARDEN_MAX_CONCURRENCY`` (app.server counts a request until
  its response ends), so at most ``GARDEN_MAX_STREAMS`` (64, half the default concurrency) are open per
  process; past it a stream is a 503 with ``Retry-After``, and ordinary requests keep the rest. An open stream
  holds no database connection and no request slot: it waits on the process's ``ChangeHub``.
* **Server shutdown** ends every stream cleanly (sse-starlette sees uvicorn's exit flag and sets the streams'
  shutdown event; the generator returns and the response ends), so ``garden serve`` exits promptly on SIGTERM;
  the clients reconnect, to this or another process, with their Last-Event-ID.

The middleware (app.main): the route is FastAPI's, never the lane's (its router is not among those the lane
answers, and it takes no session: no ``get_context`` or ``revalidate``); the request deadline stops applying
once the stream's head is sent; the response cache never stores it (``Cache-Control: no-store``, no ETag, and
app.cache refuses ``text/event-stream`` outright); ``X-Accel-Buffering: no`` keeps nginx from buffering it;
CORS allows ``Last-Event-ID``, which a browser's EventSource sends when it resumes; a HEAD (app.http.HeadAsGet
calls the route as a GET) is marked by ``MarkHead`` and answered with the headers only.

Several processes: each one has a ``ChangeHub``, woken by its own ``CorpusWatch`` (app.cache: the corpus version
polled every 0.25 s on a connection of its own), so a version committed by any process (``garden ingest``, a
``serve --watch``) reaches the clients of every process within a poll. One poller and one read of the new
versions' counts per process, however many clients: the hub reads them once (both views, anonymous and
preview, from one grouped query) and keeps them; clients take them from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import orjson
from sqlmodel import Session
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cache import CorpusWatch
from app.db import get_engine
from app.http import api_url, preview_access, take_slot
from app.problems import ApiProblem
from app.queries import changes
from app.queries.changes import StreamStart, VersionCounts
from app.queries.errors import Expired
from app.settings import Settings, get_settings

log = logging.getLogger("garden.api")

PATH = "/changes/stream"
#: Seconds between ping comments (proxies drop connections idle for 60 s or more; 15 is sse-starlette's default).
PING = 15
#: The reconnection delay sent to clients, in milliseconds (EventSource's ``retry:``).
RETRY_MS = 3000
#: Seconds a stream has to end by itself at shutdown before it is cancelled.
SHUTDOWN_GRACE = 2.0
#: Retry-After of the 503 past GARDEN_MAX_STREAMS: streams are long-lived, so a slot frees up slowly.
BUSY_RETRY = "5"
#: The scope key MarkHead sets on a HEAD request (app.http.HeadAsGet turns it into a GET before the route).
HEAD_KEY = "garden.head"


class ChangeHub:
    """One process's live versions: woken by the corpus watch, it reads each new version's counts once and keeps
    the last ``keep`` of them for the streams, which wait on ``changed`` (replaced at every publication)."""

    def __init__(self, watch: CorpusWatch, keep: int = 1024) -> None:
        self.watch, self.keep = watch, keep
        self.version = 0  # the newest version counted
        self.open = 0  # streams open in this process
        self.changed = anyio.Event()
        self._counted: OrderedDict[int, VersionCounts] = OrderedDict()
        self._seen = 0  # the newest version the watch reported
        self._wake = anyio.Event()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Subscribed to the watch and counting new versions while the app's lifespan runs."""
        loop = asyncio.get_running_loop()
        self.version = self._seen = max(0, self.watch.version)
        self._wake, self.changed = anyio.Event(), anyio.Event()  # this loop's: an app may run its lifespan again

        def notify(version: int) -> None:  # in the watch's thread
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
                loop.call_soon_threadsafe(self._notify, version)

        unsubscribe = await anyio.to_thread.run_sync(self.watch.subscribe, notify)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._run)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()
        finally:
            unsubscribe()

    def _notify(self, version: int) -> None:
        if version > self._seen:
            self._seen = version
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()  # before reading _seen: a later version wakes the next round
            if self._seen <= self.version:
                continue
            try:
                counted = await anyio.to_thread.run_sync(_read_counts, self.version, self._seen)
            except Exception:  # the database is briefly unavailable: try again in a second
                log.warning("live events: reading versions %d..%d failed", self.version + 1, self._seen, exc_info=True)
                await anyio.sleep(1)
                self._wake.set()
                continue
            self.publish(counted)

    def publish(self, counted: list[VersionCounts]) -> None:
        """Keep ``counted`` (new versions, in order) and wake every stream."""
        for item in counted:
            self._counted[item.version] = item
            self.version = max(self.version, item.version)
        while len(self._counted) > self.keep:
            self._counted.popitem(last=False)
        changed, self.changed = self.changed, anyio.Event()
        changed.set()

    def after(self, position: int) -> list[VersionCounts] | None:
        """The counted versions after ``position``, in order; None if the hub no longer keeps them all."""
        if position >= self.version:
            return []
        if position + 1 not in self._counted:
            return None
        return [self._counted[version] for version in range(position + 1, self.version + 1)]


def _read_counts(after: int, upto: int) -> list[VersionCounts]:
    with Session(get_engine()) as session:
        return changes.version_counts(session, after, upto)


def _opening(position: int | None, parameter: str) -> tuple[StreamStart, Expired | None, list[VersionCounts]]:
    """In one session (one snapshot): where the stream starts, why it cannot continue from ``position`` (None:
    it can), and the versions after ``position`` to send first."""
    with Session(get_engine()) as session:
        try:
            start = changes.stream_start(session, position, parameter)
        except Expired as gone:
            return changes.stream_start(session, None, parameter), gone, []
        if position is None:
            return start, None, []
        return start, None, changes.version_counts(session, position, start.version)


def _position(since: int | None, last_event_id: str | None) -> tuple[int | None, str]:
    """(the position the client stands at, the parameter it came from); a malformed Last-Event-ID is a 422."""
    if last_event_id is None or last_event_id.strip() == "":  # an empty id resets it (the EventSource spec)
        return since, "since"
    value = last_event_id.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ApiProblem(422, "Invalid parameter", "Last-Event-ID: must be the id of an event of this stream, a "
                         "corpus version (a whole number >= 0); send none to start at the current version.",
                         parameter="Last-Event-ID")  # fmt: skip
    return int(value), "Last-Event-ID"


def _json(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def version_event(counted: VersionCounts, preview: bool, settings: Settings) -> ServerSentEvent:
    """The ``version`` event of one version, as this caller sees it (app.responses_stream.VersionEvent)."""
    counts = counted.preview if preview else counted.public
    data = {"version": counted.version, "committedAt": _iso(counted.committed_at),
            "changes": sum(sum(actions.values()) for actions in counts.values()), "counts": counts,
            "url": api_url(settings, "/changes", [("since", str(counted.version - 1))])}  # fmt: skip
    return ServerSentEvent(_json(data), event="version", id=str(counted.version))


def first_event(start: StreamStart, gone: Expired | None, position: int | None) -> ServerSentEvent:
    """``ready`` (its id the position), or ``resync`` (its id the current version) when ``gone`` says why not."""
    if gone is None:
        where = start.version if position is None else position
        return ServerSentEvent(_json({"version": start.version}), event="ready", id=str(where), retry=RETRY_MS)
    problem = {"type": "about:blank", "title": "Gone", "status": 410, "detail": gone.message,
               "parameter": gone.parameter, "version": start.version}  # fmt: skip
    return ServerSentEvent(_json(problem), event="resync", id=str(start.version), retry=RETRY_MS)


async def _either(first: anyio.Event, second: anyio.Event) -> None:
    """Wait until either event is set."""
    async with anyio.create_task_group() as group:

        async def wait(event: anyio.Event) -> None:
            await event.wait()
            group.cancel_scope.cancel()

        group.start_soon(wait, first)
        group.start_soon(wait, second)


async def _events(hub: ChangeHub, preview: bool, opened: tuple[StreamStart, Expired | None, list[VersionCounts]],
                  position: int | None, shutdown: anyio.Event) -> AsyncIterator[ServerSentEvent]:  # fmt: skip
    """The stream: the first event, the versions after the position, then each new version until shutdown."""
    settings = get_settings()
    start, gone, replay = opened
    yield first_event(start, gone, position)
    at = start.version if gone is not None or position is None else position
    for counted in replay:
        yield version_event(counted, preview, settings)
        at = counted.version
    while not shutdown.is_set():
        changed = hub.changed  # taken before looking: a publication after the look sets this one
        pending = hub.after(at)
        if pending is None:  # fell behind what the hub keeps: read them (a rare, bounded read)
            try:
                pending = await anyio.to_thread.run_sync(_read_counts, at, hub.version)
            except Exception:  # end the stream: the client reconnects with its Last-Event-ID
                log.warning("live events: reading versions after %d failed; stream ended", at, exc_info=True)
                return
        for counted in pending:
            yield version_event(counted, preview, settings)
            at = counted.version
        if not pending:
            await _either(changed, shutdown)


class _Stream(EventSourceResponse):
    """An EventSourceResponse counted among its process's open streams from the moment it starts sending until it
    ends, however it ends: a response never sent (the client gone before it started) is never counted. The cap is
    checked when the route runs, so streams opened in the same instant may pass it by a few."""

    def __init__(self, *args: Any, hub: ChangeHub, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._hub.open += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._hub.open -= 1


async def _no_events() -> AsyncIterator[ServerSentEvent]:
    return
    yield  # an async generator that yields nothing (HEAD)


async def open_stream(request: Request, since: int | None, last_event_id: str | None) -> Response:
    """The response of ``GET /changes/stream`` (see the module's docstring); HEAD gets its headers only."""
    settings = get_settings()
    preview = preview_access(request, settings)
    position, parameter = _position(since, last_event_id)
    hub: ChangeHub = request.app.state.change_hub
    head = bool(request.scope.get(HEAD_KEY))
    if not head and hub.open >= settings.max_streams:
        detail = f"This server process has {settings.max_streams} event streams open (GARDEN_MAX_STREAMS); retry later."
        raise ApiProblem(503, "Service Unavailable", detail, headers={"Retry-After": BUSY_RETRY})
    slots = request.app.state.db_slots.for_path(request.scope["path"])
    await take_slot(slots, settings)  # for the opening read only: an open stream holds no slot
    try:
        opened = await anyio.to_thread.run_sync(_opening, position, parameter)
    finally:
        slots.release()
    headers = {"X-Corpus-Version": str(opened[0].version), "Cache-Control": "no-store"}
    if head:
        return EventSourceResponse(_no_events(), headers=headers, ping=0)
    shutdown = anyio.Event()
    events = _events(hub, preview, opened, position, shutdown)
    return _Stream(events, headers=headers, ping=PING, shutdown_event=shutdown,
                   shutdown_grace_period=SHUTDOWN_GRACE, hub=hub)  # fmt: skip


class MarkHead:
    """ASGI middleware, outside app.http.HeadAsGet: marks a HEAD of the stream in its scope, so that the route,
    which HeadAsGet calls as a GET, answers the headers and ends instead of streaming for ever."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD" and scope["path"] == PATH:
            scope = {**scope, HEAD_KEY: True}
        await self.app(scope, receive, send)
