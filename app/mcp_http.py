"""The MCP server over streamable HTTP inside the FastAPI app (``app.main`` mounts it at ``/mcp``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from app.mcp_server import mcp

# streamable_http_app() builds a session manager whose ``app`` is the low-level server it drives: the one public way
# to it. McpHttp makes a manager of its own for each lifespan run, since a manager may run only once.
mcp.streamable_http_app()
LOW_LEVEL_SERVER = mcp.session_manager.app


class McpHttp:
    """The server over streamable HTTP for one FastAPI app: an ASGI endpoint, its routes, and the lifespan that
    runs a session manager for it.

    Stateless (no session id, any process answers any message) with JSON responses rather than SSE streams.
    ``routes(path)`` answers both ``path`` and ``path/`` directly: no redirect, which a client could not follow
    for a POST behind a TLS-terminating proxy. They take POST only: a stateless server has no messages of its
    own to stream, and the SDK would hold a GET's SSE stream open, idle, until the client leaves; the transport
    spec's answer for "no SSE stream here" is 405. Host/Origin (DNS-rebinding) checks are off: this is a public,
    read-only API whose preview access rests on a bearer token, not on cookies or the network.

    Each run of the lifespan gets a new session manager (one may run only once, and an app's lifespan may run
    more than once: a TestClient runs it on each ``with``).
    """

    def __init__(self) -> None:
        self.session_manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if self.session_manager is None:
            raise RuntimeError("The MCP session manager is not running: serve the app with its lifespan.")
        await self.session_manager.handle_request(scope, receive, send)

    def routes(self, path: str) -> list[Route]:
        path = path.rstrip("/")
        return [Route(p, endpoint=self, methods=["POST"], include_in_schema=False) for p in (path, f"{path}/")]

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        manager = StreamableHTTPSessionManager(
            LOW_LEVEL_SERVER,
            stateless=True,
            json_response=True,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with manager.run():
            self.session_manager = manager
            try:
                yield
            finally:
                self.session_manager = None


#: What a browser's MCP client sends to /mcp beyond the CORS-safe headers, and the response headers it reads.
MCP_REQUEST_HEADERS = ["Content-Type", "Accept", "Authorization", "Mcp-Protocol-Version", "Mcp-Session-Id",
                       "Last-Event-ID"]  # fmt: skip
MCP_EXPOSED_HEADERS = ["Mcp-Session-Id", "Mcp-Protocol-Version"]


class PathCors:
    """CORS for the configured origins, by path: ``mcp_path`` (and ``mcp_path/``) takes POST with the MCP
    headers; every other path keeps the read-only REST rules (``methods``, ``headers``).

    Decided where the issue is silent: POST is allowed on /mcp only. The REST API is read-only, so a preflight
    for POST on /claims is refused rather than told it works; and the MCP headers are neither allowed nor exposed
    on REST paths, which do not use them. Exposed on /mcp: the REST API's exposed headers as well (the MCP
    endpoint's answers carry none of them today; a client reading one there finds it absent, not blocked).
    """

    def __init__(self, app: ASGIApp, *, origins: list[str], methods: list[str], headers: list[str],
                 exposed: list[str], mcp_path: str = "/mcp", max_age: int = 600) -> None:  # fmt: skip
        self.mcp_path = mcp_path.rstrip("/")
        self.rest = CORSMiddleware(app, allow_origins=origins, allow_methods=methods, allow_headers=headers,
                                   expose_headers=exposed, max_age=max_age)  # fmt: skip
        self.mcp = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST"],
                                  allow_headers=MCP_REQUEST_HEADERS, expose_headers=[*exposed, *MCP_EXPOSED_HEADERS],
                                  max_age=max_age)  # fmt: skip

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        on_mcp = scope["type"] == "http" and scope["path"].rstrip("/") == self.mcp_path
        await (self.mcp if on_mcp else self.rest)(scope, receive, send)
