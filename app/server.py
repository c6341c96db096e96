"""The HTTP server: uvicorn's httptools protocol with the connection limits uvicorn lacks.

Decided after reading uvicorn 0.54's source (``uvicorn/protocols/http/httptools_impl.py``):

* httptools has no limit on the size of a request head: a 100 MB header is read in full (38 s and
  560 MB in the issue) before the application sees anything. Only the h11 protocol has a limit
  (``h11_max_incomplete_event_size``), and h11 is a pure-Python parser (not measured here).
* Its keep-alive timer is armed only after a response. A connection that never sends a byte, or
  sends a request head a byte at a time (slowloris), or a body it never finishes, stays open for
  ever: every received byte cancels the timer and nothing re-arms it.
* ``limit_concurrency`` counts open connections as well as running requests, so idle sockets make
  real requests 503, the opposite of what a cap is for.

So ``garden serve`` runs uvicorn with :class:`LimitedHttpToolsProtocol`, a subclass that adds, per
worker process (every value from :class:`Limits`, read from the ``GARDEN_`` settings):

* **Head size.** A request line plus headers over ``max_header_bytes`` is answered ``431`` and the
  connection closed, as soon as that many bytes arrived, not after the whole head.
* **Body size.** A request declaring a body over ``max_body_bytes`` (``Content-Length``) is answered
  ``413`` before the body is read; a chunked body that grows past it has its connection closed. Only
  ``POST /mcp`` takes a body, a small JSON-RPC message; uvicorn would buffer any size.
* **Timeouts.** A connection waits at most ``keep_alive_timeout`` seconds for a request; a request
  head must be complete ``header_timeout`` seconds after its first byte, and its body
  ``body_timeout`` seconds after its head; else the connection is closed.
* **Concurrency.** Beyond ``max_concurrency`` requests in progress in the worker (from the end of
  a head to the end of its response), a request is answered ``503`` with ``Retry-After: 1`` at
  once. Idle connections do not count.
* **Connections.** Beyond ``max_connections`` open connections (at most the file-descriptor limit
  less a reserve), the connection that has waited longest without a request in progress is
  closed: idle sockets can never keep a real request out.

Everything else (parsing, the ASGI cycle, pipelining, flow control) is uvicorn's. ``bench/connection_limits.py``
measures the limits and the cost per request against plain uvicorn. Not measured as alternatives: granian
and hypercorn; a subclass keeps uvicorn's httptools speed and the process model ``garden serve`` already has.

The event loop stays uvloop (GARDEN_EVENT_LOOP): asyncio accepts a flood of new connections faster, but
cost up to 25% more CPU per cached /articles request in our runs; docs/deploy.md has the measurements.

A 503 for the cap closes its connection, as uvicorn's own limit does. Kept open instead (measured), a flood
of 1,024 connections on uvloop got 503s for most of its requests and 610 answers/s, against 5,600 when its
connections are closed and wait to be accepted again.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import orjson
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPResponseStartEvent, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.settings import Settings, get_settings

#: File descriptors kept free for the database pool, the corpus watch, logs and files.
FD_RESERVE = 256
#: After a 431, how long and how much of the rest of the head is read and dropped before closing, so
#: that the client can read the answer (closing with unread data makes the kernel send a reset).
LINGER_SECONDS = 1.0
LINGER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits one worker process enforces (see the module docstring)."""

    max_header_bytes: int
    max_body_bytes: int
    keep_alive_timeout: float
    header_timeout: float
    body_timeout: float
    max_concurrency: int
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The settings' limits, with ``max_connections`` cut to what the file-descriptor limit allows."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        fds = soft if soft != resource.RLIM_INFINITY else settings.max_connections + FD_RESERVE
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_body_bytes=settings.max_body_bytes,
            keep_alive_timeout=settings.keep_alive_timeout,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_concurrency=settings.max_concurrency,
            max_connections=max(16, min(settings.max_connections, fds - FD_RESERVE)),
        )


@cache
def worker_limits() -> Limits:
    """The limits of this process, read once (each worker process reads its own)."""
    return Limits.from_settings(get_settings())


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (inherited by the workers); returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _problem_bytes(status: int, title: str, detail: str, retry_after: bool = False) -> tuple[bytes, bytes]:
    """The head and body of a problem+json answer that closes the connection (app.problems' shape)."""
    body = orjson.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    head = [
        STATUS_LINE[status],
        b"content-type: application/problem+json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"cache-control: no-store\r\n",
        *([b"retry-after: 1\r\n"] if retry_after else []),
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head), body


class _Fixed:
    """An ASGI app that answers one fixed problem and closes the connection."""

    def __init__(self, status: int, title: str, detail: str, retry_after: bool = False) -> None:
        head, self.body = _problem_bytes(status, title, detail, retry_after)
        self.start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (name, value) for name, _, value in (line.partition(b": ") for line in head.split(b"\r\n")[1:-2])
            ],
        }

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


HEAD_TOO_LARGE = "Request Header Fields Too Large"
BUSY = _Fixed(503, "Service Unavailable", "Too many requests in progress; retry shortly.", retry_after=True)


def _too_large(limit: int) -> _Fixed:
    return _Fixed(431, HEAD_TOO_LARGE, f"The request line and headers exceed {limit} bytes.")


def _body_too_large(limit: int) -> _Fixed:
    return _Fixed(413, "Content Too Large", f"The request body exceeds {limit} bytes (GARDEN_MAX_BODY_BYTES).")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a head-size limit, read timeouts and a request cap.

    A connection is "waiting" while no request of it is in progress (fresh, idle between requests,
    or receiving a head); waiting connections are kept in ``_waiting`` in the order they started
    waiting, so that the oldest is the one closed when the worker is at ``max_connections``.

    The requests in progress are the connections that are not waiting: from the end of a head to
    the end of its response. Not uvicorn's ``tasks``: a task outlives its response while the
    application finishes (a dependency's teardown in the thread pool), so under load a worker holds
    more tasks than connections: with a cap of 128 tasks, 120 wrk connections got 429 503s in 4 s.
    """

    _waiting: ClassVar[dict[LimitedHttpToolsProtocol, None]] = {}
    _refused: ClassVar[int] = 0  # 503s for the cap since the last warning
    _logged_at: ClassVar[float] = float("-inf")

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = worker_limits()
        self.limit_concurrency = None  # uvicorn's cap counts idle connections; ours is in on_headers_complete
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self._in_head = True  # between requests, or receiving a head
        self._head_started = False  # a byte of the next head has arrived (pipelined heads: see data_received)
        self._head_bytes = 0  # bytes received since the head started (in whole reads)
        self._in_body = False
        self._body_bytes = 0  # bytes of the current request's body so far
        self._read_timer: asyncio.TimerHandle | None = None
        self._linger = 0  # bytes still to drop after a 431 (0: not lingering)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait()
        if len(self.connections) > self.limits.max_connections:
            self._close_oldest_waiting()
        # uvicorn arms its keep-alive timer only after a response: a fresh connection gets one here.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting.pop(self, None)
        self._cancel_read_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._linger:
            self._linger = max(0, self._linger - len(data))
            if not self._linger:
                self.transport.close()
            return
        if self._in_head:
            self._head_started = True
            self._head_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._in_head and self._head_started:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse_head()
            elif self._read_timer is None:
                self._read_timer = self.loop.call_later(self.limits.header_timeout, self._read_timed_out)
        elif self._in_body and self._read_timer is None:
            self._read_timer = self.loop.call_later(self.limits.body_timeout, self._read_timed_out)

    def on_headers_complete(self) -> None:
        received, limit = self._head_bytes, self.limits.max_header_bytes
        self._in_head, self._head_started, self._head_bytes, self._in_body = False, False, 0, True
        if self._read_timer is not None:
            self._cancel_read_timer()
        self._waiting.pop(self, None)
        # The reads that carried this head were at most `limit` bytes: it fits. Else (a head that came in one
        # large read, or behind a pipelined request) measure it as sent: request line, headers, blank line.
        self._body_bytes = 0
        if not 0 < received <= limit and self._head_size() > limit:
            refusal = _too_large(limit)
        elif self._declared_body() > self.limits.max_body_bytes:
            refusal = _body_too_large(self.limits.max_body_bytes)
        elif len(self.connections) - len(self._waiting) > self.limits.max_concurrency:
            self._refused_busy()
            refusal = BUSY
        else:
            super().on_headers_complete()
            return
        app, self.app = self.app, refusal  # uvicorn's on_headers_complete starts self.app
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def _declared_body(self) -> int:
        """The Content-Length the head declares (0 without one; httptools refuses a malformed one)."""
        for name, value in self.headers:
            if name == b"content-length" and value.strip().isdigit():
                return int(value)
        return 0

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self.limits.max_body_bytes:  # a chunked body past the limit: no answer can be sent
            self.transport.close()  # mid-request, so close, as nginx does past client_max_body_size
            return
        super().on_body(body)

    def _head_size(self) -> int:
        return len(self.url) + 16 + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._in_body = True, False
        if self._read_timer is not None:
            self._cancel_read_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and self._in_head:
            self._wait()

    def _refused_busy(self) -> None:
        """Count a 503 for the cap; log the count at most once a second (a flood would flood the log)."""
        cls = type(self)
        cls._refused += 1
        now = self.loop.time()
        if now - cls._logged_at >= 1.0:
            self.logger.warning(
                "GARDEN_MAX_CONCURRENCY (%d) reached: %d request(s) answered 503 since the last warning.",
                self.limits.max_concurrency,
                cls._refused,
            )
            cls._refused, cls._logged_at = 0, now

    def _wait(self) -> None:
        self._waiting.pop(self, None)
        self._waiting[self] = None

    def _close_oldest_waiting(self) -> None:
        oldest = next(iter(self._waiting))
        self._waiting.pop(oldest)
        oldest.transport.close()

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        """A head or body took too long to arrive: close, as nginx does on client_header_timeout."""
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        """Answer 431 before the rest of the head arrives; drop what still comes, then close."""
        head, body = _problem_bytes(
            431, HEAD_TOO_LARGE, f"The request line and headers exceed {self.limits.max_header_bytes} bytes."
        )
        self.transport.write(head + body)
        self._cancel_read_timer()
        self._waiting.pop(self, None)
        self._linger = LINGER_BYTES
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._read_timer = self.loop.call_later(LINGER_SECONDS, self._read_timed_out)
