"""``create_app()``: the FastAPI application, its error shape and its routers; ``app = create_app()``."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI

from app.cache import CorpusWatch, ResponseCache
from app.change_stream import ChangeHub, MarkHead
from app.db import get_engine
from app.deadline import DetachedTasks, RequestDeadline
from app.docs import install_docs
from app.http import HeadAsGet, Slots, code_fingerprint, reject_nul, revalidate
from app.lane import Lane
from app.mcp_http import McpHttp, PathCors
from app.negotiation import NotModified, not_modified_response
from app.openapi import install_openapi
from app.problems import PROBLEM_RESPONSES, install_problem_handlers
from app.routers import agents, articles, changes, claims, frontend, health, home, search, series, sources, topics
from app.routers import schemas as input_schemas
from app.settings import Settings, get_settings
from app.webhooks.deliver import Deliverer

#: What FastAPI takes as ``lifespan``.
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX=2 would) before the request threads start.

    glibc gives threads arenas of their own, up to eight per core, and memory freed in one is not reused by
    another: with a pool of request threads a worker's resident memory grows by tens of megabytes for
    nothing. Measured at 50,000 articles: 181 MB -> 161 MB per worker. A no-op off glibc.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_arena_max = -8  # from <malloc.h>
    mallopt(m_arena_max, arenas)


def create_app(*, lane: bool = True) -> FastAPI:
    """The garden-api application; ``lane=False`` leaves every request to FastAPI (app.lane; the tests compare)."""
    settings = get_settings()
    mcp = McpHttp()  # the MCP server at /mcp; its session manager runs in the app's lifespan
    watch = CorpusWatch(get_engine)
    late = DetachedTasks()  # where requests answered at their deadline finish (app.deadline)
    app = FastAPI(
        title="garden-api",
        version="0.1.0",
        summary="Agent-readable articles: claims, evidence, sources, briefs, series and topics.",
        lifespan=_lifespan(settings, mcp, watch, late),
        docs_url=None,  # /docs and /redoc are app.docs's: their assets come from an installed package, not a CDN
        redoc_url=None,
    )
    install_docs(app)
    install_openapi(app)
    install_problem_handlers(app)
    app.add_exception_handler(NotModified, not_modified_response)
    _include_routes(app, mcp, lane)
    _add_middleware(app, settings, watch, late)
    return app


def _lifespan(settings: Settings, mcp: McpHttp, watch: CorpusWatch, late: DetachedTasks) -> Lifespan:
    """What each worker starts before its first request and stops at shutdown."""
    hub = ChangeHub(watch)  # the live events' versions (app.change_stream)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_malloc_arenas()
        # Sync routes run in anyio's thread pool; a thread for each database slot, so none waits for one.
        slots = settings.pool_size + settings.heavy_requests
        anyio.to_thread.current_default_thread_limiter().total_tokens = slots
        # app.http.get_context: ordinary and heavy requests take slots of their own.
        app.state.db_slots = Slots(anyio.Semaphore(settings.pool_size), anyio.Semaphore(settings.heavy_requests))
        await anyio.to_thread.run_sync(watch.current)  # opens the watch (and its connection) before any request
        await anyio.to_thread.run_sync(code_fingerprint)  # part of every ETag: read the sources once, now
        app.state.change_hub = hub
        # What exists now (modules, the app, the engine) lives as long as the worker: out of the collector's sight,
        # so that a full collection does not walk it in the middle of a request (1-2% of /series answers took
        # 130 ms instead of 13 at 50,000 articles). Given back at shutdown (a test process starts many apps).
        gc.freeze()
        # The webhook outbox's delivery thread, on a connection of its own (app.webhooks.deliver).
        deliverer = Deliverer(settings.database_url, settings) if settings.webhook_delivery else None
        if deliverer is not None:
            deliverer.start()
        try:
            async with late.running(), mcp.lifespan(app), hub.running():
                yield
        finally:
            gc.unfreeze()
            watch.close()
            if deliverer is not None:
                await anyio.to_thread.run_sync(deliverer.stop)

    return lifespan


def _include_routes(app: FastAPI, mcp: McpHttp, lane: bool) -> None:
    """The routers, the MCP endpoint and (``lane``) the lane that answers most routes (app.lane)."""
    # Every route answering through Context.respond, stream or the store has its 304 decided before it runs
    # (app.http.revalidate); /healthz and /readyz carry no ETag.
    routers = (articles.router, claims.router, search.router, sources.router, series.router, topics.router,
               frontend.router, changes.router, changes.feed_router, agents.router)  # fmt: skip
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES, dependencies=[Depends(reject_nul), Depends(revalidate)])
    # The live events hold no session: no revalidate (no ETag either), and no 304 or 410 to declare.
    stream_responses = {status: doc for status, doc in PROBLEM_RESPONSES.items() if status not in (304, 410)}
    app.include_router(changes.stream_router, responses=stream_responses, dependencies=[Depends(reject_nul)])
    app.include_router(health.router, responses=PROBLEM_RESPONSES, dependencies=[Depends(reject_nul)])
    # The front door chooses HTML or JSON by Accept: its 304 is decided by the route, whose ETag names the choice.
    app.include_router(home.router, responses=PROBLEM_RESPONSES, dependencies=[Depends(reject_nul)])
    app.include_router(input_schemas.router, responses=PROBLEM_RESPONSES, dependencies=[Depends(reject_nul)])
    app.router.routes.extend(mcp.routes("/mcp"))
    if lane:  # innermost of the middleware: inside the deadline, the response cache and CORS
        in_order = [route for router in (*routers, changes.stream_router, health.router, home.router)
                    for route in router.routes]  # fmt: skip
        streams = (agents.router, changes.feed_router)
        rest = [route for router in routers if router not in streams for route in router.routes]
        app.add_middleware(Lane, fastapi=app, routes=in_order, answering=rest)


def _add_middleware(app: FastAPI, settings: Settings, watch: CorpusWatch, late: DetachedTasks) -> None:
    """The middleware outside the lane, innermost first."""
    app.add_middleware(RequestDeadline, timeout=settings.request_timeout, tasks=late)  # inside the cache: hits skip it
    app.add_middleware(
        ResponseCache,
        max_bytes=settings.response_cache_mb * 1024 * 1024,
        watch=watch,
        today=settings.effective_today,
    )
    app.add_middleware(  # CORS: GET and HEAD everywhere, POST with the MCP headers on /mcp only (app.mcp_http)
        PathCors,
        origins=settings.cors_origins,
        methods=["GET", "HEAD"],
        headers=["Authorization", "If-None-Match", "If-Modified-Since", "Last-Event-ID"],
        exposed=["ETag", "Link", "X-Corpus-Version", "X-Token-Estimate", "WWW-Authenticate"],
        mcp_path="/mcp",
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(MarkHead)  # outside HeadAsGet: a HEAD of the event stream ends (app.change_stream)


app = create_app()
