"""How an MCP call reaches the query layer: who is asking (preview or anonymous), a session with the request's
deadline, the tool's arguments as the REST parameter models, and the query layer's problems as MCP errors.

There is no SQL here, and no tool: ``app.mcp_server`` declares those and calls ``tool_query`` and
``resource_query``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST, CallToolResult, TextContent
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from sqlmodel import Session
from starlette.requests import Request

from app.budget import BudgetTooSmall
from app.db import get_engine
from app.deadline import GUARD_KEY, current_guard
from app.http import api_url, holding_nul, preview_access
from app.problems import ApiProblem
from app.queries.common import Listing, Scope
from app.queries.paging import page_body, page_extras
from app.queries.params import ClaimParams
from app.settings import get_settings

T = TypeVar("T")


def http_request(ctx: Context) -> Request | None:
    """The HTTP request that carried this MCP message (None in-process, or on a transport without one)."""
    try:
        request = ctx.request_context.request
    except ValueError:  # no request context: a direct in-process call
        return None
    return request if isinstance(request, Request) else None


def query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``run(scope)`` in a fresh session, with the caller's visibility; ApiProblem propagates.

    Preview follows the REST rule (``app.http``): no Authorization header is anonymous; a bearer token equal
    (constant-time) to GARDEN_PREVIEW_TOKEN is preview; anything else is a 401 problem.
    """
    settings = get_settings()
    request = http_request(ctx)
    preview = preview_access(request, settings) if request is not None else False
    # The SDK runs tools in tasks of its own, which do not inherit the HTTP request's context: its deadline
    # (app.deadline) is handed over through the ASGI scope, so that the database layer bounds this work too.
    token = current_guard.set(request.scope.get(GUARD_KEY)) if request is not None else None
    try:
        with Session(get_engine()) as session:
            today = settings.effective_today()
            return run(Scope(session, preview=preview, today=today, site=settings.site_url, repo=settings.repo_url))
    except DataError as error:  # a value PostgreSQL refuses for its column: only a forged cursor gets here
        raise ApiProblem(400, "Invalid cursor", "cursor is malformed: pass back nextCursor unchanged.",
                         parameter="cursor") from error  # fmt: skip
    finally:
        if token is not None:
            current_guard.reset(token)


def tool_query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``query()`` for a tool: a problem becomes a tool error (``isError: true`` with its detail)."""
    try:
        return query(ctx, run)
    except ApiProblem as problem:
        raise ToolError(problem.detail) from problem


def resource_query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``query()`` for a resource: absent or unpublished is "not found" (-32602), any other problem -32600."""
    try:
        return query(ctx, run)
    except ApiProblem as problem:
        if problem.status in (404, 410):
            raise ResourceNotFoundError(problem.detail) from problem
        raise MCPError(code=INVALID_REQUEST, message=problem.detail) from problem


def url_for(_ctx: Context) -> Callable[[str], str]:
    """URLs on the serving API, as the REST bodies carry them (``app.http.api_url``: GARDEN_PUBLIC_URL or relative)."""
    settings = get_settings()
    return lambda path: api_url(settings, path)


def structured(payload: dict[str, Any]) -> CallToolResult:
    """A tool result: ``payload`` as structuredContent and, for clients that read text only, as JSON text."""
    return CallToolResult(
        content=[TextContent(type="text", text=orjson.dumps(payload).decode())], structured_content=payload
    )


def as_json(payload: Any) -> str:
    return orjson.dumps(payload).decode()


_Params = TypeVar("_Params", bound=ClaimParams)


def tool_params(model: type[_Params], given: dict[str, Any]) -> _Params:
    """The REST API's parameter model from a tool's arguments (the ones given); a NUL character in any of
    them is refused by name, as the REST API refuses it (``app.http.reject_nul``)."""
    name = holding_nul(given.items())
    if name is not None:
        raise ToolError(f"{name}: must not contain the NUL character.")
    try:
        return model.model_validate({name: value for name, value in given.items() if value is not None})
    except ValidationError as error:
        raise ToolError(str(error)) from error


def page_result(listing: Listing) -> CallToolResult:
    """A page of a list tool: ``{items, total, totalRelation, nextCursor, …}``. With ``max_tokens``, the items
    kept are those that fit in this page as returned, its JSON text being what the budget holds for
    (app.queries.paging.page_body, as REST's); not even one is a tool error naming the budget that would do."""

    def build(items: list[dict[str, Any]], cursor: str | None, truncated: bool | None) -> dict[str, Any]:
        return {"items": items, "total": listing.total, "totalRelation": listing.relation, "nextCursor": cursor,
                **page_extras(listing, truncated)}  # fmt: skip

    try:
        page, data = page_body(listing, build)
    except BudgetTooSmall as error:
        raise ToolError(f"max_tokens: not even one item fits; ask for at least {error.needed} tokens.") from error
    return CallToolResult(content=[TextContent(type="text", text=data.decode())], structured_content=page)
