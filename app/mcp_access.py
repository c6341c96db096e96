"""How an MCP call reaches the query layer: who is asking (preview or anonymous), a session with the request's
deadline, the tool's arguments as the REST parameter models, and the query layer's errors (``app.queries.errors``)
as MCP errors of one sentence naming the argument (worded by ``app.mcp_sentences``).

There is no SQL here, and no tool: ``app.mcp_server`` declares those and calls ``tool_query`` and
``resource_query``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_REQUEST, CallToolResult, TextContent
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlmodel import Session
from starlette.requests import Request

from app.budget import BudgetTooSmall
from app.db import get_engine
from app.deadline import GUARD_KEY, current_guard
from app.http import api_url, holding_nul, preview_access
from app.mcp_sentences import error_sentence, validation_sentence
from app.problems import ApiProblem
from app.queries.common import Listing, Scope
from app.queries.errors import Gone, MalformedCursor, NotFound, QueryError, Unavailable
from app.queries.paging import page_body, page_extras
from app.settings import get_settings

T = TypeVar("T")
log = logging.getLogger("garden.mcp")


def http_request(ctx: Context) -> Request | None:
    """The HTTP request that carried this MCP message (None in-process, or on a transport without one)."""
    try:
        request = ctx.request_context.request
    except ValueError:  # no request context: a direct in-process call
        return None
    return request if isinstance(request, Request) else None


def query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``run(scope)`` in a fresh session, with the caller's visibility; the query layer's errors propagate.

    Preview follows the REST rule (``app.http``): no Authorization header is anonymous; a bearer token equal
    (constant-time) to GARDEN_PREVIEW_TOKEN is preview; anything else is refused (``ApiProblem`` 401, whose
    detail is one sentence).
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
        raise MalformedCursor() from error
    except (OperationalError, SQLAlchemyTimeout) as error:  # REST's 503: no free connection, deadline, no server
        log.warning("database unavailable to an MCP call: %s", error)
        raise Unavailable() from error
    finally:
        if token is not None:
            current_guard.reset(token)


def tool_query(ctx: Context, run: Callable[[Scope], T], renamed: Mapping[str, str] | None = None) -> T:
    """``query()`` for a tool: the query layer's errors become a tool error (``isError: true``) of one sentence
    naming the argument as the tool calls it (``renamed`` maps REST's names to the tool's where they differ)."""
    try:
        return query(ctx, run)
    except (QueryError, ApiProblem) as error:
        raise ToolError(error_sentence(error, renamed or {})) from error


def resource_query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``query()`` for a resource: absent or unpublished is "not found" (-32602), a database that cannot answer
    -32603, any other error -32600; the message is the same one sentence a tool's would be."""
    try:
        return query(ctx, run)
    except (NotFound, Gone) as error:
        raise ResourceNotFoundError(error_sentence(error, {})) from error
    except Unavailable as error:
        raise MCPError(code=INTERNAL_ERROR, message=error_sentence(error, {})) from error
    except (QueryError, ApiProblem) as error:
        raise MCPError(code=INVALID_REQUEST, message=error_sentence(error, {})) from error


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


_Params = TypeVar("_Params", bound=BaseModel)


def tool_params(model: type[_Params], given: dict[str, Any], renamed: Mapping[str, str] | None = None) -> _Params:
    """The REST API's parameter model from a tool's arguments (the ones given); a NUL character in any of
    them is refused by name, as the REST API refuses it (``app.http.reject_nul``). ``given`` is keyed by REST's
    names; ``renamed`` maps those to the tool's where they differ, for the error sentences."""
    names = renamed or {}
    name = holding_nul(given.items())
    if name is not None:
        raise ToolError(f"{names.get(name, name)}: must not contain the NUL character.")
    try:
        return model.model_validate({name: value for name, value in given.items() if value is not None})
    except ValidationError as error:
        raise ToolError(validation_sentence(error, given, names)) from error


def page_result(listing: Listing, **extra: Any) -> CallToolResult:
    """A page of a list tool: ``{items, total, totalRelation, nextCursor, …}``. With ``max_tokens``, the items
    kept are those that fit in this page as returned, its JSON text being what the budget holds for
    (app.queries.paging.page_body, as REST's); not even one is a tool error naming the budget that would do.
    ``extra``: fields the page ends with (changes_since's corpusVersion)."""

    def build(items: list[dict[str, Any]], cursor: str | None, truncated: bool | None) -> dict[str, Any]:
        return {"items": items, "total": listing.total, "totalRelation": listing.relation, "nextCursor": cursor,
                **page_extras(listing, truncated), **extra}  # fmt: skip

    try:
        page, data = page_body(listing, build)
    except BudgetTooSmall as error:
        raise ToolError(error_sentence(error, {})) from error
    return CallToolResult(content=[TextContent(type="text", text=data.decode())], structured_content=page)
