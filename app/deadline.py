"""Request deadlines: every request starts its answer within ``GARDEN_REQUEST_TIMEOUT``, whatever the database does.

A frozen database server never answers, and a request thread blocked in a driver call cannot be cancelled from
the event loop (anyio waits for a worker thread to return before it delivers a cancellation). So the answer and
the work are separated: ``RequestDeadline`` runs each request's application in a task of a task group that
outlives the request (``DetachedTasks``, opened by the app's lifespan) and waits for that task only until the
deadline. If the response has not started by then, it answers ``503`` with ``Retry-After`` itself, and the
late task's messages are dropped; the task still ends when its thread returns, and gives its database slot back
then (app.http.get_context). Once a response has started (a streamed feed) the deadline no longer applies.

Threads are not left blocked for long either. The request's ``Guard`` travels to its threads in a context
variable; the database layer (app.db) records in it every connection the request checks out, interrupts SQLite
statements running past the deadline, and sets PostgreSQL's ``statement_timeout`` on the API's connections.
``GRACE`` seconds after a 503 the guard aborts the connections still held (a PostgreSQL socket is shut down, so
a driver call blocked on it fails at once and the pool discards the connection; a SQLite statement is
interrupted): a stuck thread returns, and its slot with it, even while the database stays frozen.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

log = logging.getLogger("garden.api")

#: Seconds after a 503 at the deadline before the request's database connections are aborted.
GRACE = 1.0


@dataclass(eq=False)
class Guard:
    """One request's deadline (``time.monotonic()``) and the database connections it holds, with how to abort each."""

    deadline: float
    expired: bool = False
    _held: dict[int, tuple[Any, Callable[[Any], None]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def past(self) -> bool:
        """Whether work for this request should stop: answered 503 already, or its deadline has passed."""
        return self.expired or time.monotonic() >= self.deadline

    def disarm(self) -> None:
        """The response has started: what is left (a streamed body) is not bound by the deadline."""
        self.deadline = math.inf

    def hold(self, connection: Any, abort: Callable[[Any], None]) -> None:
        with self._lock:
            self._held[id(connection)] = (connection, abort)

    def drop(self, connection: Any) -> None:
        with self._lock:
            self._held.pop(id(connection), None)

    def abort(self) -> int:
        """Abort every connection still held; how many there were."""
        with self._lock:
            held = list(self._held.values())
        for connection, abort in held:
            try:
                abort(connection)
            except Exception:  # already closed: nothing left to unblock
                log.debug("aborting a connection failed", exc_info=True)
        return len(held)


#: The guard of the request being served (None outside requests: ingest, migrations, the command line).
current_guard: ContextVar[Guard | None] = ContextVar("garden_request_guard", default=None)
#: The guard in the request's ASGI scope too, for work that does not run in the request's context (app.mcp_access).
GUARD_KEY = "garden.guard"


class DetachedTasks:
    """A task group that outlives single requests, open while the app's lifespan runs."""

    def __init__(self) -> None:
        self.group: TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            self.group = group
            try:
                yield
            finally:
                self.group = None
                group.cancel_scope.cancel()  # late requests stop as soon as their threads return


async def deadline_response(send: Send, timeout: float) -> None:
    """The 503 problem sent when a request has not started its answer within ``timeout`` seconds."""
    from app.problems import problem  # here: app.db imports this module, and the command line needs no FastAPI

    response = problem(503, "Service Unavailable", f"The request was not answered within {timeout:g} s "
                       "(GARDEN_REQUEST_TIMEOUT): the database is busy or unreachable; retry shortly.")  # fmt: skip
    response.headers["Retry-After"] = "1"
    await send({"type": "http.response.start", "status": 503, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class RequestDeadline:
    """ASGI middleware: a request whose response has not started within ``timeout`` seconds is answered 503."""

    def __init__(self, app: ASGIApp, *, timeout: float, tasks: DetachedTasks, grace: float = GRACE) -> None:
        self.app, self.timeout, self.tasks, self.grace = app, timeout, tasks, grace

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        group = self.tasks.group
        if scope["type"] != "http" or group is None:
            await self.app(scope, receive, send)
            return
        guard = Guard(time.monotonic() + self.timeout)
        scope[GUARD_KEY] = guard
        settled = anyio.Event()  # the response started, or the application returned
        done = anyio.Event()  # the application returned
        started = False
        failure: list[Exception] = []
        cancel = anyio.CancelScope()

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if guard.expired:
                return  # the 503 went out in its place
            if message["type"] == "http.response.start":
                started = True
                guard.disarm()
                settled.set()
            await send(message)

        async def guarded_receive() -> Message:
            return {"type": "http.disconnect"} if guard.expired else await receive()

        async def run() -> None:
            try:
                with cancel:
                    await self.app(scope, guarded_receive, guarded_send)
            except Exception as exc:
                if guard.expired:
                    log.info("a request answered 503 at its deadline ended later with: %r", exc)
                else:
                    failure.append(exc)
            finally:
                done.set()
                settled.set()

        token = current_guard.set(guard)  # the task copies this context, and its threads copy the task's
        try:
            group.start_soon(run)
        finally:
            current_guard.reset(token)
        try:
            with anyio.move_on_after(guard.remaining()):
                await settled.wait()
            if not started and not done.is_set():
                guard.expired = True
                cancel.cancel()
                await deadline_response(send, self.timeout)
                group.start_soon(self._abort_later, guard)
                return
            await done.wait()  # the body may still be streaming
        except BaseException:
            cancel.cancel()  # this request is being cancelled (shutdown): so is its work
            raise
        if failure:
            raise failure[0]

    async def _abort_later(self, guard: Guard) -> None:
        await anyio.sleep(self.grace)
        aborted = guard.abort()
        if aborted:
            log.warning("aborted %d database connection(s) of a request %g s past its deadline", aborted, self.grace)
