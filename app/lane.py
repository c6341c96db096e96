"""The lane: the REST routes' GETs answered in one thread hop, without FastAPI's per-request machinery.

An uncached request through FastAPI pays for its framework before and after the route: dependency solving
(``get_context``, ``reject_nul``, ``revalidate``, the query model), an exit stack for the generator
dependency, and three hops to the thread pool (the corpus version, the route, closing the session). Measured
with py-spy on ``/articles/{slug}`` at 1,000 articles, uncached: a third of the worker's CPU went there, more
than the route's own queries (bench/RESULTS.md, "The lane").

``Lane`` is an ASGI middleware in front of the application that answers the same routes itself, with the
same code: it finds the route FastAPI would pick (the first of the application's routes, in order, that
matches the path), validates the path and query parameters with FastAPI's own function and the route's own
models, takes a database slot as ``get_context`` does, and in **one** thread opens the session, reads the
corpus version, answers a matching ``If-None-Match`` with its 304 (as ``revalidate`` does), runs the route's
function with a ``Context`` and closes the session. An exception is answered by the application's own
handler for it (the problem documents, the 304 of ``NotModified``, the 503 of a busy database).

It steps aside, and the application answers as it always did, whenever the request is not a plain case:
another method than GET (HEAD arrives as GET, app.http.HeadAsGet), a route that is not a lane route (agent
files, MCP, health, the documentation), a NUL character anywhere (``reject_nul``'s 422 and 404), and
parameters that do not validate (FastAPI's 400 and 422 documents). Those cost what they cost before; a test
(tests/test_lane.py) answers a set of URLs, good and bad, with and without the lane, and compares every
status, header and byte.

A lane route is a synchronous route function whose only dependency is ``get_context`` and whose other
parameters are path parameters and one query-parameter model (``lane_routes`` checks each, at start-up).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import get_engine
from app.http import Context, get_context, preview_access, read_corpus, take_slot
from app.negotiation import NotModified, not_modified
from app.settings import get_settings


@dataclass(frozen=True, slots=True)
class LaneRoute:
    """A route the lane answers: FastAPI's route and how to call its function."""

    route: APIRoute
    context_name: str  # the parameter that takes the Context


def lane_route(route: BaseRoute) -> LaneRoute | None:
    """``route`` as a lane route, or None when the lane cannot answer it exactly as FastAPI would."""
    if not isinstance(route, APIRoute) or route.methods != {"GET"}:
        return None
    dependant = route.dependant
    if inspect.iscoroutinefunction(route.endpoint) or dependant.header_params or dependant.cookie_params:
        return None
    if dependant.body_params or len(dependant.dependencies) != 1 or dependant.dependencies[0].call is not get_context:
        return None
    if len(dependant.query_params) > 1:
        return None
    return LaneRoute(route, dependant.dependencies[0].name or "ctx")


def lane_routes(
    routes: Iterable[BaseRoute], answering: Collection[BaseRoute]
) -> list[tuple[BaseRoute, LaneRoute | None]]:
    """Every route in the order the application tries them, each with its lane route if it is one of
    ``answering`` and the lane can answer it."""
    return [(route, lane_route(route) if route in answering else None) for route in routes]


class Lane:
    """The ASGI middleware (see the module's docstring). ``routes`` are the application's routes, in the order it
    tries them; the lane answers those of ``answering`` that it can (``lane_route``)."""

    def __init__(
        self, app: ASGIApp, *, fastapi: FastAPI, routes: Sequence[BaseRoute], answering: Collection[BaseRoute]
    ) -> None:
        self.app = app
        self.fastapi = fastapi
        self.routes = lane_routes(routes, answering)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or "\x00" in scope["path"]:
            await self.app(scope, receive, send)
            return
        found = self._match(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        lane, path_params = found
        request = Request(scope)
        values = _arguments(lane.route, request, path_params)
        if values is None:
            await self.app(scope, receive, send)
            return
        response = await self._answer(lane, request, values)
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[LaneRoute, dict[str, Any]] | None:
        for route, lane in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return (lane, child.get("path_params", {})) if lane is not None else None
        return None

    async def _answer(self, lane: LaneRoute, request: Request, values: dict[str, Any]) -> Response:
        settings = get_settings()
        try:
            preview = preview_access(request, settings)
            slots = request.app.state.db_slots.for_path(request.scope["path"])
            await take_slot(slots, settings)
        except Exception as exc:  # answered by the application's handler for it, as without the lane
            return await self._problem(request, exc)
        try:
            return await anyio.to_thread.run_sync(_run, lane, request, values, preview)
        except Exception as exc:  # as above
            return await self._problem(request, exc)
        finally:
            slots.release()

    async def _problem(self, request: Request, exc: Exception) -> Response:
        handler = _handler(self.fastapi.exception_handlers, exc)
        if handler is None:
            raise exc
        response: Response = await handler(request, exc)
        return response


def _arguments(route: APIRoute, request: Request, path_params: dict[str, Any]) -> dict[str, Any] | None:
    """The route function's path and query arguments, validated as FastAPI validates them; None if any fails,
    or if a query parameter holds a NUL character (app.http.reject_nul answers both)."""
    query = request.query_params
    if any("\x00" in name or "\x00" in value for name, value in query.multi_items()):
        return None
    dependant = route.dependant
    path_values, errors = request_params_to_args(dependant.path_params, path_params)
    if errors:
        return None
    query_values, errors = request_params_to_args(dependant.query_params, query)
    if errors:
        return None
    return {**path_values, **query_values}


def _run(lane: LaneRoute, request: Request, values: dict[str, Any], preview: bool) -> Response:
    """In the request's one thread: the session, the corpus version, the 304 before the route, the route."""
    session = Session(get_engine())
    try:
        corpus = read_corpus(session)
        ctx = Context(request, session, corpus, preview, get_settings(), _never_released)
        if_none_match = request.headers.get("if-none-match", "")
        if if_none_match and if_none_match.strip() != "*" and not_modified(if_none_match, "", ctx.etag, None):
            raise NotModified(ctx.cache_headers())
        response: Response = lane.route.endpoint(**{lane.context_name: ctx}, **values)
        return response
    finally:
        session.close()


async def _never_released() -> None:  # lane routes never stream, so nothing hands the session on
    raise AssertionError("a lane route streamed")


def _handler(handlers: Mapping[Any, Callable[..., Any]], exc: Exception) -> Any:
    """The application's handler for ``exc``: the nearest class in its MRO that has one, as Starlette picks."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
